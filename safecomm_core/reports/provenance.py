"""Provenance: the stored events behind every figure of every report.

::

    found = explain(service, "mediation_success_rate", "2014-03", "C1")
    found.figure                  # the figure, exactly as the report gives it
    found.numerator               # [EventRef(kind="dispute", ref="d-2014-0001", version=5,
                                  #           topic="safecomm/Dispute/AgreementReached", ...)]
    found.denominator

``id`` is any figure a report gives:

- an indicator of the **monthly report**, for a month (``period`` ``YYYY-MM``);
- a figure of the **self-assessment** (``action_on_time_rate``...), as of a day
  (``period`` ``YYYY-MM-DD``, or a month for its last day);
- a list of the **watchlist** (``settlement_overdue``...), as of a day: its count (the
  summary's rows) is the figure, every row is listed with the events that put it there.

Both sides come from the same tally the report's figure is computed from, so they are
exactly the events it counted: an auditor can open each with ``safecomm history REF``. A
counted thing may rest on several events (a rate's numerator names the denominator's event
and the one that put it in the numerator); each event is listed once, in the order the
store holds them. Events a view keeps only by position are read from the log.
"""

from __future__ import annotations

import attrs

from safecomm_core.dates import Month
from safecomm_core.indicators import UnknownIndicator
from safecomm_core.projections.runner import Projector
from safecomm_core.reports.assessment import FIGURE_DEFINITIONS, explain_figure
from safecomm_core.reports.counting import EventRef, events_of
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Cell, Figure
from safecomm_core.reports.monthly import figure_for
from safecomm_core.reports.reading import caught_up, report_day
from safecomm_core.reports.register import PROJECTIONS, load
from safecomm_core.reports.watch import LIST_DEFINITIONS, LISTS, explain_list
from safecomm_core.service import Safecomm

__all__ = ["EXPLAINED", "Explanation", "explain", "report_of"]

#: Every id explain answers for, with the report that gives it.
EXPLAINED: dict[str, str] = {
    **dict.fromkeys(DEFINITIONS, "monthly"),
    **dict.fromkeys(FIGURE_DEFINITIONS, "self-assessment"),
    **dict.fromkeys(LISTS, "watchlist"),
}


@attrs.frozen
class Explanation:
    """A figure and the events counted in its numerator and its denominator.

    For a watchlist list the figure is its count, the numerator every event behind it, and
    ``rows`` each row as the report shows it with the events behind that row.
    """

    figure: Figure
    definition: str  # what each side counts
    numerator: tuple[EventRef, ...]
    denominator: tuple[EventRef, ...]
    report: str = "monthly"
    rows: tuple[tuple[tuple[Cell, ...], tuple[EventRef, ...]], ...] = ()


def report_of(figure_id: str) -> str:
    """The report that gives ``figure_id``: "monthly", "self-assessment" or "watchlist"."""
    found = EXPLAINED.get(figure_id)
    if found is None:
        raise UnknownIndicator(figure_id, known=EXPLAINED)
    return found


def explain(
    source: Safecomm | Projector, indicator: str, period: str, scope: str = "*"
) -> Explanation:
    """The events behind ``indicator`` for ``period`` and ``scope`` (see the module).

    The views are caught up first. For a median or percentile, every event measured is in
    the denominator's list and the numerator's is empty.
    """
    report = report_of(indicator)
    if report == "monthly":
        return _monthly(source, indicator, Month.parse(period), scope)
    day = report_day(period)
    community = None if scope == "*" else scope
    if report == "self-assessment":
        figure, tally = explain_figure(source, indicator, as_of=day, community=community)
        return Explanation(
            figure=figure,
            definition=FIGURE_DEFINITIONS[indicator],
            numerator=tuple(events_of(tally.numerator)),
            denominator=tuple(events_of(tally.denominator)),
            report=report,
        )
    listed = explain_list(source, indicator, as_of=day, community=community)
    return Explanation(
        figure=Figure(
            id=indicator,
            numerator=listed.count,
            denominator=None,
            value=listed.count,
            period=day.isoformat(),
            scope=scope,
            definition_version="1",
            basis="register",
        ),
        definition=LIST_DEFINITIONS[indicator],
        numerator=listed.events(),
        denominator=(),
        report=report,
        rows=listed.rows,
    )


def _monthly(source: Safecomm | Projector, indicator: str, month: Month, scope: str) -> Explanation:
    definition = DEFINITIONS[indicator]
    with caught_up(source, PROJECTIONS) as projector:
        reg = load(projector, month)
    tally = definition.compute(reg, month)
    scoped = tally.scoped(scope)
    return Explanation(
        figure=figure_for(definition, tally, month, scope, reg),
        definition=definition.doc,
        numerator=tuple(events_of(scoped.numerator)),
        denominator=tuple(events_of(scoped.denominator)),
    )
