"""Rebuilding every projection from zero, beside eventsourcing reading and decoding the same.

Ours: a :class:`Projector` over the scenario store with a fresh views file, catching up
every shipped projection (:func:`builtin_projections`) from position zero together, in
one process (:meth:`Projector.catch_up_all`): a window of the log at a time, read once
for every projection, each projection taking its own topics from it, running its
handlers and committing rows and position per batch, each event decoded once for every
projection that reads it.

Baseline: for each projection, eventsourcing's ``select_notifications`` over the same
topics in pages of the same size, each notification decoded by the application's mapper:
the least any projection must do. The ratio is baseline seconds / ours (1.0 would be a
projection as fast as reading and decoding its events).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Result, Timing, remove_database, throughput, timed
from safecomm_core import open_store
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.projections import Projection, Projector, SQLiteViews, builtin_projections

__all__ = ["PAGE", "read_decode", "rebuild", "rebuild_all"]

PAGE = 1000


def read_decode(service: Any, topics: tuple[str, ...]) -> int:
    """Raw eventsourcing: read every notification of ``topics`` and decode it."""
    recorder, mapper = service.log.application.recorder, service.log.application.mapper
    position = count = 0
    while True:
        page = recorder.select_notifications(
            start=position, limit=PAGE, topics=topics, inclusive_of_start=False
        )
        if not page:
            return count
        for n in page:
            mapper.to_domain_event(n)
        count += len(page)
        position = page[-1].id


def rebuild_all(
    url: str, views_file: Path, projections: tuple[Projection, ...] | None = None
) -> dict[str, tuple[int, int]]:
    """Catch every projection up from zero into a fresh views file, together
    (:meth:`Projector.catch_up_all`: each event decoded once for all of them).

    Per projection: (events handled, dead letters).
    """
    remove_database(views_file)
    with (
        open_store(url, keys=MemoryKeyStore()) as service,
        Projector(service, SQLiteViews(str(views_file)), batch_size=PAGE) as projector,
    ):
        done = projector.catch_up_all(projections or builtin_projections())
        projector.views.close()
    return {p.projection: (p.handled, p.dead_letters) for p in done}


def rebuild(ctx: Context, url: str, events: int) -> list[Result]:
    """Best of ``ctx.repeat`` of each, alternating."""
    projections = builtin_projections()
    best_ours: Timing | None = None
    best_base: Timing | None = None
    per: dict[str, tuple[int, int]] = {}
    raw_per: dict[str, float] = {}
    for attempt in range(ctx.repeat):
        with open_store(url, keys=MemoryKeyStore()) as service:
            raw: dict[str, float] = {}
            began = Timing(0.0, 0.0)
            for p in projections:
                t, _ = timed(lambda p=p: read_decode(service, p.topics))  # type: ignore[misc]
                raw[p.name] = t.wall
                began = Timing(began.wall + t.wall, began.cpu + t.cpu)
        if best_base is None or began.wall < best_base.wall:
            best_base, raw_per = began, raw
        views = ctx.workdir / f"views-{events}-{attempt}.db"
        t, found = timed(lambda v=views: rebuild_all(url, v, projections))  # type: ignore[misc]
        if best_ours is None or t.wall < best_ours.wall:
            best_ours, per = t, found
    assert best_ours is not None
    assert best_base is not None
    handled = sum(h for h, _ in per.values())
    # Rates over the events the projections handled; the row is sized by the store's events.
    return [
        replace(
            throughput(
                "rebuild",
                "rebuild every projection from zero",
                handled,
                best_ours.wall,
                best_base.wall,
                at_least=0.5,
                baseline="raw read+decode",
                details={
                    "handled": handled,
                    "dead_letters": sum(d for _, d in per.values()),
                    "cpu_ratio": best_base.cpu / best_ours.cpu if best_ours.cpu else None,
                    "per_projection": {
                        name: {"handled": h, "dead": d, "raw_s": raw_per.get(name)}
                        for name, (h, d) in per.items()
                    },
                },
            ),
            events=events,
        )
    ]
