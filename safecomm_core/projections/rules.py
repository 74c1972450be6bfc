"""``rulebook``: every set of rules adopted, so that reports judge facts by the rules of their day.

A report that asks "acknowledged within T?" or "settled within the set days?" must use the
rule in force in the record's community on the day the duty arose, exactly as the commands
do. This projection keeps each ``Rulebook.Adopted`` event as a row; :func:`rule_versions`
gives them back as the domain's :class:`~safecomm_core.domain.rules.RuleVersion` s in the
order they were adopted, and :func:`~safecomm_core.domain.rules.rules_in_force` (the
domain's own function) picks the set in force. No second copy of the rule logic exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

from safecomm_core.converter import converter
from safecomm_core.domain.rules import Rulebook, Rules, RuleVersion
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import event_values, provenance_columns
from safecomm_core.projections.schema import DATE, TEXT, Column, Row, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["RULEBOOK", "RULE_VERSIONS", "rule_versions"]

RULE_VERSIONS = Table(
    "rule_versions",
    columns=(
        Column("scope", TEXT, nullable=False, doc="a community, or * for the subdistrict"),
        Column("effective_from", DATE, nullable=False),
        Column("rules", TEXT, nullable=False, doc="the full set, as JSON"),
        *provenance_columns(),
    ),
    key=("notification_id",),
    doc="One row per set of rules adopted; adoption order is notification order.",
)

RULEBOOK = Projection(
    "rulebook",
    version=1,
    tables=(RULE_VERSIONS,),
    doc="The rule sets adopted, with their scope and effective date.",
)


@RULEBOOK.handles(Rulebook.Adopted)
def _adopted(view: ViewWriter, event: Rulebook.Adopted, notification_id: int) -> None:
    version = event.version
    view.insert(
        RULE_VERSIONS,
        {
            "scope": version.scope,
            "effective_from": version.effective_from,
            "rules": json.dumps(converter.unstructure(version.rules), sort_keys=True),
            **event_values(event, notification_id),
        },
    )


def rule_versions(rows: Iterable[Row]) -> tuple[RuleVersion, ...]:
    """The rows of :data:`RULE_VERSIONS` as the domain's rule versions, in adoption order.

    Rules a row does not name take their defaults (a rule added after the row was written).
    """
    known = set(attrs.fields_dict(Rules))
    out = []
    for row in sorted(rows, key=lambda r: r["notification_id"]):
        values: dict[str, Any] = {k: v for k, v in json.loads(row["rules"]).items() if k in known}
        rules = converter.structure(values, Rules)
        out.append(RuleVersion(row["scope"], row["effective_from"], rules))
    return tuple(out)
