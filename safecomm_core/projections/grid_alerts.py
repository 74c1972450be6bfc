"""``alerts``: one row per grid alert and one per recipient unit, with provenance (M2.3).

An alert belongs to the raising unit's community and to the subdistrict's date of its
raise (``raised_on``); every figure of its recipients falls in that month.

Per recipient (fixed at the raise: the network's members then, except the raiser):

- ``first_sent_at``: the first ``Sent`` (the unit was notified); ``attempts``, ``failures``;
- ``delivered_at``: the first ``Delivered`` (the unit received it on some channel);
- ``acknowledged_at``: its ``Acknowledged``; ``escalated_at``: its ``EscalatedNoAck``.

Whether an acknowledgement came within T is not decided here: T is a rule that may be
adopted later with a past effective date, so reports decide it with the rules in force
(:mod:`~safecomm_core.projections.rules`), as the escalate command does.

Provenance: ``alert_facts`` names the event of each fact: the raise and the outcome
(part ``""``), and per unit (part = the unit) the first send, first delivery,
acknowledgement and escalation.

Serves the monthly report (reach, acknowledgement within T, time to reach all units) and
the watchlist alike (units not yet acknowledged: ``alert_units`` rows whose
``acknowledged_at`` is NULL, of alerts whose ``status`` is ``open``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.grid_alert import AlertOutcome, GridAlert
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import fact_table, last_event_columns, set_fact, touch
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["ALERTS", "ALERT_FACTS", "ALERT_ROWS", "ALERT_UNITS"]

ALERT_ROWS = Table(
    "alerts",
    columns=(
        Column("alert_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False),
        Column("network", TEXT, nullable=False),
        Column("raised_by", TEXT, nullable=False, doc="the raising unit"),
        Column("category", TEXT, nullable=False),
        Column("priority", TEXT, nullable=False),
        Column("raised_at", TIMESTAMP, nullable=False),
        Column("raised_on", DATE, nullable=False, doc="local date of raised_at"),
        Column("recipients", INTEGER, nullable=False),
        Column("status", TEXT, nullable=False, doc="open, concluded or closed"),
        Column("outcome", TEXT),
        Column("concluded_at", TIMESTAMP),
        Column("closed_at", TIMESTAMP),
        Column("updates", INTEGER, nullable=False),
        *last_event_columns(),
    ),
    key=("alert_id",),
    indexes=(("raised_on",),),
    doc="One row per alert.",
)

ALERT_UNITS = Table(
    "alert_units",
    columns=(
        Column("alert_id", TEXT, nullable=False),
        Column("unit", TEXT, nullable=False),
        Column("first_sent_at", TIMESTAMP),
        Column("channel", TEXT, doc="channel of the latest attempt"),
        Column("attempts", INTEGER, nullable=False),
        Column("failures", INTEGER, nullable=False),
        Column("delivered_at", TIMESTAMP, doc="first delivery"),
        Column("acknowledged_at", TIMESTAMP),
        Column("escalated_at", TIMESTAMP),
        Column("actions", INTEGER, nullable=False),
    ),
    key=("alert_id", "unit"),
    doc="One row per recipient unit of an alert.",
)

ALERT_FACTS = fact_table(
    "alert_facts",
    "alert_id",
    "The event of each fact of an alert and (part = unit) of each recipient.",
)

ALERTS = Projection(
    "alerts",
    version=1,
    tables=(ALERT_ROWS, ALERT_UNITS, ALERT_FACTS),
    doc="Grid alerts and their recipients: sent, delivered, acknowledged, escalated.",
)


@ALERTS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    alert_id = str(event.originator_id)
    if isinstance(event, GridAlert.Raised):
        units: tuple[str, ...] = tuple(event.recipients)
    else:  # a recipient's event names its unit
        unit = getattr(event, "unit", None)
        units = (unit,) if isinstance(unit, str) else ()
    return [(ALERT_ROWS, alert_id), *((ALERT_UNITS, (alert_id, unit)) for unit in units)]


def _recipient(
    view: ViewWriter, event: Any, notification_id: int, fact: str | None, **changes: Any
) -> dict[str, Any]:
    """Change the row of the event's unit; record ``fact`` for it when given."""
    touch(view, ALERT_ROWS, event, notification_id)
    key = (str(event.originator_id), event.unit)
    row = view.get(ALERT_UNITS, key)
    if row is None:
        raise LookupError(f"unit {event.unit!r} is not a recipient of alert {key[0]}")
    view.update(ALERT_UNITS, key, **changes)
    if fact is not None:
        set_fact(view, ALERT_FACTS, event, notification_id, fact, part=event.unit)
    return row


