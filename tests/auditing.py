"""Audit tests' tools: a history of disputes, a sealed store, and raw SQL to tamper with it.

:class:`RawEvents` changes the events table the way someone with database access would,
behind the application's back, on SQLite (``stored_events``, positions are ``rowid``) and
PostgreSQL (``<name>_events``, positions are ``notification_id``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safecomm_core import Safecomm, StoreError, open_store, parse_command
from safecomm_core.audit import Ledger, Seal
from tests.commanding import sample_commands
from tests.conftest import PG_URL, drop_pg_tables, store_url


def write_disputes(service: Safecomm, count: int, *, first: int = 1) -> None:
    """``count`` disputes through the sample's workflow (ten rows each, with receipts)."""
    for n in range(first, first + count):
        for data in sample_commands():
            data = {**data, "command_id": f"{data['command_id']}-{n}"}
            data["dispute_id"] = f"d-2014-{n:04d}"
            if "parties" in data:
                data["parties"] = [{**p, "ref": f"{p['ref']}-{n}"} for p in data["parties"]]
            service.handle(parse_command(data))


class RawEvents:
    """The events table, read and written with plain SQL."""

    def __init__(self, service: Safecomm) -> None:
        self.kind = service.config.kind
        if self.kind == "sqlite":
            self.db: Any = sqlite3.connect(
                service.config.env["SQLITE_DBNAME"], isolation_level=None
            )
            self.table, self.pos, self.p = "stored_events", "rowid", "?"
        else:
            import psycopg

            self.db = psycopg.connect(service.config.conninfo, autocommit=True)
            self.table, self.pos, self.p = f"{service.config.name}_events", "notification_id", "%s"

    def close(self) -> None:
        self.db.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.db.execute(sql.replace("?", self.p), params)

    def rows(self) -> list[tuple[int, str, int, str, bytes]]:
        """(position, originator id as 32 hex digits, version, topic, state), in order."""
        oid = "originator_id" if self.kind == "sqlite" else "replace(originator_id::text, '-', '')"
        found = self._run(
            f"SELECT {self.pos}, {oid}, originator_version, topic, state FROM {self.table} "
            f"ORDER BY {self.pos}"
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in found]

    def positions(self) -> list[int]:
        return [r[0] for r in self.rows()]

    def row(self, position: int) -> tuple[int, str, int, str, bytes]:
        return next(r for r in self.rows() if r[0] == position)

    def set_state(self, position: int, state: bytes) -> None:
        self._run(f"UPDATE {self.table} SET state = ? WHERE {self.pos} = ?", (state, position))

    def set_topic(self, position: int, topic: str) -> None:
        self._run(f"UPDATE {self.table} SET topic = ? WHERE {self.pos} = ?", (topic, position))

    def delete(self, position: int) -> None:
        self._run(f"DELETE FROM {self.table} WHERE {self.pos} = ?", (position,))

    def delete_after(self, position: int) -> None:
        self._run(f"DELETE FROM {self.table} WHERE {self.pos} > ?", (position,))

    def insert(self, position: int, oid: str, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"INSERT INTO {self.table} ({self.pos}, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, ?, ?, ?)",
            (position, self._oid(oid), version, topic, state),
        )

    def shift_from(self, position: int) -> None:
        """Move every row at ``position`` or after one place on (two steps: the ids are
        unique at every statement)."""
        big = 10_000_000
        self._run(
            f"UPDATE {self.table} SET {self.pos} = {self.pos} + ? WHERE {self.pos} >= ?",
            (big, position),
        )
        self._run(
            f"UPDATE {self.table} SET {self.pos} = {self.pos} - ? WHERE {self.pos} >= ?",
            (big - 1, big),
        )

    def swap(self, a: int, b: int) -> None:
        """Exchange the contents (id, version, topic, state) of the rows at a and b."""
        ra, rb = self.row(a), self.row(b)
        self._set(a, uuid.uuid4().hex, -1, ra[3], ra[4])  # out of the way of the unique key
        self._set(b, *ra[1:])
        self._set(a, *rb[1:])

    def _set(self, position: int, oid: str, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"UPDATE {self.table} SET originator_id = ?, originator_version = ?, topic = ?, "
            f"state = ? WHERE {self.pos} = ?",
            (self._oid(oid), version, topic, state, position),
        )

    def _oid(self, oid: str) -> Any:
        return oid if self.kind == "sqlite" else uuid.UUID(hex=oid)


def _open(url: str) -> Safecomm:
    # Test runs share one PostgreSQL database; eventsourcing's CREATE statements for a new
    # store can meet another run's ("tuple concurrently updated"). Many hypothesis examples
    # each open a store, so try again rather than fail on that.
    for attempt in range(3):
        try:
            return open_store(url)
        except StoreError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def sealed_store(
    backend: str, disputes: int = 2
) -> Iterator[tuple[Safecomm, RawEvents, Seal, Ed25519PrivateKey]]:
    """A fresh store on ``backend`` with ``disputes`` disputes, chained and sealed.

    A context manager rather than a fixture, so that each hypothesis example has its own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        url, name = store_url(backend, Path(tmp))
        service = _open(url)
        raw = RawEvents(service) if backend != "memory" else None
        try:
            write_disputes(service, disputes)
            key = Ed25519PrivateKey.generate()
            with Ledger(service) as ledger:
                seal = ledger.seal(key)
            yield service, raw, seal, key  # type: ignore[misc]
        finally:
            if raw is not None:
                raw.close()
            service.close()
            if backend == "postgres":
                drop_pg_tables(name)


__all__ = ["PG_URL", "RawEvents", "sealed_store", "write_disputes"]
