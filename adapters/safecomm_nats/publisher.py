"""Publishing a store's log to a JetStream stream, each position exactly once and in order.

The publisher reads the log only through the service's public :class:`EventLog`
(``head``, ``read``, ``decode``, ``events_of``). Each event goes out as an
:class:`~safecomm_nats.envelope.Envelope` on ``safecomm.<store>.<kind>.<event>`` with
``Nats-Msg-Id = <store>:<position>``, and the next one only once the broker has
acknowledged it: one message in flight, so a retry can never land after a later event.

Why every position arrives once (docs/stream.md, *Exactly once, in order*): the position is
committed only after the broker's acknowledgement, so a publisher killed at any point
resumes at or before the first position the stream lacks. What it sends again that the
stream already holds is dropped by the stream's duplicate window (same message id); and
before sending anything it asks the stream for the last message of this store and starts
after it, which covers a restart later than the duplicate window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import nats.js.errors
from nats.js import JetStreamContext
from safecomm_cli.stopping import pause

import safecomm_core.commands  # noqa: F401  (registers every record kind)
from safecomm_core.domain.base import KINDS
from safecomm_core.errors import StoreError
from safecomm_core.eventlog import EventLog
from safecomm_core.history import history_entry
from safecomm_core.projections.database import open_views
from safecomm_nats.broker import (
    StreamSettings,
    ensure_stream,
    patiently,
    refused,
    subject_of,
)
from safecomm_nats.envelope import Envelope, envelope_of
from safecomm_nats.positions import PublishedPositions

__all__ = ["Publisher", "topics_of"]

log = logging.getLogger("safecomm_nats")

#: The record kind of each aggregate class, by the name its events are nested under.
_KIND_BY_CLASS = {cls.__qualname__: kind for kind, cls in KINDS.items()}
#: How many records' refs the publisher remembers (a later event names only its record id).
_REMEMBERED = 100_000


def topics_of(kinds: Iterable[str]) -> tuple[str, ...]:
    """The stored topics of every event of the records of ``kinds``, sorted."""
    topics: set[str] = set()
    for kind in kinds:
        cls = KINDS.get(kind)
        if cls is None:
            raise ValueError(f"unknown record kind {kind!r}: one of {', '.join(sorted(KINDS))}")
        own = getattr(cls, "TOPIC", "")
        # Its events are the classes nested in it that are stored under its own topic.
        for name in dir(cls):
            member = getattr(cls, name)
            topic = getattr(member, "TOPIC", "") if isinstance(member, type) else ""
            if topic.startswith((f"{own}/", f"{own}.")):
                topics.add(topic)
        if not own or not topics:
            raise ValueError(f"record kind {kind!r} has no stored events")
    return tuple(sorted(topics))


class Publisher:
    """Publishes the store behind ``log`` to the stream ``settings`` names.

    ``topics`` narrows what is published (:func:`topics_of`); ``batch`` is how many
    notifications are read at a time; the position is committed every ``commit_every``
    acknowledged events and whenever the publisher has caught up.
    """

    def __init__(
        self,
        log: EventLog,
        js: JetStreamContext,
        settings: StreamSettings,
        *,
        topics: Sequence[str] = (),
        batch: int = 500,
        commit_every: int = 500,
        ack_timeout: float = 5.0,
    ) -> None:
        if not log.ordered:
            raise StoreError(
                "POSTGRES_ENABLE_DB_FUNCTIONS is set: positions may then commit out of order "
                "and the publisher could pass one by. Unset it to publish the store."
            )
        self._log = log
        self._js = js
        self._settings = settings
        self._topics = tuple(topics)
        self._batch = batch
        self._commit_every = commit_every
        self._ack_timeout = ack_timeout
        self._records: dict[UUID, tuple[str, str, str]] = {}
        self._positions = PublishedPositions(open_views(log.config))
        #: Events acknowledged by the broker in this run.
        self.published = 0

    @property
    def position(self) -> int:
        """The committed position: every event up to it is in the stream."""
        return self._positions.get(self._settings.stream)

    async def run(
        self,
        *,
        follow: bool = False,
        poll: float = 0.1,
        stop: asyncio.Event | None = None,
    ) -> int:
        """Publish from the committed position to the log's head; with ``follow``, keep
        publishing new events until ``stop`` is set. Returns the committed position."""
        await ensure_stream(self._js, self._settings)
        stream = self._settings.stream
        position = max(self.position, await self._last_in_stream())
        committed = self.position
        while stop is None or not stop.is_set():
            # Read up to a head taken first: when nothing of the chosen topics lies below
            # it, the position moves to it, never past an event stored meanwhile.
            head = self._log.head()
            notifications = (
                self._log.read(position, self._batch, stop=head, topics=self._topics)
                if head > position
                else ()
            )
            if not notifications:
                position = max(position, head)
                if position != committed:
                    self._positions.commit(stream, position)
                    committed = position
                if not follow:
                    break
                await pause(stop, poll)
                continue
            for notification in notifications:
                await self._publish(notification)
                position = notification.id
                if position - committed >= self._commit_every:
                    self._positions.commit(stream, position)
                    committed = position
        if position != committed:
            self._positions.commit(stream, position)
        return position

    def close(self) -> None:
        """Release the position's database."""
        self._positions.close()

    def message(self, notification: Any) -> tuple[str, Envelope]:
        """The subject and the envelope the event stored as ``notification`` goes out as."""
        event = self._log.decode(notification)
        kind, ref, community = self._record_of(event)
        store = self._settings.store
        entry = history_entry(kind, ref, event)
        return subject_of(store, kind, entry.event), envelope_of(
            store, notification.id, community, entry
        )

    async def _publish(self, notification: Any) -> None:
        subject, envelope = self.message(notification)
        payload = envelope.to_json()

        async def send() -> Any:
            return await self._js.publish(
                subject,
                payload,
                timeout=self._ack_timeout,
                stream=self._settings.stream,
                headers={"Nats-Msg-Id": envelope.id},
            )

        try:
            await patiently(send, f"publishing {envelope.id}")
        except nats.js.errors.APIError as exc:  # refused for good (a limit, another stream)
            raise refused(f"stream {self._settings.stream} refused {envelope.id}", exc) from exc
        self.published += 1

    def _record_of(self, event: Any) -> tuple[str, str, str]:
        """(kind, ref, community) of the record ``event`` belongs to."""
        record_id: UUID = event.originator_id
        known = self._records.get(record_id)
        if known is not None:
            return known
        first = event
        if event.originator_version != 1:
            first = self._log.events_of(record_id, upto=1)[0]
        kind = _KIND_BY_CLASS[type(first).__qualname__.rpartition(".")[0]]
        found = (kind, first.ref, first.community)
        if len(self._records) >= _REMEMBERED:
            self._records.clear()
        self._records[record_id] = found
        return found

    async def _last_in_stream(self) -> int:
        """The position of this store's last message in the stream (0 if none)."""
        store = self._settings.store

        async def last() -> int:
            try:
                found = await self._js.get_last_msg(
                    self._settings.stream, subject_of(store, "*", "*")
                )
            except nats.js.errors.NotFoundError:
                return 0
            msg_id = (found.headers or {}).get("Nats-Msg-Id", "")
            name, _, position = msg_id.rpartition(":")
            return int(position) if name == store and position.isdigit() else 0

        found = await patiently(last, f"last message of {self._settings.stream}")
        head = self._log.head()
        if found > head:
            log.warning(
                "stream %s holds position %d of store %s, beyond its head %d: "
                "publishing from the committed position",
                self._settings.stream,
                found,
                store,
                head,
            )
            return 0
        return found
