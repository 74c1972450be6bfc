"""Reading a store's stream in another service: a durable pull consumer, typed envelopes.

::

    async with subscribe("nats://127.0.0.1:4222", store="safecomm", durable="warehouse") as sub:
        async for envelope in sub:
            try:
                keep(envelope)
            except Exception as exc:
                await sub.reject(envelope, exc)  # delivered again, or dead-lettered

Each envelope is acknowledged when the loop asks for the next one (or leaves the block
normally), so a service that dies mid-way gets it again; the consumer is durable, so its
position survives restarts. A rejected envelope is delivered again after a pause; once it
has been delivered ``max_deliver`` times it goes to the dead-letter subject with the error
instead (see docs/stream.md, *Consuming*).
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from safecomm_nats.broker import TRANSIENT, StreamSettings, connect, patiently
from safecomm_nats.envelope import Envelope, EnvelopeError

__all__ = ["Subscription", "subscribe"]

log = logging.getLogger("safecomm_nats")

#: The header a dead letter carries its error in.
ERROR_HEADER = "Safecomm-Error"


def subscribe(
    servers: str,
    *,
    store: str,
    durable: str,
    stream: str = "",
    subjects: str = "",
    max_deliver: int = 5,
    dead_letter: str = "",
    batch: int = 100,
    ack_wait: float = 30.0,
    redeliver_after: float = 0.5,
    idle: float | None = None,
) -> Subscription:
    """A durable pull consumer ``durable`` of ``store``'s stream (see the module's notes).

    ``subjects`` narrows it (default: every event of the store, ``safecomm.<store>.*.*``);
    ``dead_letter`` is the subject of messages given up on (default
    ``safecomm-dead.<store>.<durable>``, kept in a stream ``<stream>_DEAD``); with ``idle``,
    iteration ends once no message has come for that many seconds. A stream that is not
    there yet is waited for.
    """
    settings = StreamSettings(store=store, name=stream)
    return Subscription(
        servers,
        stream=settings.stream,
        durable=durable,
        subjects=subjects or settings.stream_subjects[0],
        max_deliver=max_deliver,
        dead_letter=dead_letter or f"safecomm-dead.{store}.{durable}",
        batch=batch,
        ack_wait=ack_wait,
        redeliver_after=redeliver_after,
        idle=idle,
    )


class Subscription:
    """An open consumer: iterate it for :class:`Envelope` objects (see :func:`subscribe`)."""

    def __init__(
        self,
        servers: str,
        *,
        stream: str,
        durable: str,
        subjects: str,
        max_deliver: int,
        dead_letter: str,
        batch: int,
        ack_wait: float,
        redeliver_after: float,
        idle: float | None,
    ) -> None:
        self._servers = servers
        self.stream = stream
        self.durable = durable
        self._subjects = subjects
        self.max_deliver = max_deliver
        self.dead_letter = dead_letter
        self._batch = batch
        self._ack_wait = ack_wait
        self._redeliver_after = redeliver_after
        self._idle = idle
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._sub: Any = None
        self._waiting: list[Msg] = []
        self._current: tuple[Msg, Envelope] | None = None

    async def __aenter__(self) -> Subscription:
        self._nc = await connect(self._servers)
        self._js = js = self._nc.jetstream()
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
            # Redelivery is counted here, not by the server: a message the service keeps
            # failing on goes to the dead-letter subject with its error, not into silence.
            max_deliver=-1,
        )

        async def open_consumer() -> Any:
            try:
                return await js.pull_subscribe(
                    self._subjects, durable=self.durable, stream=self.stream, config=config
                )
            except nats.js.errors.NotFoundError as exc:
                # A service started before the store's first publish: wait for the stream.
                log.warning("consumer %s: no stream %s yet; waiting", self.durable, self.stream)
                raise nats.errors.TimeoutError from exc

        self._sub = await patiently(open_consumer, f"consumer {self.durable}")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._current is not None:
                msg, _ = self._current
                self._current = None
                # Left normally: the envelope in hand was dealt with. Left by an error:
                # it was not, so it comes again.
                await (msg.ack() if exc is None else msg.nak())
            for msg in self._waiting:  # fetched, never handed out: at once to the next
                await msg.nak()
            self._waiting = []
        finally:
            if self._nc is not None:
                # Flushed, so the acks and naks above reach the server; not drained, as a
                # pull subscription's drain waits out its last fetch request.
                await self._nc.flush()
                await self._nc.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Envelope:
        if self._current is not None:
            msg, _ = self._current
            self._current = None
            await msg.ack()
        last_seen = time.monotonic()
        while True:
            if not self._waiting:
                self._waiting = await self._fetch()
            if not self._waiting:
                if self._idle is not None and time.monotonic() - last_seen >= self._idle:
                    raise StopAsyncIteration
                continue
            last_seen = time.monotonic()
            msg = self._waiting.pop(0)
            deliveries = msg.metadata.num_delivered
            try:
                envelope = Envelope.from_json(msg.data)
            except EnvelopeError as exc:
                await self._bury(msg, str(exc))
                continue
            if deliveries > self.max_deliver:
                # The service died on it every time (nothing rejected it): give up too.
                await self._bury(msg, f"delivered {deliveries} times without an ack")
                continue
            self._current = (msg, envelope)
            return envelope

    async def reject(self, envelope: Envelope, error: BaseException | str) -> None:
        """The envelope in hand could not be dealt with: deliver it again after a pause,
        or, once delivered ``max_deliver`` times, send it to the dead-letter subject."""
        if self._current is None or self._current[1] != envelope:
            raise ValueError(f"envelope {envelope.id} is not the one in hand")
        msg, _ = self._current
        self._current = None
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        if msg.metadata.num_delivered >= self.max_deliver:
            await self._bury(msg, reason)
        else:
            await msg.nak(delay=self._redeliver_after)

    async def _fetch(self) -> list[Msg]:
        wait = min(1.0, self._idle) if self._idle is not None else 1.0
        try:
            found: list[Msg] = await self._sub.fetch(self._batch, timeout=wait)
        except nats.errors.TimeoutError:
            return []
        except TRANSIENT as exc:
            log.info("consumer %s: broker not answering (%s)", self.durable, type(exc).__name__)
            await asyncio.sleep(0.2)
            return []
        return found

    async def _bury(self, msg: Msg, reason: str) -> None:
        """Send ``msg`` to the dead-letter subject with ``reason``, then stop its delivery."""
        assert self._js is not None
        js = self._js
        meta = msg.metadata
        dead_stream = f"{self.stream}_DEAD"

        async def keep() -> Any:
            try:
                await js.stream_info(dead_stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(StreamConfig(name=dead_stream, subjects=[self.dead_letter]))
            return await js.publish(
                self.dead_letter,
                msg.data,
                stream=dead_stream,
                headers={
                    ERROR_HEADER: reason.replace("\r", " ").replace("\n", " "),
                    "Nats-Msg-Id": f"{self.durable}:{meta.sequence.stream}",
                    "Safecomm-Subject": msg.subject,
                    "Safecomm-Deliveries": str(meta.num_delivered),
                },
            )

        await patiently(keep, f"dead letter of {msg.subject}")
        log.warning("consumer %s gave up on %s: %s", self.durable, msg.subject, reason)
        await msg.term()
