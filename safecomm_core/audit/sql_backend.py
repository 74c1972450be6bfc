"""The audit's storage in the store's own SQL database: SQLite and PostgreSQL.

Both keep two tables beside the events (see :mod:`safecomm_core.audit.storage`): the
ledger, one row per stored event (position, originator id, version, topic, state digest, chain
value), and the seals. Both are append-only: triggers refuse UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE), so that no mistake of a tool or an operator rewrites them. That is
no defence against someone who can drop a trigger; the seals' signatures are.

Tables are made on the first write (catching up, sealing), never when reading, so that
``verify`` runs with read-only access to the database.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from safecomm_core.audit.canonical import LedgerEntry, RawRow
from safecomm_core.audit.errors import AuditError
from safecomm_core.audit.seal import Seal
from safecomm_core.audit.storage import Extend, Opener

__all__ = ["PostgresBackend", "SQLiteBackend"]

_ENTRY_COLUMNS = "position, originator_id, originator_version, topic, state_digest, chain"
_SEAL_COLUMNS = "store, position, hash, sealed_at, key_id, public_key, signature"
#: Pages of write-ahead log after which the ledger's connection checkpoints (default 1,000).
_CHECKPOINT_PAGES = 10_000


class _SQLBackend:
    """What both databases share; subclasses give the connection and the dialect."""

    # Filled in by subclasses.
    name: str
    _ledger: str
    _seals: str
    _events: str
    _position: str  # the events table's notification id column
    _id_text: str  # SQL giving the originator id as 32 hex digits
    _begin_read: str
    _begin_write: tuple[str, ...]

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._reading = 0
        self._have_tables = False

    # -- dialect ---------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return statement

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _create_tables(self) -> None:
        raise NotImplementedError

    def _table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def _database_errors(self) -> tuple[type[Exception], ...]:
        raise NotImplementedError

    # -- plumbing --------------------------------------------------------------------------

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return list(self._execute(self._sql(statement), params).fetchall())
            except self._database_errors() as exc:
                raise AuditError(f"the audit tables could not be read: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._lock:
            outer = self._reading == 0
            if outer:
                self._execute(self._begin_read)
            self._reading += 1
            try:
                yield
            finally:
                self._reading -= 1
                if outer:
                    self._execute("ROLLBACK")

    def _ensure_tables(self) -> None:
        if not self._have_tables:
            with self._lock:
                self._create_tables()
                self._have_tables = True

    def _readable(self, table: str) -> bool:
        # Before the first catch-up there is no ledger: read it as empty, write nothing.
        if self._have_tables:
            return True
        with self._lock:
            return self._table_exists(table)

    # -- rows ---------------------------------------------------------------------------

    def last_position(self) -> int:
        rows = self._all(f"SELECT MAX({self._position}) FROM {self._events}")
        return int(rows[0][0] or 0)

    def _ranged(
        self, table: str, column: str, columns: str, after: int, upto: int | None, batch: int
    ) -> Iterator[list[Any]]:
        """Rows with ``after < column <= upto`` in order, ``batch`` positions at a time.

        Each query asks for a range of positions, never "the next N after X": on a table
        PostgreSQL has not analysed yet, the latter is planned as a sort of everything after
        X, once per batch, which makes a full read quadratic. Gaps are jumped over.
        """
        select = (
            f"SELECT {columns} FROM {table} WHERE {column} > ? AND {column} <= ? ORDER BY {column}"
        )
        following = f"SELECT MIN({column}) FROM {table} WHERE {column} > ?"
        stop = (
            upto
            if upto is not None
            else int(self._all(f"SELECT MAX({column}) FROM {table}")[0][0] or 0)
        )
        while after < stop:
            high = min(after + batch, stop)
            rows = self._all(select, (after, high))
            if rows:
                yield rows
                after = high
                continue
            found = self._all(following, (high,))[0][0]
            if found is None or found > stop:
                return
            after = int(found) - 1

    def _row_columns(self) -> str:
        return f"{self._position}, {self._id_text}, originator_version, topic, state"

    def scan(self, after: int, upto: int | None, batch: int) -> Iterator[list[RawRow]]:
        columns = self._row_columns()
        yield from self._ranged(self._events, self._position, columns, after, upto, batch)

    def rows(self, after: int, upto: int | None, batch: int) -> Iterator[RawRow]:
        return itertools.chain.from_iterable(self.scan(after, upto, batch))

    def _id_param(self, originator_id: str) -> str | None:
        """The id as the events table's originator id column compares it (None: no match)."""
        return originator_id

    def find_row(self, originator_id: str, version: int) -> list[int]:
        stored = self._id_param(originator_id)
        if stored is None:
            return []
        return [
            int(r[0])
            for r in self._all(
                f"SELECT {self._position} FROM {self._events} "
                "WHERE originator_id = ? AND originator_version = ? ORDER BY 1",
                (stored, version),
            )
        ]

    # -- ledger ----------------------------------------------------------------------------

    def head(self, upto: int | None = None) -> LedgerEntry | None:
        if not self._readable(self._ledger):
            return None
        where = "" if upto is None else "WHERE position <= ? "
        rows = self._all(
            f"SELECT {_ENTRY_COLUMNS} FROM {self._ledger} {where}ORDER BY position DESC LIMIT 1",
            () if upto is None else (upto,),
        )
        return _entry(rows[0]) if rows else None

    def entries(self, after: int, upto: int | None, batch: int) -> Iterator[list[LedgerEntry]]:
        if not self._readable(self._ledger):
            return
        for rows in self._ranged(self._ledger, "position", _ENTRY_COLUMNS, after, upto, batch):
            yield [_entry(r) for r in rows]

    def find_entry(self, originator_id: str, version: int) -> list[int]:
        # A scan of the ledger: asked once per difference a verification finds. An index
        # by record would make every catch-up slower as history grows (each batch's random
        # ids land on as many of its pages), for a question asked after tampering only.
        if not self._readable(self._ledger):
            return []
        return [
            int(r[0])
            for r in self._all(
                f"SELECT position FROM {self._ledger} "
                "WHERE originator_id = ? AND originator_version = ? ORDER BY position",
                (originator_id, version),
            )
        ]

    def extend(self, build: Extend, batch: int) -> int:
        self._ensure_tables()
        with self._lock:
            try:
                for statement in self._begin_write:
                    self._execute(statement)
                try:
                    head = self.head()
                    rows = next(self.scan(head.position if head else 0, None, batch), [])
                    added = build(head, rows)
                    if added:
                        self._execute_many(
                            self._sql(f"INSERT INTO {self._ledger} VALUES (?, ?, ?, ?, ?, ?)"),
                            added,
                        )
                except BaseException:
                    self._execute("ROLLBACK")
                    raise
                self._execute("COMMIT")
            except self._database_errors() as exc:
                raise AuditError(f"the ledger could not be written: {exc}") from exc
        return len(added)

    # -- seals -----------------------------------------------------------------------------

    def add_seal(self, seal: Seal) -> None:
        self._ensure_tables()
        with self._lock:
            try:
                self._execute(
                    self._sql(
                        f"INSERT INTO {self._seals} ({_SEAL_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
                    ),
                    (
                        seal.store,
                        seal.position,
                        seal.hash,
                        seal.sealed_at,
                        seal.key_id,
                        seal.public_key,
                        seal.signature,
                    ),
                )
            except self._database_errors() as exc:
                raise AuditError(f"the seal could not be stored: {exc}") from exc

    def seals(self) -> list[Seal]:
        if not self._readable(self._seals):
            return []
        rows = self._all(f"SELECT {_SEAL_COLUMNS} FROM {self._seals} ORDER BY seq")
        return [_seal(r) for r in rows]


