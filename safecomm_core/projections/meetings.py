"""``meetings``: the monthly meetings (S1), the problems they raised and their actions.

``meetings`` has one row per meeting: which month's it is (not when it was held: a March
meeting held on 2 April is March's), when it was held, and counts of its problems and
actions. ``meeting_problems`` keeps each problem with the plan measure it concerns;
``meeting_actions`` each corrective action with its owner (a staff id), due date, when it
was assigned and closed, whether late, and the notifications of both events, so a report
can say which actions were open, closed or overdue on any date (AQ/T 9001 element 11).
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.meeting import Meeting
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.schema import (
    BOOLEAN,
    DATE,
    INTEGER,
    TEXT,
    TIMESTAMP,
    Column,
    Table,
)
from safecomm_core.projections.writer import ViewWriter

__all__ = ["MEETINGS", "MEETING_ACTIONS", "MEETING_PROBLEMS", "MEETING_ROWS"]

MEETING_ROWS = Table(
    "meetings",
    columns=(
        Column("meeting_id", TEXT, nullable=False, doc="the aggregate's id"),
        Column("ref", TEXT, nullable=False, doc="the meeting's reference"),
        Column("community", TEXT, nullable=False, doc="* for the subdistrict's group"),
        Column("month", TEXT, nullable=False, doc="the month whose meeting it is, YYYY-MM"),
        Column("held_at", TIMESTAMP, nullable=False),
        Column("held_on", DATE, nullable=False),
        Column("attendees", INTEGER, nullable=False),
        Column("problems", INTEGER, nullable=False),
        Column("actions", INTEGER, nullable=False),
        Column("closed", INTEGER, nullable=False, doc="actions closed"),
        Column("late", INTEGER, nullable=False, doc="actions closed after their due date"),
        Column("recorded_at", TIMESTAMP, nullable=False),
        Column("version", INTEGER, nullable=False),
        Column("notification_id", INTEGER, nullable=False, doc="of the Held event"),
    ),
    key=("meeting_id",),
    indexes=(("month",),),
    doc="One row per meeting.",
)

MEETING_PROBLEMS = Table(
    "meeting_problems",
    columns=(
        Column("meeting_id", TEXT, nullable=False),
        Column("problem_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False),
        Column("measure", TEXT, nullable=False, doc="the plan measure it concerns"),
        Column("raised_at", TIMESTAMP, nullable=False),
        Column("notification_id", INTEGER, nullable=False),
    ),
    key=("meeting_id", "problem_id"),
    doc="Every problem raised at a meeting.",
)

MEETING_ACTIONS = Table(
    "meeting_actions",
    columns=(
        Column("meeting_id", TEXT, nullable=False),
        Column("action_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False, doc="the meeting's reference"),
        Column("community", TEXT, nullable=False),
        Column("month", TEXT, nullable=False),
        Column("problem_id", TEXT, nullable=False),
        Column("measure", TEXT, nullable=False, doc="the measure of the action's problem"),
        Column("owner", TEXT, nullable=False, doc="a staff id"),
        Column("due", DATE, nullable=False),
        Column("assigned_at", TIMESTAMP, nullable=False),
        Column("assigned_on", DATE, nullable=False),
        Column("assigned_notification", INTEGER, nullable=False),
        Column("closed_at", TIMESTAMP),
        Column("closed_on", DATE),
        Column("late", BOOLEAN, doc="closed after its due date; NULL while open"),
        Column("closed_notification", INTEGER),
    ),
    key=("meeting_id", "action_id"),
    indexes=(("due",),),
    doc="Every corrective action, open or closed.",
)

MEETINGS = Projection(
    "meetings",
    version=1,
    tables=(MEETING_ROWS, MEETING_PROBLEMS, MEETING_ACTIONS),
    doc="Monthly meetings: held per month; problems; actions assigned, closed, late, open.",
)


@MEETINGS.reads
def _rows_read(event: Any) -> list[tuple[Any, Any]]:
    return [(MEETING_ROWS, str(event.originator_id))]


def _meeting(view: ViewWriter, event: Any, **counts: int) -> dict[str, Any]:
    """The meeting's row, with the counts given added and its version moved on."""
    row = view.get(MEETING_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no row for meeting {event.originator_id}: Held is missing")
    changes = {name: row[name] + n for name, n in counts.items()}
    view.update(MEETING_ROWS, row["meeting_id"], version=event.originator_version, **changes)
    return row


@MEETINGS.handles(Meeting.Held)
def _held(view: ViewWriter, event: Meeting.Held, notification_id: int) -> None:
    view.insert(
        MEETING_ROWS,
        {
            "meeting_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "month": event.month,
            "held_at": event.meta.occurred_at,
            "held_on": local_date(event.meta.occurred_at),
            "attendees": len(event.attendees),
            "problems": 0,
            "actions": 0,
            "closed": 0,
            "late": 0,
            "recorded_at": event.timestamp,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )


@MEETINGS.handles(Meeting.ProblemRaised)
def _problem(view: ViewWriter, event: Meeting.ProblemRaised, notification_id: int) -> None:
    meeting = _meeting(view, event, problems=1)
    view.insert(
        MEETING_PROBLEMS,
        {
            "meeting_id": meeting["meeting_id"],
            "problem_id": event.problem_id,
            "ref": meeting["ref"],
            "community": meeting["community"],
            "measure": event.measure,
            "raised_at": event.meta.occurred_at,
            "notification_id": notification_id,
        },
    )


@MEETINGS.handles(Meeting.ActionAssigned)
def _assigned(view: ViewWriter, event: Meeting.ActionAssigned, notification_id: int) -> None:
    meeting = _meeting(view, event, actions=1)
    problem = view.get(MEETING_PROBLEMS, (meeting["meeting_id"], event.problem_id))
    if problem is None:
        raise LookupError(f"meeting {meeting['ref']!r} raised no problem {event.problem_id!r}")
    view.insert(
        MEETING_ACTIONS,
        {
            "meeting_id": meeting["meeting_id"],
            "action_id": event.action_id,
            "ref": meeting["ref"],
            "community": meeting["community"],
            "month": meeting["month"],
            "problem_id": event.problem_id,
            "measure": problem["measure"],
            "owner": event.owner,
            "due": event.due,
            "assigned_at": event.meta.occurred_at,
            "assigned_on": local_date(event.meta.occurred_at),
            "assigned_notification": notification_id,
        },
    )


@MEETINGS.handles(Meeting.ActionClosed)
def _closed(view: ViewWriter, event: Meeting.ActionClosed, notification_id: int) -> None:
    meeting = _meeting(view, event, closed=1, late=int(event.late))
    found = view.update(
        MEETING_ACTIONS,
        (meeting["meeting_id"], event.action_id),
        closed_at=event.meta.occurred_at,
        closed_on=local_date(event.meta.occurred_at),
        late=event.late,
        closed_notification=notification_id,
    )
    if not found:
        raise LookupError(f"meeting {meeting['ref']!r} assigned no action {event.action_id!r}")
