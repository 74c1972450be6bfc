"""The event log: safecomm's one boundary to eventsourcing's stored events.

Everything that reads or writes stored events goes through here (the service, the
projection runner, the audit, replays); nothing else imports eventsourcing's persistence
layer or its application, so a move to eventsourcing's 10.x line touches this module and
:mod:`safecomm_core.store` (see docs/architecture.md, *The event-log boundary*).

:class:`EventLog` is what readers need: the head position, notifications in a range
(filtered by stored topic, up to a stop), one event decoded, one record's events, and where
the raw rows live for the audit's own SQL. :class:`EventStore` is the one implementation
over a store; the service also saves and loads records through it.

Every failure of the store becomes a :class:`~safecomm_core.errors.StoreError`; a stored
event that cannot be decoded (a missing cipher key, class or upcaster; an altered row) is
one too, naming the record, so that no caller ever sees eventsourcing's own exceptions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

import attrs
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    PersistenceError,
    Recording,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder

from safecomm_core.dates import micros
from safecomm_core.domain.base import Record
from safecomm_core.domain.grid_alert import GridAlert
from safecomm_core.domain.grid_network import GridNetwork
from safecomm_core.domain.survey import Survey
from safecomm_core.errors import StoreError
from safecomm_core.store import StoreConfig
from safecomm_core.transcoding import register_value_types

__all__ = [
    "EventLog",
    "EventStore",
    "EventStoreApplication",
    "LogLocation",
    "Notification",
    "WriteCollision",
    "open_event_store",
]


class WriteCollision(Exception):
    """A save met the store's unique (record, version) key: another write came first."""


@attrs.frozen
class LogLocation:
    """Where a log's rows are kept, for the audit's own reads of them."""

    kind: str  # "memory", "sqlite" or "postgresql"
    name: str  # the application's name (PostgreSQL table prefix)
    table: str  # the events table ("" in memory)
    #: The SQLite file or the PostgreSQL connection string ("" in memory).
    database: str
    #: The object an in-memory log's rows live in (None on a database): the audit keeps
    #: its ledger beside it for as long as it lives.
    holder: object = None


