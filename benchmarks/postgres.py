"""Command throughput on PostgreSQL with 1 and 4 writer processes, beside raw eventsourcing.

Each writer is a process of its own, with applications of its own on the same server
(``?name=`` per writer: docs/architecture.md, *Stores*, one subdistrict per application, several API
processes sharing the server). Every writer handles the same first N commands of the
scenario into its store and, interleaved command by command, puts the very events of
each command into a raw eventsourcing store (see :mod:`benchmarks.commands`). Writers
start together at a barrier; throughput is all writers' events over the slowest
writer's time spent in its own calls. Tables are dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from benchmarks.commands import command_groups, interleaved_writes
from benchmarks.datasets import commands_for
from benchmarks.harness import Context, Result, throughput

__all__ = ["commands_postgres", "drop_tables"]


def _writer(url: str, raw_url: str, count: int, barrier: Any, results: Any) -> None:
    commands = commands_for(count)
    groups = command_groups(commands)
    barrier.wait()
    events, ours_s, raw_s, _, _ = interleaved_writes(commands, groups, url, raw_url)
    results.put((events, ours_s, raw_s))


def _run(base: str, prefix: str, writers: int, count: int) -> tuple[int, float, float]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(writers + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_writer,
            args=(
                f"{base}?name={prefix}ours{writers}w{i}",
                f"{base}?name={prefix}raw{writers}w{i}",
                count,
                barrier,
                results,
            ),
        )
        for i in range(writers)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    found: list[tuple[int, float, float]] = []
    while len(found) < writers:
        try:
            found.append(results.get(timeout=2))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                raise RuntimeError("a writer failed (its traceback is above)") from None
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a writer failed with exit code {p.exitcode}")
    return sum(e for e, _, _ in found), max(o for _, o, _ in found), max(r for _, _, r in found)


def drop_tables(pg: str, prefix: str) -> None:
    """Drop every table whose name starts with ``prefix``."""
    import psycopg

    with psycopg.connect(pg, autocommit=True) as db:
        rows = db.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE %s",
            (prefix.replace("_", "\\_") + "%",),
        ).fetchall()
        for (table,) in rows:
            db.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


def commands_postgres(ctx: Context, count: int) -> list[Result]:
    """1 and 4 writers, ours and raw; ratios to raw, and 4 writers to 1."""
    assert ctx.pg, "needs --pg"
    base = ctx.pg.split("?")[0]
    prefix = f"{ctx.run_id}_"
    figures: dict[int, tuple[int, float, float]] = {}
    try:
        for writers in (1, 4):
            figures[writers] = _run(base, prefix, writers, count)
    finally:
        drop_tables(base, prefix)
    results = []
    for writers in (1, 4):
        ours_events, ours_s, raw_s = figures[writers]
        results.append(
            throughput(
                f"commands_postgres_{writers}w",
                f"commands, PostgreSQL, {writers} writer{'s' if writers > 1 else ''}",
                ours_events,
                ours_s,
                raw_s,
                at_least=0.6,
                baseline="raw eventsourcing",
                details={"writers": writers, "commands_per_writer": count},
            )
        )
    one = figures[1][0] / figures[1][1]
    four = figures[4][0] / figures[4][1]
    raw_one = figures[1][0] / figures[1][2]
    raw_four = figures[4][0] / figures[4][2]
    results.append(
        Result(
            workload="commands_postgres_scaling",
            label="commands, PostgreSQL, 4 writers vs 1",
            events=figures[4][0],
            unit="events/s",
            ours=four,
            baseline=one,
            ratio=four / one,
            target="4 writers ≥ 1.5× one",
            met=four / one >= 1.5,
            details={"raw_4_vs_1": raw_four / raw_one},
        )
    )
    return results
