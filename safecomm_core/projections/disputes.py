"""``disputes``: one row per dispute, the facts reports count, and the events behind each fact.

Reports are by when things happened (``occurred_at``), so every time here is an event's
``meta.occurred_at`` (in UTC), with the subdistrict's calendar date beside the two that
periods are cut on (``reported_on``, ``closed_on``). ``recorded_at`` is kept for "as known
at" questions.

Definitions (version 1):

- ``outcome``: ``agreement_written`` / ``agreement_oral`` (AgreementReached),
  ``terminated`` (MediationTerminated), ``refused`` (Refused); NULL while open. Archiving
  keeps the outcome and sets ``status`` to ``archived``.
- ``settled_on_spot``: reported by a patrol (``source = patrol``) and the agreement reached
  at the very moment of the report, as a patroller's on-the-spot mediation records it.
- ``escalated_to_police``: ReportedToPolice happened (人民调解法 Art. 25).
- ``performance``: the latest PerformanceRecorded outcome.

Provenance: ``dispute_facts`` holds, for each fact of a dispute (``reported``,
``accepted``, ``closed``, ``first_session``, ``police``, …), the notification and the event
(``dispute_id`` + ``originator_version``) that set it, so an auditor can go from a count
to the events behind it. Where a later event replaces a fact (``mediator``,
``performance``), the row names the latest.
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.dispute import Dispute, DisputeSource
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import event_values, provenance_columns
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

__all__ = ["DISPUTES", "DISPUTE_FACTS", "DISPUTE_ROWS"]

DISPUTE_ROWS = Table(
    "disputes",
    columns=(
        Column("dispute_id", TEXT, nullable=False, doc="the aggregate's id"),
        Column("ref", TEXT, nullable=False, doc="the case number the office gave it"),
        Column("community", TEXT, nullable=False),
        Column("grid_unit", TEXT),
        Column("kind", TEXT, nullable=False),
        Column("source", TEXT, nullable=False),
        Column("status", TEXT, nullable=False),
        Column("reported_at", TIMESTAMP, nullable=False, doc="occurred"),
        Column("reported_on", DATE, nullable=False, doc="local date of reported_at"),
        Column("recorded_at", TIMESTAMP, nullable=False, doc="when the report was stored"),
        Column("accepted_at", TIMESTAMP),
        Column("mediator", TEXT, doc="staff id of the latest mediator"),
        Column("sessions", INTEGER, nullable=False),
        Column("first_session_at", TIMESTAMP),
        Column("risk_flagged", BOOLEAN, nullable=False),
        Column("escalated_to_police", BOOLEAN, nullable=False),
        Column("police_reported_at", TIMESTAMP),
        Column("closed_at", TIMESTAMP, doc="refused, agreed or terminated"),
        Column("closed_on", DATE, doc="local date of closed_at"),
        Column("outcome", TEXT),
        Column("settled_on_spot", BOOLEAN, nullable=False),
        Column("performance", TEXT),
        Column("judicial_confirmation", TEXT, doc="applied, confirmed or rejected"),
        Column("judicial_applied_at", TIMESTAMP),
        Column("follow_ups", INTEGER, nullable=False),
        Column("legal_aid_referrals", INTEGER, nullable=False),
        Column("archived_at", TIMESTAMP),
        Column("version", INTEGER, nullable=False, doc="the dispute's last event projected"),
        Column("notification_id", INTEGER, nullable=False, doc="... and its notification"),
    ),
    key=("dispute_id",),
    indexes=(("community", "reported_on"), ("reported_on",), ("closed_on",)),
    doc="One row per dispute.",
)

DISPUTE_FACTS = Table(
    "dispute_facts",
    columns=(
        Column("dispute_id", TEXT, nullable=False),
        Column("fact", TEXT, nullable=False),
        *provenance_columns(),
    ),
    key=("dispute_id", "fact"),
    indexes=(("notification_id",),),
    doc="The event that set each fact of a dispute.",
)

DISPUTES = Projection(
    "disputes",
    version=1,
    tables=(DISPUTE_ROWS, DISPUTE_FACTS),
    doc="One row per dispute: status, outcome, times, escalation, provenance.",
)


@DISPUTES.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    return [(DISPUTE_ROWS, str(event.originator_id))]


def _fact(view: ViewWriter, event: Any, notification_id: int, fact: str) -> None:
    view.put(
        DISPUTE_FACTS,
        {
            "dispute_id": str(event.originator_id),
            "fact": fact,
            **event_values(event, notification_id),
        },
    )


def _row(view: ViewWriter, event: Any) -> dict[str, Any]:
    row = view.get(DISPUTE_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no row for dispute {event.originator_id}: its report is missing")
    return row


def _change(
    view: ViewWriter, event: Any, notification_id: int, fact: str | None, **changes: Any
) -> None:
    _row(view, event)
    view.update(
        DISPUTE_ROWS,
        str(event.originator_id),
        version=event.originator_version,
        notification_id=notification_id,
        **changes,
    )
    if fact is not None:
        _fact(view, event, notification_id, fact)


def _close(
    view: ViewWriter, event: Any, notification_id: int, status: str, outcome: str, **more: Any
) -> None:
    when = event.meta.occurred_at
    _change(
        view,
        event,
        notification_id,
        "closed",
        status=status,
        outcome=outcome,
        closed_at=when,
        closed_on=local_date(when),
        **more,
    )


@DISPUTES.handles(Dispute.Reported)
def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
    when = event.meta.occurred_at
    view.insert(
        DISPUTE_ROWS,
        {
            "dispute_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "grid_unit": event.grid_unit,
            "kind": str(event.kind),
            "source": str(event.source),
            "status": "reported",
            "reported_at": when,
            "reported_on": local_date(when),
            "recorded_at": event.timestamp,
            "sessions": 0,
            "risk_flagged": False,
            "escalated_to_police": False,
            "settled_on_spot": False,
            "follow_ups": 0,
            "legal_aid_referrals": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    _fact(view, event, notification_id, "reported")


@DISPUTES.handles(Dispute.Accepted)
def _accepted(view: ViewWriter, event: Dispute.Accepted, notification_id: int) -> None:
    _change(
        view,
        event,
        notification_id,
        "accepted",
        status="accepted",
        accepted_at=event.meta.occurred_at,
    )


@DISPUTES.handles(Dispute.Refused)
def _refused(view: ViewWriter, event: Dispute.Refused, notification_id: int) -> None:
    _close(view, event, notification_id, "refused", "refused")


@DISPUTES.handles(Dispute.MediatorAssigned)
def _mediator(view: ViewWriter, event: Dispute.MediatorAssigned, notification_id: int) -> None:
    _change(view, event, notification_id, "mediator", mediator=event.mediator)


@DISPUTES.handles(Dispute.SessionHeld)
def _session(view: ViewWriter, event: Dispute.SessionHeld, notification_id: int) -> None:
    row = _row(view, event)
    if row["first_session_at"] is None:
        _change(
            view,
            event,
            notification_id,
            "first_session",
            sessions=row["sessions"] + 1,
            first_session_at=event.meta.occurred_at,
        )
    else:
        _change(view, event, notification_id, None, sessions=row["sessions"] + 1)


@DISPUTES.handles(Dispute.RiskFlagged)
def _risk(view: ViewWriter, event: Dispute.RiskFlagged, notification_id: int) -> None:
    if not _row(view, event)["risk_flagged"]:
        _change(view, event, notification_id, "risk", risk_flagged=True)
    else:
        _change(view, event, notification_id, None)


@DISPUTES.handles(Dispute.ReportedToPolice)
def _police(view: ViewWriter, event: Dispute.ReportedToPolice, notification_id: int) -> None:
    if not _row(view, event)["escalated_to_police"]:
        _change(
            view,
            event,
            notification_id,
            "police",
            escalated_to_police=True,
            police_reported_at=event.meta.occurred_at,
        )
    else:
        _change(view, event, notification_id, None)


@DISPUTES.handles(Dispute.AgreementReached)
def _agreed(view: ViewWriter, event: Dispute.AgreementReached, notification_id: int) -> None:
    row = _row(view, event)
    on_spot = row["source"] == DisputeSource.PATROL and row["reported_at"] == event.meta.occurred_at
    _close(
        view,
        event,
        notification_id,
        "agreed",
        f"agreement_{event.form}",
        settled_on_spot=on_spot,
    )


@DISPUTES.handles(Dispute.MediationTerminated)
def _terminated(view: ViewWriter, event: Dispute.MediationTerminated, notification_id: int) -> None:
    _close(view, event, notification_id, "terminated", "terminated")


@DISPUTES.handles(Dispute.PerformanceRecorded)
def _performance(
    view: ViewWriter, event: Dispute.PerformanceRecorded, notification_id: int
) -> None:
    _change(view, event, notification_id, "performance", performance=str(event.outcome))


@DISPUTES.handles(Dispute.JudicialConfirmationApplied)
def _confirmation_applied(
    view: ViewWriter, event: Dispute.JudicialConfirmationApplied, notification_id: int
) -> None:
    _change(
        view,
        event,
        notification_id,
        "judicial_applied",
        judicial_confirmation="applied",
        judicial_applied_at=event.meta.occurred_at,
    )


@DISPUTES.handles(Dispute.JudicialConfirmationDecided)
def _confirmation_decided(
    view: ViewWriter, event: Dispute.JudicialConfirmationDecided, notification_id: int
) -> None:
    decision = "confirmed" if event.confirmed else "rejected"
    _change(view, event, notification_id, "judicial_decided", judicial_confirmation=decision)


@DISPUTES.handles(Dispute.FollowUpVisited)
def _follow_up(view: ViewWriter, event: Dispute.FollowUpVisited, notification_id: int) -> None:
    follow_ups = _row(view, event)["follow_ups"] + 1
    _change(view, event, notification_id, "follow_up", follow_ups=follow_ups)


@DISPUTES.handles(Dispute.LegalAidReferred)
def _legal_aid(view: ViewWriter, event: Dispute.LegalAidReferred, notification_id: int) -> None:
    referrals = _row(view, event)["legal_aid_referrals"] + 1
    _change(view, event, notification_id, "legal_aid", legal_aid_referrals=referrals)


@DISPUTES.handles(Dispute.Archived)
def _archived(view: ViewWriter, event: Dispute.Archived, notification_id: int) -> None:
    _change(
        view,
        event,
        notification_id,
        "archived",
        status="archived",
        archived_at=event.meta.occurred_at,
    )
