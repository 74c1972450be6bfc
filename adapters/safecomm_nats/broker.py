"""Talking to the broker: connecting, the stream's settings, and waiting out its outages.

A broker that is slow, restarting or electing a leader answers with time-outs, "no
responders" and 503s; every call here that can meet one is retried with the same
arguments (a publish keeps its message id, so a retry of one that landed is a duplicate
the stream drops), after a pause that doubles up to two seconds. Nothing is skipped and
nothing overtakes: a caller waits until the broker answers.

A cluster still forming (a peer not yet heard from) refuses a replicated stream with "no
suitable peers for placement"; the stream is asked for again for a while
(:data:`PLACEMENT_GRACE`) before that refusal is taken as final (fewer servers than
replicas, say).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from safecomm_core.errors import SafecommError

__all__ = [
    "BrokerError",
    "StreamSettings",
    "connect",
    "ensure_stream",
    "patiently",
    "refused",
    "subject_of",
]

T = TypeVar("T")
log = logging.getLogger("safecomm_nats")

#: What a broker answers while it is away, restarting or electing a leader.
TRANSIENT: tuple[type[BaseException], ...] = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
    asyncio.TimeoutError,
)

LONGEST_PAUSE = 2.0
#: JetStream's "no suitable peers for placement".
NO_SUITABLE_PEERS = 10005
#: Seconds a forming cluster is given to place a stream's replicas.
PLACEMENT_GRACE = 60.0


class BrokerError(SafecommError, RuntimeError):
    """The broker refused a request for good (a stream that cannot be created as asked)."""


def refused(what: str, exc: nats.js.errors.APIError) -> BrokerError:
    """The error saying that ``what`` failed because the broker answered ``exc``."""
    return BrokerError(f"{what}: {exc.description}", field="stream", rule=str(exc.description))


def subject_of(store: str, kind: str, event: str) -> str:
    """The subject an event of a ``kind`` record is published on."""
    return f"safecomm.{store}.{kind}.{event}"


@attrs.frozen
class StreamSettings:
    """The JetStream stream a store's events go to, created with these settings if missing.

    The default subjects, ``safecomm.<store>.*.*``, hold every kind and event of the store
    and leave ``safecomm.<store>.commands`` (one token) to the command intake.
    """

    store: str
    name: str = ""
    subjects: tuple[str, ...] = ()
    replicas: int = 1
    #: Seconds within which the stream drops a message whose id it has already stored.
    duplicate_window: float = 120.0

    @property
    def stream(self) -> str:
        """The stream's name (``SAFECOMM_<STORE>`` unless given)."""
        return self.name or f"SAFECOMM_{self.store.upper()}"

    @property
    def stream_subjects(self) -> list[str]:
        """The subjects the stream holds."""
        return list(self.subjects) or [f"safecomm.{self.store}.*.*"]


async def connect(servers: str) -> Client:
    """A connection to ``servers`` (comma-separated URLs) that reconnects for ever.

    While no server answers, calls wait (see :func:`patiently`) instead of failing.
    """
    urls = [s.strip() for s in servers.split(",") if s.strip()]

    said: set[str] = set()

    async def once_each(exc: Exception) -> None:
        # nats-py retries on its own while no server answers: each kind of failure is
        # said once, the retries after it only at debug level.
        kind = type(exc).__name__
        level = logging.DEBUG if kind in said else logging.WARNING
        said.add(kind)
        log.log(level, "%s: broker not answering (%s: %s); retrying", servers, kind, exc)

    async def once() -> Client:
        try:
            return await nats.connect(
                urls,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                error_cb=once_each,
            )
        except (nats.errors.NoServersError, OSError) as exc:
            # Not yet there (a broker starting, or away): wait as for any other outage.
            raise nats.errors.TimeoutError from exc

    return await patiently(once, f"connecting to {servers}")


async def patiently(call: Callable[[], Awaitable[T]], what: str) -> T:
    """``call()`` again and again until the broker answers it (see the module's notes)."""
    pause = 0.05
    while True:
        try:
            return await call()
        except TRANSIENT as exc:
            # The first failure of a run is worth a warning; the retries that follow are not.
            level = logging.WARNING if pause == 0.05 else logging.DEBUG
            log.log(level, "%s: broker not answering (%s); retrying", what, type(exc).__name__)
        await asyncio.sleep(pause)
        pause = min(LONGEST_PAUSE, pause * 2)


async def ensure_stream(
    js: JetStreamContext, settings: StreamSettings, *, placement_grace: float = PLACEMENT_GRACE
) -> None:
    """Create the stream ``settings`` describe, unless it exists; a cluster that cannot
    place its replicas yet is asked again for ``placement_grace`` seconds."""

    async def ensure() -> Any:
        try:
            return await js.stream_info(settings.stream)
        except nats.js.errors.NotFoundError:
            return await js.add_stream(
                StreamConfig(
                    name=settings.stream,
                    subjects=settings.stream_subjects,
                    num_replicas=settings.replicas,
                    duplicate_window=settings.duplicate_window,
                )
            )

    deadline = time.monotonic() + placement_grace
    while True:
        try:
            await patiently(ensure, f"stream {settings.stream}")
            return
        except nats.js.errors.APIError as exc:
            if exc.err_code == NO_SUITABLE_PEERS and time.monotonic() < deadline:
                log.warning(
                    "stream %s: the cluster cannot place %d replicas yet (%s); asking again",
                    settings.stream,
                    settings.replicas,
                    exc.description,
                )
                await asyncio.sleep(0.5)
                continue
            raise refused(
                f"stream {settings.stream} ({', '.join(settings.stream_subjects)}) "
                "could not be opened",
                exc,
            ) from exc
