"""Provenance: the stored events behind a figure of the monthly report.

::

    found = explain(service, "mediation_success_rate", "2014-03", "C1")
    found.figure                  # the figure, exactly as the report gives it
    found.numerator               # [EventRef(kind="dispute", ref="d-2014-0001", version=5,
                                  #           topic="safecomm/Dispute/AgreementReached", ...)]
    found.denominator

Both lists come from the same tally the report's figure is computed from
(:mod:`safecomm_core.reports.indicators`), so they are exactly the events it counted: an
auditor can open each with ``safecomm history REF``. A counted thing may rest on several
events (a rate's numerator names the denominator's event and the one that put it in the
numerator); each event is listed once, in the order the store holds them.
"""

from __future__ import annotations

import attrs

from safecomm_core.dates import Month
from safecomm_core.indicators import UnknownIndicator
from safecomm_core.projections.runner import Projector
from safecomm_core.reports.counting import EventRef, events_of
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Figure
from safecomm_core.reports.monthly import figure_for
from safecomm_core.reports.reading import caught_up
from safecomm_core.reports.register import PROJECTIONS, load
from safecomm_core.service import Safecomm

__all__ = ["Explanation", "explain"]


@attrs.frozen
class Explanation:
    """A figure and the events counted in its numerator and its denominator."""

    figure: Figure
    definition: str  # the definition's docstring: what each side counts
    numerator: tuple[EventRef, ...]
    denominator: tuple[EventRef, ...]


def explain(
    source: Safecomm | Projector,
    indicator: str,
    period: str,
    scope: str = "*",
) -> Explanation:
    """The events behind ``indicator`` for ``period`` (``YYYY-MM``) and ``scope``.

    The views are caught up first. For a median or percentile, every event measured is in
    the denominator's list and the numerator's is empty.
    """
    definition = DEFINITIONS.get(indicator)
    if definition is None:
        raise UnknownIndicator(indicator, known=DEFINITIONS)
    month = Month.parse(period)
    with caught_up(source, PROJECTIONS) as projector:
        reg = load(projector)
    tally = definition.compute(reg, month)
    scoped = tally.scoped(scope)
    return Explanation(
        figure=figure_for(definition, tally, month, scope, reg),
        definition=definition.doc,
        numerator=tuple(events_of(scoped.numerator)),
        denominator=tuple(events_of(scoped.denominator)),
    )