def _entry(row: Sequence[Any]) -> LedgerEntry:
    return LedgerEntry(
        position=int(row[0]),
        originator_id=row[1],
        version=row[2],
        topic=row[3],
        state_digest=bytes(row[4]),
        chain=bytes(row[5]),
    )


def _seal(row: Sequence[Any]) -> Seal:
    fields = dict(zip(_SEAL_COLUMNS.split(", "), row, strict=True))
    try:
        return Seal.from_dict(fields)
    except ValueError:
        # A row altered into other types is kept, as text, so that its signature fails
        # and verification says so, rather than the seal silently vanishing.
        text: dict[str, Any] = {k: str(v) for k, v in fields.items()}
        text["position"] = fields["position"] if type(fields["position"]) is int else -1
        return Seal(**text)


class SQLiteBackend(_SQLBackend):
    """Tables ``ledger`` and ``seals`` in the store's SQLite file."""

    _ledger = "ledger"
    _seals = "seals"
    _position = "rowid"
    _id_text = "originator_id"
    _begin_read = "BEGIN"
    # IMMEDIATE takes the write lock at once: two followers never read the same head.
    _begin_write = ("BEGIN IMMEDIATE",)

    def __init__(self, path: str, name: str, events_table: str) -> None:
        super().__init__()
        self.name = name
        self._path = path
        self._events = events_table
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            # The ledger's batches commit without a sync (NORMAL; the store's file is in
            # write-ahead-log mode): durable across a killed process, and a power cut may
            # lose the last batches, but entries and head go back together and the next
            # catch-up chains those rows again, to the same values. The sync per batch was
            # a fixed cost of 5 to 15 ms, a quarter of a 10,000-row catch-up. Seals are
            # synced as they are stored (add_seal), and with them every entry before them.
            self._db.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint (copying the log into the file) syncs both; one every 4 MB of
            # log, the default, was one per 20,000 entries, seconds of a 1M catch-up. As
            # the views' (projections.database), once per 40 MB.
            self._db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open {path}: {exc}") from exc

    def opener(self) -> Opener:
        return functools.partial(SQLiteBackend, self._path, self.name, self._events)

    def add_seal(self, seal: Seal) -> None:
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                super().add_seal(seal)
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def rows(self, after: int, upto: int | None, batch: int) -> Iterator[RawRow]:
        # One query read as a stream: SQLite walks a rowid range in order without gathering
        # it (PostgreSQL's client-side cursor would, hence batches there), and rows freed
        # as they are chained keep memory in the CPU's cache. So does a small page cache
        # (each page is read once), and a forked verifier (audit.split) then writes to
        # fewer of the pages it shares with its parent, each of which must be copied.
        bound = "" if upto is None else " AND rowid <= ?"
        statement = (
            f"SELECT {self._row_columns()} FROM {self._events} WHERE rowid > ?{bound} "
            "ORDER BY rowid"
        )
        try:
            with self._lock:
                self._db.execute("PRAGMA cache_size = -64")
                cursor = self._db.execute(statement, (after,) if upto is None else (after, upto))
            yield from cursor
        except sqlite3.Error as exc:
            raise AuditError(f"the records could not be read: {exc}") from exc

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(statement, params)

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(statement, rows)

    def _database_errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error,)

    def _table_exists(self, table: str) -> bool:
        found = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return found is not None

    def _create_tables(self) -> None:
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self._ledger} (position INTEGER PRIMARY KEY, "
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, state_digest BLOB NOT NULL, chain BLOB NOT NULL)",
            # No index by record: see find_entry. One made by an earlier version goes.
            f"DROP INDEX IF EXISTS {self._ledger}_by_record",
            f"CREATE TABLE IF NOT EXISTS {self._seals} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "store TEXT NOT NULL, position INTEGER NOT NULL, hash TEXT NOT NULL, "
            "sealed_at TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL, "
            "signature TEXT NOT NULL)",
        ]
        for table in (self._ledger, self._seals):
            for action in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
                    f"BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for statement in statements:
                self._db.execute(statement)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise AuditError(f"the audit tables could not be made: {exc}") from exc

    def close(self) -> None:
        self._db.close()


