"""Chaining records up to sealed positions, and half of them in a second process.

The chain is sequential by definition, but the ledger stores every entry's chain value, so
the records can be split at a ledger entry's position ``p``: a forked process chains
``(p, end]`` from the ledger's value at ``p`` while the verifier chains ``(0, p]``. The ledger
is not trusted for this: its value only seeds the second half, and the second half is used
only if the verifier's own chain reaches that very value at ``p``, in which case it is
exactly what chaining on would give. Otherwise the verifier chains on by itself. So the
split can make verification faster, never different.

A process is forked only where that is cheap and safe: on platforms with ``fork`` (not
macOS), with two CPUs or more, from a process running a single thread (forking beside
other threads can copy a lock one of them holds), and for backends whose records another
process can read (SQL, not ``memory://``); if none can be started, the verifier chains
alone. Starting one costs a few milliseconds; :data:`PARALLEL_FROM` is where that starts
to pay.

The forked process never touches the connections it inherits; it opens its own and reads
up to the last position the verifier saw. The verifier holds its read transaction until
the second half is in: on SQLite, where the child's connection shares the parent's
in-memory lock state, it is the parent's lock that keeps writers from checkpointing or
committing under the child's reads.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import attrs

from safecomm_core.audit.canonical import RawRecord, chain_counted
from safecomm_core.audit.storage import Opener

__all__ = [
    "PARALLEL_FROM",
    "Chained",
    "Reached",
    "Rows",
    "SecondHalf",
    "chain_through",
    "split_point",
]

#: Records (by the last position) from which verification chains half of them in a
#: second process. Measured on a 2-core machine (best of many runs, SQLite): break-even at
#: 5,000 records, 1.25x faster at 10,000, 1.8x at 100,000.
PARALLEL_FROM = 5_000

#: Records the verifier chains while the second process starts (a few milliseconds): the
#: second half is made that much shorter, so that both halves end together.
HEAD_START = 2_000

#: Called at each stop with the chain value reached there; returns the value to go on from.
Reached = Callable[[int, bytes], bytes]

#: Reads the stored records with ``after < position <= upto`` (None: to the end), in order.
Rows = Callable[[int, int | None], Iterable[RawRecord]]


@attrs.frozen
class Chained:
    """What :func:`chain_through` read and reached."""

    chain: bytes
    records: int
    last_position: int


def chain_through(
    start: bytes,
    rows: Rows,
    after: int,
    upto: int | None,
    stops: Sequence[int],
    reached: Reached,
) -> Chained:
    """Chain the records in ``(after, upto]`` onto ``start``; at each stop, ``reached``.

    ``stops`` ascend, all after ``after``; the value at a stop covers every record at or
    before it (and none after ``upto``). The records are read stretch by stretch between
    the stops, so that the per-record loop is ``chain_counted``'s and nothing else.
    """
    h = start
    records = last = 0
    for stop in stops:
        until = stop if upto is None else min(stop, upto)
        if until > after:
            h, count, position = chain_counted(h, rows(after, until))
            records, last = records + count, position if count else last
            after = until
        h = reached(stop, h)
    if upto is None or upto > after:
        h, count, position = chain_counted(h, rows(after, upto))
        records, last = records + count, position if count else last
    return Chained(h, records, last)


def split_point(end: int) -> int:
    """Where to split positions ``(0, end]``: half-way, less the second half's late start."""
    return (end + HEAD_START) // 2


@attrs.frozen
class _Outcome:
    """The second half's result: the chain value at each of its stops, and its pass."""

    values: dict[int, bytes]
    chained: Chained


class SecondHalf:
    """``(after, upto]`` chained from ``start`` in a forked process, stops noted."""

    def __init__(
        self,
        opener: Opener,
        after: int,
        upto: int,
        start: bytes,
        stops: Sequence[int],
        batch: int,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_work,
            args=(send, opener, after, upto, start, list(stops), batch),
            daemon=True,
        )
        try:
            self._process.start()
        except BaseException:
            self._receive.close()
            raise
        finally:
            send.close()

    def result(self) -> tuple[dict[int, bytes], Chained] | None:
        """The chain value at each stop and the pass; None if the process failed."""
        try:
            outcome = self._receive.recv()
        except (EOFError, OSError):
            outcome = None
        self._release()
        return (outcome.values, outcome.chained) if isinstance(outcome, _Outcome) else None

    def cancel(self) -> None:
        """Stop the process and release it."""
        self._process.terminate()
        self._release()

    def _release(self) -> None:
        self._receive.close()
        self._process.join()
        self._process.close()

    @staticmethod
    def possible() -> bool:
        """Whether a process can be forked here, safely, and run beside this one."""
        return (
            "fork" in multiprocessing.get_all_start_methods()
            # macOS's system libraries are not safe to use in a forked child.
            and sys.platform != "darwin"
            and threading.active_count() == 1
            and _cpus() > 1
        )


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _work(
    send: Connection,
    opener: Opener,
    after: int,
    upto: int,
    start: bytes,
    stops: list[int],
    batch: int,
) -> None:
    # In the forked process: the parent's connection is never used here, only a new one.
    outcome: Any = None
    try:
        own = opener()
        values: dict[int, bytes] = {}

        def note(stop: int, value: bytes) -> bytes:
            values[stop] = value
            return value

        try:
            with own.reading():
                rows = functools.partial(own.rows, batch=batch)
                chained = chain_through(start, rows, after, upto, stops, note)
            outcome = _Outcome(values, chained)
            send.send(outcome)  # before closing: the verifier waits for this, not the rest
        finally:
            own.close()
    except Exception:  # any failure: the verifier chains this half itself
        if outcome is None:
            send.send(None)
    send.close()
