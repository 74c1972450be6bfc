"""``patrols``: one row per patrol, one per checkpoint it planned or visited, and provenance.

What the monthly report counts (plan M1.3; docs/domain.md, *Indicators*):

- a patrol's **day** (``patrol_on``) is the subdistrict's date of its start, or of its
  planned start while it has not started: every figure of a patrol falls in that day's
  week and month, so a patrol is never split between two periods;
- **hours**: the duration the team reported at the end, else the time from start to end
  (the domain refuses a reported duration longer than that); NULL until it ended;
- **checkpoints planned**: the distinct checkpoints of the planned route; **visited**: those
  of them visited at least once. Off-route visits are kept (``on_route`` false) and counted
  apart: they are not part of the plan.

Provenance: ``patrol_facts`` names the event that planned, started and ended each patrol,
and (part = the checkpoint) the first visit of each checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.patrol import Patrol
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import (
    BOOLEAN,
    DATE,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Column,
    Table,
)
from safecomm_core.projections.writer import ViewWriter

__all__ = ["PATROLS", "PATROL_CHECKPOINTS", "PATROL_FACTS", "PATROL_ROWS"]

PATROL_ROWS = Table(
    "patrols",
    columns=(
        Column("patrol_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False),
        Column("grid_unit", TEXT),
        Column("area", TEXT, nullable=False),
        Column("status", TEXT, nullable=False, doc="planned, started or ended"),
        Column("planned_start", TIMESTAMP, nullable=False),
        Column("planned_end", TIMESTAMP, nullable=False),
        Column("planned_hours", REAL, nullable=False),
        Column("patrol_on", DATE, nullable=False, doc="local date of the start (or plan)"),
        Column("started_at", TIMESTAMP),
        Column("ended_at", TIMESTAMP),
        Column("hours", REAL, doc="reported duration, else start to end; NULL until ended"),
        Column("distance_m", INTEGER),
        Column("police", INTEGER, nullable=False, doc="officers on the team"),
        Column("volunteers", INTEGER, nullable=False, doc="volunteers on the team"),
        Column("route_planned", INTEGER, nullable=False, doc="distinct route checkpoints"),
        Column("route_visited", INTEGER, nullable=False, doc="... of them visited"),
        Column("visits", INTEGER, nullable=False),
        Column("off_route_visits", INTEGER, nullable=False),
        Column("observations", INTEGER, nullable=False),
        Column("mediations", INTEGER, nullable=False),
        Column("settled_on_site", INTEGER, nullable=False),
        *last_event_columns(),
    ),
    key=("patrol_id",),
    indexes=(("patrol_on",), ("community", "patrol_on")),
    doc="One row per patrol.",
)

PATROL_CHECKPOINTS = Table(
    "patrol_checkpoints",
    columns=(
        Column("patrol_id", TEXT, nullable=False),
        Column("checkpoint", TEXT, nullable=False),
        Column("on_route", BOOLEAN, nullable=False),
        Column("visits", INTEGER, nullable=False),
        Column("first_visit_at", TIMESTAMP),
    ),
    key=("patrol_id", "checkpoint"),
    doc="Each checkpoint a patrol planned (on_route) or visited off its route.",
)

PATROL_FACTS = fact_table(
    "patrol_facts",
    "patrol_id",
    "The event that planned, started, ended a patrol; first visit of each checkpoint.",
)

PATROLS = Projection(
    "patrols",
    version=1,
    tables=(PATROL_ROWS, PATROL_CHECKPOINTS, PATROL_FACTS),
    doc="Patrols: hours, checkpoints planned and visited, per area and day.",
)


@PATROLS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    patrol_id = str(event.originator_id)
    if isinstance(event, Patrol.Planned):
        points: tuple[str, ...] = tuple(event.route)
    elif isinstance(event, Patrol.CheckpointVisited):
        points = (event.checkpoint,)
    else:
        points = ()
    return [(PATROL_ROWS, patrol_id), *((PATROL_CHECKPOINTS, (patrol_id, p)) for p in points)]


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 4)


@PATROLS.handles(Patrol.Planned)
def _planned(view: ViewWriter, event: Patrol.Planned, notification_id: int) -> None:
    patrol_id = str(event.originator_id)
    route = tuple(dict.fromkeys(event.route))
    view.insert(
        PATROL_ROWS,
        {
            "patrol_id": patrol_id,
            "ref": event.ref,
            "community": event.community,
            "grid_unit": event.grid_unit,
            "area": event.area,
            "status": "planned",
            "planned_start": event.planned_start,
            "planned_end": event.planned_end,
            "planned_hours": _hours(event.planned_start, event.planned_end),
            "patrol_on": local_date(event.planned_start),
            "police": len(event.team.police),
            "volunteers": len(event.team.volunteers),
            "route_planned": len(route),
            "route_visited": 0,
            "visits": 0,
            "off_route_visits": 0,
            "observations": 0,
            "mediations": 0,
            "settled_on_site": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    for checkpoint in route:
        view.insert(
            PATROL_CHECKPOINTS,
            {"patrol_id": patrol_id, "checkpoint": checkpoint, "on_route": True, "visits": 0},
        )
    set_fact(view, PATROL_FACTS, event, notification_id, "planned")


@PATROLS.handles(Patrol.Started)
def _started(view: ViewWriter, event: Patrol.Started, notification_id: int) -> None:
    when = event.meta.occurred_at
    touch(
        view,
        PATROL_ROWS,
        event,
        notification_id,
        status="started",
        started_at=when,
        patrol_on=local_date(when),
    )
    set_fact(view, PATROL_FACTS, event, notification_id, "started")


@PATROLS.handles(Patrol.Ended)
def _ended(view: ViewWriter, event: Patrol.Ended, notification_id: int) -> None:
    key = str(event.originator_id)
    row = view.get(PATROL_ROWS, key)
    if row is None or row["started_at"] is None:
        raise LookupError(f"patrol {key} ended without a recorded start")
    when = event.meta.occurred_at
    hours = (
        round(event.duration_minutes / 60, 4)
        if event.duration_minutes is not None
        else _hours(row["started_at"], when)
    )
    touch(
        view,
        PATROL_ROWS,
        event,
        notification_id,
        status="ended",
        ended_at=when,
        hours=hours,
        distance_m=event.distance_m,
    )
    set_fact(view, PATROL_FACTS, event, notification_id, "ended")


@PATROLS.handles(Patrol.CheckpointVisited)
def _visited(view: ViewWriter, event: Patrol.CheckpointVisited, notification_id: int) -> None:
    patrol_id = str(event.originator_id)
    key = (patrol_id, event.checkpoint)
    point = view.get(PATROL_CHECKPOINTS, key)
    first = point is None or point["visits"] == 0
    if point is None:
        point = {
            "patrol_id": patrol_id,
            "checkpoint": event.checkpoint,
            "on_route": not event.off_route,  # as the domain decided it
            "visits": 0,
        }
    point = {**point, "visits": point["visits"] + 1}
    if first:
        point["first_visit_at"] = event.meta.occurred_at
    view.put(PATROL_CHECKPOINTS, point)
    row = touch(view, PATROL_ROWS, event, notification_id)
    changes = {"visits": row["visits"] + 1}
    if not point["on_route"]:
        changes["off_route_visits"] = row["off_route_visits"] + 1
    elif first:
        changes["route_visited"] = row["route_visited"] + 1
    view.update(PATROL_ROWS, patrol_id, **changes)
    if first:
        set_fact(view, PATROL_FACTS, event, notification_id, "visited", part=event.checkpoint)


@PATROLS.handles(Patrol.ObservationRecorded)
def _observed(view: ViewWriter, event: Patrol.ObservationRecorded, notification_id: int) -> None:
    row = touch(view, PATROL_ROWS, event, notification_id)
    view.update(PATROL_ROWS, str(event.originator_id), observations=row["observations"] + 1)


@PATROLS.handles(Patrol.OnSiteMediationHeld)
def _mediated(view: ViewWriter, event: Patrol.OnSiteMediationHeld, notification_id: int) -> None:
    row = touch(view, PATROL_ROWS, event, notification_id)
    view.update(
        PATROL_ROWS,
        str(event.originator_id),
        mediations=row["mediations"] + 1,
        settled_on_site=row["settled_on_site"] + int(event.settled),
    )
