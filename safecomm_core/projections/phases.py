"""``phases``: the programme's phases P1–P7, and every fact of each with its event.

``phases`` holds one row per phase as it stands now: its planned window, required
deliverables, status, and counts of deliverables, documents and reviews. ``phase_facts``
holds one row per event of a phase (``planned``, ``started``, ``deliverable``,
``review``, ``completed``, ``overdue``), with when it occurred and the event behind it, so
that a report can ask what a phase looked like on any date ("as of") and an auditor can
go from a count to the events counted.

A phase is *overdue on a date* when its window ended before that date and it was not
completed by then (docs/domain.md); a ``MarkedOverdue`` event is the office saying so,
and is kept beside, not instead of, that reading.
"""

from __future__ import annotations

import json
from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.phase import ProjectPhase
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import event_values, provenance_columns
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["PHASES", "PHASE_FACTS", "PHASE_ROWS"]

PHASE_ROWS = Table(
    "phases",
    columns=(
        Column("phase_id", TEXT, nullable=False, doc="the aggregate's id"),
        Column("phase", TEXT, nullable=False, doc="P1 … P7"),
        Column("community", TEXT, nullable=False),
        Column("title", TEXT, nullable=False),
        Column("window_start", DATE, nullable=False),
        Column("window_end", DATE, nullable=False),
        Column("required", TEXT, nullable=False, doc="required deliverables, a JSON list"),
        Column("status", TEXT, nullable=False, doc="planned, started or completed"),
        Column("started_at", TIMESTAMP),
        Column("completed_at", TIMESTAMP),
        Column("completed_on", DATE),
        Column("gaps_at_completion", TEXT, doc="required deliverables missing, a JSON list"),
        Column("marked_overdue_on", DATE, doc="the office marked it overdue on this day"),
        Column("deliverables", INTEGER, nullable=False, doc="deliverable records"),
        Column("documents", INTEGER, nullable=False, doc="evidence documents referenced"),
        Column("reviews", INTEGER, nullable=False),
        Column("latest_score", INTEGER, doc="of the latest scored self-assessment"),
        Column("recorded_at", TIMESTAMP, nullable=False, doc="when the plan was stored"),
        Column("version", INTEGER, nullable=False, doc="the phase's last event projected"),
        Column("notification_id", INTEGER, nullable=False, doc="... and its notification"),
    ),
    key=("phase_id",),
    doc="One row per phase.",
)

PHASE_FACTS = Table(
    "phase_facts",
    columns=(
        Column("phase_id", TEXT, nullable=False),
        Column("phase", TEXT, nullable=False),
        Column("fact", TEXT, nullable=False, doc="planned, started, deliverable, review, ..."),
        Column("name", TEXT, doc="the deliverable's name, or the review's kind"),
        Column("documents", INTEGER, nullable=False, doc="evidence documents of a deliverable"),
        Column("evidence", TEXT, doc="a deliverable's documents' SHA-256, a JSON list"),
        Column("score", INTEGER, doc="a self-assessment's score"),
        *provenance_columns(),
    ),
    key=("phase_id", "originator_version"),
    indexes=(("notification_id",),),
    doc="Every event of every phase, with the event that recorded it.",
)

PHASES = Projection(
    "phases",
    version=1,
    tables=(PHASE_ROWS, PHASE_FACTS),
    doc="The phases P1-P7: windows, status, deliverables with evidence, reviews with scores.",
)


@PHASES.reads
def _rows_read(event: Any) -> list[tuple[Any, Any]]:
    return [(PHASE_ROWS, str(event.originator_id))]


def _row(view: ViewWriter, event: Any) -> dict[str, Any]:
    row = view.get(PHASE_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no row for phase {event.originator_id}: its plan is missing")
    return row


def _record(
    view: ViewWriter,
    event: Any,
    notification_id: int,
    fact: str,
    *,
    facts: dict[str, Any] | None = None,
    **changes: Any,
) -> None:
    """Change the phase's row and add the fact row of ``event``."""
    row = _row(view, event)
    view.update(
        PHASE_ROWS,
        row["phase_id"],
        version=event.originator_version,
        notification_id=notification_id,
        **changes,
    )
    _fact(view, event, notification_id, row["phase"], fact, **(facts or {}))


def _fact(
    view: ViewWriter, event: Any, notification_id: int, phase: str, fact: str, **more: Any
) -> None:
    view.insert(
        PHASE_FACTS,
        {
            "phase_id": str(event.originator_id),
            "phase": phase,
            "fact": fact,
            "documents": 0,
            **more,
            **event_values(event, notification_id),
        },
    )


@PHASES.handles(ProjectPhase.Planned)
def _planned(view: ViewWriter, event: ProjectPhase.Planned, notification_id: int) -> None:
    view.insert(
        PHASE_ROWS,
        {
            "phase_id": str(event.originator_id),
            "phase": event.ref,
            "community": event.community,
            "title": event.title,
            "window_start": event.window_start,
            "window_end": event.window_end,
            "required": json.dumps(list(event.required_deliverables), ensure_ascii=False),
            "status": "planned",
            "deliverables": 0,
            "documents": 0,
            "reviews": 0,
            "recorded_at": event.timestamp,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    _fact(view, event, notification_id, event.ref, "planned")


@PHASES.handles(ProjectPhase.Started)
def _started(view: ViewWriter, event: ProjectPhase.Started, notification_id: int) -> None:
    _record(
        view, event, notification_id, "started", status="started", started_at=event.meta.occurred_at
    )


@PHASES.handles(ProjectPhase.DeliverableRecorded)
def _deliverable(
    view: ViewWriter, event: ProjectPhase.DeliverableRecorded, notification_id: int
) -> None:
    row = _row(view, event)
    evidence = [e.sha256 for e in event.evidence]
    _record(
        view,
        event,
        notification_id,
        "deliverable",
        facts={"name": event.name, "documents": len(evidence), "evidence": json.dumps(evidence)},
        deliverables=row["deliverables"] + 1,
        documents=row["documents"] + len(evidence),
    )


@PHASES.handles(ProjectPhase.ReviewHeld)
def _review(view: ViewWriter, event: ProjectPhase.ReviewHeld, notification_id: int) -> None:
    row = _row(view, event)
    score = row["latest_score"] if event.score is None else event.score
    _record(
        view,
        event,
        notification_id,
        "review",
        facts={"name": str(event.kind), "score": event.score},
        reviews=row["reviews"] + 1,
        latest_score=score,
    )


@PHASES.handles(ProjectPhase.Completed)
def _completed(view: ViewWriter, event: ProjectPhase.Completed, notification_id: int) -> None:
    when = event.meta.occurred_at
    _record(
        view,
        event,
        notification_id,
        "completed",
        status="completed",
        completed_at=when,
        completed_on=local_date(when),
        gaps_at_completion=json.dumps(list(event.gaps), ensure_ascii=False),
    )


@PHASES.handles(ProjectPhase.MarkedOverdue)
def _overdue(view: ViewWriter, event: ProjectPhase.MarkedOverdue, notification_id: int) -> None:
    _record(
        view,
        event,
        notification_id,
        "overdue",
        marked_overdue_on=local_date(event.meta.occurred_at),
    )