class EventLog(Protocol):
    """Reading the store's log of stored events, in position order."""

    @property
    def config(self) -> StoreConfig:
        """The store the log belongs to (its views and audit tables live beside it)."""
        ...

    @property
    def ordered(self) -> bool:
        """Whether positions commit in order, so that a follower never skips one."""
        ...

    def head(self) -> int:
        """The last position of the log (0 when it is empty)."""
        ...

    def read(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        """Up to ``limit`` notifications after position ``after`` (up to ``stop``), of
        ``topics`` only if any are given."""
        ...

    def decode(self, notification: Notification) -> Any:
        """The domain event stored as ``notification``."""
        ...

    def decode_row(self, record_id: str, version: int, topic: str, state: bytes) -> Any:
        """The domain event stored in a raw row of the log (as the audit reads them)."""
        ...

    def recorded_micros(self, record_id: str, version: int, topic: str, state: bytes) -> int:
        """When a raw row was recorded, in microseconds since the epoch."""
        ...

    def events_of(self, record_id: UUID, *, upto: int | None = None) -> list[Any]:
        """Every event of one record (up to version ``upto``), decoded, in order."""
        ...

    def location(self) -> LogLocation:
        """Where the raw rows live."""
        ...

    def bounded(self, end: int) -> EventLog:
        """This log as it stood when it ended at position ``end``."""
        ...

    def holding(self, events: Iterable[Any]) -> EventLog:
        """A log in memory holding ``events`` in order, encoded as this log encodes them."""
        ...


class EventStoreApplication(Application[UUID]):
    """eventsourcing's application, with safecomm's value types registered.

    Its name prefixes the PostgreSQL tables, so one database can hold several
    subdistricts, each its own application (``?name=`` in the store URL).
    """

    # Records with long histories load from their latest snapshot plus the events after it
    # (a grid alert holds some four events per unit of a 47-unit network; a survey wave one
    # event per response, hundreds of them). A snapshot is a cache written after the
    # events; the events stay the record.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        GridAlert: 50,
        GridNetwork: 50,
        Survey: 100,
    }

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        super().__init__(env)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_types(transcoder)

    def save(  # type: ignore[override]  # records only, and events made without one
        self, *records: Record, first: Sequence[Any] = (), **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Store ``first`` (a command's receipt) and the records' pending events in one
        transaction, then take due snapshots.

        eventsourcing's own ``save`` asks of every object, with runtime protocol checks,
        whether it is an event or an aggregate: about a tenth of a small command's cost,
        for a question whose answer is known here (safecomm saves records only).
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(first)
        for record in records:
            processing_event.events.extend(record.collect_events())
            processing_event.aggregates[record.id] = record
        processing_event.saved_kwargs.update(kwargs)
        return self._save_processed(processing_event)

    def save_events(self, events: Sequence[Any], snapshots: Sequence[Any]) -> None:
        """Store ``events`` in this order, in one transaction, then ``snapshots`` (taken
        by :meth:`snapshot_due` as the events were collected)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        recordings = self._record(processing_event)
        if snapshots and self.snapshots:
            try:
                self.snapshots.put(snapshots)
            except PersistenceError as exc:  # a missed cache entry, as in _take_snapshots
                warnings.warn(f"snapshot not written: {exc}", RuntimeWarning, stacklevel=2)
        self._notify(recordings)

    def snapshot_due(self, record: Record, events: Sequence[Any]) -> Any:
        """A snapshot of ``record`` as it stands, if ``events`` (its last, just collected)
        reach a multiple of its kind's interval; else None.

        Taken at the record's version rather than at the multiple itself: any version is
        as good a starting point, and this one needs no read of the store.
        """
        interval = self.snapshotting_intervals.get(type(record))
        if not interval or not self.snapshots or not events:
            return None
        if record.version != events[-1].originator_version:
            return None
        if not any(e.originator_version % interval == 0 for e in events):
            return None
        return type(record).Snapshot.take(record)

    def _save_processed(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # A snapshot at every multiple of the interval, as eventsourcing takes them; but
        # where the record just saved is at that version, it is the state to snapshot, so
        # it is taken as it is rather than rebuilt from the store (a 100-response survey
        # wave: some 15 ms of reading and replaying).
        for event in processing_event.events:
            # Events saved without their record (a receipt) belong to no snapshotted kind.
            record = processing_event.aggregates.get(event.originator_id)
            if record is None:
                continue
            interval = self.snapshotting_intervals.get(type(record))
            version = event.originator_version
            if not interval or version % interval:
                continue
            # The command has landed by now; a snapshot that cannot be written is a missed
            # cache entry (the next one will be taken), not a failure to report.
            try:
                if isinstance(record, Record) and record.version == version and self.snapshots:
                    self.snapshots.put([type(record).Snapshot.take(record)])
                else:
                    self.take_snapshot(event.originator_id, version=version)
            except PersistenceError as exc:
                warnings.warn(f"snapshot not written: {exc}", RuntimeWarning, stacklevel=2)


#: How eventsourcing's JSON transcoder begins every stored state: the event's timestamp.
_LEAD = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


class EventStore:
    """The store's events: an :class:`EventLog` to read, and records saved and loaded.

    ``end`` bounds the log (see :meth:`bounded`); a bounded store is for reading only.
    """

    def __init__(
        self,
        app: EventStoreApplication,
        config: StoreConfig,
        *,
        recorder: Any = None,
        end: int | None = None,
    ) -> None:
        #: eventsourcing's application behind the log: for contract tests and benchmarks'
        #: raw baselines only; safecomm itself goes through the methods here.
        self.application = app
        self._config = config
        self._recorder: Any = recorder if recorder is not None else app.recorder
        self._mapper = app.mapper
        self._end = end
        # A state stored otherwise than as plain JSON (a cipher or a compressor configured)
        # must be decoded to read its recorded time.
        self._plain = not (
            getattr(self._mapper, "cipher", None) or getattr(self._mapper, "compressor", None)
        )

    @property
    def config(self) -> StoreConfig:
        return self._config

    @property
    def ordered(self) -> bool:
        # eventsourcing's PostgreSQL "db functions" insert without locking the table.
        datastore = getattr(self._recorder, "datastore", None)
        return not getattr(datastore, "enable_db_functions", False)

    # -- reading the log ----------------------------------------------------------------

    def head(self) -> int:
        if self._end is not None:
            return self._end
        try:
            return int(self._recorder.max_notification_id() or 0)
        except PersistenceError as exc:
            raise _unreadable(exc) from exc

    def read(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        if self._end is not None:
            stop = self._end if stop is None else min(stop, self._end)
            if after >= stop:
                return []
        try:
            found: Sequence[Notification] = self._recorder.select_notifications(
                start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
            )
        except PersistenceError as exc:
            raise _unreadable(exc) from exc
        return found

    def decode(self, notification: Notification) -> Any:
        return self._to_event(notification, f"notification {notification.id}")

    def decode_row(self, record_id: str, version: int, topic: str, state: bytes) -> Any:
        stored = StoredEvent(UUID(str(record_id)), version, topic, state)
        return self._to_event(stored, f"record {record_id} version {version}")

    def recorded_micros(self, record_id: str, version: int, topic: str, state: bytes) -> int:
        # Read from the stored state's first field without decoding the event, where the
        # state is plain JSON: the audit asks this of every row when it cuts the log.
        if self._plain and type(state) is bytes and state.startswith(_LEAD):
            close = state.find(b'"', len(_LEAD))
            try:
                return micros(datetime.fromisoformat(state[len(_LEAD) : close].decode()))
            except ValueError:
                pass
        return micros(self.decode_row(record_id, version, topic, state).timestamp)

    def events_of(self, record_id: UUID, *, upto: int | None = None) -> list[Any]:
        try:
            stored = self._recorder.select_events(record_id, lte=upto)
        except PersistenceError as exc:
            raise _unreadable(exc) from exc
        return [
            self._to_event(s, f"record {record_id} version {s.originator_version}") for s in stored
        ]

    def stored_after(self, record_id: UUID, version: int) -> bool:
        """Whether the log holds an event of ``record_id`` after ``version``.

        One read that the store's (record, version) index answers; nothing is decoded.
        """
        try:
            return bool(self._recorder.select_events(record_id, gt=version, limit=1))
        except PersistenceError as exc:
            raise _unreadable(exc) from exc

    def any_stored_after(self, versions: Mapping[UUID, int]) -> bool:
        """Whether the log holds an event of any record in ``versions`` after the version
        given for it (0: whether the record exists at all).

        One read for them all where the store is a database (a batch's questions, see
        :mod:`safecomm_core.batch`), answered by the (record, version) index.
        """
        if not versions:
            return False
        recorder, kind = self._recorder, self._config.kind
        try:
            if recorder is self.application.recorder and kind == "sqlite":
                return _any_stored_after_sqlite(recorder, versions)
            if recorder is self.application.recorder and kind == "postgresql":
                return _any_stored_after_postgres(recorder, versions)
        except PersistenceError as exc:
            raise _unreadable(exc) from exc
        return any(self.stored_after(id_, version) for id_, version in versions.items())

    def location(self) -> LogLocation:
        config = self._config
        if config.kind == "memory" or self._recorder is not self.application.recorder:
            return LogLocation("memory", config.name, "", "", holder=self._recorder)
        table = str(getattr(self._recorder, "events_table_name", ""))
        if config.kind == "sqlite":
            return LogLocation("sqlite", config.name, table, config.env["SQLITE_DBNAME"])
        return LogLocation("postgresql", config.name, table, config.conninfo)

    def bounded(self, end: int) -> EventStore:
        return EventStore(self.application, self._config, recorder=self._recorder, end=end)

    def holding(self, events: Iterable[Any]) -> EventStore:
        recorder = POPOApplicationRecorder()
        batch: list[StoredEvent] = []
        for event in events:
            batch.append(self._mapper.to_stored_event(event))
            if len(batch) >= 1000:
                recorder.insert_events(batch)
                batch = []
        if batch:
            recorder.insert_events(batch)
        return EventStore(self.application, self._config, recorder=recorder)

    # -- records ------------------------------------------------------------------------

    def load(self, record_id: UUID) -> Any:
        """The record with id ``record_id`` (from its latest snapshot), or None."""
        try:
            return self.application.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        except PersistenceError as exc:
            raise _unreadable(exc) from exc
        except Exception as exc:  # a stored event or snapshot that cannot be decoded
            raise _undecodable(f"record {record_id}", exc) from exc

    def save(self, *records: Record, first: Sequence[Any] = ()) -> None:
        """Store the events ``first`` (a command's receipt, see
        :meth:`~safecomm_core.domain.receipt.CommandReceipt.handled`) and the records'
        pending events in one transaction.

        Raises :class:`WriteCollision` when the store's unique key refuses it.
        """
        self._writing(lambda: self.application.save(*records, first=first))

    def save_events(self, events: Sequence[Any], snapshots: Sequence[Any] = ()) -> None:
        """Store ``events``, collected from records (and kept in the order given: the
        commands of a batch, each receipt first), in one transaction; then ``snapshots``.

        Raises :class:`WriteCollision` when the store's unique key refuses it.
        """
        self._writing(lambda: self.application.save_events(events, snapshots))

    def snapshot_due(self, record: Record, events: Sequence[Any]) -> Any:
        """A snapshot to save with ``events``, just collected from ``record``, if one is due
        (see :meth:`EventStoreApplication.snapshot_due`); else None."""
        return self.application.snapshot_due(record, events)

    @staticmethod
    def _writing(write: Callable[[], object]) -> None:
        try:
            write()
        except IntegrityError as exc:
            raise WriteCollision(str(exc)) from exc
        except PersistenceError as exc:
            raise StoreError(f"the store refused the write: {exc}") from exc

    def close(self) -> None:
        self.application.close()

    def _to_event(self, stored: StoredEvent, what: str) -> Any:
        try:
            return self._mapper.to_domain_event(stored)
        except Exception as exc:
            raise _undecodable(what, exc) from exc


#: Records asked about in one statement (SQLite allows 32,766 parameters, two each).
_ASKED_AT_ONCE = 500


def _any_stored_after_sqlite(recorder: Any, versions: Mapping[UUID, int]) -> bool:
    items = list(versions.items())
    for start in range(0, len(items), _ASKED_AT_ONCE):
        chunk = items[start : start + _ASKED_AT_ONCE]
        # An OR of (record, version) terms: SQLite answers each from the primary key.
        terms = " OR ".join(["(originator_id = ? AND originator_version > ?)"] * len(chunk))
        params = [p for id_, version in chunk for p in (id_.hex, version)]
        statement = f"SELECT 1 FROM {recorder.events_table_name} WHERE {terms} LIMIT 1"
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            if cursor.fetchone() is not None:
                return True
    return False


def _any_stored_after_postgres(recorder: Any, versions: Mapping[UUID, int]) -> bool:
    from psycopg.sql import SQL, Identifier  # the postgres extra: only its stores get here

    datastore = recorder.datastore
    text = datastore.originator_id_type == "text"
    ids = [str(id_) if text else id_ for id_ in versions]
    statement = SQL(
        "SELECT 1 FROM {schema}.{table} t "
        "JOIN unnest(%s::{id_type}[], %s::bigint[]) AS q(id, version) "
        "ON t.originator_id = q.id AND t.originator_version > q.version LIMIT 1"
    ).format(
        schema=Identifier(datastore.schema),
        table=Identifier(recorder.events_table_name),
        id_type=SQL(datastore.originator_id_type),
    )
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, (ids, list(versions.values())))
        return cursor.fetchone() is not None


def _unreadable(exc: Exception) -> StoreError:
    return StoreError(f"the store could not be read: {exc}")


def _undecodable(what: str, exc: Exception) -> StoreError:
    # A stored event that no longer decodes was most likely altered, or needs a cipher
    # key, class or upcaster that is missing: say where to look.
    return StoreError(
        f"{what} cannot be decoded: {type(exc).__name__}: {exc} "
        "(run 'safecomm audit verify' to check the record)"
    )


def open_event_store(config: StoreConfig) -> EventStore:
    """The event store that ``config`` names (its tables are created if missing).

    Raises what the database raises: the composition root says which store failed.
    """
    return EventStore(EventStoreApplication(config.name, config.env), config)
