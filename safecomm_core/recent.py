"""Records that recent commands left as stored, lent to the next command that loads them.

Rebuilding a record for every command it touches (snapshot read, events read, every event
decoded and applied: a grid alert's 47 units cost more than the rest of the command) is most
of the cost of handling one. A record that a command saved is equal to the store's, so it is
kept here and *taken out* by the next command that loads it: no two commands ever share one
object, and a command that fails simply does not give its records back. Events written
meanwhile by other processes are not read when a record is taken: before a command's events
are saved, each record it was lent is known to be current (see
:meth:`~safecomm_core.unit_of_work.UnitOfWork.stale`), or the command is decided again from
the store, so what it decided on is as current as a record rebuilt from it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from safecomm_core.domain.base import Record
from safecomm_core.domain.receipt import CommandReceipt

__all__ = ["RECENT_RECORDS", "RecentRecords"]

#: Records kept between commands.
RECENT_RECORDS = 1000


class RecentRecords:
    """Saved records kept for the next command, the oldest dropped past ``maxsize``."""

    def __init__(self, maxsize: int = RECENT_RECORDS) -> None:
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
