"""Reports replayed at a cut: the monthly report as known at a time, or as of a time.

::

    from safecomm_core.audit import Cut, parse_moment, replay_monthly

    then = replay_monthly(store, Cut.known_at(parse_moment("2014-04-05")), "2014-03")

How (the simplest correct way): the cut's events, from
:func:`~safecomm_core.audit.replay.replay_report`, are copied into a *shadow store* that
lives in the process (eventsourcing's in-memory recorder, with the real store's mapper so
the events encode and decode exactly as they do there), and the report's own projections
are run over it by the ordinary :class:`~safecomm_core.projections.runner.Projector` into a
views database in memory. The report is then computed by the same function the live
system uses. So the replay runs the very handlers and report code of the live system,
on exactly the events of the cut, and nothing of the real store or its views is touched.

Known at T is the live report at T: the events recorded by T are a prefix of every
record's history and, projections being folds over the events in notification order,
the views built from them are the views the live system held at T. As of T includes
late entries: events recorded after T that occurred by T.

What differs from the live report: notification ids in the shadow store are renumbered
from 1 (in the same order), so a dead letter is listed under its shadow position; and
``generated_at`` is the time of the replay unless given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from eventsourcing.popo import POPOApplicationRecorder

from safecomm_core.application import Safecomm
from safecomm_core.audit.replay import Cut, ReplayedEvent, replay_report
from safecomm_core.reports.model import Report

if TYPE_CHECKING:
    from safecomm_core.reports.indicators import Settings

__all__ = ["REPORTS", "replay_monthly"]

#: Reports that can be replayed by name (``safecomm audit replay --report NAME``).
REPORTS = ("monthly",)

_BATCH = 1000


def replay_monthly(
    store: Safecomm,
    cut: Cut,
    period: str | None = None,
    scope: str = "*",
    *,
    settings: Settings | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The monthly report for ``period`` and ``scope`` from exactly the events of ``cut``."""
    from safecomm_core.projections import Projector, SQLiteViews
    from safecomm_core.reports.monthly import monthly_report
    from safecomm_core.reports.register import PROJECTIONS

    def build(events: Iterator[ReplayedEvent]) -> Report:
        shadow = _shadow(store, events)
        views = SQLiteViews(":memory:")
        try:
            with Projector(shadow, views) as projector:
                return monthly_report(
                    projector, period, scope, settings=settings, generated_at=generated_at
                )
        finally:
            views.close()

    # Only what the report's projections read is decoded and copied (the store filters by
    # topic): receipts, half of every log, and other reports' events would be skipped there.
    topics = sorted({topic for projection in PROJECTIONS for topic in projection.topics})
    return replay_report(store, cut, build, topics=topics)


def _shadow(store: Safecomm, events: Iterator[ReplayedEvent]) -> Safecomm:
    """An in-process store holding ``events`` in order, read through ``store``'s mapper.

    Only what the projector reads of a store is there (``app.recorder``, ``app.mapper``):
    it is not a :class:`Safecomm` to handle commands with, hence the cast.
    """
    mapper = store.app.mapper
    recorder = POPOApplicationRecorder()
    batch = []
    for replayed in events:
        batch.append(mapper.to_stored_event(replayed.event))
        if len(batch) >= _BATCH:
            recorder.insert_events(batch)
            batch = []
    if batch:
        recorder.insert_events(batch)
    app = SimpleNamespace(recorder=recorder, mapper=mapper)
    return cast("Safecomm", SimpleNamespace(app=app, config=store.config))
