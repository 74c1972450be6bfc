"""MQTT to a unit's device or duty app (aiomqtt), and the acknowledgements it sends back.

An alert goes to ``<prefix>/units/<device>/alerts`` (the device id is the unit's sealed
``mqtt`` contact) as JSON at QoS 1: the send is done when the broker has acknowledged it
(PUBACK), and the broker keeps it for a device with a persistent session. A device
acknowledges on ``<prefix>/acks/<unit>`` with a signed JSON acknowledgement
(docs/alerts.md, *Acknowledgements*). A dropped connection is made again at once; a send
while it is down fails and is retried by the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiomqtt

from safecomm_notify.channel import AckSink, DeliveryFailed, InboundAck, Outgoing, common_settings

__all__ = ["MqttChannel", "ack_topic", "alert_topic", "parse_ack"]

log = logging.getLogger("safecomm_notify")


def alert_topic(prefix: str, device: str) -> str:
    """Where a device's alerts are published."""
    return f"{prefix}/units/{device}/alerts"


def ack_topic(prefix: str, unit: str) -> str:
    """Where a unit's acknowledgements are published."""
    return f"{prefix}/acks/{unit}"


def parse_ack(payload: bytes, via: str) -> InboundAck | None:
    """The acknowledgement in a JSON ``payload``, or None if it is not one."""
    try:
        data = json.loads(payload)
        return InboundAck(
            alert_id=str(data["alert_id"]),
            unit=str(data["unit"]),
            ts=int(data["ts"]),
            sig=str(data["sig"]),
            via=via,
        )
    except (ValueError, KeyError, TypeError):
        return None


class MqttChannel:
    """Alerts to devices over MQTT; settings ``host``, ``port``, ``prefix``, ``serves``."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.host = str(settings.get("host", "127.0.0.1"))
        self.port = int(settings.get("port", 1883))
        self.prefix = str(settings.get("prefix", "safecomm"))
        self.serves, self.timeout = common_settings(settings, ["mqtt"])
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, acks: AckSink) -> None:
        """Connect and listen for acknowledgements, reconnecting whenever it drops."""
        self._task = asyncio.create_task(self._connection(acks))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 5.0)

    async def _connection(self, acks: AckSink) -> None:
        warned = False
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port) as client:
                    # Every unit of an alert is sent to at once: many publishes wait for
                    # their acknowledgement together, which is no cause for a warning.
                    client.pending_calls_threshold = 1_000
                    await client.subscribe(ack_topic(self.prefix, "+"), qos=1)
                    self._client = client
                    self._connected.set()
                    warned = False
                    async for message in client.messages:
                        ack = parse_ack(bytes(message.payload or b""), "mqtt")
                        if ack is None:
                            continue
                        try:
                            await acks(ack)
                        except Exception:  # one bad answer must not stop the others
                            log.exception("acknowledgement on %s failed", message.topic)
            except aiomqtt.MqttError as exc:
                if not warned:
                    log.warning("MQTT broker %s:%d: %s; reconnecting", self.host, self.port, exc)
                    warned = True
            finally:
                self._connected.clear()
                self._client = None
            await asyncio.sleep(0.2)

    async def send(self, message: Outgoing) -> str | None:
        """Publish the alert at QoS 1; done once the broker acknowledged it."""
        client = self._client
        if client is None:
            raise DeliveryFailed("MQTT broker not connected")
        topic = alert_topic(self.prefix, message.contact)
        body = json.dumps(dict(message.payload), ensure_ascii=False).encode()
        try:
            await client.publish(topic, body, qos=1)
        except aiomqtt.MqttError as exc:
            raise DeliveryFailed(f"MQTT publish failed: {exc}") from None
        return None

    async def close(self) -> None:
        """Disconnect."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
