"""The application: one ``handle(command)`` entry point, typed queries, and the composition root.

:func:`open_store` builds everything from a store URL; tests inject a key store there.
eventsourcing stays behind this module and :mod:`safecomm_core.store`, so a later move to
its 10.x line touches these two places.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
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
    PersistenceError,
    Recording,
)

from safecomm_core.commands.base import Command, parse_command
from safecomm_core.converter import converter
from safecomm_core.domain.base import KINDS, Record, aggregate_id
from safecomm_core.domain.grid_alert import GridAlert
from safecomm_core.domain.grid_network import GridNetwork
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.domain.rules import Rulebook, Rules, rules_in_force
from safecomm_core.domain.survey import Survey
from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    NotFound,
    StoreError,
)
from safecomm_core.keystore import open_key_store
from safecomm_core.masterkey import load_master_key
from safecomm_core.personal import (
    KeyStore,
    PersonData,
    PersonInput,
    SealedPerson,
    id_number_digest,
    open_person,
    seal_person,
)
from safecomm_core.private import create_private
from safecomm_core.store import StoreConfig, parse_store_url
from safecomm_core.transcoding import register_value_types
from safecomm_core.values import Meta

__all__ = ["HistoryEntry", "Outcome", "Safecomm", "open_store"]

R = TypeVar("R", bound=Record)

_RETRIES = 5


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

    def save(  # type: ignore[override]  # records only, never bare events
        self, *records: Record, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Store the records' pending events in one transaction, then take due snapshots.

        eventsourcing's own ``save`` asks of every object, with runtime protocol checks,
        whether it is an event or an aggregate: about a tenth of a small command's cost,
        for a question whose answer is known here (safecomm saves records only).
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for record in records:
            processing_event.events.extend(record.collect_events())
            processing_event.aggregates[record.id] = record
        processing_event.saved_kwargs.update(kwargs)
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
            record = processing_event.aggregates[event.originator_id]
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


@attrs.frozen
class Outcome:
    """What handling a command did: the records it changed, and whether it was a repeat."""

    command_id: str
    type: str
    records: tuple[str, ...]
    duplicate: bool = False


@attrs.frozen
class HistoryEntry:
    """One event of a record, with both times and who caused it."""

    kind: str
    ref: str
    version: int
    event: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    role: str
    channel: str | None
    command_id: str
    details: dict[str, Any]


class _Repeated(Exception):
    """The command being handled was handled before: its receipt is in the store."""

    def __init__(self, prior: CommandReceipt) -> None:
        super().__init__(prior.ref)
        self.prior = prior


def _already_exists(cls: type[Record], ref: str) -> AlreadyExists:
    return AlreadyExists(
        f"{cls.KIND} {ref!r} already exists", field=cls.id_field(), rule="must not exist yet"
    )


class _UnitOfWork:
    """The :class:`~safecomm_core.commands.base.Context` of one command being handled."""

    def __init__(self, service: Safecomm, command: Command, *, first_attempt: bool) -> None:
        self._service = service
        self.meta = command.meta
        self.records: dict[UUID, Record] = {}
        self.erasures: list[str] = []
        self._not_repeated = False
        self._first_attempt = first_attempt
        self._unasked: list[tuple[type[Record], str]] = []  # see check_new
        self._lent: dict[UUID, int] = {}  # see stale: id -> version when lent

    def before_key_store(self) -> None:
        """Settle what the store was not yet asked, before the key store is written to.

        Key store writes happen outside the events' transaction, so a command that will be
        refused, or a repeat, must be known as such first: raises :class:`_Repeated` if
        the command was handled before, :class:`AlreadyExists` if a new record's id is
        taken. Each question is asked once.
        """
        if not self._not_repeated:
            prior = self._service._receipt(self.meta.command_id)
            if prior is not None:
                raise _Repeated(prior)
            self._not_repeated = True
        while self._unasked:
            cls, ref = self._unasked.pop()
            if self._service.exists(cls, ref):
                raise _already_exists(cls, ref)

    def load(self, cls: type[R], ref: str) -> R:
        id_ = aggregate_id(cls.KIND, ref)
        found = self.records.get(id_)
        if found is None:
            found = self._service._recent.take(id_)
            if found is None:
                found = self._service.get(cls, ref)
            else:
                self._lent[id_] = found.version
            self.records[id_] = found
        if not isinstance(found, cls):
            raise NotFound(cls.KIND, ref, cls.id_field())
        return found

    def exists(self, cls: type[Record], ref: str) -> bool:
        id_ = aggregate_id(cls.KIND, ref)
        return id_ in self.records or id_ in self._service._recent or self._service.exists(cls, ref)

    def check_new(self, cls: type[Record], ref: str) -> None:
        # A first attempt does not ask the store: a new record whose id is taken collides on
        # the store's unique (id, version) key when saved, and the command is then decided
        # again, asking (see Safecomm.handle). One read fewer for each record created.
        id_ = aggregate_id(cls.KIND, ref)
        if id_ in self.records or id_ in self._service._recent:
            raise _already_exists(cls, ref)
        if self._first_attempt:
            self._unasked.append((cls, ref))
        elif self._service.exists(cls, ref):
            raise _already_exists(cls, ref)

    def add(self, record: Record) -> None:
        self.records[record.id] = record

    def rules(self, community: str, on: date) -> Rules:
        # Loaded like any record: the rulebook is read by many commands and changed by few,
        # so it comes from the recent records (asked before saving whether it is current)
        # instead of being rebuilt from the store for every command that needs a deadline.
        return _rules_in_force(self.load, community, on)

    def seal(self, person: PersonInput) -> SealedPerson:
        self.before_key_store()  # sealing may write a new person key
        return seal_person(person, self._service.keys)

    def id_digest(self, id_number: str) -> str:
        return id_number_digest(id_number, self._service.keys)

    def erase(self, person_ref: str) -> None:
        self.erasures.append(person_ref)

    def changed(self) -> list[Record]:
        return [r for r in self.records.values() if r.pending_events]

    def stale(self, *, changed_too: bool) -> bool:
        """Whether another process stored events of a lent record after it was lent.

        A lent record that the command changed needs no read: if it was stale, its first
        new event takes a version already stored, the store's unique key refuses the save,
        and the command is decided again from the store. One it only read (the rulebook,
        the network it consulted) is asked here, one read each, before saving; and every
        one is (``changed_too``) after a refusal, which may rest on old state, and before
        an erasure, which destroys keys before the save.
        """
        return any(
            self._service._stored_after(id_, version)
            for id_, version in self._lent.items()
            if changed_too or not self.records[id_].pending_events
        )


def _rules_in_force(
    load: Callable[[type[Rulebook], str], Rulebook], community: str, on: date
) -> Rules:
    """The rules in force, from the rulebook that ``load`` finds (the defaults if none)."""
    try:
        book = load(Rulebook, Rulebook.REF)
    except NotFound:
        return rules_in_force((), community, on)
    return book.in_force(community, on)


#: Records kept between commands by :class:`_RecentRecords`.
_RECENT_RECORDS = 1000


class _RecentRecords:
    """Records that recent commands left as stored, lent to one command at a time.

    Rebuilding a record for every command it touches (snapshot read, events read, every
    event decoded and applied: a grid alert's 47 units cost more than the rest of the
    command) is most of the cost of handling one. A record that a command saved is equal
    to the store's, so it is kept here and *taken out* by the next command that loads it:
    no two commands ever share one object, and a command that fails simply does not give
    its records back. Events written meanwhile by other processes are not read when a
    record is taken: before a command's events are saved, each record it was lent is
    known to be current (see :meth:`_UnitOfWork.stale`), or the command is decided again
    from the store, so what it decided on is as current as a record rebuilt from it.
    """

    def __init__(self, maxsize: int) -> None:
        self._records: OrderedDict[UUID, Record] = OrderedDict()
        self._lock = threading.Lock()
        self._maxsize = maxsize

    def __contains__(self, id_: UUID) -> bool:
        return id_ in self._records

    def take(self, id_: UUID) -> Record | None:
        """The record with id ``id_`` as it was saved here, or None if it is not kept."""
        with self._lock:
            return self._records.pop(id_, None)

    def put_all(self, records: Iterable[Record]) -> None:
        """Keep ``records`` (saved, so equal to the store's), dropping the oldest."""
        with self._lock:
            for record in records:
                if isinstance(record, CommandReceipt):
                    continue
                self._records[record.id] = record
                self._records.move_to_end(record.id)
            while len(self._records) > self._maxsize:
                self._records.popitem(last=False)


class Safecomm:
    """The in-process API: :meth:`handle` commands, then query records, people and history."""

    def __init__(self, app: EventStoreApplication, keys: KeyStore, config: StoreConfig) -> None:
        self.app = app
        self.keys = keys
        self.config = config
        self._recent = _RecentRecords(_RECENT_RECORDS)
        self._repeating = False  # the last command was a repeat: a hint, never a guard

    # -- commands ---------------------------------------------------------------------

    def handle(self, command: Command) -> Outcome:
        """Apply a command once. A repeat (same ``command_id``) returns the first result.

        Raises a :class:`~safecomm_core.errors.SafecommError` subclass, having written
        nothing, when the command is refused.
        """
        fingerprint = self._fingerprint(command)
        if self._repeating:
            # Repeats come in runs (a file imported again, a demo run twice): while they do,
            # one read of the receipt is cheaper than deciding again and failing to write.
            prior = self._receipt(command.command_id)
            if prior is not None:
                return self._repeat(prior, command, fingerprint)
            self._repeating = False
        for _attempt in range(_RETRIES):
            # The receipt is read only when a repeat is possible: the command is refused, its
            # write collides, or it is about to touch the key store. A new command, the usual
            # case, costs no read for it; the receipt's unique key stays the guard.
            uow = _UnitOfWork(self, command, first_attempt=_attempt == 0)
            try:
                command.run(uow)
                changed = uow.changed()
                if uow.erasures:
                    uow.before_key_store()
            except _Repeated as repeated:
                return self._repeat(repeated.prior, command, fingerprint)
            except Exception:
                prior = self._receipt(command.command_id)
                if prior is not None:
                    return self._repeat(prior, command, fingerprint)
                if uow.stale(changed_too=True):
                    continue  # refused on a record another process has changed since
                raise
            # An erasure destroys keys before the save, for good: it must not rest on an old
            # record even where the save would then be refused, so every lent one is asked.
            if uow.stale(changed_too=bool(uow.erasures)):
                continue  # a record it decided on has changed since: decide again
            receipt = CommandReceipt(
                meta=command.meta,
                ref=command.command_id,
                community=changed[0].community if changed else "*",
                command_type=command.TYPE,
                fingerprint=fingerprint,
                records=tuple(f"{r.KIND}:{r.ref}" for r in changed),
            )
            # Keys go first: if the write then fails, the retry erases nothing twice and
            # the person is no less erased; the other order could leave a readable person.
            for ref in uow.erasures:
                self.keys.destroy(ref)
            try:
                self.app.save(receipt, *changed)
            except IntegrityError:
                prior = self._receipt(command.command_id)
                if prior is not None:
                    return self._repeat(prior, command, fingerprint)
                continue  # a concurrent writer won, or an id was taken: decide again
            except PersistenceError as exc:
                raise StoreError(f"the store refused the write: {exc}") from exc
            # Only records of a command that landed go back: they now equal the store.
            self._recent.put_all(uow.records.values())
            return Outcome(command.command_id, command.TYPE, receipt.records)
        raise ConcurrencyConflict(
            f"command {command.command_id!r} lost {_RETRIES} write races; try again"
        )

    def handle_json(self, data: Mapping[str, Any]) -> Outcome:
        """Parse a command's JSON object and handle it."""
        return self.handle(parse_command(data))

    def _fingerprint(self, command: Command) -> str:
        # Keyed, because commands carry personal fields and a plain hash could be guessed.
        canonical = json.dumps(
            converter.unstructure(command), sort_keys=True, ensure_ascii=False
        ).encode()
        return hmac.new(
            self.keys.secret("command-fingerprint"), canonical, hashlib.sha256
        ).hexdigest()

    def _receipt(self, command_id: str) -> CommandReceipt | None:
        # One indexed read of the receipt's first event: a receipt has one event and is never
        # snapshotted, so the repository's snapshot lookup would be a second read per command.
        if not self._stored_after(aggregate_id(CommandReceipt.KIND, command_id), 0):
            return None
        return self._get(CommandReceipt, command_id)

    def _stored_after(self, id_: UUID, version: int) -> bool:
        """Whether the store holds an event of record ``id_`` after ``version``.

        One read that the store's (id, version) index answers; nothing is decoded.
        """
        try:
            return bool(self.app.recorder.select_events(id_, gt=version, limit=1))
        except PersistenceError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def _repeat(self, prior: CommandReceipt, command: Command, fingerprint: str) -> Outcome:
        self._repeating = True
        if prior.command_type != command.TYPE or not hmac.compare_digest(
            prior.fingerprint, fingerprint
        ):
            raise CommandIdReused(
                f"command_id {command.command_id!r} was already used for a different command",
                field="command_id",
                rule="must be unique per command",
            )
        return Outcome(command.command_id, command.TYPE, prior.records, duplicate=True)

    # -- queries ----------------------------------------------------------------------

    def get(self, cls: type[R], ref: str) -> R:
        """The record of kind ``cls`` the caller calls ``ref``, or :class:`NotFound`."""
        return self._get(cls, ref)

    def _get(self, cls: type[R], ref: str) -> R:
        try:
            found: Record = self.app.repository.get(aggregate_id(cls.KIND, ref))
        except AggregateNotFoundError:
            raise NotFound(cls.KIND, ref, cls.id_field()) from None
        except PersistenceError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc
        if not isinstance(found, cls):
            raise NotFound(cls.KIND, ref, cls.id_field())
        return found

    def exists(self, cls: type[Record], ref: str) -> bool:
        """Whether a record of kind ``cls`` has the id ``ref``."""
        return self._stored_after(aggregate_id(cls.KIND, ref), 0)

    def rules(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on``."""
        return _rules_in_force(self._get, community, on)

    def person(self, sealed: SealedPerson) -> PersonData:
        """A person's fields, opened with their key (``[erased]`` once erased)."""
        return open_person(sealed, self.keys)

    def history(self, ref: str, kind: str | None = None) -> list[HistoryEntry]:
        """Every event of the record(s) called ``ref`` (of ``kind``, if given), in order."""
        kinds = [kind] if kind else sorted(k for k in KINDS if k != CommandReceipt.KIND)
        entries: list[HistoryEntry] = []
        for k in kinds:
            if k not in KINDS:
                raise NotFound(k, ref)
            for e in self.app.events.get(aggregate_id(k, ref)):
                entries.append(_history_entry(k, ref, e))
        if not entries:
            raise NotFound(kind or "record", ref)
        return entries

    def events(self, start: int = 1, limit: int = 1000) -> Iterator[Any]:
        """Stored notifications from position ``start`` (for followers and audits)."""
        yield from self.app.recorder.select_notifications(start=start, limit=limit)

    def close(self) -> None:
        """Release the store's and the key store's connections."""
        self.app.close()
        self.keys.close()

    def __enter__(self) -> Safecomm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_HIDDEN = {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}


def _history_entry(kind: str, ref: str, event: Any) -> HistoryEntry:
    meta: Meta = event.meta
    details = {name: _detail(value) for name, value in vars(event).items() if name not in _HIDDEN}
    return HistoryEntry(
        kind=kind,
        ref=ref,
        version=event.originator_version,
        event=type(event).__name__,
        occurred_at=meta.occurred_at,
        recorded_at=event.timestamp,
        actor=meta.actor.id,
        role=str(meta.actor.role),
        channel=str(meta.channel) if meta.channel else None,
        command_id=meta.command_id,
        details=details,
    )


def _detail(value: Any) -> Any:
    # Sealed people show only their ref: history is read by more people than personal data.
    if isinstance(value, SealedPerson):
        return {"person": value.ref}
    if isinstance(value, (list, tuple)):
        return [_detail(v) for v in value]
    if attrs.has(type(value)):
        return {k: _detail(v) for k, v in attrs.asdict(value, recurse=False).items()}
    return converter.unstructure(value)


def open_store(url: str | None = None, *, keys: KeyStore | None = None) -> Safecomm:
    """Open the store named by ``url`` (or ``SAFECOMM_STORE``, or ``./safecomm.db``).

    This is the composition root: it maps the URL onto eventsourcing, picks the key store
    that belongs with it (unless one is given), and registers every command and aggregate.
    """
    import safecomm_core.commands  # noqa: F401  (registers every command type)

    config = parse_store_url(url)
    # Before anything is created: without its master key a store is not opened at all.
    master = load_master_key() if keys is None and config.kind != "memory" else None
    with config.opening(), _schema_lock(config):
        if config.kind == "sqlite":
            create_private(config.env["SQLITE_DBNAME"])
        app = EventStoreApplication(config.name, config.env)
        if keys is None:
            try:
                keys = open_key_store(config, master)
            except BaseException:  # e.g. the wrong master key: nothing is left open
                app.close()
                raise
    return Safecomm(app, keys, config)


#: Advisory lock held while a PostgreSQL store creates its tables and functions.
_SCHEMA_LOCK = 0x5AFEC0


@contextlib.contextmanager
def _schema_lock(config: StoreConfig) -> Iterator[None]:
    """Serialise opening PostgreSQL stores.

    eventsourcing creates its tables and replaces its functions in the shared schema each
    time a store opens; processes opening at the same moment (API workers, projection
    runners) would otherwise fail with "tuple concurrently updated".
    """
    if config.kind != "postgresql":
        yield
        return
    import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

    with psycopg.connect(config.conninfo, autocommit=True, connect_timeout=10) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            yield
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
