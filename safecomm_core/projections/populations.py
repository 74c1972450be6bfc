"""``populations``: each community's population as of a date (outside data).

One row per count (community × as-of day, the record's own id). ``residents`` and
``migrants`` are the latest figures: a correction replaces the count it corrects. Reports
take, for a community on a day, the row with the latest ``as_of`` by then
(:func:`in_force`): incidence per 10,000 divides by the people living there then.

Provenance: ``population_facts`` names the event each row's present count comes from
(``count``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from safecomm_core.domain.population import Population
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, Column, Row, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["POPULATIONS", "POPULATION_FACTS", "POPULATION_ROWS", "in_force"]

POPULATION_ROWS = Table(
    "populations",
    columns=(
        Column("population_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False, doc="community/as_of"),
        Column("community", TEXT, nullable=False),
        Column("as_of", DATE, nullable=False, doc="the day the count refers to"),
        Column("residents", INTEGER, nullable=False, doc="registered residents"),
        Column("migrants", INTEGER, nullable=False, doc="migrants living there"),
        Column("basis", TEXT, nullable=False, doc="census or annual_update"),
        Column("source", TEXT, nullable=False),
        Column("corrections", INTEGER, nullable=False),
        *last_event_columns(),
    ),
    key=("population_id",),
    doc="One row per population count; the latest correction wins.",
)

POPULATION_FACTS = fact_table(
    "population_facts", "population_id", "The event each population's present count comes from."
)

POPULATIONS = Projection(
    "populations",
    version=1,
    tables=(POPULATION_ROWS, POPULATION_FACTS),
    doc="Communities' populations as of dates (outside data): residents and migrants.",
)


@POPULATIONS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    return [(POPULATION_ROWS, str(event.originator_id))]


@POPULATIONS.handles(Population.Recorded)
def _recorded(view: ViewWriter, event: Population.Recorded, notification_id: int) -> None:
    view.insert(
        POPULATION_ROWS,
        {
            "population_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "as_of": event.as_of,
            "residents": event.residents,
            "migrants": event.migrants,
            "basis": str(event.basis),
            "source": event.source,
            "corrections": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    set_fact(view, POPULATION_FACTS, event, notification_id, "count")


@POPULATIONS.handles(Population.Corrected)
def _corrected(view: ViewWriter, event: Population.Corrected, notification_id: int) -> None:
    row = view.get(POPULATION_ROWS, str(event.originator_id))
    touch(
        view,
        POPULATION_ROWS,
        event,
        notification_id,
        residents=event.residents,
        migrants=event.migrants,
        corrections=(row["corrections"] if row else 0) + 1,
    )
    set_fact(view, POPULATION_FACTS, event, notification_id, "count")


def in_force(rows: Iterable[Row], on: date) -> dict[str, Row]:
    """Each community's population in force on ``on``: its count with the latest
    ``as_of`` by then (communities with none by then are left out)."""
    found: dict[str, Row] = {}
    for row in rows:
        if row["as_of"] <= on:
            held = found.get(row["community"])
            if held is None or row["as_of"] > held["as_of"]:
                found[row["community"]] = row
    return found
