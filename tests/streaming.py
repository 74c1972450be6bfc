"""Helpers of the stream tests: stores with a history, names unique per test, consuming.

Every test names its own store (``?name=``), hence its own subjects and stream, so that
several runs can share one NATS server; :func:`drop_streams` removes them after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nats
from safecomm_demo import scenario_commands
from safecomm_nats import Envelope, subscribe
from safecomm_nats.broker import StreamSettings, connect
from safecomm_nats.publisher import Publisher

from safecomm_core import Safecomm, open_store

ROOT = Path(__file__).resolve().parents[1]
NATS_URL = os.environ.get("SAFECOMM_TEST_NATS", "nats://127.0.0.1:4222")


def unique_name() -> str:
    """A store name no other test (or test run) uses."""
    return "t" + uuid.uuid4().hex[:12]


def filled_store(folder: Path, commands: int) -> tuple[str, str, int]:
    """A SQLite store in ``folder`` with a name of its own, holding the demo scenario's
    first ``commands`` commands: (its URL, its name, the log's head)."""
    name = unique_name()
    url = f"sqlite:///{folder / 'safecomm.db'}?name={name}"
    with open_store(url) as service:
        return url, name, fill(service, commands)


def publisher_process(
    url: str, servers: str = NATS_URL, replicas: int = 1, **popen: Any
) -> subprocess.Popen[str]:
    """A process publishing the store at ``url`` once (it prints ``(published, position)``)."""
    script = (
        "import sys; from tests.streaming import publish; "
        "print(publish(sys.argv[1], sys.argv[2], replicas=int(sys.argv[3])))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script, url, servers, str(replicas)], cwd=ROOT, text=True, **popen
    )


def fill(service: Safecomm, commands: int) -> int:
    """Handle the demo scenario's first ``commands`` commands; the log's head after."""
    for command in scenario_commands(2014, 0.01)[:commands]:
        service.handle(command)
    return service.log.head()


def publish(url: str, servers: str = NATS_URL, **settings: Any) -> tuple[int, int]:
    """Publish the store at ``url`` once, in this process: (events published, position)."""

    async def run() -> tuple[int, int]:
        with open_store(url) as service:
            nc = await connect(servers)
            stream = StreamSettings(store=service.config.name, **settings)
            publisher = Publisher(service.log, nc.jetstream(), stream)
            try:
                position = await publisher.run()
            finally:
                publisher.close()
                await nc.drain()
            return publisher.published, position

    return asyncio.run(run())


def consume(
    store: str,
    durable: str = "reader",
    idle: float = 2.0,
    servers: str = NATS_URL,
    until: int | None = None,
    **kw: Any,
) -> list[Envelope]:
    """The envelopes the durable consumer ``durable`` gets until the stream is quiet for
    ``idle`` seconds, or until it has ``until`` of them."""

    async def run() -> list[Envelope]:
        found: list[Envelope] = []
        async with subscribe(servers, store=store, durable=durable, idle=idle, **kw) as sub:
            async for envelope in sub:
                found.append(envelope)
                if len(found) == until:
                    break
        return found

    return asyncio.run(run())


async def stream_messages(stream: str, servers: str = NATS_URL) -> int:
    """How many messages ``stream`` holds."""
    nc = await nats.connect(servers)
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


def drop_streams(names: Iterable[str], servers: str = NATS_URL) -> None:
    """Delete the streams ``names`` (those that exist)."""

    async def run() -> None:
        nc = await nats.connect(servers)
        js = nc.jetstream()
        for name in names:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(name)
        await nc.close()

    asyncio.run(run())
