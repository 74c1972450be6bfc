"""Where the audit reads rows and keeps its ledger and seals, per kind of store.

======================  ============================  ===================================
store                   ledger                        seals (append-only)
======================  ============================  ===================================
``memory://``           in the process, beside the    in the process
                        store's recorder
``sqlite:///FILE``      table ``ledger`` in FILE      table ``seals`` in FILE
``postgresql://…``      table ``<name>_ledger``       table ``<name>_seals``
======================  ============================  ===================================

The ledger lives beside the events, in the same database, so that catching up is one
transaction per batch in the place the rows are read from. It is not trusted for that:
only seals are (they are signed with a key the database never sees), and the verifier
checks ledger entries against them before it uses them to name a changed row.

Rows are read with the backend's own SQL rather than the recorder's
``select_notifications``: that builds a ``Notification`` and a ``UUID`` per row, about ten
times the cost of the row itself (12 µs against 1.4 µs per row on SQLite), and the
verifier must read every row there is. The SQL is the recorder's own table layout, read
only; the originator id is read as the text of its 32 hex digits on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from safecomm_core.audit.canonical import EntryRow, LedgerEntry, RawRow
from safecomm_core.audit.seal import Seal

if TYPE_CHECKING:
    from safecomm_core.service import Safecomm

__all__ = ["AuditBackend", "Extend", "Opener", "open_backend"]

#: How the follower turns the ledger's head and the next rows into entries.
Extend = Callable[[LedgerEntry | None, Sequence[RawRow]], list[EntryRow]]

#: Opens another backend of the same store, on a connection of its own.
Opener = Callable[[], "AuditBackend"]


class AuditBackend(Protocol):
    """The stored events, read-only, and the ledger's and seals' storage."""

    name: str

    def reading(self) -> AbstractContextManager[None]:
        """A consistent snapshot for a run of reads (a read transaction)."""

    def last_position(self) -> int:
        """The highest notification id stored, 0 when none."""

    def scan(self, after: int, upto: int | None, batch: int) -> Iterator[list[RawRow]]:
        """Stored rows with ``after < position <= upto``, in order, in batches."""

    def rows(self, after: int, upto: int | None, batch: int) -> Iterator[RawRow]:
        """The same rows as :meth:`scan`, one by one (read as a stream where possible)."""

    def find_row(self, originator_id: str, version: int) -> list[int]:
        """Positions of the stored events with that id and version."""

    def opener(self) -> Opener | None:
        """How another process opens this store's rows (None: it cannot read them)."""

    def head(self, upto: int | None = None) -> LedgerEntry | None:
        """The ledger's last entry (at or before ``upto``, if given)."""

    def entries(self, after: int, upto: int | None, batch: int) -> Iterator[list[LedgerEntry]]:
        """Ledger entries with ``after < position <= upto``, in order, in batches."""

    def find_entry(self, originator_id: str, version: int) -> list[int]:
        """Positions of the ledger entries with that id and version."""

    def extend(self, build: Extend, batch: int) -> int:
        """In one write transaction: read the head and up to ``batch`` rows after it,
        append ``build(head, rows)``. Returns how many entries were appended."""

    def add_seal(self, seal: Seal) -> None:
        """Append a seal."""

    def seals(self) -> list[Seal]:
        """Every stored seal, oldest first."""

    def close(self) -> None:
        """Release connections."""


def open_backend(service: Safecomm) -> AuditBackend:
    """The audit backend for ``service``'s kind of database."""
    where = service.log.location()
    if where.kind == "sqlite":
        from safecomm_core.audit.sql_backend import SQLiteBackend

        return SQLiteBackend(where.database, where.name, where.table or "stored_events")
    if where.kind == "postgresql":
        from safecomm_core.audit.sql_backend import PostgresBackend

        return PostgresBackend(where.database, where.name, where.table or f"{where.name}_events")
    from safecomm_core.audit.memory_backend import MemoryBackend

    return MemoryBackend.of(service.log)
