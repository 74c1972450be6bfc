"""The alert dispatcher: follows the log, reaches every recipient unit, records each step.

For each raised alert the dispatcher takes the alert's lease, then for every recipient unit
not yet reached walks the unit's contacts in its fallback order
(:meth:`~safecomm_core.domain.grid_network.GridUnit.fallback`): per channel, up to
``Retry.attempts`` attempts with exponential backoff and full jitter between them and a
timeout on each. Every attempt is recorded through the ordinary commands with the
dispatcher's own principal, ``alert.send`` *before* the send and ``alert.record_delivery``
or ``alert.record_failure`` after it, with command ids derived from (alert, unit, channel,
attempt, step). When the acknowledgement time of the rule in force has passed, every unit
that has not acknowledged is escalated.

Why a restart resumes (docs/alerts.md, *Crashes and restarts*): the state of each unit is
read back from the alert's own events. An attempt on the record without a result was in
flight when a dispatcher stopped: it is recorded failed ("interrupted") and the next
attempt follows, so at most that one send is repeated, and the history shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from safecomm_cli.stopping import pause

from safecomm_core import (
    AcknowledgeAlert,
    AlertChannel,
    EscalateUnacknowledged,
    GridAlert,
    GridNetwork,
    RecordAlertDelivery,
    RecordAlertFailure,
    Safecomm,
    SafecommError,
    SendAlert,
)
from safecomm_core.access import Principal
from safecomm_core.dates import local_date
from safecomm_core.domain.grid_alert import AlertStatus, DeliveryStatus, ack_due
from safecomm_core.domain.grid_network import ContactChannel, GridUnit
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import CommandIdReused
from safecomm_core.projections.database import open_views
from safecomm_core.projections.positions import FollowerPositions, positions_table
from safecomm_core.values import Actor, Role
from safecomm_core.values import Channel as Via
from safecomm_notify.channel import Channel, DeliveryFailed, InboundAck, Outgoing
from safecomm_notify.credentials import ack_signature, unit_key, valid
from safecomm_notify.lease import Lease, LocalLease
from safecomm_notify.sms import SmsChannel, alert_code

__all__ = ["DISPATCHED", "DISPATCHER", "Dispatcher", "Retry", "step_id"]

log = logging.getLogger("safecomm_notify")


def _dispatcher() -> Principal:
    # Any: the field's converter (tuple) leaves mypy an unsolved Iterable[_T_co] to match.
    communities: Any = (SUBDISTRICT,)
    return Principal("alert-dispatcher", Role.SYSTEM, communities)


#: The dispatcher's own principal: a service that may issue the delivery commands only.
DISPATCHER = _dispatcher()

DISPATCHED = positions_table(
    "alerts_dispatched",
    "dispatcher",
    "How far each dispatcher has finished with every alert raised.",
)

_STEPS = uuid.UUID("6a1c1b0e-1f7e-4c52-9d59-2f2b6b8f4a11")


def step_id(alert_id: str, unit: str, channel: str, attempt: int, step: str) -> str:
    """The command id of one step of one attempt: the same on every run, so a step
    recorded before a crash is recorded once."""
    name = f"{alert_id}\n{unit}\n{channel}\n{attempt}\n{step}"
    return f"dispatch-{uuid.uuid5(_STEPS, name)}"


@attrs.frozen
class Retry:
    """Attempts per channel, the backoff between them, and the timeout of each."""

    attempts: int = 3
    #: Seconds before the second attempt at most; doubled for each further one.
    first_pause: float = 1.0
    longest_pause: float = 30.0
    #: Seconds one send may take.
    timeout: float = 10.0

    def pause(self, attempt: int, rng: random.Random) -> float:
        """The pause before ``attempt`` (2, 3 …): full jitter under the doubled bound."""
        bound = min(self.longest_pause, self.first_pause * 2 ** (attempt - 2))
        return rng.uniform(0, bound)


@attrs.define
class _UnitLog:
    """One unit's attempts, read back from the alert's events."""

    attempts: dict[AlertChannel, int] = attrs.Factory(dict)
    in_flight: tuple[AlertChannel, int] | None = None


class LeaseLost(Exception):
    """The dispatcher no longer holds an alert's lease: another may be working it."""


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Delivers the alerts of ``service``'s store through ``channels``.

    ``secret`` derives units' credential keys (:mod:`safecomm_notify.credentials`);
    ``lease`` decides which alerts this dispatcher works (:mod:`safecomm_notify.lease`);
    ``clock`` gives the time of every recorded step (and decides escalation).
    """

    def __init__(
        self,
        service: Safecomm,
        channels: Sequence[Channel],
        *,
        secret: bytes,
        retry: Retry | None = None,
        lease: Lease | None = None,
        name: str = "dispatcher",
        poll: float = 0.2,
        clock: Callable[[], datetime] = _now,
        rng: random.Random | None = None,
        principal: Principal = DISPATCHER,
    ) -> None:
        self._service = service
        self.channels = tuple(channels)
        self._by_kind = {kind: ch for ch in self.channels for kind in ch.serves}
        self._secret = secret
        self.retry = retry or Retry()
        self._lease = lease or LocalLease()
        self.name = name
        self._poll = poll
        self._clock = clock
        self._rng = rng or random.Random()
        self._principal = principal
        self._positions = FollowerPositions(open_views(service.log.config), DISPATCHED)
        #: Attempts sent in this run, and acknowledgements accepted and refused.
        self.sent = 0
        self.accepted = 0
        self.refused = 0

    @property
    def position(self) -> int:
        """The committed position: every alert raised up to it is finished with."""
        return self._positions.get(self.name)

    # -- following the log -------------------------------------------------------------

    async def run(self, *, follow: bool = False, stop: asyncio.Event | None = None) -> int:
        """Work every alert raised after the committed position until each is finished
        (every unit acknowledged or escalated, or the alert concluded); with ``follow``,
        keep working new ones until ``stop`` is set. Returns the committed position."""
        for channel in self.channels:
            await channel.start(self.acknowledge)
        try:
            return await self._follow(follow, stop)
        finally:
            for channel in self.channels:
                await channel.close()

    async def _follow(self, follow: bool, stop: asyncio.Event | None) -> int:
        committed = scanned = self.position
        pending: dict[str, int] = {}
        working: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                scanned = self._scan(scanned, pending)
                for ref in list(pending):
                    if ref in working:
                        continue
                    if self._finished(ref):
                        del pending[ref]
                    elif self._lease.acquire(ref):
                        working[ref] = asyncio.create_task(self._work(ref))
                for ref, task in list(working.items()):
                    if task.done():
                        del working[ref]
                        self._lease.release(ref)
                        error = task.exception()
                        if error is not None and not isinstance(error, LeaseLost):
                            raise error
                low = min(pending.values(), default=scanned + 1) - 1
                if low != committed:
                    self._positions.commit(self.name, low)
                    committed = low
                if (not follow and not pending) or (stop is not None and stop.is_set()):
                    return committed
                await pause(stop, self._poll)
        finally:
            for task in working.values():
                task.cancel()
            for ref, task in working.items():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                self._lease.release(ref)

    def _scan(self, after: int, pending: dict[str, int]) -> int:
        """Add the alerts raised after position ``after``; the position scanned to."""
        head = self._service.log.head()
        while after < head:
            found = self._service.log.read(after, 500, stop=head, topics=(GridAlert.Raised.TOPIC,))
            if not found:
                break
            for notification in found:
                event = self._service.log.decode(notification)
                pending.setdefault(event.ref, notification.id)
            after = found[-1].id
        return head

    def _finished(self, ref: str) -> bool:
        alert = self._service.get(GridAlert, ref)
        return alert.status is not AlertStatus.OPEN or all(
            r.acknowledged or r.escalated_at is not None for r in alert.recipients.values()
        )

    def close(self) -> None:
        """Release the position's database and every lease."""
        self._positions.close()
        self._lease.close()

    # -- one alert ---------------------------------------------------------------------

    async def _work(self, ref: str) -> None:
        alert = self._service.get(GridAlert, ref)
        network = self._service.get(GridNetwork, alert.network)
        logs = self._unit_logs(alert)
        units = [
            unit
            for unit, r in alert.recipients.items()
            if not r.acknowledged
            and r.escalated_at is None
            and r.delivery is not DeliveryStatus.DELIVERED
        ]
        self._expect_replies(alert, network, logs, units)
        await asyncio.gather(
            *(self._reach(alert, network, unit, logs.get(unit, _UnitLog())) for unit in units)
        )
        rules = self._service.rules(alert.community, local_date(alert.raised_at))
        due = ack_due(alert.raised_at, rules.alert_ack_minutes)
        while True:
            alert = self._service.get(GridAlert, ref)
            left = [
                unit
                for unit, r in alert.recipients.items()
                if not r.acknowledged and r.escalated_at is None
            ]
            if alert.status is not AlertStatus.OPEN or not left:
                return
            if self._clock() >= due:
                for unit in left:
                    self._check_lease(ref)
                    try:
                        self._step(EscalateUnacknowledged, ref, unit, "-", 0, "escalate")
                    except SafecommError as exc:  # it acknowledged, or the alert ended
                        log.info("alert %s, unit %s: %s", ref, unit, exc)
                return
            wait = (due - self._clock()).total_seconds()
            await asyncio.sleep(max(0.0, min(self._poll, wait)))

    def _expect_replies(
        self,
        alert: GridAlert,
        network: GridNetwork,
        logs: dict[str, _UnitLog],
        reaching: list[str],
    ) -> None:
        """After a restart: units an earlier run reached by SMS, still silent, may yet
        reply; the SMS channel must know their numbers to match the replies."""
        sms = self.sms_channel()
        if sms is None:
            return
        for unit, r in alert.recipients.items():
            member = network.units.get(unit)
            contact = None if member is None else member.channel(AlertChannel.SMS)
            if (
                unit in reaching
                or r.acknowledged
                or contact is None
                or AlertChannel.SMS not in logs.get(unit, _UnitLog()).attempts
            ):
                continue
            opened = self._service.person(
                contact.contact,
                self._principal,
                record=network,
                why=f"to match replies to alert {alert.ref} from unit {unit}",
            )
            number = contact.value(opened)
            if number:
                sms.expect(self._outgoing(alert, unit, AlertChannel.SMS, 0, number))

    def _unit_logs(self, alert: GridAlert) -> dict[str, _UnitLog]:
        logs: dict[str, _UnitLog] = {}
        for event in self._service.log.events_of(alert.id):
            unit = getattr(event, "unit", None)
            if unit is None:
                continue
            found = logs.setdefault(unit, _UnitLog())
            if isinstance(event, GridAlert.Sent):
                channel = AlertChannel(event.channel)
                number = event.attempt or found.attempts.get(channel, 0) + 1
                found.attempts[channel] = max(number, found.attempts.get(channel, 0))
                found.in_flight = (channel, number)
            elif isinstance(event, GridAlert.Delivered | GridAlert.Failed):
                found.in_flight = None
        return logs

    async def _reach(
        self, alert: GridAlert, network: GridNetwork, unit: str, done: _UnitLog
    ) -> None:
        ref = alert.ref
        try:
            if done.in_flight is not None:
                channel, attempt = done.in_flight
                reason = "interrupted: the dispatcher stopped before this attempt's result"
                self._step(RecordAlertFailure, ref, unit, channel, attempt, "result", reason=reason)
            member = network.units.get(unit)
            contacts = member.fallback(self._clock()) if member is not None else ()
            for contact in contacts:
                if await self._try_channel(alert, network, member, contact, done):
                    return
        except (SafecommError, LeaseLost) as exc:
            # Refused: the unit acknowledged or was reached meanwhile, the alert concluded,
            # or another dispatcher recorded this step: nothing more to send to this unit.
            log.info("alert %s, unit %s: %s", ref, unit, exc)

    async def _try_channel(
        self,
        alert: GridAlert,
        network: GridNetwork,
        member: GridUnit | None,
        contact: ContactChannel,
        done: _UnitLog,
    ) -> bool:
        """Attempts on one channel; whether one reached the unit."""
        channel = self._by_kind.get(contact.channel)
        first = done.attempts.get(contact.channel, 0) + 1
        if channel is None or member is None or first > self.retry.attempts:
            return False
        unit, ref = member.unit, alert.ref
        opened = self._service.person(
            contact.contact,
            self._principal,
            record=network,
            why=f"to send alert {ref} to unit {unit} by {contact.channel.value}",
        )
        value = contact.value(opened)
        if not value or value == "[erased]":
            return False
        for attempt in range(first, self.retry.attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry.pause(attempt, self._rng))
            self._check_lease(ref)
            kind = contact.channel
            self._step(
                SendAlert, ref, unit, kind, attempt, "send", contact_channel=kind, attempt=attempt
            )
            message = self._outgoing(alert, unit, kind, attempt, value)
            self.sent += 1
            # A channel with its own timeout enforces it and says why it failed; the second
            # more is the dispatcher's guard against a channel that does not.
            own = channel.timeout
            limit = self.retry.timeout if own is None else own + 1.0
            try:
                message_id = await asyncio.wait_for(channel.send(message), limit)
            except DeliveryFailed as exc:
                self._step(
                    RecordAlertFailure, ref, unit, kind, attempt, "result", reason=exc.reason[:4000]
                )
                if not exc.retry:
                    return False
                continue
            except TimeoutError:
                reason = f"no answer within {limit:g} s"
                self._step(RecordAlertFailure, ref, unit, kind, attempt, "result", reason=reason)
                continue
            self._step(
                RecordAlertDelivery,
                ref,
                unit,
                kind,
                attempt,
                "result",
                message_id=message_id[:200] if message_id else None,
            )
            return True
        return False

    def _outgoing(
        self, alert: GridAlert, unit: str, channel: AlertChannel, attempt: int, contact: str
    ) -> Outgoing:
        code = alert_code(alert.ref)
        payload: dict[str, Any] = {
            "alert_id": alert.ref,
            "unit": unit,
            "channel": channel.value,
            "attempt": attempt,
            "category": alert.category.value,
            "priority": alert.priority.value,
            "area": alert.area,
            "message": alert.message,
            "raised_at": alert.raised_at.isoformat(),
            "expires_at": alert.expires_at.isoformat(),
            "reply_code": code,
        }
        text = f"【警情】{alert.area}: {alert.message} 回复 {code} 确认"
        return Outgoing(
            alert_id=alert.ref,
            unit=unit,
            channel=channel,
            attempt=attempt,
            contact=contact,
            text=text,
            payload=payload,
            key=unit_key(self._secret, unit),
        )

    def _check_lease(self, ref: str) -> None:
        if not self._lease.holds(ref):
            raise LeaseLost(f"the lease of alert {ref} was lost")

    def _step(
        self,
        cls: type[Any],
        ref: str,
        unit: str,
        channel: str,
        number: int,
        step: str,
        **fields: Any,
    ) -> None:
        command = cls(
            command_id=step_id(ref, unit, str(channel), number, step),
            occurred_at=self._clock(),
            actor=Actor(self._principal.subject, self._principal.role),
            channel=Via.API,
            alert_id=ref,
            unit_id=unit,
            **fields,
        )
        try:
            outcome = self._service.handle(command, self._principal)
        except CommandIdReused:
            raise LeaseLost(f"another dispatcher recorded {step} of {ref}/{unit}") from None
        if outcome.duplicate and step == "send":
            raise LeaseLost(f"attempt {number} of {ref}/{unit} was already recorded")

    # -- acknowledgements --------------------------------------------------------------

    async def acknowledge(self, ack: InboundAck) -> bool:
        """Turn a unit's acknowledgement into ``alert.acknowledge`` for that unit, if its
        signature is the unit's; a forged one is refused and written nowhere."""
        key = unit_key(self._secret, ack.unit)
        expected = ack_signature(key, ack.alert_id, ack.unit, ack.ts)
        if not valid(expected, ack.sig, ack.ts, time.time()):
            self.refused += 1
            return False
        principal = Principal(ack.unit, Role.UNIT, (), grid_unit=ack.unit)
        command = AcknowledgeAlert(
            command_id=step_id(ack.alert_id, ack.unit, "-", 0, "acknowledge"),
            occurred_at=self._clock(),
            actor=Actor(principal.subject, principal.role),
            channel=Via.GRID,
            alert_id=ack.alert_id,
            unit_id=ack.unit,
        )
        try:
            self._service.handle(command, principal)
        except CommandIdReused:
            return True  # acknowledged before (its command id is the alert's and unit's)
        except SafecommError as exc:
            log.info("acknowledgement of %s by %s refused: %s", ack.alert_id, ack.unit, exc)
            self.refused += 1
            return False
        self.accepted += 1
        return True

    def sms_channel(self) -> SmsChannel | None:
        """The SMS channel, whose provider's hook carries replies."""
        return next((c for c in self.channels if isinstance(c, SmsChannel)), None)
