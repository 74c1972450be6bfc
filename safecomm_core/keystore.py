"""Key stores: per-person data keys, system secrets and the ID-number index, all wrapped.

Every key a key store holds is wrapped (AES-GCM) by the master key
(:mod:`safecomm_core.masterkey`), which is never in a store: a copy of every file or table
opens nothing without it. The key hierarchy, where each secret lives, and what erasure
guarantees when, are in ``docs/personal-data.md``.

- :class:`SQLiteKeyStore`: a file of its own beside the SQLite event store
  (``safecomm.db`` → ``safecomm.keys``), with ``secure_delete``, so that a destroyed key is
  overwritten in the file; its write-ahead log is emptied at once, so no copy lingers there.
- :class:`PostgresKeyStore`: tables ``<name>_wrapped_keys`` and others in the events'
  database; a destroyed key's row is vacuumed at once so that its dead tuple does not
  linger where ``VACUUM`` can reach it. Copies elsewhere (WAL, backups) are wrapped by the
  master key, and are useless once :meth:`~SQLKeyStore.rotate` has retired it.
- :class:`MemoryKeyStore` for ``memory://`` stores and tests: the same, in memory, under
  a master key of its own that dies with the process.

ID numbers are de-duplicated through an index held here, not in the event store: the
index row of an ID number maps a keyed lookup value (an HMAC under a secret that rotation
replaces) to a random *token*, which is all the event store sees. Erasing the last person
bound to a row deletes it, and nothing left in the event store can be tested against a
candidate ID number.

Each keeps the refs of erased people (refs only, no data): a later command that would seal
new data about an erased person is refused with :class:`PersonErased` instead of silently
making a new key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from safecomm_core.errors import PersonErased, StoreError
from safecomm_core.masterkey import LocalMasterKey, MasterKey, MasterKeyError
from safecomm_core.private import create_private
from safecomm_core.store import StoreConfig

__all__ = [
    "MemoryKeyStore",
    "PostgresKeyStore",
    "SQLKeyStore",
    "SQLiteKeyStore",
    "open_key_store",
]

#: The secret that keys the ID-number index's lookup values; replaced by each rotation.
_LOOKUP_SECRET = "id-number-lookup"
#: Where stores made before the index kept the ID-number HMAC secret: their index
#: records in the event store are named by that HMAC, so it stays their token.
_LEGACY_ID_SECRET = "id-number-hmac"


def _refuse_erased(ref: str, erased: bool) -> None:
    """An erased person stays erased: no new key, so nothing new about them is readable."""
    if erased:
        raise PersonErased(
            f"person {ref!r} was erased; record new facts about them under a new ref",
            field="ref",
            rule="must not name an erased person",
        )


def _key_context(ref: str, key_id: str) -> bytes:
    # Binding a wrapped key to its person stops it being copied onto another person's row.
    return f"person-key\x00{ref}\x00{key_id}".encode()


def _secret_context(name: str) -> bytes:
    return f"secret\x00{name}".encode()


def _id_context(token: str) -> bytes:
    return f"id-number\x00{token}".encode()


class SQLKeyStore:
    """The key store's logic over a DB-API connection; subclasses say how to talk to it.

    Tables (``T`` is the subclass's prefix): ``Tmeta`` (which master key wraps the rest),
    ``Twrapped_keys`` (ref, key id, wrapped key), ``Twrapped_secrets`` (name, wrapped
    value), ``Tid_index`` (lookup, token, wrapped ID number), ``Tid_holders`` (token, ref)
    and the erased people's refs.
    """

    _blob = "BLOB"

    def __init__(self, db: Any, master: MasterKey, prefix: str, erased: str) -> None:
        self._db = db
        self._master = master
        self._lock = threading.Lock()
        self._secrets: dict[str, bytes] = {}  # stable until rotate(), which clears it
        t = self._t = {
            name: prefix + name
            for name in ("meta", "wrapped_keys", "wrapped_secrets", "id_index", "id_holders")
        }
        self._erased = erased
        blob = self._blob
        for ddl in (
            f"CREATE TABLE IF NOT EXISTS {t['meta']} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {t['wrapped_keys']} "
            f"(ref TEXT PRIMARY KEY, key_id TEXT NOT NULL, wrapped {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {t['wrapped_secrets']} "
            f"(name TEXT PRIMARY KEY, wrapped {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {t['id_index']} "
            f"(lookup TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, wrapped {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {t['id_holders']} "
            "(token TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (token, ref))",
            f"CREATE TABLE IF NOT EXISTS {self._erased} (ref TEXT PRIMARY KEY)",
        ):
            self._run(ddl)
        self._check_master()
        self._adopt_plain(prefix)

    # -- how to talk to the database (subclasses) --------------------------------------

    def _sql(self, sql: str) -> str:
        return sql

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    def _scrub(self) -> None:
        """Make deleted or rewritten rows' old bytes unreachable where the database can."""

    def _exists(self, table: str) -> bool:
        raise NotImplementedError

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._db.execute(self._sql(sql), params)

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._run(sql, params).fetchone()

    # -- the master key ----------------------------------------------------------------

    def _check_master(self) -> None:
        with self._transaction():
            row = self._one(f"SELECT value FROM {self._t['meta']} WHERE name = 'master_key'")
            if row is None:
                self._run(
                    f"INSERT INTO {self._t['meta']} VALUES ('master_key', %s)",
                    (self._master.key_id,),
                )
                return
        if row[0] != self._master.key_id:
            raise MasterKeyError(
                f"this store's keys are wrapped by master key {row[0]}, but the one in force "
                f"({self._master.source}) is {self._master.key_id}; set SAFECOMM_MASTER_KEY "
                "or SAFECOMM_MASTER_KEY_FILE to the store's master key",
                field="master_key",
                rule="the key the store's keys are wrapped with",
            )

    def _adopt_plain(self, prefix: str) -> None:
        """Wrap the keys of a key store made before the master key; drop the clear ones."""
        keys, secrets = prefix + "person_keys", prefix + "secrets"
        if not self._exists(keys):
            return
        with self._transaction():
            for ref, key_id, key in self._run(f"SELECT ref, key_id, key FROM {keys}").fetchall():
                self._run(
                    f"INSERT INTO {self._t['wrapped_keys']} VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (ref, key_id, self._master.wrap(bytes(key), _key_context(ref, key_id))),
                )
            for name, value in self._run(f"SELECT name, value FROM {secrets}").fetchall():
                self._run(
                    f"INSERT INTO {self._t['wrapped_secrets']} VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (name, self._master.wrap(bytes(value), _secret_context(name))),
                )
            for table in (keys, secrets):
                self._run(f"DELETE FROM {table}")
                self._run(f"DROP TABLE {table}")
        self._scrub()

    # -- person keys -------------------------------------------------------------------

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        """The person's (key id, key); made and kept when ``create`` and missing.

        A person marked erased (:meth:`mark_erased`) has no key, whatever is still stored.
        """
        found = self._stored_key(ref)
        if found is None and create:
            self.keep_person_key(ref, *self.new_person_key(ref))
            found = self._stored_key(ref)
        return found

    def _stored_key(self, ref: str) -> tuple[str, bytes] | None:
        t = self._t
        sql = (
            f"SELECT k.key_id, k.wrapped FROM {t['wrapped_keys']} k WHERE k.ref = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {self._erased} e WHERE e.ref = k.ref)"
        )
        with self._lock:
            row = self._one(sql, (ref,))
        if row is None:
            return None
        key_id = row[0]
        return key_id, self._master.unwrap(bytes(row[1]), _key_context(ref, key_id))

    def new_person_key(self, ref: str) -> tuple[str, bytes]:
        """A new (key id, key) for ``ref``, not yet kept; refused for an erased person."""
        with self._lock:
            erased = self._one(f"SELECT 1 FROM {self._erased} WHERE ref = %s", (ref,))
        _refuse_erased(ref, erased is not None)
        return os.urandom(8).hex(), os.urandom(32)

    def keep_person_key(self, ref: str, key_id: str, key: bytes) -> bool:
        """Keep ``key`` as ``ref``'s unless they have one; whether it is the one kept.

        Written (and synced) before any event sealed with it can be stored.
        """
        wrapped = self._master.wrap(key, _key_context(ref, key_id))
        table = self._t["wrapped_keys"]
        with self._lock:
            inserted = self._run(
                f"INSERT INTO {table} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (ref, key_id, wrapped),
            )
            if inserted.rowcount == 1:  # one round trip where the person had no key
                return True
            row = self._one(f"SELECT key_id FROM {table} WHERE ref = %s", (ref,))
        return row is not None and row[0] == key_id

    def batched(self) -> contextlib.AbstractContextManager[None]:
        """Keys and tokens kept inside it are written in one transaction as it ends, and
        none if it ends with an error: a batch of commands keeps its people's keys at
        once, just before its events are written (see :mod:`safecomm_core.batch`)."""
        return self._transaction()

    def mark_erased(self, ref: str) -> None:
        """From now on ``ref`` reads as erased and gets no new key; :meth:`destroy` or
        :meth:`complete_erasures` then destroys what is stored."""
        with self._lock:
            self._run(f"INSERT INTO {self._erased} VALUES (%s) ON CONFLICT DO NOTHING", (ref,))

    def complete_erasures(self) -> int:
        """Destroy the keys still stored of people marked erased; returns how many."""
        with self._lock:
            refs = [
                r[0]
                for r in self._run(
                    f"SELECT k.ref FROM {self._t['wrapped_keys']} k "
                    f"JOIN {self._erased} e ON e.ref = k.ref"
                ).fetchall()
            ]
        return sum(self.destroy(ref) for ref in refs)

    def destroy(self, ref: str) -> bool:
        """Destroy the person's key, and the ID-number index rows only they held."""
        t = self._t
        with self._lock:
            with self._transaction():
                self._run(f"INSERT INTO {self._erased} VALUES (%s) ON CONFLICT DO NOTHING", (ref,))
                deleted = self._run(f"DELETE FROM {t['wrapped_keys']} WHERE ref = %s", (ref,))
                had_key = bool(deleted.rowcount > 0)
                tokens = [
                    r[0]
                    for r in self._run(
                        f"SELECT token FROM {t['id_holders']} WHERE ref = %s", (ref,)
                    ).fetchall()
                ]
                self._run(f"DELETE FROM {t['id_holders']} WHERE ref = %s", (ref,))
                for token in tokens:
                    self._run(
                        f"DELETE FROM {t['id_index']} WHERE token = %s AND NOT EXISTS "
                        f"(SELECT 1 FROM {t['id_holders']} h WHERE h.token = %s)",
                        (token, token),
                    )
            self._scrub()
        return had_key

    # -- system secrets ----------------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """A named 32-byte system secret, made on first use; wrapped by the master key."""
        with self._lock:
            return self._secret(name, create=True) or b""

    def _secret(self, name: str, *, create: bool) -> bytes | None:
        if name not in self._secrets:  # a write (and a sync) per call otherwise
            sql = f"SELECT wrapped FROM {self._t['wrapped_secrets']} WHERE name = %s"
            row = self._one(sql, (name,))
            if row is None and not create:
                return None
            if row is None:
                self._run(
                    f"INSERT INTO {self._t['wrapped_secrets']} VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (name, self._master.wrap(os.urandom(32), _secret_context(name))),
                )
                row = self._one(sql, (name,))
            self._secrets[name] = self._master.unwrap(bytes(row[0]), _secret_context(name))
        return self._secrets[name]

    # -- the ID-number index -----------------------------------------------------------

    def id_token(self, id_number: str) -> str:
        """The token that stands for ``id_number`` in the event store; made when missing.

        The same ID number gets the same token until the last person bound to it
        (:meth:`bind_id`) is erased; after that it gets a new one.
        """
        found = self.find_id_token(id_number)
        if found is None:
            self.keep_id_token(id_number, self.new_id_token(id_number))
            found = self.find_id_token(id_number)
        assert found is not None
        return found

    def find_id_token(self, id_number: str) -> str | None:
        """The token of ``id_number`` if the index holds it; writes nothing."""
        with self._lock:
            row = self._one(
                f"SELECT token FROM {self._t['id_index']} WHERE lookup = %s",
                (self._lookup(id_number),),
            )
        return None if row is None else str(row[0])

    def new_id_token(self, id_number: str) -> str:
        """A token for an ID number the index does not hold yet, not yet kept."""
        with self._lock:
            legacy = self._secret(_LEGACY_ID_SECRET, create=False)
        if legacy:
            return hmac.new(legacy, id_number.encode(), hashlib.sha256).hexdigest()
        return os.urandom(32).hex()

    def keep_id_token(self, id_number: str, token: str) -> bool:
        """Keep ``token`` for ``id_number`` unless it has one; whether it is the one kept."""
        wrapped = self._master.wrap(id_number.encode(), _id_context(token))
        with self._lock:
            inserted = self._run(
                f"INSERT INTO {self._t['id_index']} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (self._lookup(id_number), token, wrapped),
            )
            if inserted.rowcount == 1:  # one round trip where the number was not indexed
                return True
        return self.find_id_token(id_number) == token

    def bind_id(self, id_number: str, ref: str) -> None:
        """Record that person ``ref`` has ``id_number``, if the index knows that number.

        Erasing the last person bound to an index row deletes the row.
        """
        with self._lock:
            # One statement: the holder row is written only where the index has the number.
            self._run(
                f"INSERT INTO {self._t['id_holders']} SELECT token, %s "
                f"FROM {self._t['id_index']} WHERE lookup = %s ON CONFLICT DO NOTHING",
                (ref, self._lookup(id_number)),
            )

    def _lookup(self, id_number: str) -> str:
        secret = self._secret(_LOOKUP_SECRET, create=True) or b""
        return hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()

    # -- rotation ----------------------------------------------------------------------

    def rotate(self, new: MasterKey) -> int:
        """Re-wrap every live key and secret with ``new``; returns the person keys re-wrapped.

        The ID-number index gets a new lookup secret, so a copy of a deleted index row
        made before the rotation cannot be tested against candidate numbers with the keys
        in force after it. Run it with the store's other processes stopped: they hold the
        old master key. The caller retires the old master key once this returns.
        """
        self.complete_erasures()  # an erasure is complete once the old master key is gone
        t, old = self._t, self._master
        with self._lock:
            with self._transaction():
                rows = self._run(f"SELECT ref, key_id, wrapped FROM {t['wrapped_keys']}").fetchall()
                for ref, key_id, wrapped in rows:
                    context = _key_context(ref, key_id)
                    self._run(
                        f"UPDATE {t['wrapped_keys']} SET wrapped = %s WHERE ref = %s",
                        (new.wrap(old.unwrap(bytes(wrapped), context), context), ref),
                    )
                self._run(f"DELETE FROM {t['wrapped_secrets']} WHERE name = %s", (_LOOKUP_SECRET,))
                for name, wrapped in self._run(
                    f"SELECT name, wrapped FROM {t['wrapped_secrets']}"
                ).fetchall():
                    context = _secret_context(name)
                    self._run(
                        f"UPDATE {t['wrapped_secrets']} SET wrapped = %s WHERE name = %s",
                        (new.wrap(old.unwrap(bytes(wrapped), context), context), name),
                    )
                lookup_secret = os.urandom(32)
                self._run(
                    f"INSERT INTO {t['wrapped_secrets']} VALUES (%s, %s)",
                    (_LOOKUP_SECRET, new.wrap(lookup_secret, _secret_context(_LOOKUP_SECRET))),
                )
                index = self._run(f"SELECT token, wrapped FROM {t['id_index']}").fetchall()
                self._run(f"DELETE FROM {t['id_index']}")
                for token, wrapped in index:
                    number = old.unwrap(bytes(wrapped), _id_context(token))
                    lookup = hmac.new(lookup_secret, number, hashlib.sha256).hexdigest()
                    self._run(
                        f"INSERT INTO {t['id_index']} VALUES (%s, %s, %s)",
                        (lookup, token, new.wrap(number, _id_context(token))),
                    )
                self._run(
                    f"UPDATE {t['meta']} SET value = %s WHERE name = 'master_key'", (new.key_id,)
                )
            self._master = new
            self._secrets.clear()
            self._scrub()
        return len(rows)

    def close(self) -> None:
        """Release the connection."""
        self._db.close()


class SQLiteKeyStore(SQLKeyStore):
    """Keys in their own SQLite file, mode 0600.

    Durability: a new key is written in a transaction of its own, committed (and synced)
    before it is returned, so it is on disk before any event sealed with it can be stored.
    In write-ahead-log mode with ``synchronous=FULL`` that commit is one sync of the log;
    a rollback journal cost four (the journal twice, the file, the folder), which made a
    command that introduces a person twice as slow to land as one that does not.

    Erasure: ``secure_delete`` zeroes the deleted key in the page that the delete writes to
    the log, and :meth:`destroy` then checkpoints with ``TRUNCATE``: that page overwrites
    the file's copy, and the log, which may still hold older images of the page (key
    included), is cut to nothing before ``destroy`` returns. So no file of the key store
    holds a destroyed key, wrapped or not.

    Until a checkpoint, the newest keys are in ``<file>-wal`` only: back the key store up
    as the event store (also in WAL mode), with SQLite's backup API or with its log.
    """

    def __init__(self, path: str, master: MasterKey) -> None:
        self.path = path
        if path != ":memory:":
            create_private(path)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # NORMAL would not sync each commit
        db.execute("PRAGMA secure_delete=ON")
        db.execute("PRAGMA busy_timeout=10000")
        super().__init__(db, master, "", "erased")

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _exists(self, table: str) -> bool:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s"
        return self._one(sql, (table,)) is not None

    def _scrub(self) -> None:
        # Waits (busy_timeout) for other processes' readers to move past the old pages.
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StoreError(
                "keys were deleted or re-wrapped, but another process kept the key store's "
                "log from being emptied; do it again"
            )


class MemoryKeyStore(SQLiteKeyStore):
    """Keys in memory, wrapped by a master key of their own; gone with the process."""

    def __init__(self) -> None:
        super().__init__(":memory:", LocalMasterKey.generate("memory"))


class PostgresKeyStore(SQLKeyStore):
    """Keys in tables ``<prefix>_wrapped_keys`` and others, in the events' database."""

    _blob = "BYTEA"

    def __init__(self, conninfo: str, prefix: str, master: MasterKey) -> None:
        import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

        db = psycopg.connect(conninfo, autocommit=True)
        super().__init__(db, master, prefix + "_", prefix + "_erased_people")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    def _exists(self, table: str) -> bool:
        return self._one("SELECT to_regclass(%s)", (table,))[0] is not None

    def _scrub(self) -> None:
        for table in ("wrapped_keys", "wrapped_secrets", "id_index", "id_holders"):
            self._db.execute(f"VACUUM {self._t[table]}")


def open_key_store(config: StoreConfig, master: MasterKey | None) -> SQLKeyStore:
    """The key store that belongs with the store ``config`` describes.

    ``master`` may be None for a ``memory://`` store only, whose keys die with the process.
    """
    if config.kind == "memory":
        return MemoryKeyStore()
    if master is None:
        raise MasterKeyError(f"a master key is needed to open the keys of {config.display}")
    if config.kind == "sqlite":
        return SQLiteKeyStore(config.keys_path, master)
    return PostgresKeyStore(config.conninfo, config.name, master)
