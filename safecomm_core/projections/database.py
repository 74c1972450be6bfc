"""Where views live: a small SQL layer over sqlite3 and psycopg, and the runner's own tables.

:func:`open_views` picks the place from the store's URL:

=========================  ===============================================================
store                      views
=========================  ===============================================================
``sqlite:///dir/x.db``     ``dir/x.views.db``, a SQLite file of its own beside the store
``postgresql://…?name=N``  the same database, every table prefixed ``N_``
``memory://``              an in-memory SQLite database, gone with the process
=========================  ===============================================================

Why a separate file on SQLite: the runner writes a projection's rows and its position in
one transaction *of the views database*; the store is only read, so nothing needs a
transaction across both files. A file of its own keeps projection batches from taking
the store's single writer lock (commands would wait behind a rebuild), keeps the event
file as the audit record and nothing else, and lets an operator delete the views and
rebuild them without going near the events. A views file from another store (or an
older copy of this one) is caught: the runner checks that the notification at its
position is still the one it projected (:mod:`safecomm_core.projections.runner`).

The runner's bookkeeping is two tables, declared with the same
:class:`~safecomm_core.projections.schema.Table` as projections' tables:
``projection_generations`` (one row per generation: version, fingerprint, status,
position, and the identity of the notification at the position) and
``projection_dead_letters``.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from safecomm_core.private import create_private
from safecomm_core.projections.errors import ViewDatabaseError
from safecomm_core.projections.schema import (
    BOOLEAN,
    DATE,
    INTEGER,
    TEXT,
    TIMESTAMP,
    Column,
    ColumnType,
    Table,
    event_columns,
    timestamp_text,
)
from safecomm_core.store import StoreConfig

__all__ = [
    "DEAD_LETTERS",
    "GENERATIONS",
    "PostgresViews",
    "SQLiteViews",
    "ViewDatabase",
    "open_views",
    "views_path",
]

GENERATIONS = Table(
    "projection_generations",
    columns=(
        Column("projection", TEXT, nullable=False),
        Column("generation", INTEGER, nullable=False),
        Column("version", INTEGER, nullable=False),
        Column("fingerprint", TEXT, nullable=False),
        Column("status", TEXT, nullable=False, doc="building, live, check or retired"),
        Column("position", INTEGER, nullable=False, doc="last notification id projected"),
        Column("anchor", TEXT, doc="originator id:version of the notification at position"),
        Column("tables", TEXT, nullable=False, doc="the generation's tables, comma-separated"),
        Column("created_at", TIMESTAMP, nullable=False),
        Column("updated_at", TIMESTAMP, nullable=False),
        Column("swapped_at", TIMESTAMP),
    ),
    key=("projection", "generation"),
)

DEAD_LETTERS = Table(
    "projection_dead_letters",
    columns=(
        Column("projection", TEXT, nullable=False),
        Column("generation", INTEGER, nullable=False),
        *event_columns(),
        Column("originator_id", TEXT, nullable=False),
        Column("error_type", TEXT, nullable=False),
        Column("error", TEXT, nullable=False),
        Column("recorded_at", TIMESTAMP, nullable=False),
    ),
    key=("projection", "generation", "notification_id"),
)


def views_path(store_path: str) -> str:
    """The views file beside a SQLite store file (``x.db`` → ``x.views.db``)."""
    return str(Path(store_path).with_suffix(".views.db"))


def quote(name: str) -> str:
    """A quoted SQL identifier (names are checked to be ``[a-z][a-z0-9_]*`` already)."""
    return f'"{name}"'


class ViewDatabase(ABC):
    """A connection to the database that holds views, with the few statements the runtime uses.

    SQL is written once with ``?`` placeholders; backends translate. Driver errors come
    out as :class:`ViewDatabaseError`, so the runner can tell them from handlers' errors.
    """

    #: Prefix of every table and view name (``"<store name>_"`` on PostgreSQL).
    prefix: str = ""
    #: What a column type is called in this database.
    types: ClassVar[dict[ColumnType, str]]
    #: The column types whose values :meth:`encode` changes (the others are stored as is).
    converted: ClassVar[frozenset[ColumnType]] = frozenset(ColumnType)
    #: The column types whose stored values :meth:`decode` changes (the others read as is).
    decoded: ClassVar[frozenset[ColumnType]] = frozenset(ColumnType)

    def __init__(self) -> None:
        self._setup_done = False
        self._in_transaction = False

    # -- the backend's part ---------------------------------------------------------

    @abstractmethod
    def _begin_write(self) -> None: ...

    @abstractmethod
    def _begin_read(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
        """Run one statement: (rows changed, rows fetched)."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _cursor(self, sql: str, params: Sequence[Any]) -> Any:
        """Run a query; a cursor with ``fetchmany`` over its rows."""

    @abstractmethod
    def lock(self, name: str) -> None:
        """Serialise writers on ``name`` until the end of the present transaction."""

    @abstractmethod
    def encode(self, column: Column, value: Any) -> Any:
        """A normalised Python value as this database stores it."""

    @abstractmethod
    def decode(self, column: Column, value: Any) -> Any:
        """A stored value back as its normalised Python value."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @property
    @abstractmethod
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The driver's exception classes, turned into :class:`ViewDatabaseError`."""

    # -- statements -----------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        changed: int = self._guarded(self._execute, sql, params)[0]
        return changed

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query; its rows."""
        rows: list[tuple[Any, ...]] = self._guarded(self._execute, sql, params)[1]
        return rows

    def fetch_batches(
        self, sql: str, params: Sequence[Any] = (), size: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Run a query; its rows ``size`` at a time, so that a large result is never held
        whole as tuples (a report decodes each batch as it comes)."""
        cursor = self._guarded(self._cursor, sql, params)
        while batch := self._guarded(cursor.fetchmany, size):
            yield batch

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per parameter row."""
        if rows:
            self._guarded(self._executemany, sql, rows)

    def _guarded(self, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except self.driver_errors as exc:
            raise ViewDatabaseError(f"the views database failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, serialised with every other writer; rolled back on error."""
        with self._transaction(self._begin_write):
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: a part that an error takes back alone, keeping the rest."""
        self.execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK TO SAVEPOINT part")
            self.execute("RELEASE SAVEPOINT part")
            raise
        self.execute("RELEASE SAVEPOINT part")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """While many batches are written one after another (a rebuild, a long catch-up):
        the backend may spend more memory to write them faster. Nothing by default."""
        yield

    @contextmanager
    def lean(self) -> Iterator[None]:
        """While a report reads: the backend may keep less memory, each page being read
        about once (a long history's pages would otherwise fill the cache sized for
        writing, see docs/architecture.md). Nothing by default."""
        yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read-only transaction that sees one consistent state."""
        with self._transaction(self._begin_read):
            yield

    @contextmanager
    def _transaction(self, begin: Any) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("the views database is already in a transaction")
        self._guarded(begin)
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            # The original error says more than a failed rollback would.
            with contextlib.suppress(ViewDatabaseError):
                self._guarded(self._rollback)
            raise
        self._in_transaction = False
        self._guarded(self._commit)

    # -- names and DDL ----------------------------------------------------------------

    def name(self, table: str) -> str:
        """The full name of a table or view."""
        return f"{self.prefix}{table}"

    def physical(self, table: str, generation: int) -> str:
        """The name of a generation's table."""
        return f"{self.prefix}{table}__g{generation}"

    def create_table(self, name: str, table: Table, *, indexes: bool = True) -> None:
        """Create ``table``'s shape under ``name``, with its indexes unless told not to."""
        columns = [
            f"{quote(c.name)} {self.types[c.type]}{'' if c.nullable else ' NOT NULL'}"
            for c in table.columns
        ]
        key = ", ".join(map(quote, table.key))
        self.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(name)} ({', '.join(columns)}, PRIMARY KEY ({key}))"
        )
        if indexes:
            self.create_indexes(name, table)

    def create_indexes(self, name: str, table: Table) -> None:
        """Create the indexes of ``table`` (stored as ``name``) that are not there yet."""
        for number, index in enumerate(table.indexes):
            self.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(f'{name}__i{number}')} "
                f"ON {quote(name)} ({', '.join(map(quote, index))})"
            )

    def drop_table(self, name: str) -> None:
        """Drop a table if it is there."""
        self.execute(f"DROP TABLE IF EXISTS {quote(name)}")

    def point_view(self, view: str, target: str | None) -> None:
        """(Re)define ``view`` as every row of ``target``; drop it when ``target`` is None."""
        self.execute(f"DROP VIEW IF EXISTS {quote(view)}")
        if target is not None:
            self.execute(f"CREATE VIEW {quote(view)} AS SELECT * FROM {quote(target)}")

    def upsert_sql(self, name: str, table: Table) -> str:
        """INSERT of a whole row that replaces the row with the same key."""
        columns = ", ".join(map(quote, table.column_names))
        marks = ", ".join("?" * len(table.columns))
        others = [c for c in table.column_names if c not in table.key]
        conflict = ", ".join(map(quote, table.key))
        action = (
            "DO UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in others)
            if others
            else "DO NOTHING"
        )
        return (
            f"INSERT INTO {quote(name)} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({conflict}) {action}"
        )

    def key_where(self, table: Table) -> str:
        """``WHERE`` matching one row by its key."""
        return "WHERE " + " AND ".join(f"{quote(c)} = ?" for c in table.key)

    def encode_row(self, table: Table, row: dict[str, Any]) -> list[Any]:
        """A normalised row as this database's parameters, in column order."""
        return self.row_encoder(table)(row)

    def row_encoder(self, table: Table) -> Callable[[dict[str, Any]], list[Any]]:
        """A function doing :meth:`encode_row` for ``table``, for writing many rows.

        Only non-null values of the :attr:`converted` types go through :meth:`encode`; the
        others cost a dict lookup each (a batch encodes thousands of rows).
        """
        names = table.column_names
        converted = [
            (i, self.column_encoder(c))
            for i, c in enumerate(table.columns)
            if c.type in self.converted
        ]

        def encode_row(row: dict[str, Any]) -> list[Any]:
            values = [row[name] for name in names]
            for i, encode in converted:
                value = values[i]
                if value is not None:
                    values[i] = encode(value)
            return values

        return encode_row

    def column_encoder(self, column: Column) -> Callable[[Any], Any]:
        """:meth:`encode` for ``column`` as a function of one normalised value (not None)."""
        return functools.partial(self.encode, column)

    def decode_row(self, table: Table, values: Sequence[Any]) -> dict[str, Any]:
        """A fetched row (all columns in order) as a normalised row."""
        return self.row_decoder(table)(values)

    def row_decoder(self, table: Table) -> Callable[[Sequence[Any]], dict[str, Any]]:
        """A function doing :meth:`decode_row` for ``table``, for reading many rows.

        Only non-null values of the :attr:`decoded` types go through :meth:`decode` (a
        report reads every row of its views).
        """
        names = table.column_names
        decoded = [
            (c.name, self.column_decoder(c)) for c in table.columns if c.type in self.decoded
        ]

        def decode_row(values: Sequence[Any]) -> dict[str, Any]:
            row = dict(zip(names, values, strict=True))
            for name, decode in decoded:
                value = row[name]
                if value is not None:
                    row[name] = decode(value)
            return row

        return decode_row

    def column_decoder(self, column: Column) -> Callable[[Any], Any]:
        """:meth:`decode` for ``column`` as a function of one stored value (not None)."""
        return functools.partial(self.decode, column)

    def select_sql(self, name: str, table: Table) -> str:
        """``SELECT`` of every column of ``table`` (stored as ``name``), in declared order."""
        return f"SELECT {', '.join(map(quote, table.column_names))} FROM {quote(name)}"

    # -- the runtime's own tables -------------------------------------------------------

    def setup(self) -> None:
        """Create the bookkeeping tables once (idempotent, safe with concurrent runners)."""
        if self._setup_done:
            return
        with self.transaction():
            self.lock("setup")
            for table in (GENERATIONS, DEAD_LETTERS):
                self.create_table(self.name(table.name), table)
            # At most one live generation per projection: the swap relies on it.
            self.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(self.name('projection_live'))} "
                f"ON {quote(self.name(GENERATIONS.name))} (projection) WHERE status = 'live'"
            )
        self._setup_done = True


