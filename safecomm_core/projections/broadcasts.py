"""``broadcasts``: warnings published on the warning platform (M2.4), the residents'
questions about them and the time to answer, with the events behind each count.

A broadcast counts in the month of its ``Published`` event and in its community (``*`` for
the subdistrict's own outlets); its reach is the recipients summed over the outlets it was
published on (one resident may be counted on several). A resident's question counts in the
month it was asked; its time to answer is the difference of the two ``occurred_at`` (as the
domain defines it), NULL while unanswered.

Provenance: ``broadcast_facts`` names the event of each fact (part = the outlet or the
question where the fact is one of several).
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.broadcast import Broadcast
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["BROADCASTS", "BROADCAST_FACTS", "BROADCAST_QUESTIONS", "BROADCAST_ROWS"]

BROADCAST_ROWS = Table(
    "broadcasts",
    columns=(
        Column("broadcast_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="a community, or * for the subdistrict"),
        Column("category", TEXT, nullable=False),
        Column("period", TEXT, nullable=False, doc="holiday, high_incidence or ordinary"),
        Column("published_at", TIMESTAMP, nullable=False),
        Column("published_on", DATE, nullable=False),
        Column("outlets", INTEGER, nullable=False),
        Column("recipients", INTEGER, nullable=False, doc="summed over outlets"),
        Column("status", TEXT, nullable=False, doc="published or withdrawn"),
        Column("withdrawn_at", TIMESTAMP),
        *last_event_columns(),
    ),
    key=("broadcast_id",),
    indexes=(("published_on",),),
    doc="One row per broadcast.",
)

BROADCAST_QUESTIONS = Table(
    "broadcast_questions",
    columns=(
        Column("broadcast_id", TEXT, nullable=False),
        Column("question_id", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="the broadcast's"),
        Column("medium", TEXT, nullable=False, doc="of the outlet it came in on"),
        Column("asked_at", TIMESTAMP, nullable=False),
        Column("asked_on", DATE, nullable=False),
        Column("answered_at", TIMESTAMP),
    ),
    key=("broadcast_id", "question_id"),
    indexes=(("asked_on",),),
    doc="Residents' questions and opinions on broadcasts, and when each was answered.",
)

BROADCAST_FACTS = fact_table(
    "broadcast_facts",
    "broadcast_id",
    "The event of each fact of a broadcast (part = outlet or question).",
)

BROADCASTS = Projection(
    "broadcasts",
    version=1,
    tables=(BROADCAST_ROWS, BROADCAST_QUESTIONS, BROADCAST_FACTS),
    doc="Warning broadcasts: outlets, recipients, questions and time to answer.",
)


@BROADCASTS.reads
def _broadcast_read(event: Any) -> list[tuple[Table, Any]]:
    return [(BROADCAST_ROWS, str(event.originator_id))]


@BROADCASTS.handles(Broadcast.Published)
def _published(view: ViewWriter, event: Broadcast.Published, notification_id: int) -> None:
    when = event.meta.occurred_at
    view.insert(
        BROADCAST_ROWS,
        {
            "broadcast_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "category": str(event.category),
            "period": str(event.period),
            "published_at": when,
            "published_on": local_date(when),
            "outlets": 0,
            "recipients": 0,
            "status": "published",
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    set_fact(view, BROADCAST_FACTS, event, notification_id, "published")


@BROADCASTS.handles(Broadcast.PublishedOn)
def _published_on(view: ViewWriter, event: Broadcast.PublishedOn, notification_id: int) -> None:
    row = touch(view, BROADCAST_ROWS, event, notification_id)
    view.update(
        BROADCAST_ROWS,
        row["broadcast_id"],
        outlets=row["outlets"] + 1,
        recipients=row["recipients"] + event.recipients,
    )
    set_fact(view, BROADCAST_FACTS, event, notification_id, "outlet", part=str(event.outlet))


@BROADCASTS.handles(Broadcast.QuestionReceived)
def _asked(view: ViewWriter, event: Broadcast.QuestionReceived, notification_id: int) -> None:
    row = touch(view, BROADCAST_ROWS, event, notification_id)
    when = event.meta.occurred_at
    view.insert(
        BROADCAST_QUESTIONS,
        {
            "broadcast_id": row["broadcast_id"],
            "question_id": event.question_id,
            "community": row["community"],
            "medium": str(event.outlet.medium),
            "asked_at": when,
            "asked_on": local_date(when),
        },
    )
    set_fact(view, BROADCAST_FACTS, event, notification_id, "asked", part=event.question_id)


@BROADCASTS.handles(Broadcast.QuestionAnswered)
def _answered(view: ViewWriter, event: Broadcast.QuestionAnswered, notification_id: int) -> None:
    row = touch(view, BROADCAST_ROWS, event, notification_id)
    key = (row["broadcast_id"], event.question_id)
    if not view.update(BROADCAST_QUESTIONS, key, answered_at=event.meta.occurred_at):
        raise LookupError(f"broadcast {row['ref']!r} has no question {event.question_id!r}")
    set_fact(view, BROADCAST_FACTS, event, notification_id, "answered", part=event.question_id)


@BROADCASTS.handles(Broadcast.Withdrawn)
def _withdrawn(view: ViewWriter, event: Broadcast.Withdrawn, notification_id: int) -> None:
    touch(
        view,
        BROADCAST_ROWS,
        event,
        notification_id,
        status="withdrawn",
        withdrawn_at=event.meta.occurred_at,
    )
    set_fact(view, BROADCAST_FACTS, event, notification_id, "withdrawn")
