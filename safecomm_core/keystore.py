"""Key stores: per-person data keys and system secrets, kept apart from the events.

- :class:`MemoryKeyStore` for ``memory://`` stores and tests.
- :class:`SQLiteKeyStore`: a file of its own beside the SQLite event store
  (``safecomm.db`` → ``safecomm.keys``), with ``secure_delete``, so that a destroyed key is
  overwritten in the file; its write-ahead log is emptied at once, so no copy lingers there.
- :class:`PostgresKeyStore`: a table in the same database as the events; a destroyed key's
  row is vacuumed at once so that its dead tuple does not linger.

Each keeps the refs of erased people (refs only, no data): a later command that would seal
new data about an erased person is refused with :class:`PersonErased` instead of silently
making a new key.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from safecomm_core.errors import PersonErased, StoreError

__all__ = ["MemoryKeyStore", "PostgresKeyStore", "SQLiteKeyStore"]


def _refuse_erased(ref: str, erased: bool) -> None:
    """An erased person stays erased: no new key, so nothing new about them is readable."""
    if erased:
        raise PersonErased(
            f"person {ref!r} was erased; record new facts about them under a new ref",
            field="ref",
            rule="must not name an erased person",
        )


def _new_key() -> tuple[str, bytes]:
    return os.urandom(8).hex(), os.urandom(32)


class MemoryKeyStore:
    """Keys in a dict; gone with the process."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, bytes]] = {}
        self._erased: set[str] = set()
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        with self._lock:
            if ref not in self._keys and create:
                _refuse_erased(ref, ref in self._erased)
                self._keys[ref] = _new_key()
            return self._keys.get(ref)

    def destroy(self, ref: str) -> bool:
        with self._lock:
            self._erased.add(ref)
            return self._keys.pop(ref, None) is not None

    def secret(self, name: str) -> bytes:
        with self._lock:
            return self._secrets.setdefault(name, os.urandom(32))

    def close(self) -> None:
        """Nothing to release."""


class SQLiteKeyStore:
    """Keys in their own SQLite file.

    Durability: a new key is written in a transaction of its own, committed (and synced)
    before it is returned, so it is on disk before any event sealed with it can be stored.
    In write-ahead-log mode with ``synchronous=FULL`` that commit is one sync of the log;
    a rollback journal cost four (the journal twice, the file, the folder), which made a
    command that introduces a person twice as slow to land as one that does not.

    Erasure: ``secure_delete`` zeroes the deleted key in the page that the delete writes to
    the log, and :meth:`destroy` then checkpoints with ``TRUNCATE``: that page overwrites
    the file's copy, and the log, which may still hold older images of the page (key
    included), is cut to nothing before ``destroy`` returns. So, as with the rollback
    journal before (whose copy of the page, key included, was deleted at commit), no file
    of the key store holds a destroyed key.

    Until a checkpoint, the newest keys are in ``<file>-wal`` only: back the key store up
    as the event store (also in WAL mode), with SQLite's backup API or with its log.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._secrets: dict[str, bytes] = {}  # never change once made: safe to cache
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # NORMAL would not sync each commit
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS person_keys "
            "(ref TEXT PRIMARY KEY, key_id TEXT NOT NULL, key BLOB NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS erased (ref TEXT PRIMARY KEY)")

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        with self._lock:
            row = self._select(ref)
            if row is None and create:
                erased = self._db.execute("SELECT 1 FROM erased WHERE ref = ?", (ref,))
                _refuse_erased(ref, erased.fetchone() is not None)
                # Written (and synced) before any event sealed with it can be stored.
                self._db.execute(
                    "INSERT OR IGNORE INTO person_keys VALUES (?, ?, ?)", (ref, *_new_key())
                )
                row = self._select(ref)
        return (row[0], bytes(row[1])) if row else None

    def _select(self, ref: str) -> Any:
        return self._db.execute(
            "SELECT key_id, key FROM person_keys WHERE ref = ?", (ref,)
        ).fetchone()

    def destroy(self, ref: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO erased VALUES (?)", (ref,))
            cursor = self._db.execute("DELETE FROM person_keys WHERE ref = ?", (ref,))
            self._db.execute("COMMIT")
            # Waits (busy_timeout) for other processes' readers to move past the old pages.
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StoreError(
                f"the key of {ref!r} is deleted, but another process kept the key store's "
                "log from being emptied; erase again"
            )
        return cursor.rowcount > 0

    def secret(self, name: str) -> bytes:
        with self._lock:
            if name not in self._secrets:  # a write (and a sync) per call otherwise
                self._db.execute(
                    "INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, os.urandom(32))
                )
                row = self._db.execute(
                    "SELECT value FROM secrets WHERE name = ?", (name,)
                ).fetchone()
                self._secrets[name] = bytes(row[0])
            return self._secrets[name]

    def close(self) -> None:
        self._db.close()


class PostgresKeyStore:
    """Keys in a table ``<prefix>_person_keys`` of the events' PostgreSQL database."""

    def __init__(self, conninfo: str, prefix: str) -> None:
        import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}  # secrets never change once made
        self._db: Any = psycopg.connect(conninfo, autocommit=True)
        self._keys = f"{prefix}_person_keys"
        self._secrets = f"{prefix}_secrets"
        self._erased = f"{prefix}_erased_people"
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {self._erased} (ref TEXT PRIMARY KEY)")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {self._keys} "
            "(ref TEXT PRIMARY KEY, key_id TEXT NOT NULL, key BYTEA NOT NULL)"
        )
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {self._secrets} "
            "(name TEXT PRIMARY KEY, value BYTEA NOT NULL)"
        )

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        with self._lock:
            row = self._select(ref)
            if row is None and create:
                erased = self._db.execute(f"SELECT 1 FROM {self._erased} WHERE ref = %s", (ref,))
                _refuse_erased(ref, erased.fetchone() is not None)
                self._db.execute(
                    f"INSERT INTO {self._keys} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (ref, *_new_key()),
                )
                row = self._select(ref)
        return (row[0], bytes(row[1])) if row else None

    def _select(self, ref: str) -> Any:
        return self._db.execute(
            f"SELECT key_id, key FROM {self._keys} WHERE ref = %s", (ref,)
        ).fetchone()

    def destroy(self, ref: str) -> bool:
        with self._lock:
            with self._db.transaction():
                self._db.execute(
                    f"INSERT INTO {self._erased} VALUES (%s) ON CONFLICT DO NOTHING", (ref,)
                )
                cursor = self._db.execute(f"DELETE FROM {self._keys} WHERE ref = %s", (ref,))
            if cursor.rowcount:
                self._db.execute(f"VACUUM {self._keys}")
        return bool(cursor.rowcount)

    def secret(self, name: str) -> bytes:
        with self._lock:
            if name not in self._cache:
                self._db.execute(
                    f"INSERT INTO {self._secrets} VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (name, os.urandom(32)),
                )
                row = self._db.execute(
                    f"SELECT value FROM {self._secrets} WHERE name = %s", (name,)
                ).fetchone()
                self._cache[name] = bytes(row[0])
            return self._cache[name]

    def close(self) -> None:
        self._db.close()
