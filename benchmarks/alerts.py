"""Alert delivery over MQTT on loopback: how long from a raise to every unit sent and
delivered, beside a raw aiomqtt publish of the same messages.

Ours: a :class:`safecomm_notify.dispatcher.Dispatcher` follows a fresh SQLite store
(``follow``, polling every 10 ms) with the MQTT channel on the local broker; a network of
48 units each with a duty-app contact. An alert is raised (``alert.raise`` through
``Safecomm.handle``); "sent" is the recorded time of the last unit's ``Sent`` less that of
``Raised``, "delivered" that of the last ``Delivered`` (the broker's acknowledgement of the
47th message, recorded): every step of 47 units, each opening the unit's sealed contact
(recorded) and recording the attempt before and its result after. One alert at a time,
``rounds`` times; then 20 alerts raised back to back, each measured the same way. Each
alert is cancelled once measured, so nothing waits for acknowledgements.

Baseline: the very 47 messages the dispatcher sent for the first alert (captured by a
subscriber), published again with aiomqtt at QoS 1, all at once, until the broker has
acknowledged every one; ``rounds`` times. The ratio is the baseline's p50 ÷ ours.

The broker is ``SAFECOMM_BENCH_MQTT`` (``HOST:PORT``, default ``127.0.0.1:1883``); topics
are prefixed per run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt
from safecomm_notify.dispatcher import Dispatcher, Retry
from safecomm_notify.mqtt import MqttChannel

from benchmarks.harness import Context, Result
from safecomm_core import (
    Actor,
    AlertCategory,
    AlertChannel,
    CancelAlert,
    Channel,
    GridAlert,
    JoinNetwork,
    OpenNetwork,
    RaiseAlert,
    Role,
    Safecomm,
    SetContactChannel,
    UnitKind,
    open_store,
)

__all__ = ["alert_delivery"]

HOST, _, PORT = os.environ.get("SAFECOMM_BENCH_MQTT", "127.0.0.1:1883").partition(":")
UNITS = 47
BURST = 20
_OFFICE = Actor("staff-001", Role.STAFF)


def alert_delivery(ctx: Context, rounds: int | None = None, burst: int = BURST) -> list[Result]:
    """One alert to 47 units ``rounds`` times, ``burst`` at once, and the raw publishes."""
    return asyncio.run(_measure(ctx, rounds or (5 if ctx.quick else 20), burst))


def _command(cls: type[Any], **fields: Any) -> Any:
    return cls(
        command_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        actor=_OFFICE,
        channel=Channel.API,
        **fields,
    )


def _network(service: Safecomm) -> None:
    service.handle(_command(OpenNetwork, network_id="bench", name="bench", community="C1"))
    for n in range(UNITS + 1):
        unit = f"u{n:02d}"
        service.handle(
            _command(
                JoinNetwork,
                network_id="bench",
                unit_id=unit,
                name=unit,
                kind=UnitKind.ENTERPRISE,
                community="C1",
            )
        )
        service.handle(
            _command(
                SetContactChannel,
                network_id="bench",
                unit_id=unit,
                contact_channel=AlertChannel.MQTT,
                contact=f"dev-{unit}",
            )
        )


def _raise(service: Safecomm, ref: str) -> None:
    service.handle(
        _command(
            RaiseAlert,
            alert_id=ref,
            network_id="bench",
            raised_by="u00",
            category=AlertCategory.THEFT,
            area="一号门",
            message="电动车被盗, 嫌疑人骑黑色摩托车逃离, 请注意盘查",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )


async def _delivered(service: Safecomm, ref: str) -> tuple[float, float]:
    """Once every unit of ``ref`` has its delivery: seconds from the raise to the last
    send and to the last delivery, by the events' recorded times; then cancel it."""
    while True:
        alert = service.get(GridAlert, ref)
        if all(r.delivered_at is not None for r in alert.recipients.values()):
            break
        await asyncio.sleep(0.005)
    events = service.log.events_of(alert.id)
    raised = events[0].timestamp
    sent = max(e.timestamp for e in events if isinstance(e, GridAlert.Sent))
    delivered = max(e.timestamp for e in events if isinstance(e, GridAlert.Delivered))
    service.handle(_command(CancelAlert, alert_id=ref, reason="benchmark"))
    return (sent - raised).total_seconds(), (delivered - raised).total_seconds()


async def _measure(ctx: Context, rounds: int, burst_size: int) -> list[Result]:
    prefix = f"bench-{ctx.run_id}-{uuid.uuid4().hex[:6]}"
    url = f"sqlite:///{ctx.workdir}/alerts-{ctx.run_id}.db"
    captured: list[tuple[str, bytes]] = []
    with open_store(url) as service:
        _network(service)
        dispatcher = Dispatcher(
            service,
            [MqttChannel({"host": HOST, "port": int(PORT or 1883), "prefix": prefix})],
            secret=os.urandom(32),
            retry=Retry(timeout=10.0),
            poll=0.01,
        )
        stop = asyncio.Event()
        async with aiomqtt.Client(HOST, int(PORT or 1883)) as listener:
            await listener.subscribe(f"{prefix}/units/+/alerts", qos=1)

            async def capture() -> None:
                async for message in listener.messages:
                    if len(captured) < UNITS:
                        captured.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type]

            capturing = asyncio.create_task(capture())
            running = asyncio.create_task(dispatcher.run(follow=True, stop=stop))
            await asyncio.sleep(0.5)  # connected and caught up
            one = []
            for i in range(rounds):
                _raise(service, f"one-{i}")
                one.append(await _delivered(service, f"one-{i}"))
            for i in range(burst_size):
                _raise(service, f"burst-{i}")
            burst = [await _delivered(service, f"burst-{i}") for i in range(burst_size)]
            stop.set()
            await running
            async with asyncio.timeout(10):  # the subscriber may lag the broker's acks
                while len(captured) < UNITS:
                    await asyncio.sleep(0.01)
            capturing.cancel()
        dispatcher.close()
    raw = []
    async with aiomqtt.Client(HOST, int(PORT or 1883)) as client:
        client.pending_calls_threshold = 1_000
        for _ in range(rounds):
            started = time.perf_counter()
            await asyncio.gather(*(client.publish(t, p, qos=1) for t, p in captured))
            raw.append(time.perf_counter() - started)
    return _results(one, burst, raw, len(captured))


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _results(
    one: list[tuple[float, float]],
    burst: list[tuple[float, float]],
    raw: list[float],
    messages: int,
) -> list[Result]:
    raw_p50 = statistics.median(raw) * 1000
    rows = []
    for label, samples in (("one alert", one), (f"{len(burst)} alerts at once", burst)):
        for what, index in (("all sent", 0), ("all delivered", 1)):
            values = [s[index] for s in samples]
            p50 = _ms(values, 0.5)
            rows.append(
                Result(
                    workload="alert_delivery",
                    label=f"{label} to {UNITS} units over MQTT: raised → {what}, p50 (ms)",
                    events=len(values),
                    unit="ms",
                    ours=p50,
                    baseline=raw_p50,
                    ratio=raw_p50 / p50 if p50 else None,
                    target="p99 ≤ 60 s (units reached in minutes, M2.3); raw QoS 1 publish beside",
                    met=_ms(values, 0.99) <= 60_000,
                    details={
                        "p99_ms": _ms(values, 0.99),
                        "raw_p99_ms": _ms(raw, 0.99),
                        "messages": messages,
                        "broker": f"{HOST}:{PORT or 1883}",
                    },
                )
            )
    return rows
