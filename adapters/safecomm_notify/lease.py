"""Leases on alerts: each alert is worked by one dispatcher at a time.

On PostgreSQL several dispatchers may follow one store. Each takes an alert's lease before
working it: a session-level advisory lock on a connection of its own (psycopg), keyed by
the store and the alert. A dispatcher that dies loses its connection, and with it its
locks, so another takes the alert over and resumes from the record (docs/alerts.md,
*Several dispatchers*). On SQLite and in memory one dispatcher serves a store, and the
lease is a set in its process.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from safecomm_core.store import StoreConfig

__all__ = ["Lease", "LocalLease", "PostgresLease", "lease_for"]


class Lease(Protocol):
    """Who works which alert."""

    def acquire(self, alert_id: str) -> bool:
        """Take the alert's lease if nobody holds it; whether this dispatcher holds it."""

    def holds(self, alert_id: str) -> bool:
        """Whether this dispatcher still holds the alert's lease."""

    def release(self, alert_id: str) -> None:
        """Give the alert's lease up."""

    def close(self) -> None:
        """Give every lease up."""


class LocalLease:
    """Leases within one process."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    def acquire(self, alert_id: str) -> bool:
        """Take the lease; always granted to the one dispatcher of the store."""
        self._held.add(alert_id)
        return True

    def holds(self, alert_id: str) -> bool:
        """Whether the lease was taken and not released."""
        return alert_id in self._held

    def release(self, alert_id: str) -> None:
        """Give the lease up."""
        self._held.discard(alert_id)

    def close(self) -> None:
        """Give every lease up."""
        self._held.clear()


class PostgresLease:
    """Advisory locks on a connection of the dispatcher's own."""

    def __init__(self, dsn: str, store: str) -> None:
        import psycopg

        self._db: Any = psycopg.connect(dsn, autocommit=True)
        self._store = store
        self._held: set[str] = set()

    def _key(self, alert_id: str) -> int:
        digest = hashlib.sha256(f"safecomm dispatch\n{self._store}\n{alert_id}".encode())
        return int.from_bytes(digest.digest()[:8], "big", signed=True)

    def acquire(self, alert_id: str) -> bool:
        """``pg_try_advisory_lock``: granted unless another session holds it."""
        if alert_id in self._held:
            return True
        row = self._db.execute("SELECT pg_try_advisory_lock(%s)", (self._key(alert_id),))
        granted = bool(row.fetchone()[0])
        if granted:
            self._held.add(alert_id)
        return granted

    def holds(self, alert_id: str) -> bool:
        """Held, and the connection that holds it is still open."""
        return alert_id in self._held and not self._db.closed and not self._db.broken

    def release(self, alert_id: str) -> None:
        """``pg_advisory_unlock``."""
        if alert_id in self._held:
            self._held.discard(alert_id)
            if not self._db.closed and not self._db.broken:
                self._db.execute("SELECT pg_advisory_unlock(%s)", (self._key(alert_id),))

    def close(self) -> None:
        """Close the connection: every lock goes with it."""
        self._held.clear()
        self._db.close()


def lease_for(config: StoreConfig) -> Lease:
    """The lease a dispatcher of the store ``config`` names takes alerts with."""
    if config.kind == "postgresql":
        return PostgresLease(config.conninfo, config.name)
    return LocalLease()
