"""``targets``: the plan's target for each indicator and scope, as last revised.

One row per target (indicator × scope): baseline and its source, the value aimed at, the
direction, the due date, and how often it was revised. Values are in the indicator's unit
as its figures have it (:class:`~safecomm_core.indicators.Unit`): a rate a target states in
percent is kept as its fraction, so a report compares value and target as they are.

Provenance: ``target_facts`` names the event that set the target and the latest revision.
"""

from __future__ import annotations

from typing import Any

from safecomm_core.domain.targets import Target, TargetIndicator
from safecomm_core.indicators import Unit
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import DATE, INTEGER, REAL, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["TARGETS", "TARGET_FACTS", "TARGET_ROWS"]

TARGET_ROWS = Table(
    "targets",
    columns=(
        Column("target_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="a community, or * for the subdistrict"),
        Column("indicator", TEXT, nullable=False, doc="the target's indicator id"),
        Column("unit", TEXT, nullable=False, doc="the indicator's unit: rate, hours, ..."),
        Column("direction", TEXT, nullable=False, doc="increase or decrease"),
        Column("baseline", REAL, nullable=False),
        Column("baseline_source", TEXT, nullable=False),
        Column("target", REAL, nullable=False),
        Column("due", DATE, nullable=False),
        Column("revisions", INTEGER, nullable=False),
        Column("set_at", TIMESTAMP, nullable=False),
        Column("revised_at", TIMESTAMP),
        *last_event_columns(),
    ),
    key=("target_id",),
    doc="One row per target, as last revised.",
)

TARGET_FACTS = fact_table(
    "target_facts", "target_id", "The event that set each target, and its latest revision."
)

TARGETS = Projection(
    "targets",
    version=2,
    tables=(TARGET_ROWS, TARGET_FACTS),
    doc="The plan's targets: baseline, aim, direction, due date.",
)


@TARGETS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    return [(TARGET_ROWS, str(event.originator_id))]


@TARGETS.handles(Target.TargetSet)
def _set(view: ViewWriter, event: Target.TargetSet, notification_id: int) -> None:
    unit = TargetIndicator(event.indicator).unit
    view.insert(
        TARGET_ROWS,
        {
            "target_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "indicator": str(event.indicator),
            "unit": str(unit),
            "direction": str(event.direction),
            "baseline": unit.from_stated(event.baseline),
            "baseline_source": event.baseline_source,
            "target": unit.from_stated(event.target),
            "due": event.due,
            "revisions": 0,
            "set_at": event.meta.occurred_at,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    set_fact(view, TARGET_FACTS, event, notification_id, "set")


@TARGETS.handles(Target.TargetRevised)
def _revised(view: ViewWriter, event: Target.TargetRevised, notification_id: int) -> None:
    row = view.get(TARGET_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no target row for {event.originator_id}: TargetSet is missing")
    unit = Unit(row["unit"])
    touch(
        view,
        TARGET_ROWS,
        event,
        notification_id,
        baseline=unit.from_stated(event.baseline),
        baseline_source=event.baseline_source,
        target=unit.from_stated(event.target),
        due=event.due,
        revisions=row["revisions"] + 1,
        revised_at=event.meta.occurred_at,
    )
    set_fact(view, TARGET_FACTS, event, notification_id, "revised")
