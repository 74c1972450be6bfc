"""The data every read workload runs on: the scenario of the demo, at a scale.

Commands come from :func:`safecomm_demo.scenario_commands` (deterministic for a
seed and scale) and are handled through :meth:`Safecomm.handle`, the public API, into an
in-memory store; the stored events are then copied, in notification order and byte for
byte (recorded times live inside the stored state), into a SQLite file in batches. The
copy is what makes a million-event store affordable to build: handled one command per
transaction on a file, the same history costs an fsync per command (measured separately
by the command-throughput workload).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.persistence import StoredEvent
from safecomm_demo import scenario_commands

from benchmarks.harness import remove_database
from safecomm_core import open_store
from safecomm_core.commands.base import Command
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["SEED", "Dataset", "commands_for", "dataset", "scale_for", "scenario"]

SEED = 2014
_COPY_BATCH = 10_000
#: Stored events per command (its receipt included), as the scenario writes them.
_EVENTS_PER_COMMAND = 2.07


@functools.cache
def _commands_per_scale() -> tuple[float, float]:
    """(fixed commands, commands per unit of scale), measured on the scenario as it is."""
    small = len(scenario_commands(SEED, 0.5))
    large = len(scenario_commands(SEED, 1.0))
    per_scale = (large - small) / 0.5
    return small - per_scale * 0.5, per_scale


def scale_for(events: int) -> float:
    """The scenario scale that writes about ``events`` events."""
    fixed, per_scale = _commands_per_scale()
    return max(0.01, (events / _EVENTS_PER_COMMAND - fixed) / per_scale)


def commands_for(count: int) -> list[Command]:
    """The first ``count`` commands of the smallest scenario that has as many.

    The scenario at its smallest (scale 0.01, about 2,000 commands) already holds every
    kind of command; its first few hundred are mostly the police's monthly figures.
    """
    scale = 0.01
    commands = scenario_commands(SEED, scale)
    while len(commands) < count:
        scale *= 2
        commands = scenario_commands(SEED, scale)
    return commands[:count]


@dataclass(frozen=True)
class Dataset:
    """A SQLite store holding the scenario at one scale."""

    path: Path
    scale: float
    commands: int
    events: int
    build_seconds: float

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


_built: dict[tuple[Path, float], Dataset] = {}


def dataset(workdir: Path, events: int, *, log: bool = False) -> Dataset:
    """The scenario store of about ``events`` events in ``workdir`` (built once per run)."""
    return scenario(workdir, scale_for(events), log=log)


def scenario(workdir: Path, scale: float, *, log: bool = False) -> Dataset:
    """The scenario store at ``scale`` (the demo's ``--scale``) in ``workdir``, built once
    per run; its person keys are kept in memory only (reads never open people)."""
    key = (workdir, scale)
    if key in _built:
        return _built[key]
    path = workdir / f"scenario-{scale:g}.db"
    began = time.perf_counter()
    commands = scenario_commands(SEED, scale)
    with open_store("memory://", keys=MemoryKeyStore()) as memory:
        for i, command in enumerate(commands):
            memory.handle(command)
            if log and i % 50_000 == 49_999:
                print(f"  built {i + 1:,} of {len(commands):,} commands", flush=True)
        written = _copy(memory.log.application.recorder, path)
    found = Dataset(path, scale, len(commands), written, time.perf_counter() - began)
    _built[key] = found
    return found


def _copy(source: object, path: Path) -> int:
    remove_database(path)
    select = source.select_notifications  # type: ignore[attr-defined]
    copied = 0
    with open_store(f"sqlite:///{path}", keys=MemoryKeyStore()) as target:
        recorder = target.log.application.recorder
        while True:
            page = select(start=copied, limit=_COPY_BATCH, inclusive_of_start=False)
            if not page:
                return copied
            recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in page]
            )
            copied = page[-1].id
