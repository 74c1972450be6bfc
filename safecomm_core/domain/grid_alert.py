"""GridAlert: an incident passed at once to every other unit of the network (警情; plan M2.3).

Alert::

    Raised ─┬─ Updated* ─┬─ SuspectCaught | Resolved | Cancelled | Expired ── Closed
            │   open     │            concluded                              closed

Per recipient unit (docs/domain.md, *Grid alerts*)::

    queued ── Sent(channel) ─┬─ Delivered ──────────────── Acknowledged ── ActionReported*
                 ↑           └─ Failed(reason) ─┐              ↑
                 └── retry or another channel ──┘   EscalatedNoAck (no reply within T:
                                                    a coordinator phones the unit)

Decisions, and why:

* **Fan-out is fixed at raise.** ``Raised`` names every recipient: each unit that was an
  active member of the network when the alert was raised (by ``occurred_at``), except the
  unit that raised it. A unit joining later is not added, one leaving later is not removed:
  the list is who was told, which is what the reach and acknowledgement figures count.
  ``Queued`` is each recipient's state after ``Raised``, not an event of its own. An alert
  from a unit alone in its network is still recorded, with no recipients. The alert belongs
  to the raising unit's community.
* **Sending needs a contact.** ``Sent`` names a channel the unit has a contact for. It may be
  repeated after a failure or a silence (retry, or fall back to another channel), not once
  the unit has it (delivered or acknowledged).
* **Closing is its own event.** An outcome (``SuspectCaught``, ``Resolved``, ``Cancelled``,
  ``Expired``) ends the alert in the world: nothing more is sent, updated or escalated. Late
  facts about what was already sent still arrive (delivery receipts, replies, units' reports
  of what they did) and are recorded. ``Closed`` shuts the record; after it every command is
  refused.
* **An acknowledgement proves receipt.** A unit may acknowledge once the alert was sent to it
  (some channels give no delivery receipt) or once a coordinator phoned it (escalation).
* **Escalation waits for T.** ``EscalatedNoAck`` is refused before ``alert_ack_minutes`` (the
  rule in force in the alert's community on the day it was raised) have passed since it was
  raised, and for units that acknowledged; a unit is escalated once.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs
from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.domain.grid_network import AlertChannel, GridNetwork
from safecomm_core.domain.snapshots import snapshot_class
from safecomm_core.errors import InvalidTransition, RuleViolation
from safecomm_core.transcoding import value_type
from safecomm_core.values import Meta

__all__ = [
    "AlertCategory",
    "AlertOutcome",
    "AlertPriority",
    "AlertStatus",
    "DeliveryStatus",
    "GridAlert",
    "Recipient",
    "ack_due",
]


def ack_due(raised_at: datetime, ack_minutes: int) -> datetime:
    """The moment by which a recipient must acknowledge an alert raised at ``raised_at``:
    ``ack_minutes`` later (T, the rule in force on the day it was raised). Escalation waits
    for it; an acknowledgement by then counts as in time.

    >>> from datetime import timezone
    >>> ack_due(datetime(2014, 3, 1, 9, 50, tzinfo=timezone.utc), 30).isoformat()
    '2014-03-01T10:20:00+00:00'
    """
    return raised_at + timedelta(minutes=ack_minutes)


class AlertCategory(enum.StrEnum):
    """What the incident is."""

    THEFT = "theft"
    ROBBERY = "robbery"
    FRAUD = "fraud"
    VIOLENCE = "violence"
    FIRE = "fire"
    MISSING_PERSON = "missing_person"
    SUSPECT = "suspect"
    OTHER = "other"


class AlertPriority(enum.StrEnum):
    """How urgent the alert is. Named levels, not 1–3: stored names must read for years."""

    LOW = "low"
    NORMAL = "normal"
    URGENT = "urgent"


class AlertStatus(enum.StrEnum):
    """Open; concluded (an outcome is recorded, late replies still land); closed."""

    OPEN = "open"
    CONCLUDED = "concluded"
    CLOSED = "closed"


class AlertOutcome(enum.StrEnum):
    """How the alert ended."""

    SUSPECT_CAUGHT = "suspect_caught"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DeliveryStatus(enum.StrEnum):
    """Where the alert stands on its way to one unit."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@value_type("grid_alert_recipient")
@attrs.frozen
class Recipient:
    """One recipient unit's state: delivery, reply and escalation."""

    unit: str
    delivery: DeliveryStatus = DeliveryStatus.QUEUED
    #: The channel of the latest attempt.
    channel: AlertChannel | None = None
    attempts: int = 0
    failures: int = 0
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None
    actions: int = 0

    @property
    def acknowledged(self) -> bool:
        """Whether the unit replied."""
        return self.acknowledged_at is not None