#: How normalised values are stored in SQLite, per column type (the others as they are).
_SQLITE_ENCODERS: dict[ColumnType, Callable[[Any], Any]] = {
    TIMESTAMP: timestamp_text,
    DATE: date.isoformat,
    BOOLEAN: int,
}

#: How SQLite's stored text and integers read back as Python values, per column type.
_SQLITE_DECODERS: dict[ColumnType, Callable[[Any], Any]] = {
    TIMESTAMP: datetime.fromisoformat,
    DATE: date.fromisoformat,
    BOOLEAN: bool,
}


#: SQLite page cache of a views connection, in KiB (the default is 2,000).
_CACHE_KIB = 65_536
#: ... while a report reads (:meth:`ViewDatabase.lean`): SQLite's default.
_LEAN_CACHE_KIB = 2_000
#: Pages of write-ahead log after which SQLite copies it into the views file (default 1,000).
_CHECKPOINT_PAGES = 10_000
#: ... while it writes in bulk (:meth:`ViewDatabase.bulk`): a million events' rebuild.
_BULK_CHECKPOINT_PAGES = 100_000


def _as_stored(value: Any) -> Any:
    return value


class SQLiteViews(ViewDatabase):
    """Views in a SQLite file (or ``:memory:``)."""

    types: ClassVar[dict[ColumnType, str]] = {
        ColumnType.TEXT: "TEXT",
        ColumnType.INTEGER: "INTEGER",
        ColumnType.REAL: "REAL",
        ColumnType.BOOLEAN: "INTEGER",
        ColumnType.TIMESTAMP: "TEXT",
        ColumnType.DATE: "TEXT",
    }
    converted: ClassVar[frozenset[ColumnType]] = frozenset({TIMESTAMP, DATE, BOOLEAN})
    decoded: ClassVar[frozenset[ColumnType]] = frozenset(_SQLITE_DECODERS)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        try:
            create_private(path)  # views hold what the store holds: 0600, as the store
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=30000")
            if path != ":memory:":
                # WAL: reports read while the runner writes. NORMAL sync is durable across a
                # killed process; a power cut may lose the last batches, but rows and position
                # go back together, so the projection resumes exactly where it was.
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                # Batches write rows all over tables that grow to millions of rows (keys are
                # random ids): a page cache of the default 2 MB re-reads their pages batch
                # after batch, and a log checkpointed every 4 MB writes and syncs the same
                # pages again and again. Both sized for a rebuild of a million events.
                self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
                self._db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
                # A log grown larger (in bulk) is cut back to this when next reset.
                self._db.execute(f"PRAGMA journal_size_limit={_CHECKPOINT_PAGES * 4096}")
        except (sqlite3.Error, OSError) as exc:
            raise ViewDatabaseError(f"cannot open views database {path!r}: {exc}") from exc

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _begin_write(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, not at first write

    def _begin_read(self) -> None:
        self._db.execute("BEGIN")

    def _commit(self) -> None:
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _execute(self, sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
        cursor = self._db.execute(sql, params)
        rows = cursor.fetchall()
        return cursor.rowcount, rows

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _cursor(self, sql: str, params: Sequence[Any]) -> Any:
        return self._db.execute(sql, params)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """The write-ahead log checkpointed every :data:`_BULK_CHECKPOINT_PAGES` meanwhile,
        every :data:`_CHECKPOINT_PAGES` after: a rebuild's batches dirty pages all over
        tables of random keys, and each checkpoint copies them into the file again.

        The log grows to about 400 MB on disk meanwhile; the connection's
        ``journal_size_limit`` cuts it back when it is next reset."""
        if self.path == ":memory:":
            yield
            return
        with self._pragma("wal_autocheckpoint", _BULK_CHECKPOINT_PAGES, _CHECKPOINT_PAGES):
            yield

    @contextmanager
    def lean(self) -> Iterator[None]:
        """The page cache cut to :data:`_LEAN_CACHE_KIB` meanwhile (the pages beyond it
        are freed), :data:`_CACHE_KIB` after: a report's scans would otherwise keep up to
        the whole cache of pages each read once, so its memory would follow the views'
        size up to 64 MiB."""
        with self._pragma("cache_size", -_LEAN_CACHE_KIB, -_CACHE_KIB):
            yield

    @contextmanager
    def _pragma(self, name: str, meanwhile: int, after: int) -> Iterator[None]:
        """The connection's pragma ``name`` at ``meanwhile`` in the block, ``after`` once
        it ends, however it ends."""
        self._guarded(self._db.execute, f"PRAGMA {name}={meanwhile}")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute(f"PRAGMA {name}={after}")

    def lock(self, name: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's write lock."""

    def encode(self, column: Column, value: Any) -> Any:
        if value is None:
            return None
        return self.column_encoder(column)(value)

    def decode(self, column: Column, value: Any) -> Any:
        if value is None:
            return None
        return self.column_decoder(column)(value)

    def column_encoder(self, column: Column) -> Callable[[Any], Any]:
        return _SQLITE_ENCODERS.get(column.type, _as_stored)

    def column_decoder(self, column: Column) -> Callable[[Any], Any]:
        return _SQLITE_DECODERS.get(column.type, _as_stored)

    def close(self) -> None:
        self._db.close()


class PostgresViews(ViewDatabase):
    """Views in the store's PostgreSQL database, every name prefixed ``<store name>_``."""

    types: ClassVar[dict[ColumnType, str]] = {
        ColumnType.TEXT: "text",
        ColumnType.INTEGER: "bigint",
        ColumnType.REAL: "double precision",
        ColumnType.BOOLEAN: "boolean",
        ColumnType.TIMESTAMP: "timestamptz",
        ColumnType.DATE: "date",
    }
    converted: ClassVar[frozenset[ColumnType]] = frozenset()
    decoded: ClassVar[frozenset[ColumnType]] = frozenset({TIMESTAMP})

    def __init__(self, conninfo: str, prefix: str) -> None:
        super().__init__()
        import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

        self._psycopg = psycopg
        self.prefix = f"{prefix}_"
        try:
            self._db: Any = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise ViewDatabaseError(f"cannot connect to the views database: {exc}") from exc

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (self._psycopg.Error,)

    def _begin_write(self) -> None:
        self._db.execute("BEGIN")

    def _begin_read(self) -> None:
        self._db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _commit(self) -> None:
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        self._db.execute("ROLLBACK")

    def _execute(self, sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
        cursor = self._db.execute(sql.replace("?", "%s"), params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return cursor.rowcount, rows

    def _cursor(self, sql: str, params: Sequence[Any]) -> Any:
        return self._db.execute(sql.replace("?", "%s"), params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    def lock(self, name: str) -> None:
        # Transaction-scoped advisory lock: creating a generation, swapping and setting
        # up are check-then-write steps that two runners must not interleave.
        self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"{self.prefix}{name}",))

    def encode(self, column: Column, value: Any) -> Any:
        return value

    def decode(self, column: Column, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return value

    def close(self) -> None:
        self._db.close()


def open_views(config: StoreConfig) -> ViewDatabase:
    """The views database that belongs with the store ``config`` describes."""
    views: ViewDatabase
    if config.kind == "sqlite":
        views = SQLiteViews(views_path(config.env["SQLITE_DBNAME"]))
    elif config.kind == "postgresql":
        views = PostgresViews(config.conninfo, config.name)
    else:
        views = SQLiteViews(":memory:")
    views.setup()
    return views