@ALERTS.handles(GridAlert.Raised)
def _raised(view: ViewWriter, event: GridAlert.Raised, notification_id: int) -> None:
    alert_id = str(event.originator_id)
    when = event.meta.occurred_at
    units = tuple(dict.fromkeys(event.recipients))
    view.insert(
        ALERT_ROWS,
        {
            "alert_id": alert_id,
            "ref": event.ref,
            "community": event.community,
            "network": event.network,
            "raised_by": event.raised_by,
            "category": str(event.category),
            "priority": str(event.priority),
            "raised_at": when,
            "raised_on": local_date(when),
            "recipients": len(units),
            "status": "open",
            "updates": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    for unit in units:
        view.insert(
            ALERT_UNITS,
            {"alert_id": alert_id, "unit": unit, "attempts": 0, "failures": 0, "actions": 0},
        )
    set_fact(view, ALERT_FACTS, event, notification_id, "raised")


@ALERTS.handles(GridAlert.Sent)
def _sent(view: ViewWriter, event: GridAlert.Sent, notification_id: int) -> None:
    row = view.get(ALERT_UNITS, (str(event.originator_id), event.unit))
    first = row is not None and row["first_sent_at"] is None
    changes: dict[str, Any] = {"channel": str(event.channel)}
    if row is not None:
        changes["attempts"] = row["attempts"] + 1
    if first:
        changes["first_sent_at"] = event.meta.occurred_at
    _recipient(view, event, notification_id, "sent" if first else None, **changes)


@ALERTS.handles(GridAlert.Delivered)
def _delivered(view: ViewWriter, event: GridAlert.Delivered, notification_id: int) -> None:
    row = view.get(ALERT_UNITS, (str(event.originator_id), event.unit))
    if row is not None and row["delivered_at"] is None:
        _recipient(view, event, notification_id, "delivered", delivered_at=event.meta.occurred_at)
    else:
        _recipient(view, event, notification_id, None)


@ALERTS.handles(GridAlert.Failed)
def _failed(view: ViewWriter, event: GridAlert.Failed, notification_id: int) -> None:
    row = view.get(ALERT_UNITS, (str(event.originator_id), event.unit))
    failures = row["failures"] + 1 if row is not None else 1
    _recipient(view, event, notification_id, None, failures=failures)


@ALERTS.handles(GridAlert.Acknowledged)
def _acknowledged(view: ViewWriter, event: GridAlert.Acknowledged, notification_id: int) -> None:
    _recipient(view, event, notification_id, "acknowledged", acknowledged_at=event.meta.occurred_at)


@ALERTS.handles(GridAlert.EscalatedNoAck)
def _escalated(view: ViewWriter, event: GridAlert.EscalatedNoAck, notification_id: int) -> None:
    _recipient(view, event, notification_id, "escalated", escalated_at=event.meta.occurred_at)


@ALERTS.handles(GridAlert.ActionReported)
def _action(view: ViewWriter, event: GridAlert.ActionReported, notification_id: int) -> None:
    row = view.get(ALERT_UNITS, (str(event.originator_id), event.unit))
    actions = row["actions"] + 1 if row is not None else 1
    _recipient(view, event, notification_id, None, actions=actions)


@ALERTS.handles(GridAlert.Updated)
def _updated(view: ViewWriter, event: GridAlert.Updated, notification_id: int) -> None:
    row = view.get(ALERT_ROWS, str(event.originator_id))
    touch(view, ALERT_ROWS, event, notification_id, updates=(row["updates"] if row else 0) + 1)


def _concluding(outcome: str) -> Callable[[ViewWriter, Any, int], None]:
    """The handler of an event that ends the alert in the world with ``outcome``."""

    def concluded(view: ViewWriter, event: Any, notification_id: int) -> None:
        when = event.meta.occurred_at
        touch(
            view,
            ALERT_ROWS,
            event,
            notification_id,
            status="concluded",
            outcome=outcome,
            concluded_at=when,
        )
        set_fact(view, ALERT_FACTS, event, notification_id, "concluded")

    return concluded


for _event, _outcome in (
    (GridAlert.SuspectCaught, AlertOutcome.SUSPECT_CAUGHT),
    (GridAlert.Resolved, AlertOutcome.RESOLVED),
    (GridAlert.Cancelled, AlertOutcome.CANCELLED),
    (GridAlert.Expired, AlertOutcome.EXPIRED),
):
    ALERTS.handles(_event)(_concluding(_outcome.value))


@ALERTS.handles(GridAlert.Closed)
def _closed(view: ViewWriter, event: GridAlert.Closed, notification_id: int) -> None:
    touch(
        view, ALERT_ROWS, event, notification_id, status="closed", closed_at=event.meta.occurred_at
    )
    set_fact(view, ALERT_FACTS, event, notification_id, "closed")
