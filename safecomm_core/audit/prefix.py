"""The recorded prefix: how far into the notification log the office's knowledge reached at T.

"Known at T" for the store as a whole is a **prefix of the log**: the rows before the
first one recorded after T. Why a prefix, and not every row whose recorded time is by T:
notification ids are committed in order (eventsourcing guarantees it on SQLite and
PostgreSQL, and the projection runner relies on it too), and a row is committed after
its recorded time; so once one row was recorded after T, it and every row after it
were committed after T, and the office did not know them at T. With one writer the two
readings agree (recorded times ascend along the log); with several writers whose events
interleave, an event recorded by T but stored after one recorded later was still in flight
at T, and the prefix leaves it out, as the live views at T did. (The events one command
stores together carry recorded times microseconds apart, not always ascending along the
log; a moment inside those microseconds, when none of them was committed yet, ends the
prefix among them. Moments people ask about, such as the end of a day, do not.)

Finding the prefix reads the stored rows raw (the audit's own SQL, about a microsecond a row)
and only each row's recorded time, which the event log reads from the stored state without
decoding the event where it can (:meth:`~safecomm_core.eventlog.EventLog.recorded_micros`).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from safecomm_core.audit.storage import open_backend
from safecomm_core.dates import micros
from safecomm_core.service import Safecomm

__all__ = ["RecordedPrefix", "recorded_prefix"]

_BATCH = 10_000


@attrs.frozen
class RecordedPrefix:
    """The log's prefix recorded by a moment, as far as it was read."""

    #: The last position of the prefix (0: not even the first row was recorded by then).
    end: int
    #: The latest recorded time within the prefix, in microseconds since the epoch, at
    #: each mark asked for (positions that are multiples of ``marks_every``), and at ``end``.
    latest: dict[int, int]


def recorded_prefix(
    service: Safecomm,
    moment: datetime,
    *,
    after: int = 0,
    latest_before: int = 0,
    marks_every: int | None = None,
) -> RecordedPrefix:
    """The prefix of ``service``'s log recorded by ``moment``, reading from ``after`` on.

    ``after`` must lie within the prefix (the rows up to it were all recorded by
    ``moment``; 0 always does), and ``latest_before`` is the latest recorded time up to it
    (microseconds since the epoch). ``marks_every`` asks for the latest recorded time at
    each multiple of it within the prefix: a checkpoint made there is good for any moment
    at or after that time.
    """
    limit = micros(moment)
    log = service.log
    backend = open_backend(service)
    latest, end, marks = latest_before, after, {}
    try:
        with backend.reading():
            for batch in backend.scan(after, None, _BATCH):
                for row in batch:
                    position = row[0]
                    skipped = position - position % marks_every if marks_every else 0
                    if end < skipped < position:  # a mark that fell in a gap of the ids
                        marks[skipped] = latest
                    when = log.recorded_micros(*row[1:])
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
