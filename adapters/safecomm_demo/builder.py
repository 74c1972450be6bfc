"""Put the scenario together, and build it into a store through the public API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import attrs

from safecomm_core.commands.base import Command
from safecomm_core.service import Safecomm
from safecomm_demo.broadcasts import broadcasts
from safecomm_demo.campaigns import campaigns
from safecomm_demo.disputes import disputes
from safecomm_demo.grid_alerts import alerts
from safecomm_demo.grid_network import network
from safecomm_demo.meetings import meetings
from safecomm_demo.migrants import migrants
from safecomm_demo.patrols import patrols
from safecomm_demo.people import residents
from safecomm_demo.phases import phases
from safecomm_demo.police_statistics import police_statistics
from safecomm_demo.populations import populations
from safecomm_demo.prevention_assets import assets
from safecomm_demo.rules import rules
from safecomm_demo.story import Writer
from safecomm_demo.surveys import surveys
from safecomm_demo.targets import targets

__all__ = ["PROGRAMME_END", "PROGRAMME_START", "BuildResult", "build", "scenario_commands"]

PROGRAMME_START = date(2013, 10, 1)
PROGRAMME_END = date(2014, 12, 31)
_RESIDENTS = 500  # the pool of residents who meet the office, at scale 1


@attrs.frozen
class BuildResult:
    """What building the scenario did."""

    commands: int
    applied: int
    repeated: int
    events: int  # events in the store afterwards


def scenario_commands(seed: int = 2014, scale: float = 1.0) -> list[Command]:
    """Every command of the scenario, in the order the office wrote them down.

    Each part draws from its own random stream, so the same ``seed`` and ``scale`` give
    the same commands, and a part's volumes can change without disturbing the others.
    """
    w = Writer(seed, scale)
    w.part("rules")
    rules(w)
    w.part("phases")
    phases(w)
    w.part("meetings")
    meetings(w)
    w.part("network")
    units = network(w)
    w.part("alerts")
    alerts(w, units)
    w.part("people")
    # Residents who come to the office, a pool smaller than the population: some come twice.
    people = residents(w.rng, max(50, int(_RESIDENTS * scale)))
    w.part("migrants")
    workers = migrants(w)
    w.part("disputes")
    disputes(w, PROGRAMME_START, PROGRAMME_END, people, workers)
    w.part("patrols")
    patrols(w, people)
    w.part("assets")
    assets(w)
    w.part("campaigns")
    campaigns(w, people)
    w.part("broadcasts")
    broadcasts(w, people)
    w.part("surveys")
    waves = surveys(w)
    w.part("police")
    baseline_cases = police_statistics(w)
    w.part("targets")
    targets(w, waves, baseline_cases, workers)
    w.part("populations")
    populations(w)
    return w.ordered()


def build(
    service: Safecomm,
    seed: int = 2014,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> BuildResult:
    """Handle every scenario command; a second run finds them all already applied."""
    commands = scenario_commands(seed, scale)
    applied = repeated = 0
    for command in commands:
        if service.handle(command).duplicate:
            repeated += 1
        else:
            applied += 1
        if progress is not None:
            progress(1)
    return BuildResult(len(commands), applied, repeated, service.log.head())
