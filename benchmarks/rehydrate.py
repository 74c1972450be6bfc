"""Rehydrating a 1,000-event aggregate, with and without a snapshot.

A survey wave (one of the long-lived aggregates: a wave collects hundreds of responses)
is opened and given 999 responses through :meth:`Safecomm.handle`, on a SQLite file.
Baseline: ``repository.get`` replaying all 1,000 events from a store without snapshots.
Ours: the same aggregate in a store configured as shipped, which snapshots it as it
grows, so a get loads the latest snapshot and the events after it. Both are best of
many gets in the same process; the ratio is the speed-up.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

import attrs
from safecomm_demo import scenario_commands

from benchmarks.harness import Context, Result
from safecomm_core import open_store
from safecomm_core.commands.survey import OpenSurveyWave, RecordSurveyResponse
from safecomm_core.domain.base import aggregate_id
from safecomm_core.domain.survey import Survey
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["EVENTS", "rehydrate", "survey_commands"]

EVENTS = 1000


def survey_commands(events: int = EVENTS) -> list[Any]:
    """A wave and ``events - 1`` responses, shaped like the scenario's own."""
    commands = scenario_commands(2014, 0.05)
    response = next(c for c in commands if isinstance(c, RecordSurveyResponse))
    wave = next(
        c for c in commands if isinstance(c, OpenSurveyWave) and c.survey_id == response.survey_id
    )
    wave = attrs.evolve(wave, command_id="bench-wave", survey_id="bench-wave")
    out: list[Any] = [wave]
    for i in range(1, events):
        out.append(
            attrs.evolve(
                response,
                command_id=f"bench-response-{i}",
                survey_id="bench-wave",
                response_id=f"bench-{i}",
            )
        )
    return out


def _best_ms(func: Callable[[], object], gets: int) -> tuple[float, float]:
    times = []
    for _ in range(gets):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times) * 1000, statistics.median(times) * 1000


def rehydrate(ctx: Context, events: int = EVENTS) -> list[Result]:
    """Build the wave once, then time gets without and with its snapshots."""
    folder = ctx.workdir / "rehydrate"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder}/store.db"
    commands = survey_commands(events)
    gets = 5 if ctx.quick else 20
    with open_store(url, keys=MemoryKeyStore()) as service:
        for command in commands:
            service.handle(command)
        survey_id = aggregate_id(Survey.KIND, "bench-wave")
        app = service.log.application
        assert app.repository.get(survey_id).version == events
        snapshots = app.snapshots
        interval = type(app).snapshotting_intervals.get(Survey)
        if snapshots is None or not interval:
            # Not configured: show what one would give, and say so.
            configured = False
            with_ms = None
        else:
            configured = True
            with_ms = _best_ms(lambda: app.repository.get(survey_id), gets)
        # Without: the same events, the snapshot store taken away.
        saved, app.repository.snapshot_store = app.repository.snapshot_store, None
        try:
            without_ms = _best_ms(lambda: app.repository.get(survey_id), gets)
        finally:
            app.repository.snapshot_store = saved
        if not configured:
            app.take_snapshot(survey_id)
            with_ms = _best_ms(lambda: app.repository.get(survey_id), gets)
    assert with_ms is not None
    best_with, median_with = with_ms
    best_without, median_without = without_ms
    ratio = best_without / best_with
    return [
        Result(
            workload="rehydrate",
            label=f"rehydrate a {events:,}-event survey wave",
            events=events,
            unit="ms",
            ours=best_with,
            baseline=best_without,
            ratio=ratio,
            target="snapshots where long-lived",
            met=configured,
            details={
                "snapshot_interval": interval,
                "median_with_ms": median_with,
                "median_without_ms": median_without,
            },
        )
    ]
