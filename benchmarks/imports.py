"""Bulk import in batches (``safecomm import --batch 100``), beside raw eventsourcing.

Ours: the scenario's first N commands through :meth:`Safecomm.batch` (100 commands per
transaction, the import's default) into a fresh store, the key store beside it: each
command decided in order against the store and the batch's held records, its keyed
fingerprint and receipt, people's keys kept once per batch, the events written in command
order, snapshots as they fall due. What ``safecomm import`` adds, reading and parsing each
JSON line, is measured on its own (``parse_s`` in the details) and not in the ratio: the
baseline reads no file either.

Baseline: the very events those commands store (taken from an untimed run in memory), put
with eventsourcing's ``EventStore.put`` into a fresh store of the same application class,
100 commands' events per transaction, encoding included.

The two run **interleaved, batch by batch** (100 commands into ours, then their events
into the raw store), so both see the same disk and the same neighbours; best of
``ctx.repeat``. On SQLite files and, with ``--pg``, on PostgreSQL (``?name=`` prefixes,
dropped afterwards).

The details split ours into deciding and writing, and give the ratio ours would reach if
its writing cost no more than the baseline's whole run (``ratio_if_writing_cost_the_baseline``):
the ceiling of any cheaper write, set by the deciding alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.commands import command_groups
from benchmarks.datasets import commands_for
from benchmarks.harness import Context, Result, throughput
from benchmarks.postgres import drop_tables
from safecomm_core import Command, Settled, command_to_json, open_store, parse_command
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["BATCH", "import_batch"]

#: Commands per transaction, ours and the baseline's.
BATCH = 100


def _run(
    commands: Sequence[Command], groups: Sequence[Sequence[Any]], url: str, raw_url: str
) -> tuple[int, float, float, float]:
    """(events, ours seconds, raw seconds, ours deciding), batch by batch, interleaved.

    Ours deciding: ours but for the batches' writes (``flush``: keys kept, events
    written), timed where ``add`` calls it: each command decided, its fingerprint and
    receipt (and the few commands handled alone, an erasure say, on their own).
    """
    raw_store = open_store(raw_url, keys=MemoryKeyStore())
    raw = raw_store.log.application
    ours_s = raw_s = 0.0
    clock = time.perf_counter
    try:
        with open_store(url) as service:
            batch = service.batch(BATCH)
            flush = batch.flush
            writing_s = 0.0

            def timed_flush() -> list[Settled]:
                nonlocal writing_s
                began = clock()
                try:
                    return flush()
                finally:
                    writing_s += clock() - began

            batch.flush = timed_flush  # type: ignore[method-assign]
            for start in range(0, len(commands), BATCH):
                t0 = clock()
                settled = [s for c in commands[start : start + BATCH] for s in batch.add(c)]
                settled.extend(batch.flush())
                t1 = clock()
                raw.events.put([e for g in groups[start : start + BATCH] for e in g])
                t2 = clock()
                ours_s, raw_s = ours_s + t1 - t0, raw_s + t2 - t1
                refused = [s.error for s in settled if s.error is not None]
                if refused:
                    raise RuntimeError(f"the scenario's commands were refused: {refused[:3]}")
            events = service.log.head()
            deciding_s = ours_s - writing_s
        if events != (raw.recorder.max_notification_id() or 0):
            raise RuntimeError("ours and the raw store hold different numbers of events")
    finally:
        raw_store.close()
    return events, ours_s, raw_s, deciding_s


def _parse_seconds(commands: Sequence[Command]) -> float:
    """What the import spends reading the same commands from JSON lines."""
    lines = [json.dumps(command_to_json(c), ensure_ascii=False) for c in commands]
    began = time.perf_counter()
    for line in lines:
        parse_command(json.loads(line))
    return time.perf_counter() - began


def import_batch(ctx: Context, count: int) -> list[Result]:
    """Ours and the baseline on SQLite and (with ``ctx.pg``) PostgreSQL."""
    commands = commands_for(count)
    groups = command_groups(commands)
    parse_s = _parse_seconds(commands)
    targets: list[tuple[str, str, Any]] = []
    for attempt in range(ctx.repeat):
        folder = ctx.workdir / f"import-{attempt}"
        folder.mkdir(parents=True, exist_ok=True)
        targets.append(("sqlite", f"sqlite:///{folder}/ours.db", f"sqlite:///{folder}/raw.db"))
    prefix = f"{ctx.run_id}_imp"
    if ctx.pg:
        base = ctx.pg.split("?")[0]
        for attempt in range(ctx.repeat):
            targets.append(
                (
                    "postgres",
                    f"{base}?name={prefix}ours{attempt}",
                    f"{base}?name={prefix}raw{attempt}",
                )
            )
    runs: dict[str, list[tuple[int, float, float, float]]] = {}
    try:
        for kind, url, raw_url in targets:
            runs.setdefault(kind, []).append(_run(commands, groups, url, raw_url))
    finally:
        if ctx.pg:
            drop_tables(ctx.pg.split("?")[0], prefix)
    labels = {"sqlite": "SQLite file", "postgres": "PostgreSQL"}
    results = []
    for kind, found in runs.items():
        events = found[0][0]
        best = min(found, key=lambda r: r[1])
        ours_s, deciding_s = best[1], best[3]
        raw_s = min(r[2] for r in found)
        results.append(
            throughput(
                "import_batch" if kind == "sqlite" else f"import_batch_{kind}",
                f"bulk import, {labels[kind]}, {BATCH} per transaction",
                events,
                ours_s,
                raw_s,
                at_least=0.6,
                baseline=f"raw eventsourcing, {BATCH} per tx",
                details={
                    "commands": len(commands),
                    "commands_per_s": len(commands) / ours_s,
                    "deciding_s": deciding_s,
                    "writing_s": ours_s - deciding_s,
                    # The ratio if ours wrote as fast as the baseline and decided as now:
                    # what no cheaper write can pass.
                    "ratio_if_writing_cost_the_baseline": raw_s / (raw_s + deciding_s),
                    "parse_s": parse_s,
                    "with_parsing_commands_per_s": len(commands) / (ours_s + parse_s),
                },
            )
        )
    return results
