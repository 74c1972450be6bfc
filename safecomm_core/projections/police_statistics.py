"""``police``: the police station's monthly case counts (outside data, basis "police").

One row per statistic (month × community × category, the record's own id). ``cases`` is
the latest figure: a correction replaces the count it corrects (the latest correction
wins, in the record's own order); ``first_cases`` keeps what was first reported, so a
report can say how much was revised. The month is the one the police counted
(``month``), not the day the figure reached the office.

Provenance: ``police_facts`` names the event that first reported each figure
(``reported``) and the one its present count comes from (``cases``).
"""

from __future__ import annotations

from typing import Any

from safecomm_core.domain.police_statistic import PoliceStatistic
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["POLICE", "POLICE_FACTS", "POLICE_ROWS"]

POLICE_ROWS = Table(
    "police_statistics",
    columns=(
        Column("statistic_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False, doc="month/community/category"),
        Column("month", TEXT, nullable=False, doc="YYYY-MM the police counted"),
        Column("community", TEXT, nullable=False, doc="a community, or * (a subdistrict total)"),
        Column("category", TEXT, nullable=False),
        Column("source", TEXT, nullable=False),
        Column("first_cases", INTEGER, nullable=False),
        Column("cases", INTEGER, nullable=False, doc="after the latest correction"),
        Column("corrections", INTEGER, nullable=False),
        Column("reported_at", TIMESTAMP, nullable=False),
        Column("corrected_at", TIMESTAMP),
        *last_event_columns(),
    ),
    key=("statistic_id",),
    indexes=(("month",),),
    doc="One row per monthly police figure; the latest correction wins.",
)

POLICE_FACTS = fact_table(
    "police_facts", "statistic_id", "The event that reported each figure and its present count."
)

POLICE = Projection(
    "police",
    version=1,
    tables=(POLICE_ROWS, POLICE_FACTS),
    doc="Police statistics (outside data): monthly cases per community and category.",
)


@POLICE.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    return [(POLICE_ROWS, str(event.originator_id))]


@POLICE.handles(PoliceStatistic.Reported)
def _reported(view: ViewWriter, event: PoliceStatistic.Reported, notification_id: int) -> None:
    view.insert(
        POLICE_ROWS,
        {
            "statistic_id": str(event.originator_id),
            "ref": event.ref,
            "month": event.month,
            "community": event.community,
            "category": event.category,
            "source": event.source,
            "first_cases": event.cases,
            "cases": event.cases,
            "corrections": 0,
            "reported_at": event.meta.occurred_at,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    set_fact(view, POLICE_FACTS, event, notification_id, "reported")
    set_fact(view, POLICE_FACTS, event, notification_id, "cases")


@POLICE.handles(PoliceStatistic.Corrected)
def _corrected(view: ViewWriter, event: PoliceStatistic.Corrected, notification_id: int) -> None:
    row = view.get(POLICE_ROWS, str(event.originator_id))
    corrections = (row["corrections"] if row else 0) + 1
    touch(
        view,
        POLICE_ROWS,
        event,
        notification_id,
        cases=event.cases,
        corrections=corrections,
        corrected_at=event.meta.occurred_at,
    )
    set_fact(view, POLICE_FACTS, event, notification_id, "cases")
