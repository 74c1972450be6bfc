"""Alert delivery in tests: a network and an alert, simulated units, local receivers.

- :func:`network_with_alert`: a network of units with contacts, and an alert raised by ``u00``;
- :class:`DutyApps`: units' duty apps on the real Mosquitto, answering with signed acks;
- :class:`Receiver`: a local HTTP server standing for units' systems (webhooks) and for the
  SMS provider (speaking Aliyun's SendSms), failing as told;
- :class:`DroppingProxy`: a TCP proxy to the broker that drops connections at random;
- :class:`Clock`: a clock the test moves on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import aiomqtt
from safecomm_notify.credentials import ack_signature, body_signature, unit_key
from safecomm_notify.mqtt import ack_topic

from safecomm_core import (
    AlertCategory,
    AlertChannel,
    GridAlert,
    JoinNetwork,
    OpenNetwork,
    RaiseAlert,
    Safecomm,
    SetContactChannel,
    UnitKind,
)
from safecomm_core.values import Actor, Channel, Role

OFFICE = Actor("staff-001", Role.STAFF)
SECRET = b"units' secret in tests " + b"s" * 9
NET = "net-1"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
#: The Aliyun access key the fake provider checks (never a real one).
ALIYUN_ID, ALIYUN_SECRET = "test-access-key-id", "test-access-key-secret"


def unit_name(n: int) -> str:
    return f"u{n:02d}"


def _cmd(cls: type[Any], at: datetime, **fields: Any) -> Any:
    return cls(
        command_id=str(uuid.uuid4()), occurred_at=at, actor=OFFICE, channel=Channel.API, **fields
    )


def network_with_alert(
    service: Safecomm,
    contacts: dict[str, dict[AlertChannel, str]],
    *,
    alert: str = "a-1",
    raised_at: datetime | None = None,
) -> None:
    """A network of ``u00`` (the raiser) and the units of ``contacts``; alert ``alert``."""
    raised_at = raised_at or datetime.now(UTC) - timedelta(seconds=5)
    start = raised_at - timedelta(days=1)
    if not service.exists(GridAlert, alert) and not _has_network(service):
        service.handle(_cmd(OpenNetwork, start, network_id=NET, name="河门口", community="C1"))
        for unit in ["u00", *contacts]:
            service.handle(
                _cmd(
                    JoinNetwork,
                    start,
                    network_id=NET,
                    unit_id=unit,
                    name=f"单位 {unit}",
                    kind=UnitKind.ENTERPRISE,
                    community="C1",
                )
            )
            for channel, value in contacts.get(unit, {}).items():
                service.handle(
                    _cmd(
                        SetContactChannel,
                        start,
                        network_id=NET,
                        unit_id=unit,
                        contact_channel=channel,
                        contact=value,
                    )
                )
    service.handle(
        _cmd(
            RaiseAlert,
            raised_at,
            alert_id=alert,
            network_id=NET,
            raised_by="u00",
            category=AlertCategory.THEFT,
            area="一号门",
            message="电动车被盗, 请注意盘查",
            expires_at=raised_at + timedelta(hours=6),
        )
    )


def _has_network(service: Safecomm) -> bool:
    from safecomm_core import GridNetwork

    return service.exists(GridNetwork, NET)


def signed_ack(
    alert: str, unit: str, *, key_of: str | None = None, ts: int | None = None
) -> dict[str, Any]:
    """``unit``'s acknowledgement of ``alert``, signed with the key of ``key_of`` (itself)."""
    ts = int(time.time()) if ts is None else ts
    key = unit_key(SECRET, key_of or unit)
    return {"alert_id": alert, "unit": unit, "ts": ts, "sig": ack_signature(key, alert, unit, ts)}


