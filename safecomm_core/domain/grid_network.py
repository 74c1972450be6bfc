"""GridNetwork: the linkage network of units and compounds (联防联动网络; plan M2.3).

Opened → UnitJoined / UnitLeft (any number, per unit: joined → left → joined again …) and
ContactChannelSet (per unit and channel; the latest one stands).

Membership keeps its periods by ``occurred_at``, so an alert entered late from a paper record
fans out to the units that were members when it was raised, not to today's.

Contact values (phone numbers, QQ and WeChat accounts) are personal data: they are sealed
with the key of ``unit-contact:<unit>`` and never stored in clear.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.base import Record
from safecomm_core.domain.snapshots import snapshot_class
from safecomm_core.errors import RuleViolation
from safecomm_core.personal import PersonData, SealedPerson
from safecomm_core.transcoding import value_type
from safecomm_core.validation import BrokenRule
from safecomm_core.values import Meta

__all__ = [
    "FALLBACK_ORDER",
    "PHONE_CHANNELS",
    "AlertChannel",
    "ContactChannel",
    "GridNetwork",
    "GridUnit",
    "Hours",
    "Membership",
    "UnitKind",
    "contact_ref",
]


class UnitKind(enum.StrEnum):
    """What kind of unit joined the network (plan M2.3: units and compounds)."""

    RESIDENTIAL_COMPOUND = "residential_compound"
    PROPERTY_COMPANY = "property_company"
    ENTERPRISE = "enterprise"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    MARKET = "market"
    POLICE_POST = "police_post"
    COMMUNITY_OFFICE = "community_office"
    OTHER = "other"


class AlertChannel(enum.StrEnum):
    """How a unit is reached; the fallback order is :data:`FALLBACK_ORDER`.

    ``mqtt`` reaches the unit's device or duty app (the contact is its device id),
    ``webhook`` the unit's own system (the contact is its URL); ``dingtalk`` and ``wecom``
    are chat groups like QQ and WeChat (the contact is the group's address).
    """

    SMS = "sms"
    PHONE = "phone"
    QQ = "qq"
    WECHAT = "wechat"
    MQTT = "mqtt"
    WEBHOOK = "webhook"
    DINGTALK = "dingtalk"
    WECOM = "wecom"


#: The domain's fallback order: SMS, then the unit's own devices and systems (its duty app
#: over MQTT, its webhook), then the phone, then chat groups (docs/domain.md, *Grid alerts*).
FALLBACK_ORDER: tuple[AlertChannel, ...] = (
    AlertChannel.SMS,
    AlertChannel.MQTT,
    AlertChannel.WEBHOOK,
    AlertChannel.PHONE,
    AlertChannel.QQ,
    AlertChannel.WECHAT,
    AlertChannel.DINGTALK,
    AlertChannel.WECOM,
)


#: ASCII digits only: a full-width "０７:００" is refused, not stored as a different string.
_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d", re.ASCII)


def _hh_mm(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _HH_MM.fullmatch(value):
        raise BrokenRule(attribute.name, "must be a time of day HH:MM")


@value_type("grid_contact_hours")
@attrs.frozen
class Hours:
    """When a channel is preferred, local time; ``22:00``–``07:00`` runs over midnight."""

    start: str = attrs.field(validator=_hh_mm)
    end: str = attrs.field(validator=_hh_mm)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise BrokenRule("end", "must differ from start")

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment``, read in the subdistrict's time zone, falls in these hours."""
        now = moment.astimezone(SUBDISTRICT_TZ).strftime("%H:%M")
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


#: Channels whose contact value is a phone number; the others' is an account or group id.
PHONE_CHANNELS = frozenset({AlertChannel.SMS, AlertChannel.PHONE})


@value_type("grid_contact_channel")
@attrs.frozen
class ContactChannel:
    """One way to reach a unit: the channel in clear, the contact value sealed.

    The sealed person (ref ``unit-contact:<unit>``) holds a phone number in ``phone`` for
    SMS and phone, and an account or group id in ``address`` for QQ and WeChat: all of a
    unit's contacts share its key, so erasing them is one step.
    """

    channel: AlertChannel
    contact: SealedPerson
    hours: Hours | None = None

    def value(self, opened: PersonData) -> str | None:
        """The contact value, from this channel's sealed person once opened."""
        return opened.phone if self.channel in PHONE_CHANNELS else opened.address


@value_type("grid_membership")
@attrs.frozen
class Membership:
    """One period of membership; ``left_at`` is None while it lasts."""

    joined_at: datetime
    left_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        """Whether the unit was a member at ``moment``."""
        return self.joined_at <= moment and (self.left_at is None or moment < self.left_at)


@value_type("grid_unit")
@attrs.frozen
class GridUnit:
    """A unit or compound of the network, as the network knows it now."""

    unit: str
    name: str
    kind: UnitKind
    community: str
    periods: tuple[Membership, ...]
    channels: tuple[ContactChannel, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the unit is a member now (its latest period is open)."""
        return self.periods[-1].left_at is None

    def active_at(self, moment: datetime) -> bool:
        """Whether the unit was a member at ``moment``."""
        return any(p.covers(moment) for p in self.periods)

    def channel(self, channel: AlertChannel) -> ContactChannel | None:
        """The unit's contact on ``channel``, if it has one."""
        return next((c for c in self.channels if c.channel == channel), None)

    def fallback(self, moment: datetime) -> tuple[ContactChannel, ...]:
        """The unit's contacts in the order to try them at ``moment``: those whose hours
        cover it first, then those with no hours, then those outside their hours, each in
        :data:`FALLBACK_ORDER` (channel by time of day, docs/domain.md, *Grid alerts*)."""

        def rank(contact: ContactChannel) -> tuple[int, int]:
            when = 1 if contact.hours is None else 0 if contact.hours.covers(moment) else 2
            return when, FALLBACK_ORDER.index(contact.channel)

        return tuple(sorted(self.channels, key=rank))


def contact_ref(unit: str) -> str:
    """The person ref whose key seals a unit's contact values."""
    return f"unit-contact:{unit}"


class GridNetwork(Record):
    """The linkage network: its member units, their periods and their contact channels."""

    KIND = "network"
    TOPIC = "safecomm/GridNetwork"
    Snapshot = snapshot_class("safecomm/GridNetwork/Snapshot")

    class Opened(Record.Created):
        TOPIC = "safecomm/GridNetwork/Opened"
        ref: str
        community: str
        name: str

    @event(Opened)
    def __init__(self, *, meta: Meta, ref: str, community: str, name: str) -> None:
        self._created(meta, ref, community)
        self.name = name
        self.units: dict[str, GridUnit] = {}

    def _retype(self) -> None:
        # Every attribute is a string, or value objects (in a dict by unit) kept by their
        # own transcoding: the snapshot flattened nothing.
        return

    # -- queries ----------------------------------------------------------------------

    def members_at(self, moment: datetime) -> tuple[str, ...]:
        """The units that were members at ``moment``, sorted."""
        return tuple(sorted(u for u, unit in self.units.items() if unit.active_at(moment)))

    def member_at(self, unit: str, moment: datetime, field: str = "unit_id") -> GridUnit:
        """The unit, which must have been a member at ``moment``; else :class:`RuleViolation`."""
        found = self.units.get(unit)
        if found is None or not found.active_at(moment):
            raise RuleViolation(
                f"unit {unit!r} was not an active member of network {self.ref!r} "
                f"at {moment.isoformat()}",
                field=field,
                rule="must be an active member of the network",
            )
        return found

    # -- membership -------------------------------------------------------------------

    class UnitJoined(Record.Event):
        TOPIC = "safecomm/GridNetwork/UnitJoined"
        unit: str
        name: str
        kind: UnitKind
        community: str

    @event(UnitJoined)
    def _unit_joined(
        self, meta: Meta, unit: str, name: str, kind: UnitKind, community: str
    ) -> None:
        before = self.units.get(unit)
        period = Membership(meta.occurred_at)
        self.units[unit] = GridUnit(
            unit=unit,
            name=name,
            kind=UnitKind(kind),
            community=community,
            periods=(*before.periods, period) if before else (period,),
            channels=before.channels if before else (),
        )

    def join(self, meta: Meta, unit: str, name: str, kind: UnitKind, community: str) -> None:
        """A unit joins (or rejoins, keeping its contacts); it must not be a member now."""
        self.check_after_creation(meta)
        before = self.units.get(unit)
        if before is not None and before.active:
            raise RuleViolation(
                f"unit {unit!r} is already a member of network {self.ref!r}",
                field="unit_id",
                rule="must not be a member already",
            )
        if before is not None:
            left_at = before.periods[-1].left_at
            assert left_at is not None
            self.check_not_before(meta, left_at, f"unit {unit!r} left")
        self._unit_joined(meta=meta, unit=unit, name=name, kind=kind, community=community)

    class UnitLeft(Record.Event):
        TOPIC = "safecomm/GridNetwork/UnitLeft"
        unit: str
        reason: str

    @event(UnitLeft)
    def _unit_left(self, meta: Meta, unit: str, reason: str) -> None:
        before = self.units[unit]
        last = attrs.evolve(before.periods[-1], left_at=meta.occurred_at)
        self.units[unit] = attrs.evolve(before, periods=(*before.periods[:-1], last))

    def leave(self, meta: Meta, unit: str, reason: str) -> None:
        """A unit leaves; alerts raised from then on do not reach it."""
        found = self._current(meta, unit, "remove")
        self.check_not_before(meta, found.periods[-1].joined_at, f"unit {unit!r} joined")
        self._unit_left(meta=meta, unit=unit, reason=reason)

    # -- contacts ---------------------------------------------------------------------

    class ContactChannelSet(Record.Event):
        TOPIC = "safecomm/GridNetwork/ContactChannelSet"
        unit: str
        contact: ContactChannel

    @event(ContactChannelSet)
    def _contact_set(self, meta: Meta, unit: str, contact: ContactChannel) -> None:
        before = self.units[unit]
        kept = tuple(c for c in before.channels if c.channel != contact.channel)
        self.units[unit] = attrs.evolve(before, channels=(*kept, contact))

    def set_contact(self, meta: Meta, unit: str, contact: ContactChannel) -> None:
        """Set (or replace) how a present member is reached on one channel."""
        self._current(meta, unit, "set a contact of")
        self._contact_set(meta=meta, unit=unit, contact=contact)

    # -- checks -----------------------------------------------------------------------

    def _current(self, meta: Meta, unit: str, action: str) -> GridUnit:
        self.check_after_creation(meta)
        found = self.units.get(unit)
        if found is None or not found.active:
            state = "not a member" if found is None else "no longer a member"
            raise RuleViolation(
                f"cannot {action} unit {unit!r}: it is {state} of network {self.ref!r}",
                field="unit_id",
                rule="must be a member of the network",
            )
        return found
