"""The monthly report replayed as known at a past date, beside a full rebuild.

Ours: :func:`safecomm_core.audit.replay_monthly` with ``Cut.known_at(T)``: the log's
prefix recorded by T, run through the report's own projections into in-memory views, then
the live report code. T is a past date of the history: the recorded time of the event a
tenth of the way into the log; the period is the latest month the office knew of at T.
The store starts with no checkpoints: the first replay folds from zero (``cold_s``) and
leaves a checkpoint every 10,000 positions; the replays measured then start from the last
one below T's prefix and fold the rest, as an auditor's next replay would.
``no_checkpoints_s`` is a replay with ``checkpoints=False``: from zero, every time.

Baseline: what a view-based report costs without the replay: every projection the report
reads (``reports.register.PROJECTIONS``) rebuilt from zero into a fresh views file over
the whole store, then :func:`safecomm_core.reports.monthly.monthly_report` for the same
period. The ratio is rebuild seconds / replay seconds (target: replay ≤ 2 s and ≥ 10×).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Result, interleaved, remove_database, timed
from safecomm_core import open_store
from safecomm_core.audit import Cut, replay_monthly
from safecomm_core.audit.checkpoints import Checkpoints, fingerprint
from safecomm_core.audit.prefix import recorded_prefix
from safecomm_core.dates import micros
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.projections import Projector, SQLiteViews
from safecomm_core.projections.database import open_views, views_path
from safecomm_core.reports import monthly_report
from safecomm_core.reports.model import Report
from safecomm_core.reports.register import PROJECTIONS

__all__ = ["past_moment", "report_replay"]

#: When a fixed moment is needed (tests), the report replays as of this fraction of the log.
PAST_FRACTION = 10


def past_moment(service: Any) -> datetime:
    """The recorded time of the event a tenth of the way into the store's log."""
    head = service.log.head() or 1
    (notification,) = service.log.read(max(1, head // PAST_FRACTION) - 1, 1)
    moment: datetime = service.log.decode(notification).timestamp
    return moment


def _rebuilt(service: Any, views_file: Path, period: str) -> Report:
    remove_database(views_file)
    views = SQLiteViews(str(views_file))
    try:
        with Projector(service, views) as projector:
            return monthly_report(projector, period)
    finally:
        views.close()


def report_replay(ctx: Context, url: str, events: int) -> list[Result]:
    """Replay and full rebuild, best of ``ctx.repeat`` each, alternating."""
    views = ctx.workdir / f"views-replay-{events}.db"
    with open_store(url, keys=MemoryKeyStore()) as service:
        remove_database(Path(views_path(service.config.env["SQLITE_DBNAME"])))  # no checkpoints yet
        cut = Cut.known_at(past_moment(service))
        cold, then = timed(lambda: replay_monthly(service, cut))
        plain, _ = timed(lambda: replay_monthly(service, cut, then.period, checkpoints=False))
        ours, base = interleaved(
            lambda: replay_monthly(service, cut, then.period),
            lambda: _rebuilt(service, views, then.period),
            ctx.repeat,
        )
        end = recorded_prefix(service, cut.moment).end
        kept = Checkpoints(open_views(service.config), "monthly", fingerprint(PROJECTIONS))
        try:
            count, size = kept.size()
            start = kept.latest(micros(cut.moment))
        finally:
            kept.views.close()
    speedup = base.wall / ours.wall
    return [
        Result(
            workload="report_replay",
            label="monthly report as known at a past date",
            events=events,
            unit="s",
            ours=ours.wall,
            baseline=base.wall,
            ratio=speedup,
            target="≤ 2 s and ≥ 10× a full rebuild",
            met=ours.wall <= 2.0 and speedup >= 10,
            details={
                "known_at": cut.moment.isoformat(),
                "period": then.period,
                "prefix_end": end,
                "started_at_position": start.position if start else 0,
                "cold_s": cold.wall,
                "no_checkpoints_s": plain.wall,
                "checkpoints": count,
                "checkpoint_bytes": size,
                "checkpoint_budget_bytes": kept.budget,
            },
        )
    ]