class PostgresBackend(_SQLBackend):
    """Tables ``<name>_ledger`` and ``<name>_seals`` in the store's PostgreSQL database."""

    _position = "notification_id"
    _id_text = "encode(uuid_send(originator_id), 'hex')"
    _begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def __init__(self, conninfo: str, name: str, events_table: str) -> None:
        super().__init__()
        import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

        self._psycopg: Any = psycopg
        self.name = name
        self._conninfo = conninfo
        self._events = events_table
        self._ledger = f"{name}_ledger"
        self._seals = f"{name}_seals"
        # SHARE ROW EXCLUSIVE conflicts with itself but not with readers: one follower
        # extends the ledger at a time, and verification reads on meanwhile.
        self._begin_write = ("BEGIN", f"LOCK TABLE {self._ledger} IN SHARE ROW EXCLUSIVE MODE")
        try:
            self._db: Any = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise AuditError(f"cannot connect to PostgreSQL: {exc}") from exc
        # Binary results: bytea arrives as bytes without hex decoding (a third of the read).
        self._cursor = self._db.cursor(binary=True)

    def opener(self) -> Opener:
        return functools.partial(PostgresBackend, self._conninfo, self.name, self._events)

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(statement, params or None)

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(statement, rows)

    def _database_errors(self) -> tuple[type[Exception], ...]:
        return (self._psycopg.Error,)

    def _table_exists(self, table: str) -> bool:
        row = self._cursor.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        return row is not None and row[0] is not None

    def _id_param(self, originator_id: str) -> str | None:
        # The id column is a uuid: compare as one, so the primary key index serves; text
        # that is no UUID cannot be stored there, so nothing has it.
        try:
            return str(uuid.UUID(hex=originator_id)) if len(originator_id) == 32 else None
        except ValueError:
            return None

    def _create_tables(self) -> None:
        function = "safecomm_audit_append_only"
        statements = [
            # One advisory lock: concurrent "CREATE ... IF NOT EXISTS" can still collide.
            "SELECT pg_advisory_xact_lock(hashtext('safecomm_audit_ddl'))",
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            f"CREATE TABLE IF NOT EXISTS {self._ledger} (position BIGINT PRIMARY KEY, "
            "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, "
            "topic TEXT NOT NULL, state_digest BYTEA NOT NULL, chain BYTEA NOT NULL)",
            # No index by record: see find_entry. One made by an earlier version goes.
            f"DROP INDEX IF EXISTS {self._ledger}_by_record",
            f"CREATE TABLE IF NOT EXISTS {self._seals} (seq BIGSERIAL PRIMARY KEY, "
            "store TEXT NOT NULL, position BIGINT NOT NULL, hash TEXT NOT NULL, "
            "sealed_at TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL, "
            "signature TEXT NOT NULL)",
        ]
        for table in (self._ledger, self._seals):
            statements.append(
                f"CREATE OR REPLACE TRIGGER {table}_append_only "
                f"BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        try:
            with self._db.transaction():
                for statement in statements:
                    self._db.execute(statement)
        except self._psycopg.Error as exc:
            raise AuditError(f"the audit tables could not be made: {exc}") from exc

    def close(self) -> None:
        self._db.close()
