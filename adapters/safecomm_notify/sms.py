"""SMS through a provider, and the replies units send back through its inbound hook.

:class:`SmsChannel` owns what is common to every provider: the text (the alert, and the
keyword to reply with, ``<code>``, a short code of the alert), and matching a reply to the
unit it was sent to. A :class:`SmsProvider` speaks one provider's API: ``send`` one text to
one number, and ``inbound`` the replies its hook posts. The bundled provider is Aliyun's
(:mod:`safecomm_notify.aliyun`); another is named by its ``module:Class`` in the settings.

A reply acknowledges the alert whose code it holds for the unit that alert was sent to at
that number: the sender's number is the credential, as the provider vouches for it, and
the hook itself is reached only at a secret path (docs/alerts.md, *Acknowledgements*). The
channel then signs the acknowledgement with the unit's key, so the dispatcher checks it
like any other.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import time
from collections.abc import Mapping
from typing import Any, Protocol

import attrs
import httpx

from safecomm_notify.channel import AckSink, DeliveryFailed, InboundAck, Outgoing, common_settings
from safecomm_notify.credentials import ack_signature

__all__ = ["InboundSms", "SmsChannel", "SmsProvider", "alert_code", "load_provider"]


@attrs.frozen
class InboundSms:
    """A text a unit sent back, as the provider's hook gave it."""

    phone: str
    text: str


class SmsProvider(Protocol):
    """One SMS provider's API."""

    async def send(self, client: httpx.AsyncClient, message: Outgoing, code: str) -> str:
        """Send the alert to ``message.contact``; the provider's message id, or
        :class:`~safecomm_notify.channel.DeliveryFailed`."""

    def inbound(self, body: bytes) -> tuple[list[InboundSms], bytes]:
        """The replies a hook request carries, and the body to answer it with."""


def alert_code(alert_id: str) -> str:
    """The six-digit code a unit replies with to acknowledge ``alert_id``."""
    return f"{int.from_bytes(hashlib.sha256(alert_id.encode()).digest()[:4], 'big') % 10**6:06d}"


def load_provider(settings: Mapping[str, Any]) -> SmsProvider:
    """The provider the settings name (``aliyun``, or ``module:Class``), built from them."""
    name = str(settings.get("provider", "aliyun"))
    if name == "aliyun":
        name = "safecomm_notify.aliyun:AliyunSms"
    module, _, cls = name.partition(":")
    factory = getattr(importlib.import_module(module), cls)
    provider: SmsProvider = factory(settings)
    return provider


_DIGITS = re.compile(r"\d{6}")


class SmsChannel:
    """SMS through a provider; settings ``provider`` and the provider's own, ``serves``."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.serves, self.timeout = common_settings(settings, ["sms"])
        self.provider = load_provider(settings)
        self._client: httpx.AsyncClient | None = None
        self._acks: AckSink | None = None
        #: (number, code) -> (alert, unit, key) of the texts sent in this run.
        self._sent: dict[tuple[str, str], tuple[str, str, bytes]] = {}

    async def start(self, acks: AckSink) -> None:
        """Open the HTTP client; replies come through :meth:`receive`."""
        self._acks = acks
        self._client = httpx.AsyncClient(timeout=self.timeout or 10.0)

    def expect(self, message: Outgoing) -> None:
        """Remember that ``message`` went (or may have gone) to its number, so a reply
        from that number with its code is matched to its unit."""
        key = (_number(message.contact), alert_code(message.alert_id))
        self._sent[key] = (message.alert_id, message.unit, message.key)

    async def send(self, message: Outgoing) -> str | None:
        """Send the text through the provider."""
        if self._client is None:
            raise DeliveryFailed("the SMS channel was not started")
        self.expect(message)
        try:
            return await self.provider.send(self._client, message, alert_code(message.alert_id))
        except httpx.TimeoutException:
            raise DeliveryFailed("the SMS provider did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the SMS provider failed: {type(exc).__name__}") from None

    async def receive(self, body: bytes) -> bytes:
        """Handle a request of the provider's inbound hook; the body to answer with.

        A reply from a number the alert was not sent to, or without its code, is dropped."""
        replies, answer = self.provider.inbound(body)
        for reply in replies:
            found = next(
                (
                    self._sent[sent]
                    for code in _DIGITS.findall(reply.text)
                    if (sent := (_number(reply.phone), code)) in self._sent
                ),
                None,
            )
            if found is None or self._acks is None:
                continue
            alert_id, unit, key = found
            ts = int(time.time())
            sig = ack_signature(key, alert_id, unit, ts)
            await self._acks(InboundAck(alert_id, unit, ts, sig, via="sms"))
        return answer

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()


def _number(phone: str) -> str:
    """A mainland mobile number without spaces or the +86 / 86 prefix."""
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
