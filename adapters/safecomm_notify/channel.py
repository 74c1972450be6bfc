"""The one small interface every delivery channel implements, and how channels are found.

A channel takes an :class:`Outgoing` message to one unit and returns the channel's id for
it once the far end has taken it (the broker's acknowledgement, the unit's system's 2xx,
the SMS provider's message id), or raises :class:`DeliveryFailed`. Retries, the fallback
to the next channel, timeouts and the record of every attempt are the dispatcher's, never a
channel's (docs/alerts.md, *Channels*). Acknowledgements a channel receives go to the
:data:`AckSink` it was started with.

Channels are found through the ``safecomm.channels`` entry points: the bundled ones
(``mqtt``, ``webhook``, ``sms``, ``apprise``) are registered there like any other package's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import attrs

from safecomm_core.domain.grid_network import AlertChannel

__all__ = [
    "ENTRY_POINT_GROUP",
    "AckSink",
    "Channel",
    "ChannelFactory",
    "DeliveryFailed",
    "InboundAck",
    "Outgoing",
    "common_settings",
    "find_channel",
]

#: The entry-point group delivery channels are registered under.
ENTRY_POINT_GROUP = "safecomm.channels"


@attrs.frozen
class Outgoing:
    """One attempt to reach one unit: what goes out, and to where."""

    alert_id: str
    unit: str
    channel: AlertChannel
    attempt: int
    #: The unit's contact on the channel (phone number, device id, URL, group address),
    #: opened from the sealed contact for this send only: never logged.
    contact: str = attrs.field(repr=False)
    #: Short text for channels that carry text (SMS, chat groups).
    text: str
    #: The alert as JSON for devices and systems (MQTT, webhook).
    payload: Mapping[str, Any]
    #: The unit's credential key: a webhook body is signed with it.
    key: bytes = attrs.field(repr=False)


class DeliveryFailed(Exception):
    """An attempt did not reach the unit; ``retry`` says whether trying again may help
    (a 5xx, a timeout, a dropped connection) or not (a 4xx, a number out of service)."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@attrs.frozen
class InboundAck:
    """An acknowledgement as a channel received it, not yet checked."""

    alert_id: str
    unit: str
    #: Unix seconds the unit signed it at.
    ts: int
    #: Hex HMAC-SHA256 by the unit's key (see :mod:`safecomm_notify.credentials`).
    sig: str
    #: The channel it came through, for the record's reader.
    via: str


#: Where a channel hands the acknowledgements it receives; returns whether it was accepted.
AckSink = Callable[[InboundAck], Awaitable[bool]]


@runtime_checkable
class Channel(Protocol):
    """A way to reach units, behind one small interface."""

    #: The alert channels (contact kinds) this channel serves.
    serves: tuple[AlertChannel, ...]
    #: Seconds one send may take on this channel, which then fails it itself (the
    #: dispatcher gives it a second more); None: the dispatcher's ``timeout``.
    timeout: float | None

    async def start(self, acks: AckSink) -> None:
        """Connect, and begin handing received acknowledgements to ``acks``."""

    async def send(self, message: Outgoing) -> str | None:
        """Send one attempt; its id on the channel, or :class:`DeliveryFailed`."""

    async def close(self) -> None:
        """Disconnect."""


#: A channel class as an entry point names it: built from its configuration table.
ChannelFactory = Callable[[Mapping[str, Any]], Channel]


def find_channel(name: str) -> ChannelFactory:
    """The channel registered as ``name`` under :data:`ENTRY_POINT_GROUP`."""
    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    for entry in found:
        factory: ChannelFactory = entry.load()
        return factory
    known = sorted(e.name for e in entry_points(group=ENTRY_POINT_GROUP))
    raise LookupError(f"no delivery channel {name!r}: one of {', '.join(known)}")


def common_settings(
    settings: Mapping[str, Any], serves: list[str]
) -> tuple[tuple[AlertChannel, ...], float | None]:
    """What every channel's table may say: ``serves`` (the contact kinds, ``serves`` by
    default) and ``timeout`` (seconds per send on this channel)."""
    kinds = tuple(AlertChannel(c) for c in settings.get("serves", serves))
    timeout = settings.get("timeout")
    return kinds, None if timeout is None else float(timeout)
