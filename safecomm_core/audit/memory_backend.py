"""The audit's storage for ``memory://`` stores: lists beside the store's events.

The ledger and seals of an in-memory store live as long as its events do, like the rows
they describe; they are kept per holder of the events (see
:class:`~safecomm_core.eventlog.LogLocation`), so reopening the same store object (as tests
and the ``memory://`` fixture do) finds them again.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from uuid import UUID

from safecomm_core.audit.canonical import LedgerEntry, RawRow
from safecomm_core.audit.seal import Seal
from safecomm_core.audit.storage import Extend
from safecomm_core.eventlog import EventLog

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """Rows read through the event log; ledger in a list."""

    _by_holder: ClassVar[weakref.WeakKeyDictionary[Any, MemoryBackend]] = (
        weakref.WeakKeyDictionary()
    )
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, log: EventLog) -> None:
        self.name = log.location().name
        self._log = log
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._positions: list[int] = []
        self._seals: list[Seal] = []

    @classmethod
    def of(cls, log: EventLog) -> MemoryBackend:
        """The one backend of the events ``log`` reads (made on first use)."""
        holder = log.location().holder
        with cls._registry_lock:
            found = cls._by_holder.get(holder)
            if found is None:
                found = cls._by_holder[holder] = cls(log)
            return found

    def reading(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    # -- rows ---------------------------------------------------------------------------

    def last_position(self) -> int:
        return self._log.head()

    def scan(self, after: int, upto: int | None, batch: int) -> Iterator[list[RawRow]]:
        while upto is None or after < upto:
            found = self._log.read(after, batch, stop=upto)
            if not found:
                return
            yield [
                (n.id, _id_text(n.originator_id), n.originator_version, n.topic, n.state)
                for n in found
            ]
            after = found[-1].id

    def rows(self, after: int, upto: int | None, batch: int) -> Iterator[RawRow]:
        return itertools.chain.from_iterable(self.scan(after, upto, batch))

    def find_row(self, originator_id: str, version: int) -> list[int]:
        return [
            r[0]
            for rows in self.scan(0, None, 1000)
            for r in rows
            if r[1] == originator_id and r[2] == version
        ]

    # -- ledger ----------------------------------------------------------------------------

    def opener(self) -> None:
        """None: the rows live in this process only."""

    def head(self, upto: int | None = None) -> LedgerEntry | None:
        with self._lock:
            end = (
                len(self._positions) if upto is None else bisect.bisect_right(self._positions, upto)
            )
            return self._entries[end - 1] if end else None

    def entries(self, after: int, upto: int | None, batch: int) -> Iterator[list[LedgerEntry]]:
        with self._lock:
            start = bisect.bisect_right(self._positions, after)
            stop = (
                len(self._positions) if upto is None else bisect.bisect_right(self._positions, upto)
            )
            selected = self._entries[start:stop]
        for i in range(0, len(selected), batch):
            yield selected[i : i + batch]

    def find_entry(self, originator_id: str, version: int) -> list[int]:
        with self._lock:
            return [
                e.position
                for e in self._entries
                if e.originator_id == originator_id and e.version == version
            ]

    def extend(self, build: Extend, batch: int) -> int:
        with self._lock:
            head = self._entries[-1] if self._entries else None
            rows: Sequence[RawRow] = next(self.scan(head.position if head else 0, None, batch), [])
            added = [LedgerEntry(*entry) for entry in build(head, rows)]
            self._entries.extend(added)
            self._positions.extend(e.position for e in added)
            return len(added)

    # -- seals -----------------------------------------------------------------------------

    def add_seal(self, seal: Seal) -> None:
        with self._lock:
            self._seals.append(seal)

    def seals(self) -> list[Seal]:
        with self._lock:
            return list(self._seals)

    def close(self) -> None:
        """Nothing to release: the ledger lives as long as the store's events."""


def _id_text(originator_id: Any) -> Any:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
