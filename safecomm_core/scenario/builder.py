"""Put the scenario together, and build it into a store through the public API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import attrs

from safecomm_core.application import Safecomm
from safecomm_core.commands.base import Command
from safecomm_core.scenario.disputes import disputes
from safecomm_core.scenario.people import residents
from safecomm_core.scenario.story import Writer

__all__ = ["PROGRAMME_END", "PROGRAMME_START", "BuildResult", "build", "scenario_commands"]

PROGRAMME_START = date(2013, 10, 1)
PROGRAMME_END = date(2014, 12, 31)


@attrs.frozen
class BuildResult:
    """What building the scenario did."""

    commands: int
    applied: int
    repeated: int
    events: int  # events in the store afterwards


def scenario_commands(seed: int = 2014, scale: float = 1.0) -> list[Command]:
    """Every command of the scenario, in the order the office wrote them down."""
    w = Writer(seed, scale)
    people = residents(w.rng, max(50, int(2000 * scale)))
    disputes(w, PROGRAMME_START, PROGRAMME_END, people)
    return w.ordered()


def build(
    store: Safecomm,
    seed: int = 2014,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> BuildResult:
    """Handle every scenario command; a second run finds them all already applied."""
    commands = scenario_commands(seed, scale)
    applied = repeated = 0
    for command in commands:
        if store.handle(command).duplicate:
            repeated += 1
        else:
            applied += 1
        if progress is not None:
            progress(1)
    return BuildResult(
        len(commands), applied, repeated, store.app.recorder.max_notification_id() or 0
    )
