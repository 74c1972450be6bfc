"""Reports replayed at a cut: the monthly report as known at a time, or as of a time.

::

    from safecomm_core.audit import Cut, parse_moment, replay_monthly

    then = replay_monthly(service, Cut.known_at(parse_moment("2014-04-05")), "2014-03")

Either way the report's own projections are run by the ordinary
:class:`~safecomm_core.projections.runner.Projector` into views in memory, and the report is
computed by the same function the live system uses: the replay runs the very handlers and
report code of the live system on exactly the events of the cut, and the real store's
records and live views are not touched.

**Known at T** is the live report at T. The events the office knew at T are the log's
prefix recorded by T (:mod:`~safecomm_core.audit.prefix`); projections being folds over the
log in order, the views folded over that prefix are the views the live system held at T.
The projector reads the real store, bounded at the prefix's end, so dead letters are listed
at their real positions. The fold starts from the latest checkpoint a replay left whose
records were all recorded by T (:mod:`~safecomm_core.audit.checkpoints`) and leaves new ones
at every ``checkpoint_every`` positions it passes; ``checkpoints=False`` folds from zero and
keeps none.

**As of T** includes late entries: events recorded after T that occurred by T. They are not
a prefix of the log, so the cut's events (from :func:`~safecomm_core.audit.replay.replay_report`)
are copied into a *shadow store* in the process (an event log in memory that encodes
and decodes them exactly as the store does) and the
views are folded from that. Notification ids in the shadow store are renumbered from 1 (in
the same order), so a dead letter is listed under its shadow position.

Either way ``generated_at`` is the time of the replay unless given.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from safecomm_core.audit.checkpoints import (
    BUDGET,
    EVERY,
    Checkpoint,
    Checkpoints,
    ReplayViews,
    fingerprint,
)
from safecomm_core.audit.prefix import recorded_prefix
from safecomm_core.audit.replay import Cut, CutBasis, ReplayedEvent, replay_report
from safecomm_core.dates import local_date, micros
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.projections import Projection, Projector
from safecomm_core.projections.database import open_views
from safecomm_core.projections.runner import anchor_at
from safecomm_core.reports.model import Report
from safecomm_core.service import Safecomm

if TYPE_CHECKING:
    from safecomm_core.city import City, Subdistrict

__all__ = [
    "REPORTS",
    "checkpoint_size",
    "replay_city",
    "replay_monthly",
    "replay_named_report",
    "replay_views",
]

T = TypeVar("T")

#: Reports that can be replayed by name (``safecomm audit replay --report NAME``).
REPORTS = ("monthly", "self-assessment", "watchlist")


def replay_monthly(
    service: Safecomm,
    cut: Cut,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
    checkpoints: bool = True,
    checkpoint_every: int = EVERY,
    checkpoint_budget: int = BUDGET,
) -> Report:
    """The monthly report for ``period`` and ``scope`` from exactly the events of ``cut``.

    Known at T, the fold starts from a checkpoint and leaves new ones behind (see the
    module's docstring), the report's checkpoints kept within ``checkpoint_budget`` bytes
    (:mod:`~safecomm_core.audit.checkpoints`), unless ``checkpoints`` is False.
    """
    return replay_named_report(
        service,
        cut,
        "monthly",
        period,
        scope,
        generated_at=generated_at,
        checkpoints=checkpoints,
        checkpoint_every=checkpoint_every,
        checkpoint_budget=checkpoint_budget,
    )


def replay_named_report(
    service: Safecomm,
    cut: Cut,
    name: str,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
    checkpoints: bool = True,
    checkpoint_every: int = EVERY,
    checkpoint_budget: int = BUDGET,
) -> Report:
    """The report ``name`` (one of :data:`REPORTS`) from exactly the events of ``cut``.

    ``period``: the monthly report's month (default: the latest with events at the cut);
    the self-assessment and the watchlist are as of a day, ``YYYY-MM-DD`` or the last day
    of a month ``YYYY-MM`` (default: the cut's own day in the subdistrict). Each report
    folds its own views (and keeps its own checkpoints, within ``checkpoint_budget``
    bytes: :mod:`~safecomm_core.audit.checkpoints`), with the live system's code.
    """
    projections, report = _report(name, cut, period, scope, generated_at)
    return replay_views(
        service,
        cut,
        name,
        projections,
        report,
        checkpoints=checkpoints,
        checkpoint_every=checkpoint_every,
        checkpoint_budget=checkpoint_budget,
    )


def replay_views(
    service: Safecomm,
    cut: Cut,
    name: str,
    projections: Sequence[Projection],
    build: Callable[[Projector], T],
    *,
    checkpoints: bool = True,
    checkpoint_every: int = EVERY,
    checkpoint_budget: int = BUDGET,
) -> T:
    """``build`` on the views of ``projections`` folded over exactly the events of ``cut``,
    with the checkpoints of report ``name`` (see :func:`replay_named_report`)."""
    if cut.basis is CutBasis.KNOWN_AT:
        kept = _checkpoints(service, name, projections, checkpoint_budget) if checkpoints else None
        try:
            return _known_at(service, cut.moment, projections, kept, checkpoint_every, build)
        finally:
            if kept is not None:
                kept.views.close()

    def folded(events: Iterator[ReplayedEvent]) -> T:
        views = ReplayViews()
        try:
            with Projector(service.log.holding(r.event for r in events), views) as projector:
                return build(projector)
        finally:
            views.close()

    # Only what the report's projections read is decoded and copied (the store filters by
    # topic): receipts, half of every log, and other reports' events would be skipped there.
    topics = sorted({topic for projection in projections for topic in projection.topics})
    return replay_report(service, cut, folded, topics=topics)


def replay_city(
    city: City,
    cut: Cut,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
    checkpoints: bool = True,
    checkpoint_budget: int = BUDGET,
) -> Report:
    """The city's monthly report (:func:`~safecomm_core.reports.city.city_report`) from
    exactly the events of ``cut`` in each subdistrict's log, rolled up the same way.

    Each subdistrict is replayed as :func:`replay_monthly` replays it, from and leaving the
    checkpoints of its own monthly report (unless ``checkpoints`` is False).
    """
    from safecomm_core.reports.city import opened, rollup
    from safecomm_core.reports.register import PROJECTIONS

    def replayed(sub: Subdistrict, build: Callable[[Projector], T]) -> T:
        def folded(projector: Projector) -> T:
            projector.catch_up_all(PROJECTIONS)
            return build(projector)

        with opened(sub) as service:
            return replay_views(
                service,
                cut,
                "monthly",
                PROJECTIONS,
                folded,
                checkpoints=checkpoints,
                checkpoint_budget=checkpoint_budget,
            )

    return rollup(city, replayed, period, scope, generated_at=generated_at)


def _report(
    name: str, cut: Cut, period: str | None, scope: str, generated_at: datetime | None
) -> tuple[Sequence[Projection], Callable[[Projector], Report]]:
    """The projections report ``name`` reads, and the live code that makes it."""
    from safecomm_core.reports import (
        assessment,
        monthly_report,
        register,
        self_assessment,
        watch,
        watchlist,
    )
    from safecomm_core.reports.reading import report_day

    if name == "monthly":
        return register.PROJECTIONS, lambda projector: monthly_report(
            projector, period, scope, generated_at=generated_at
        )
    day = local_date(cut.moment) if period is None else report_day(period)
    community = None if scope == "*" else scope
    if name == "self-assessment":
        return assessment.PROJECTIONS, lambda projector: self_assessment(
            projector, as_of=day, community=community, generated_at=generated_at
        )
    if name == "watchlist":
        return watch.PROJECTIONS, lambda projector: watchlist(
            projector, as_of=day, community=community, generated_at=generated_at
        )
    raise InvalidCommand([FieldError("report", f"must be one of {', '.join(REPORTS)}")])


def _checkpoints(
    service: Safecomm, report: str, projections: Sequence[Projection], budget: int = BUDGET
) -> Checkpoints | None:
    """The report's checkpoints in the store's views database (none for a store in memory)."""
    if service.config.kind == "memory":
        return None
    return Checkpoints(open_views(service.config), report, fingerprint(projections), budget=budget)


def checkpoint_size(service: Safecomm, report: str = "monthly") -> tuple[int, int]:
    """How many replay checkpoints of ``report`` the store's views keep, and their bytes."""
    projections, _ = _report(report, Cut.known_at(datetime.now(UTC)), None, "*", None)
    kept = _checkpoints(service, report, projections)
    if kept is None:
        return 0, 0
    try:
        return kept.size()
    finally:
        kept.views.close()


def _known_at(
    service: Safecomm,
    moment: datetime,
    projections: Sequence[Projection],
    kept: Checkpoints | None,
    every: int,
    report: Callable[[Projector], T],
) -> T:
    """``report`` of the views folded over the log's prefix recorded by ``moment``.

    The fold starts from the latest of ``kept`` good for ``moment`` and saves one at every
    multiple of ``every`` it passes (none when ``kept`` is None).
    """
    if every < 1:
        raise ValueError("checkpoint_every must be at least 1")
    start = kept.latest(micros(moment)) if kept is not None else None
    if start is not None and start.anchor != anchor_at(service.log, start.position):
        # Its views end at a record this store does not hold as it was (a views file
        # copied from another store, say): fold from the log instead.
        warnings.warn(
            f"the replay checkpoint at position {start.position} does not belong to this "
            "store; replaying from the first event",
            stacklevel=3,
        )
        start = None
    views = ReplayViews.load(start.data) if start is not None else ReplayViews()
    try:
        prefix = recorded_prefix(
            service,
            moment,
            after=start.position if start else 0,
            latest_before=start.latest_recorded if start else 0,
            marks_every=every if kept is not None else None,
        )
        with Projector(service.log.bounded(prefix.end), views) as projector:
            if kept is not None:
                for mark in sorted(m for m in prefix.latest if m % every == 0 and m > 0):
                    for projection in projections:
                        projector.catch_up(projection, until=mark)
                    anchor = anchor_at(service.log, mark)
                    kept.save(Checkpoint(mark, prefix.latest[mark], anchor, views.dump()))
            return report(projector)
    finally:
        views.close()