_NOT_CLOSED = (AlertStatus.OPEN, AlertStatus.CONCLUDED)


class GridAlert(Record):
    """An alert raised by a unit and passed to every other unit of its network."""

    KIND = "alert"
    TOPIC = "safecomm/GridAlert"
    Snapshot = snapshot_class("safecomm/GridAlert/Snapshot")

    # -- raising ----------------------------------------------------------------------

    class Raised(Record.Created):
        TOPIC = "safecomm/GridAlert/Raised"
        ref: str
        community: str
        network: str
        raised_by: str
        category: AlertCategory
        priority: AlertPriority
        area: str
        message: str
        expires_at: datetime
        recipients: tuple[str, ...]

    @event(Raised)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        network: str,
        raised_by: str,
        category: AlertCategory,
        priority: AlertPriority,
        area: str,
        message: str,
        expires_at: datetime,
        recipients: tuple[str, ...],
    ) -> None:
        self._created(meta, ref, community)
        self.network = network
        self.raised_by = raised_by
        self.category = AlertCategory(category)
        self.priority = AlertPriority(priority)
        self.area = area
        self.message = message
        self.raised_at = meta.occurred_at
        self.expires_at = expires_at
        self.recipients = {unit: Recipient(unit) for unit in tuple(recipients)}
        self.status = AlertStatus.OPEN
        self.outcome: AlertOutcome | None = None
        self.concluded_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.updates = 0

    @classmethod
    def raise_alert(
        cls,
        *,
        meta: Meta,
        ref: str,
        network: GridNetwork,
        raised_by: str,
        category: AlertCategory,
        priority: AlertPriority,
        area: str,
        message: str,
        expires_at: datetime,
    ) -> GridAlert:
        """Raise an alert from a member unit; it fans out to every other member then."""
        unit = network.member_at(raised_by, meta.occurred_at, field="raised_by")
        if expires_at <= meta.occurred_at:
            raise RuleViolation(
                f"alert {ref!r} would expire at {expires_at.isoformat()}, not after it was "
                f"raised at {meta.occurred_at.isoformat()}",
                field="expires_at",
                rule="must be after occurred_at",
            )
        recipients = tuple(u for u in network.members_at(meta.occurred_at) if u != raised_by)
        return cls(
            meta=meta,
            ref=ref,
            community=unit.community,
            network=network.ref,
            raised_by=raised_by,
            category=category,
            priority=priority,
            area=area,
            message=message,
            expires_at=expires_at,
            recipients=recipients,
        )

    def _retype(self) -> None:
        # A snapshot keeps enum members as their plain values.
        self.category = AlertCategory(self.category)
        self.priority = AlertPriority(self.priority)
        self.status = AlertStatus(self.status)
        self.outcome = None if self.outcome is None else AlertOutcome(self.outcome)

    # -- queries ----------------------------------------------------------------------

    def unanswered(self) -> tuple[str, ...]:
        """The recipient units that have not acknowledged, in recipient order."""
        return tuple(u for u, r in self.recipients.items() if not r.acknowledged)

    # -- per recipient ----------------------------------------------------------------

    class Sent(Record.Event):
        TOPIC = "safecomm/GridAlert/Sent"
        unit: str
        channel: AlertChannel
        #: The attempt's number on this channel (1, 2 …), as the dispatcher counts them;
        #: None where a person recorded the send (and in events stored before it was kept).
        attempt: int | None = None

    @event(Sent)
    def _sent(
        self, meta: Meta, unit: str, channel: AlertChannel, attempt: int | None = None
    ) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(
            r, delivery=DeliveryStatus.SENT, channel=AlertChannel(channel), attempts=r.attempts + 1
        )

    def send(
        self,
        meta: Meta,
        unit: str,
        channel: AlertChannel,
        network: GridNetwork,
        attempt: int | None = None,
    ) -> None:
        """The alert went out to a unit on a channel it has a contact for (first, retry,
        or fallback after a failure or a silence); ``attempt`` numbers it on the channel.

        A dispatcher records this *before* it sends, so a send cut short by a crash is on
        the record as an attempt without a result."""
        self._require(meta, "send", AlertStatus.OPEN)
        r = self._recipient(unit)
        if r.acknowledged:
            raise self._unit_not_allowed("send", unit, "acknowledged")
        if r.delivery == DeliveryStatus.DELIVERED:
            raise self._unit_not_allowed("send", unit, "delivered")
        member = network.units.get(unit)
        if member is None or member.channel(channel) is None:
            raise RuleViolation(
                f"unit {unit!r} has no {channel.value} contact in network {network.ref!r}",
                field="channel",
                rule="the unit must have a contact on the channel",
            )
        self._sent(meta=meta, unit=unit, channel=channel, attempt=attempt)

    class Delivered(Record.Event):
        TOPIC = "safecomm/GridAlert/Delivered"
        unit: str
        #: The channel's own id of the message (an SMS provider's, a broker's, a unit
        #: system's), where it gave one.
        message_id: str | None = None

    @event(Delivered)
    def _delivered(self, meta: Meta, unit: str, message_id: str | None = None) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(
            r,
            delivery=DeliveryStatus.DELIVERED,
            delivered_at=r.delivered_at or meta.occurred_at,
        )

    def record_delivery(self, meta: Meta, unit: str, message_id: str | None = None) -> None:
        """The latest attempt reached the unit (a gateway's receipt, a call answered, a
        channel that took the message: ``message_id`` is its id for it)."""
        self._require_sent(meta, "record a delivery of", unit)
        self._delivered(meta=meta, unit=unit, message_id=message_id)

    class Failed(Record.Event):
        TOPIC = "safecomm/GridAlert/Failed"
        unit: str
        reason: str

    @event(Failed)
    def _failed(self, meta: Meta, unit: str, reason: str) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(
            r, delivery=DeliveryStatus.FAILED, failures=r.failures + 1
        )

    def record_failure(self, meta: Meta, unit: str, reason: str) -> None:
        """The latest attempt did not reach the unit; retry, or fall back to another channel."""
        self._require_sent(meta, "record a failure of", unit)
        self._failed(meta=meta, unit=unit, reason=reason)

    class Acknowledged(Record.Event):
        TOPIC = "safecomm/GridAlert/Acknowledged"
        unit: str

    @event(Acknowledged)
    def _acknowledged(self, meta: Meta, unit: str) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(r, acknowledged_at=meta.occurred_at)

    def acknowledge(self, meta: Meta, unit: str) -> None:
        """The unit replied that it has the alert."""
        self._require(meta, "acknowledge", *_NOT_CLOSED)
        r = self._recipient(unit)
        if r.acknowledged:
            raise self._unit_not_allowed("acknowledge", unit, "acknowledged")
        if r.attempts == 0 and r.escalated_at is None:
            raise self._unit_not_allowed("acknowledge", unit, "not yet contacted")
        self._acknowledged(meta=meta, unit=unit)

    class ActionReported(Record.Event):
        TOPIC = "safecomm/GridAlert/ActionReported"
        unit: str
        text: str

    @event(ActionReported)
    def _action_reported(self, meta: Meta, unit: str, text: str) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(r, actions=r.actions + 1)

    def report_action(self, meta: Meta, unit: str, text: str) -> None:
        """What an acknowledging unit did (searched its compound, watched its gate …)."""
        self._require(meta, "report an action on", *_NOT_CLOSED)
        if not self._recipient(unit).acknowledged:
            raise self._unit_not_allowed("report an action on", unit, "not acknowledged")
        self._action_reported(meta=meta, unit=unit, text=text)

    class EscalatedNoAck(Record.Event):
        TOPIC = "safecomm/GridAlert/EscalatedNoAck"
        unit: str

    @event(EscalatedNoAck)
    def _escalated(self, meta: Meta, unit: str) -> None:
        r = self.recipients[unit]
        self.recipients[unit] = attrs.evolve(r, escalated_at=meta.occurred_at)

    def escalate(self, meta: Meta, unit: str, ack_minutes: int) -> None:
        """No reply within ``ack_minutes`` of the raise: a coordinator takes it up (督办)."""
        self._require(meta, "escalate", AlertStatus.OPEN)
        r = self._recipient(unit)
        if r.acknowledged:
            raise self._unit_not_allowed("escalate", unit, "acknowledged")
        if r.escalated_at is not None:
            raise self._unit_not_allowed("escalate", unit, "escalated")
        due = ack_due(self.raised_at, ack_minutes)
        if meta.occurred_at < due:
            raise RuleViolation(
                f"unit {unit!r} has until {due.isoformat()} to acknowledge alert "
                f"{self.ref!r} ({ack_minutes} minutes after it was raised)",
                field="occurred_at",
                rule=f"not before {ack_minutes} minutes after the alert was raised",
            )
        self._escalated(meta=meta, unit=unit)

    # -- the alert as a whole -----------------------------------------------------------

    class Updated(Record.Event):
        TOPIC = "safecomm/GridAlert/Updated"
        text: str

    @event(Updated)
    def _updated(self, meta: Meta, text: str) -> None:
        self.updates += 1

    def update(self, meta: Meta, text: str) -> None:
        """News of the incident (a better description, a direction of flight …)."""
        self._require(meta, "update", AlertStatus.OPEN)
        self._updated(meta=meta, text=text)

    class SuspectCaught(Record.Event):
        TOPIC = "safecomm/GridAlert/SuspectCaught"
        details: str

    @event(SuspectCaught)
    def _suspect_caught(self, meta: Meta, details: str) -> None:
        self._conclude(meta, AlertOutcome.SUSPECT_CAUGHT)

    def catch_suspect(self, meta: Meta, details: str) -> None:
        """The suspect was caught (joint capture, M2.3)."""
        self._require(meta, "record a capture for", AlertStatus.OPEN)
        self._suspect_caught(meta=meta, details=details)

    class Resolved(Record.Event):
        TOPIC = "safecomm/GridAlert/Resolved"
        summary: str

    @event(Resolved)
    def _resolved(self, meta: Meta, summary: str) -> None:
        self._conclude(meta, AlertOutcome.RESOLVED)

    def resolve(self, meta: Meta, summary: str) -> None:
        """The incident is over otherwise (the missing person found, the fire out …)."""
        self._require(meta, "resolve", AlertStatus.OPEN)
        self._resolved(meta=meta, summary=summary)

    class Cancelled(Record.Event):
        TOPIC = "safecomm/GridAlert/Cancelled"
        reason: str

    @event(Cancelled)
    def _cancelled(self, meta: Meta, reason: str) -> None:
        self._conclude(meta, AlertOutcome.CANCELLED)

    def cancel(self, meta: Meta, reason: str) -> None:
        """The alert was a mistake or a false report."""
        self._require(meta, "cancel", AlertStatus.OPEN)
        self._cancelled(meta=meta, reason=reason)

    class Expired(Record.Event):
        TOPIC = "safecomm/GridAlert/Expired"

    @event(Expired)
    def _expired(self, meta: Meta) -> None:
        self._conclude(meta, AlertOutcome.EXPIRED)

    def expire(self, meta: Meta) -> None:
        """The alert lapsed at ``expires_at`` with no other outcome."""
        self._require(meta, "expire", AlertStatus.OPEN)
        if meta.occurred_at < self.expires_at:
            raise RuleViolation(
                f"alert {self.ref!r} expires at {self.expires_at.isoformat()}",
                field="occurred_at",
                rule="not before expires_at",
            )
        self._expired(meta=meta)

    class Closed(Record.Event):
        TOPIC = "safecomm/GridAlert/Closed"

    @event(Closed)
    def _closed(self, meta: Meta) -> None:
        self.status = AlertStatus.CLOSED
        self.closed_at = meta.occurred_at

    def close(self, meta: Meta) -> None:
        """Shut the record once an outcome is recorded; nothing is accepted after."""
        self._require(meta, "close", AlertStatus.CONCLUDED)
        self._closed(meta=meta)

    # -- helpers ------------------------------------------------------------------------

    def _conclude(self, meta: Meta, outcome: AlertOutcome) -> None:
        self.status = AlertStatus.CONCLUDED
        self.outcome = outcome
        self.concluded_at = meta.occurred_at

    def _require(self, meta: Meta, action: str, *allowed: AlertStatus) -> None:
        self.check_after_creation(meta)
        if self.status not in allowed:
            raise self.not_allowed(action, self.status.value)

    def _require_sent(self, meta: Meta, action: str, unit: str) -> None:
        self._require(meta, action, *_NOT_CLOSED)
        r = self._recipient(unit)
        if r.delivery != DeliveryStatus.SENT:
            raise self._unit_not_allowed(action, unit, r.delivery.value)

    def _recipient(self, unit: str) -> Recipient:
        found = self.recipients.get(unit)
        if found is None:
            raise RuleViolation(
                f"unit {unit!r} is not a recipient of alert {self.ref!r}",
                field="unit_id",
                rule="must be a recipient of the alert",
            )
        return found

    def _unit_not_allowed(self, action: str, unit: str, state: str) -> InvalidTransition:
        return InvalidTransition(
            f"cannot {action} alert {self.ref!r} for unit {unit!r}: it is {state}",
            field="unit_id",
            rule=f"cannot {action} when {state}",
        )
