"""Command throughput on a SQLite file, one command per transaction, beside raw eventsourcing.

Ours: the scenario's first N commands through :meth:`Safecomm.handle` into a fresh SQLite
store (the SQLite key store beside it, as a user gets): the command's reads, the keyed
fingerprint, one save of receipt + records, snapshots when due.

Baseline: the very events those commands store (taken from an untimed run in memory,
grouped per command: each save begins with its receipt), put into a fresh store of the
same eventsourcing application class with ``EventStore.put``: one transaction per
command, encoding included, nothing else.

The two run **interleaved, command by command**: command i is handled into our store,
then its events are put into the raw store, each call timed on its own, so both see the
same disk and the same neighbours. The ratio is ours / baseline in events per second.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.datasets import commands_for
from benchmarks.harness import Context, Result, throughput
from safecomm_core import open_store
from safecomm_core.commands.base import Command
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["command_groups", "commands_sqlite", "interleaved_writes"]


def command_groups(commands: Sequence[Command]) -> list[list[Any]]:
    """The events each command stores, decoded: handled in memory, read back, grouped."""
    groups: list[list[Any]] = []
    with open_store("memory://", keys=MemoryKeyStore()) as service:
        for command in commands:
            service.handle(command)
        mapper = service.log.application.mapper
        for n in service.log.application.recorder.select_notifications(start=1, limit=10**9):
            if n.topic == CommandReceipt.Handled.TOPIC or not groups:
                groups.append([])
            groups[-1].append(mapper.to_domain_event(n))
    if len(groups) != len(commands):
        raise RuntimeError(f"{len(commands)} commands stored {len(groups)} receipts")
    return groups


def interleaved_writes(
    commands: Sequence[Command], groups: Sequence[Sequence[Any]], url: str, raw_url: str
) -> tuple[int, float, float, float, float]:
    """Handle command i into ``url``, put its events into ``raw_url``; i = 1..N.

    (events, ours seconds, raw seconds, ours CPU seconds, raw CPU seconds).
    """
    # Opened through open_store only so that PostgreSQL schemas are created one at a time;
    # what is timed below is eventsourcing's own EventStore.put.
    raw_store = open_store(raw_url, keys=MemoryKeyStore())
    raw = raw_store.log.application
    ours_s = raw_s = ours_cpu = raw_cpu = 0.0
    clock, cpu = time.perf_counter, time.process_time
    try:
        with open_store(url) as service:
            for command, group in zip(commands, groups, strict=True):
                t0, c0 = clock(), cpu()
                service.handle(command)
                t1, c1 = clock(), cpu()
                raw.events.put(group)
                t2, c2 = clock(), cpu()
                ours_s, raw_s = ours_s + t1 - t0, raw_s + t2 - t1
                ours_cpu, raw_cpu = ours_cpu + c1 - c0, raw_cpu + c2 - c1
            events = service.log.head()
        if events != (raw.recorder.max_notification_id() or 0):
            raise RuntimeError("ours and the raw store hold different numbers of events")
    finally:
        raw_store.close()
    return events, ours_s, raw_s, ours_cpu, raw_cpu


def _fresh(workdir: Path, name: str) -> str:
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return f"sqlite:///{folder}/store.db"


def commands_sqlite(ctx: Context, count: int) -> list[Result]:
    """Ours and the baseline, interleaved; the best of ``ctx.repeat`` runs of each."""
    commands = commands_for(count)
    groups = command_groups(commands)
    runs = [
        interleaved_writes(
            commands,
            groups,
            _fresh(ctx.workdir, f"commands-ours-{attempt}"),
            _fresh(ctx.workdir, f"commands-raw-{attempt}"),
        )
        for attempt in range(ctx.repeat)
    ]
    events = runs[0][0]
    ours_s, ours_cpu = min((r[1], r[3]) for r in runs)
    raw_s, raw_cpu = min((r[2], r[4]) for r in runs)
    return [
        throughput(
            "commands_sqlite",
            "commands, SQLite file, 1 per transaction",
            events,
            ours_s,
            raw_s,
            at_least=0.6,
            baseline="raw eventsourcing",
            details={
                "commands": len(commands),
                "commands_per_s": len(commands) / ours_s,
                "ours_cpu_s": ours_cpu,
                "baseline_cpu_s": raw_cpu,
                "cpu_ratio": raw_cpu / ours_cpu if ours_cpu else None,
            },
        )
    ]
