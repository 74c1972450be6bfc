"""Publishing a store to NATS JetStream: throughput beside raw nats-py, and latency.

Throughput. Ours: :class:`safecomm_nats.publisher.Publisher` publishing the scenario store
from position 0 into a fresh stream (reading and decoding the log, building each envelope,
one acknowledged publish at a time, committing its position). Baseline: the very same
subjects, payloads and message ids, built beforehand, published with nats-py's
``js.publish`` one after another, each awaiting its acknowledgement, into another fresh
stream. Interleaved, best of ``ctx.repeat``; the ratio is ours ÷ raw events per second.

Latency. A publisher follows a fresh store (``follow``), a durable consumer reads the
stream, and commands are handled on the store at a steady pace from another thread; each
envelope's latency is the time it was consumed less the time its event was recorded
(``Envelope.time``). p50 and p99, on SQLite and (with ``--pg``) PostgreSQL.

The server is ``SAFECOMM_BENCH_NATS`` (default ``nats://127.0.0.1:4222``); streams are
named per run and deleted after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import threading
import time
from datetime import UTC, datetime

import nats.js.errors
from safecomm_demo import scenario_commands
from safecomm_nats import subscribe
from safecomm_nats.broker import StreamSettings, connect, ensure_stream
from safecomm_nats.publisher import Publisher

from benchmarks.datasets import dataset
from benchmarks.harness import Context, Result, throughput
from benchmarks.postgres import drop_tables
from safecomm_core import open_store
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["stream_publish"]

NATS = os.environ.get("SAFECOMM_BENCH_NATS", "nats://127.0.0.1:4222")
#: Commands handled (one every PACE seconds) while the latency is measured.
LATENCY_COMMANDS = 200
PACE = 0.02


def stream_publish(ctx: Context, events: int | None = None) -> list[Result]:
    """Throughput on the scenario store of about ``events`` events, then the latencies."""
    data = dataset(ctx.workdir, events or (5_000 if ctx.quick else 20_000))
    ours_s, raw_s = asyncio.run(_throughput(ctx, data.url))
    results = [
        throughput(
            "stream_publish",
            "publish to JetStream, acked one by one",
            data.events,
            ours_s,
            raw_s,
            at_least=0.5,
            baseline="raw nats-py js.publish of the same payloads",
            details={"server": NATS},
        )
    ]
    commands = min(LATENCY_COMMANDS, max(20, events // 10)) if events else LATENCY_COMMANDS
    backends = [("SQLite", f"sqlite:///{ctx.workdir}/stream-latency.db?name={ctx.run_id}s")]
    if ctx.pg:
        backends.append(("PostgreSQL", f"{ctx.pg}?name={ctx.run_id}s"))
    for label, url in backends:
        latencies = asyncio.run(_latency(url, f"{ctx.run_id}s", commands))
        results.append(
            Result(
                workload="stream_publish",
                label=f"stored → consumed latency, {label}, p50 (ms)",
                events=len(latencies),
                unit="ms",
                ours=statistics.median(latencies) * 1000,
                baseline=None,
                ratio=None,
                target="reported (p50, p99)",
                met=None,
                details={
                    "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
                    "max_ms": max(latencies) * 1000,
                    "commands": commands,
                    "pace_s": PACE,
                    "publisher_poll_s": 0.1,
                },
            )
        )
        if label == "PostgreSQL":
            drop_tables(ctx.pg or "", f"{ctx.run_id}s_")
    return results


async def _throughput(ctx: Context, url: str) -> tuple[float, float]:
    nc = await connect(NATS)
    js = nc.jetstream()
    created: list[str] = []
    try:
        with open_store(url, keys=MemoryKeyStore()) as service:
            # The baseline's messages: what ours sends, built once, outside the timing.
            settings = StreamSettings(store=f"{ctx.run_id}x", name=f"BENCH_{ctx.run_id}_X")
            builder = Publisher(service.log, js, settings)
            messages = [
                (subject, envelope.to_json(), envelope.id)
                for subject, envelope in (
                    builder.message(n) for n in service.log.read(0, service.log.head() + 1)
                )
            ]
            builder.close()
            timings: dict[str, list[float]] = {"ours": [], "raw": []}
            for attempt in range(ctx.repeat):
                ours = StreamSettings(store=f"{ctx.run_id}o{attempt}")
                raw = StreamSettings(store=f"{ctx.run_id}r{attempt}")
                created += [ours.stream, raw.stream]
                for fresh in (ours, raw):
                    await ensure_stream(js, fresh)
                publisher = Publisher(service.log, js, ours, batch=1000)
                began = time.perf_counter()
                await publisher.run()
                timings["ours"].append(time.perf_counter() - began)
                publisher.close()
                began = time.perf_counter()
                for subject, payload, msg_id in messages:
                    await js.publish(
                        subject.replace(f".{settings.store}.", f".{raw.store}.", 1),
                        payload,
                        stream=raw.stream,
                        headers={"Nats-Msg-Id": msg_id},
                    )
                timings["raw"].append(time.perf_counter() - began)
    finally:
        for name in created:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(name)
        await nc.close()
    return min(timings["ours"]), min(timings["raw"])


async def _latency(url: str, name: str, commands: int) -> list[float]:
    nc = await connect(NATS)
    settings = StreamSettings(store=name)
    stop = asyncio.Event()
    latencies: list[float] = []
    service = open_store(url)
    writer = threading.Thread(target=_write, args=(url, commands), daemon=True)
    try:
        publisher = Publisher(service.log, nc.jetstream(), settings)
        await ensure_stream(nc.jetstream(), settings)
        publishing = asyncio.create_task(publisher.run(follow=True, stop=stop))
        writer.start()
        async with subscribe(NATS, store=name, durable="latency", idle=3.0) as sub:
            async for envelope in sub:
                latencies.append((datetime.now(UTC) - envelope.time).total_seconds())
        stop.set()
        await publishing
        publisher.close()
    finally:
        writer.join()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(settings.stream)
        await nc.close()
        service.close()
    return latencies


def _write(url: str, commands: int) -> None:
    """Handle the scenario's first ``commands`` commands, one every :data:`PACE` seconds."""
    with open_store(url) as service:
        for command in scenario_commands(2014, 0.01)[:commands]:
            began = time.perf_counter()
            service.handle(command)
            time.sleep(max(0.0, PACE - (time.perf_counter() - began)))
