"""Chaining rows up to sealed positions, with a helper process chaining some of them.

The chain is sequential by definition, but the ledger stores every entry's chain value, so
the rows can be cut into pieces at ledger entries: the verifier chains pieces from the
front, in order, while a forked helper chains pieces from the back, each from the ledger's
value at its start. Both take pieces from one shared counter, so a helper short of CPU (a
busy machine) leaves more of them to the verifier, which is then about as fast as alone.
The ledger is not trusted for this: its values only seed the helper's pieces, and a piece
is used only if the verifier's chain reaches exactly its seed, in which case the piece is
what chaining on would give. Otherwise the verifier chains on by itself. So the helper can
make verification faster, never different.

A process is forked only where that is cheap and safe: on platforms with ``fork`` (not
macOS), with two CPUs or more, from a process running a single thread (forking beside
other threads can copy a lock one of them holds), and for backends whose rows another
process can read (SQL, not ``memory://``); if none can be started, the verifier chains
alone. Starting one costs a few milliseconds; :data:`PARALLEL_FROM` is where that starts
to pay.

The forked process never touches the connections it inherits; it opens its own and reads
up to the last position the verifier saw. The verifier holds its read transaction until
the helper's pieces are in: on SQLite, where the child's connection shares the parent's
in-memory lock state, it is the parent's lock that keeps writers from checkpointing or
committing under the child's reads.
"""

from __future__ import annotations

import bisect
import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection

import attrs

from safecomm_core.audit.canonical import RawRow, chain_counted
from safecomm_core.audit.storage import Opener

__all__ = [
    "MIN_PIECE",
    "PARALLEL_FROM",
    "PIECES",
    "Chained",
    "Helper",
    "Piece",
    "Reached",
    "Rows",
    "chain_through",
    "stops_in",
]

#: Rows (by the last position) from which verification forks a helper. Measured on a
#: 2-core machine (best of many runs, SQLite, the second core free): break-even at 5,000
#: rows, about 1.2x faster at 10,000 and 1.7x at 100,000.
PARALLEL_FROM = 5_000

#: The pieces after the verifier's first are a 64th of the rows, 500 at the least: when
#: the two processes meet, the verifier waits at most for the one the helper is chaining.
PIECES = 64
MIN_PIECE = 500

#: Called at each stop with the chain value reached there; returns the value to go on from.
Reached = Callable[[int, bytes], bytes]

#: Reads the stored events with ``after < position <= upto`` (None: to the end), in order.
Rows = Callable[[int, int | None], Iterable[RawRow]]


@attrs.frozen
class Chained:
    """What :func:`chain_through` read and reached."""

    chain: bytes
    rows: int
    last_position: int


def chain_through(
    start: bytes,
    rows: Rows,
    after: int,
    upto: int | None,
    stops: Sequence[int],
    reached: Reached,
) -> Chained:
    """Chain the rows in ``(after, upto]`` onto ``start``; at each stop, ``reached``.

    ``stops`` ascend, all after ``after``; the value at a stop covers every row at or
    before it (and none after ``upto``). The rows are read stretch by stretch between
    the stops, so that the per-row loop is ``chain_counted``'s and nothing else.
    """
    h = start
    total = last = 0
    for stop in stops:
        until = stop if upto is None else min(stop, upto)
        if until > after:
            h, count, position = chain_counted(h, rows(after, until))
            total, last = total + count, position if count else last
            after = until
        h = reached(stop, h)
    if upto is None or upto > after:
        h, count, position = chain_counted(h, rows(after, upto))
        total, last = total + count, position if count else last
    return Chained(h, total, last)


def stops_in(stops: Sequence[int], after: int, upto: int | None) -> list[int]:
    """The stops in ``(after, upto]`` (all after ``after`` if ``upto`` is None)."""
    low = bisect.bisect_right(stops, after)
    return list(stops[low : len(stops) if upto is None else bisect.bisect_right(stops, upto)])


@attrs.frozen
class Piece:
    """A piece ``(after, upto]`` chained by the helper from the ledger's value there."""

    after: int
    start: bytes
    #: The chain value reached at each stop in the piece.
    values: dict[int, bytes]
    chained: Chained


class Helper:
    """A forked process that chains pieces from the back while the verifier takes them
    from the front, so that a helper short of CPU leaves more of them to the verifier.

    ``bounds`` are the pieces' limits (piece i is ``(bounds[i], bounds[i+1]]``; the last
    also takes the stops after it), ``seeds[i]`` the ledger's chain value at ``bounds[i]``.
    """

    def __init__(
        self,
        opener: Opener,
        bounds: Sequence[int],
        seeds: Sequence[bytes],
        stops: Sequence[int],
        batch: int,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._bounds = list(bounds)
        # [next piece for the verifier, first piece the helper has taken], both processes'.
        self._ends = context.RawArray("q", [0, len(bounds) - 1])
        self._lock = context.Lock()
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_work,
            args=(send, opener, self, list(seeds), list(stops), batch),
            daemon=True,
        )
        try:
            self._process.start()
        except BaseException:
            self._receive.close()
            raise
        finally:
            send.close()

    def take(self) -> int | None:
        """The verifier's next piece from the front (None: the two have met)."""
        with self._lock:
            front, back = int(self._ends[0]), int(self._ends[1])
            if front >= back:
                return None
            self._ends[0] = front + 1
            return front

    def _take_back(self) -> int | None:
        with self._lock:
            front, back = int(self._ends[0]), int(self._ends[1])
            if back - 1 < front:
                return None
            self._ends[1] = back - 1
            return back - 1

    def piece(self, index: int) -> tuple[int, int | None]:
        """Piece ``index``'s ``(after, upto)``; the last reaches to the end (None)."""
        last = index == len(self._bounds) - 2
        return self._bounds[index], None if last else self._bounds[index + 1]

    def result(self) -> list[Piece] | None:
        """The helper's pieces, in order from the first the verifier did not take."""
        try:
            outcome = self._receive.recv()
        except (EOFError, OSError):
            outcome = None
        self._release()
        return outcome if isinstance(outcome, list) else None

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
    helper: Helper,
    seeds: list[bytes],
    stops: list[int],
    batch: int,
) -> None:
    # In the forked process: the parent's connection is never used here, only a new one.
    # The last position is the verifier's (bounds[-1]): rows appended since are not read.
    pieces: list[Piece] = []
    sent = False
    try:
        own = opener()
        rows = functools.partial(own.rows, batch=batch)
        end = helper._bounds[-1]
        try:
            with own.reading():
                while (index := helper._take_back()) is not None:
                    after, upto = helper.piece(index)
                    values: dict[int, bytes] = {}

                    def note(stop: int, value: bytes, values: dict[int, bytes] = values) -> bytes:
                        values[stop] = value
                        return value

                    at = stops_in(stops, after, upto)
                    chained = chain_through(seeds[index], rows, after, upto or end, at, note)
                    pieces.append(Piece(after, seeds[index], values, chained))
            send.send(pieces[::-1])  # before closing: the verifier waits for this, not the rest
            sent = True
        finally:
            own.close()
    except Exception:  # any failure: the verifier chains these pieces itself
        if not sent:
            send.send(None)
    send.close()
