"""Projections following the store (``safecomm project --follow``): stored → visible.

A writer handles dispute workflows (the CLI sample's five commands, ids of their own) one
at a time at a steady pace into a fresh store. Beside it, each in a thread of its own with
connections of its own:

- ours: :meth:`Projector.follow` keeping every shipped projection caught up, polling the
  store every :data:`~safecomm_core.projections.runner.FOLLOW_POLL` seconds when idle (the
  CLI's default); a watcher reads the disputes view's position every 5 ms, and an event is
  *visible* once that position has reached it;
- baseline: a bare eventsourcing follower polling the recorder's head at the same
  interval, each new notification read and decoded: the part of the delay that polling
  alone costs.

Each command's latency runs from the moment its save returned to the moment it was visible
(ours) or read (baseline). p50 and p99 over the commands, on SQLite and, with ``--pg``,
PostgreSQL. The ratio is the baseline's p99 ÷ ours.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Context, Result
from benchmarks.http import dispute_commands
from benchmarks.postgres import drop_tables
from safecomm_core import open_store, parse_command
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.projections import DISPUTES, Projector, builtin_projections
from safecomm_core.projections.database import SQLiteViews, open_views
from safecomm_core.projections.runner import FOLLOW_POLL

__all__ = ["P99_TARGET", "follow_latency"]

#: Seconds: stored → visible, 99th percentile.
P99_TARGET = 1.0
#: Commands written per second.
PACE = 20.0
WATCH = 0.005


def _first_seen(
    stop: threading.Event, position: Callable[[], int], every: float
) -> tuple[dict[int, float], threading.Thread]:
    """Position → when ``position()`` first reached it, read every ``every`` seconds until
    ``stop`` (the thread that reads it)."""
    seen: dict[int, float] = {}

    def watch() -> None:
        last = 0
        while not stop.is_set():
            now = position()
            moment = time.perf_counter()
            for p in range(last + 1, now + 1):
                seen[p] = moment
            last = max(last, now)
            stop.wait(every)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return seen, thread


class _RawFollower:
    """The baseline: the head, then every new notification read and decoded."""

    def __init__(self, log: Any) -> None:
        self._log = log
        self._upto = log.head()

    def __call__(self) -> int:
        head = int(self._log.head())
        for n in self._log.read(self._upto, head - self._upto):
            self._log.decode(n)
        self._upto = head
        return head


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]


def _run(url: str, commands: list[dict[str, Any]]) -> tuple[list[float], list[float], int]:
    """(ours latencies, baseline latencies, events) for ``commands`` written into ``url``."""
    stop = threading.Event()
    with (
        open_store(url, keys=MemoryKeyStore()) as writer,
        open_store(url, keys=MemoryKeyStore()) as follower,
        open_store(url, keys=MemoryKeyStore()) as watcher,
        open_store(url, keys=MemoryKeyStore()) as raw,
    ):
        views = SQLiteViews(":memory:") if writer.config.kind == "memory" else None
        follow_views = views or open_views(follower.config)
        watch_views = follow_views if views else open_views(watcher.config)
        projector = Projector(follower, follow_views)
        looking = Projector(watcher, watch_views)
        projections = builtin_projections()
        for projection in projections:
            projector.catch_up(projection)
        following = threading.Thread(
            target=projector.follow, args=(projections,), kwargs={"stop": stop}, daemon=True
        )
        following.start()
        visible, watching = _first_seen(stop, lambda: looking.status(DISPUTES).position, WATCH)
        read, reading = _first_seen(stop, _RawFollower(raw.log), FOLLOW_POLL)
        stored: list[tuple[int, float]] = []
        try:
            for data in commands:
                began = time.perf_counter()
                writer.handle(parse_command(data))
                stored.append((writer.log.head(), time.perf_counter()))
                time.sleep(max(0.0, 1 / PACE - (time.perf_counter() - began)))
            last = stored[-1][0]
            deadline = time.perf_counter() + 60
            while (last not in visible or last not in read) and time.perf_counter() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in (following, watching, reading):
                thread.join()
            projector.views.close()
            if watch_views is not follow_views:
                watch_views.close()
        ours = [visible[p] - t for p, t in stored if p in visible]
        base = [read[p] - t for p, t in stored if p in read]
        if len(ours) != len(stored) or len(base) != len(stored):
            raise RuntimeError("a stored event never became visible within a minute")
        return ours, base, stored[-1][0]


def follow_latency(ctx: Context) -> list[Result]:
    """p50/p99 stored → visible on SQLite and, with ``ctx.pg``, PostgreSQL."""
    count = 60 if ctx.quick else 300
    commands = dispute_commands(1, max(1, count // 5))[0]
    targets = [("sqlite", "SQLite file", f"sqlite:///{ctx.workdir / 'follow.db'}")]
    prefix = f"{ctx.run_id}_fol"
    if ctx.pg:
        base = ctx.pg.split("?")[0]
        targets.append(("postgres", "PostgreSQL", f"{base}?name={prefix}"))
    results = []
    try:
        for kind, label, url in targets:
            ours, base_latencies, events = _run(url, commands)
            p50, p99 = _percentiles(ours)
            raw50, raw99 = _percentiles(base_latencies)
            results.append(
                Result(
                    workload="follow_latency" if kind == "sqlite" else f"follow_latency_{kind}",
                    label=f"projections --follow, stored → visible p99, {label}",
                    events=events,
                    unit="s",
                    ours=p99,
                    baseline=raw99,
                    ratio=raw99 / p99,
                    target=f"p99 ≤ {P99_TARGET:g} s",
                    met=p99 <= P99_TARGET,
                    details={
                        "p50_s": p50,
                        "p99_s": p99,
                        "baseline_p50_s": raw50,
                        "baseline_p99_s": raw99,
                        "poll_s": FOLLOW_POLL,
                        "commands": len(commands),
                        "commands_per_s": PACE,
                    },
                )
            )
    finally:
        if ctx.pg:
            drop_tables(ctx.pg.split("?")[0], prefix)
    return results
