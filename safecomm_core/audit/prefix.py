"""The recorded prefix: how far into the notification log the office's knowledge reached at T.

"Known at T" for the store as a whole is a **prefix of the log**: the records before the
first one recorded after T. Why a prefix, and not every record whose recorded time is by T:
notification ids are committed in order (eventsourcing guarantees it on SQLite and
PostgreSQL, and the projection runner relies on it too), and a record is committed after
its recorded time; so once one record was recorded after T, it and every record after it
were committed after T, and the office did not know them at T. With one writer the two
readings agree (recorded times ascend along the log); with several writers whose events
interleave, an event recorded by T but stored after one recorded later was still in flight
at T, and the prefix leaves it out, as the live views at T did. (The events one command
stores together carry recorded times microseconds apart, not always ascending along the
log; a moment inside those microseconds, when none of them was committed yet, ends the
prefix among them. Moments people ask about, such as the end of a day, do not.)

Finding the prefix reads the stored rows raw (the audit's own SQL, about a microsecond a row)
and only each record's recorded time: eventsourcing writes it first in the stored state, so it
is read from there without decoding the event; a state stored otherwise (a cipher or a
compressor configured) is decoded through the store's mapper.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent

from safecomm_core.application import Safecomm
from safecomm_core.audit.canonical import RawRecord
from safecomm_core.audit.storage import open_backend

__all__ = ["RecordedPrefix", "micros", "recorded_prefix"]

#: How eventsourcing's JSON transcoder begins every stored state: the event's timestamp.
_LEAD = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'
_BATCH = 10_000
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


@attrs.frozen
class RecordedPrefix:
    """The log's prefix recorded by a moment, as far as it was read."""

    #: The last position of the prefix (0: not even the first record was recorded by then).
    end: int
    #: The latest recorded time within the prefix, in microseconds since the epoch, at
    #: each mark asked for (positions that are multiples of ``marks_every``), and at ``end``.
    latest: dict[int, int]


def recorded_prefix(
    store: Safecomm,
    moment: datetime,
    *,
    after: int = 0,
    latest_before: int = 0,
    marks_every: int | None = None,
) -> RecordedPrefix:
    """The prefix of ``store``'s log recorded by ``moment``, reading from ``after`` on.

    ``after`` must lie within the prefix (the records up to it were all recorded by
    ``moment``; 0 always does), and ``latest_before`` is the latest recorded time up to it
    (microseconds since the epoch). ``marks_every`` asks for the latest recorded time at
    each multiple of it within the prefix: a checkpoint made there is good for any moment
    at or after that time.
    """
    limit = micros(moment)
    recorded_at = _reader(store)
    backend = open_backend(store)
    latest, end, marks = latest_before, after, {}
    try:
        with backend.reading():
            for batch in backend.scan(after, None, _BATCH):
                for record in batch:
                    position = record[0]
                    skipped = position - position % marks_every if marks_every else 0
                    if end < skipped < position:  # a mark that fell in a gap of the ids
                        marks[skipped] = latest
                    when = recorded_at(record)
                    if when > limit:
                        marks[end] = latest
                        return RecordedPrefix(end, marks)
                    latest = max(latest, when)
                    end = position
                    if marks_every and position % marks_every == 0:
                        marks[position] = latest
    finally:
        backend.close()
    marks[end] = latest
    return RecordedPrefix(end, marks)


def _reader(store: Safecomm) -> Callable[[RawRecord], int]:
    """How to read a raw record's recorded time, in microseconds since the epoch."""
    mapper = store.app.mapper
    lead = len(_LEAD)

    def decoded(record: RawRecord) -> int:
        _position, originator_id, version, topic, state = record
        stored = StoredEvent(UUID(str(originator_id)), version, topic, state)
        event: Any = mapper.to_domain_event(stored)
        return micros(event.timestamp)

    if getattr(mapper, "cipher", None) or getattr(mapper, "compressor", None):
        return decoded

    def read(record: RawRecord) -> int:
        state: Any = record[4]
        if type(state) is bytes and state.startswith(_LEAD):
            close = state.find(b'"', lead)
            try:
                return micros(datetime.fromisoformat(state[lead:close].decode()))
            except ValueError:
                pass
        return decoded(record)

    return read


def micros(moment: datetime) -> int:
    """``moment`` in whole microseconds since the epoch (exact: no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