class Clock:
    """A clock that runs with the wall clock, plus what the test added."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def advance(self, minutes: float) -> None:
        self.ahead += timedelta(minutes=minutes)


class DutyApps:
    """Duty apps of units on the broker: they take alerts and acknowledge those of the
    units in ``answering``; ``received`` lists (alert, unit, attempt) as they arrive."""

    def __init__(self, prefix: str, answering: set[str], port: int = MQTT_PORT) -> None:
        self.prefix = prefix
        self.answering = answering
        self.port = port
        self.received: list[tuple[str, str, int]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> DutyApps:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with aiomqtt.Client(MQTT_HOST, self.port) as client:
            await client.subscribe(f"{self.prefix}/units/+/alerts", qos=1)
            self._ready.set()
            async for message in client.messages:
                data = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                self.received.append((data["alert_id"], data["unit"], data["attempt"]))
                if data["unit"] in self.answering:
                    ack = signed_ack(data["alert_id"], data["unit"])
                    await client.publish(ack_topic(self.prefix, data["unit"]), json.dumps(ack))


class Receiver:
    """A local HTTP server: units' webhook endpoints (``/hook/<unit>``) and a fake Aliyun
    SMS API (``/sms``). ``fail(kind, unit)`` says how a request fails: None, ``"5xx"``,
    ``"slow"`` (answers after ``slow`` seconds) or ``"refuse"`` (4xx / a final code)."""

    def __init__(
        self,
        fail: Callable[[str, str], str | None] = lambda _k, _u: None,
        slow: float = 2.0,
        delay: float = 0.0,
    ) -> None:
        self.fail = fail
        self.slow = slow
        self.delay = delay
        #: Chat-group notices (as apprise's json:// posts them): (group, body).
        self.group_notices: list[tuple[str, bytes]] = []
        #: Webhook requests: (alert, unit, attempt), all of them and those answered 2xx.
        self.hooks: list[tuple[str, str, int]] = []
        self.accepted: list[tuple[str, str, int]] = []
        self.received: list[tuple[str, str, int]] = []  # (kind, unit or phone, attempt)
        self.bad_signatures = 0
        self.sms_sent: list[tuple[str, str]] = []  # (phone, template params)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.startswith("/group/"):
                    outer.group_notices.append((self.path.removeprefix("/group/"), body))
                    outer._answer(self, 200, {})
                elif self.path.startswith("/hook/"):
                    outer._hook(self, self.path.removeprefix("/hook/"), body)
                elif self.path == "/sms":
                    outer._sms(self, body)
                else:
                    self.send_response(404)
                    self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        with contextlib.suppress(ConnectionError):  # the dispatcher gave up waiting
            handler.wfile.write(body)

    def _hook(self, handler: BaseHTTPRequestHandler, unit: str, body: bytes) -> None:
        ts = int(handler.headers["X-Safecomm-Timestamp"])
        expected = "sha256=" + body_signature(unit_key(SECRET, unit), ts, body)
        if not hmac.compare_digest(expected, handler.headers["X-Safecomm-Signature"]):
            self.bad_signatures += 1
            self._answer(handler, 401, {})
            return
        data = json.loads(body)
        self.received.append(("webhook", unit, data["attempt"]))
        self.hooks.append((data["alert_id"], unit, data["attempt"]))
        time.sleep(self.delay)
        how = self.fail("webhook", unit)
        if how == "slow":
            time.sleep(self.slow)
        if how == "5xx":
            self._answer(handler, 503, {})
        elif how == "refuse":
            self._answer(handler, 410, {})
        else:
            self.accepted.append((data["alert_id"], unit, data["attempt"]))
            self._answer(handler, 200, {"id": f"hook-{uuid.uuid4().hex[:8]}"})

    def _sms(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        params = dict(parse_qsl(body.decode()))
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != ALIYUN_ID or given != _aliyun_signature(params):
            self.bad_signatures += 1
            self._answer(handler, 400, {"Code": "SignatureDoesNotMatch"})
            return
        phone = params["PhoneNumbers"]
        self.received.append(("sms", phone, 0))
        self.sms_sent.append((phone, params["TemplateParam"]))
        how = self.fail("sms", phone)
        if how == "slow":
            time.sleep(self.slow)
        if how == "5xx":
            self._answer(handler, 502, {})
        elif how == "refuse":
            self._answer(handler, 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad"})
        else:
            self._answer(handler, 200, {"Code": "OK", "BizId": f"biz-{uuid.uuid4().hex[:10]}"})


def _aliyun_signature(params: dict[str, str]) -> str:
    """Aliyun's RPC signature, written here from its documentation, apart from the
    adapter's, so that the two are checked against each other."""

    def enc(text: str) -> str:
        return quote(text, safe="-_.~")

    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    string_to_sign = "POST&%2F&" + enc(query)
    mac = hmac.new((ALIYUN_SECRET + "&").encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def sms_reply(phone: str, text: str) -> bytes:
    """An SmsUp push of one reply, as Aliyun's hook posts it."""
    item = {"phone_number": phone, "content": text, "send_time": "2014-03-01 10:00:00"}
    return json.dumps([item], ensure_ascii=False).encode()


class DroppingProxy:
    """A TCP proxy in front of the broker that drops a connection with chance ``drop``
    each time the dispatcher sends through it."""

    def __init__(self, drop: float, seed: int = 7) -> None:
        self.drop = drop
        self.rng = random.Random(seed)
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(MQTT_HOST, MQTT_PORT)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, chaos: bool) -> None:
            try:
                while data := await src.read(65536):
                    if chaos and self.rng.random() < self.drop:
                        self.dropped += 1
                        break
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for w in (writer, up_writer):
                    w.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
