"""The runner: follows the store's notification log and keeps projections' views up to date.

How a batch goes (:meth:`Projector.catch_up`):

1. Read the store's head, then up to ``batch_size`` notifications after the generation's
   position, of the projection's topics only (the filter runs in the store's SQL), and
   decode them. Nothing else is decoded.
2. In **one transaction of the views database**: move the position forward with a
   conditional ``UPDATE … WHERE position = <old>`` (another runner that got there first
   makes it match nothing, and this batch is rolled back and re-read), run each event's
   handler through a :class:`~safecomm_core.projections.writer.ViewWriter`, write the rows,
   and write a dead letter for each handler that raised. Commit.

So rows and position commit together or not at all: a runner killed at any point resumes at
the last committed batch, and no event is applied twice or skipped. When fewer than a batch
of wanted notifications remain, the position moves to the head read in step 1, so a
projection interested in rare events does not re-scan the log. That relies on the store
committing notification ids in order, which eventsourcing guarantees on SQLite (one
writer) and PostgreSQL (the events table is locked while events are inserted; do not set
``POSTGRES_ENABLE_DB_FUNCTIONS``, whose insert function skips that lock).

**Generations (blue/green).** A projection's rows live in tables of a numbered
generation (``disputes__g3``); stable views (``disputes``) point at the live one. A new
generation is built beside the live one when the projection's ``version`` or
:attr:`~safecomm_core.projections.definition.Projection.fingerprint` changes, or on
:meth:`Projector.rebuild`; once it has caught up it is swapped in, in one transaction
that creates its indexes (a generation being built has only its key, which is all handlers
read by) and re-points the views, and the old one is dropped. A rebuild killed half-way is
carried on by the next catch-up.

**Dead letters.** A handler that raises has its writes for that event taken back, and the
event is recorded (notification id, topic, error) in the same transaction; the batch goes
on. So does an event whose rows the views database refuses to write: the batch is then
done again with each event's rows written on their own (in a savepoint), and only the
refused event's are taken back. They are listed by :meth:`Projector.dead_letters` and counted in
:meth:`Projector.status`. Once the handler is fixed, raise the projection's ``version``:
the new generation replays every event, the failed ones included, and replaces the old.
An event that cannot be *decoded* is not a dead letter: it stops the runner, since a
missing cipher key, class or upcaster would otherwise turn every event into one.

**Checks.** :meth:`Projector.digest` is an order-independent hash of a generation's rows and
dead letters, the same on every backend; :meth:`Projector.rebuild_check` builds a scratch
generation to the live one's position and lists the rows that differ.

Why not eventsourcing's ``ProjectionRunner`` and ``TrackingRecorder``: the runner needs
``subscribe()``, which the SQLite recorder lacks, handles one event per transaction, and
records tracking apart from rows a projection writes with its own SQL. The same idea,
position and rows in one transaction, is kept here, per batch.
"""

from __future__ import annotations

import gc
import itertools
import threading
import traceback
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import attrs

from safecomm_core.errors import StoreError
from safecomm_core.eventlog import EventLog, Notification
from safecomm_core.projections.database import (
    DEAD_LETTERS,
    GENERATIONS,
    ViewDatabase,
    open_views,
    quote,
)
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.digest import (
    DEAD_LETTER_DIGEST,
    Difference,
    Digest,
    differences,
    digest,
)
from safecomm_core.projections.errors import ProjectionError, ViewDatabaseError
from safecomm_core.projections.schema import Row, Table
from safecomm_core.projections.status import DeadLetter, Generation, Progress, ProjectionStatus
from safecomm_core.projections.writer import ViewWriter
from safecomm_core.service import Safecomm

__all__ = ["FOLLOW_POLL", "WINDOW", "Projector", "anchor_at"]

#: Seconds between polls of the store by an idle follower. A poll is one indexed read of
#: the head; a quarter of a second keeps stored → visible well under a second (the
#: ``follow_latency`` benchmark) at a cost no store notices.
FOLLOW_POLL = 0.25

#: Positions of the log that projections catching up together cover before any goes on
#: (:meth:`Projector.catch_up_all`): the events decoded in a window are kept for it only.
WINDOW = 20_000

#: Statuses of a generation: being built, serving readers, a scratch copy for
#: :meth:`Projector.rebuild_check`, replaced (its tables about to go), gone.
BUILDING, LIVE, CHECK, RETIRED, DROPPED = "building", "live", "check", "retired", "dropped"
_ACTIVE = (BUILDING, LIVE, CHECK)
_ERROR_TEXT = 2000


class _Moved(Exception):
    """Another runner moved the generation on (or retired it) since it was read."""


class Projector:
    """Runs projections over one store: catch up, follow, rebuild, check, list dead letters.

    ``views`` defaults to the views database that belongs with the store (see
    :func:`~safecomm_core.projections.database.open_views`). One projector per thread;
    any number of processes may run the same projections at once.
    """

    def __init__(
        self,
        source: Safecomm | EventLog,
        views: ViewDatabase | None = None,
        *,
        batch_size: int = 1000,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        log = source.log if isinstance(source, Safecomm) else source
        if not log.ordered:
            raise ProjectionError(
                "POSTGRES_ENABLE_DB_FUNCTIONS is set: eventsourcing then inserts events without "
                "locking the table, notification ids may commit out of order, and a follower "
                "could skip events. Unset it to run projections."
            )
        #: The event log the views follow.
        self.log = log
        self._owns_views = views is None
        self.views = views if views is not None else open_views(log.config)
        self.views.setup()
        self.batch_size = batch_size
        #: The window of the log that :meth:`catch_up_all` is in, read once for every projection.
        self._window: _Window | None = None

    def close(self) -> None:
        """Close the views database if this projector opened it."""
        if self._owns_views:
            self.views.close()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- catching up ----------------------------------------------------------------------

    def catch_up(
        self,
        projection: Projection,
        *,
        until: int | None = None,
        batch_size: int | None = None,
        max_batches: int | None = None,
    ) -> Progress:
        """Project every new event (up to notification ``until``, or ``max_batches`` batches).

        Advances the live generation if this definition built it, carries on a generation
        being built (starting one when the live one is of another version or missing), and
        swaps that in once it has caught up.
        """
        batch = batch_size or self.batch_size
        budget = _Budget(max_batches)
        head = self._head()
        target = head if until is None else min(until, head)
        self._retire_outdated(projection)
        self._drop_retired(projection)
        handled = dead = 0
        live = self._live(projection)
        self._refuse_older(projection, live)
        if live is not None and live.current(projection):
            handled, dead, _ = self._advance(projection, live, target, batch, budget)
        building = self._find(projection, BUILDING)
        if building is None and (live is None or not live.current(projection)):
            building = self._new_generation(projection, BUILDING)
        swapped = False
        if building is not None:
            h, d, position = self._advance(projection, building, target, batch, budget)
            handled, dead = handled + h, dead + d
            if position >= target:
                swapped = self._swap(projection, building.generation)
        live = self._live(projection)
        return Progress(
            projection=projection.name,
            generation=live.generation if live else 0,
            position=live.position if live else 0,
            head=head,
            handled=handled,
            dead_letters=dead,
            swapped=swapped,
        )

    def catch_up_all(
        self,
        projections: Sequence[Projection],
        *,
        until: int | None = None,
        batch_size: int | None = None,
    ) -> list[Progress]:
        """:meth:`catch_up` every one of ``projections``, decoding each event once for all.

        One catch-up after another would read and decode an event once for every
        projection that reads its topic (and the evidence projection reads them all). Here
        they go on together, a window of :data:`WINDOW` positions at a time: the window's
        notifications of every projection's topics are read from the store in one query,
        each projection takes its own topics' from them, and an event is decoded once for
        all; the window is dropped at its end, so memory stays bounded. The cyclic garbage
        collector is held off for a window (see :func:`_cyclic_gc_paused`). Each projection
        still writes and commits batch by batch as :meth:`catch_up` does.
        """
        head = self._head()
        target = head if until is None else min(until, head)
        start = min((self._behind(p) for p in projections), default=target)
        topics = _union(p.topics for p in projections)
        done: dict[str, Progress] = {}
        # More than a window behind (a rebuild, a follower long stopped): in bulk.
        bulk = self.views.bulk() if target - start > WINDOW else nullcontext()
        try:
            upto = start
            with bulk:
                while True:
                    after, upto = upto, min(upto + WINDOW, target)
                    with _cyclic_gc_paused():
                        self._window = _Window(
                            after, upto, self.log.read(after, WINDOW, stop=upto, topics=topics)
                        )
                        for projection in projections:
                            progress = self.catch_up(projection, until=upto, batch_size=batch_size)
                            before = done.get(projection.name)
                            if before is not None:
                                progress = attrs.evolve(
                                    progress,
                                    handled=before.handled + progress.handled,
                                    dead_letters=before.dead_letters + progress.dead_letters,
                                    swapped=before.swapped or progress.swapped,
                                )
                            done[projection.name] = progress
                        self._window = None
                    if upto >= target:
                        break
        finally:
            self._window = None
        return [done[p.name] for p in projections]

    def _behind(self, projection: Projection) -> int:
        """The position from which ``projection`` has events to catch up (0: from the first)."""
        status = self.status(projection)
        if status.live_version != projection.version:
            return min((position for _, position in status.building), default=0)
        return min([status.position, *(position for _, position in status.building)])

    def follow(
        self,
        projections: Sequence[Projection],
        *,
        poll: float = FOLLOW_POLL,
        stop: threading.Event | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        """Keep ``projections`` caught up, polling the store every ``poll`` seconds when idle.

        Returns when ``stop`` is set. Errors of the views database or the store end it;
        run it under a supervisor that restarts it (it resumes where it was).
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            busy = False
            for projection in projections:
                progress = self.catch_up(projection)
                busy = busy or progress.handled > 0 or progress.swapped
                if on_progress is not None and (progress.handled or progress.swapped):
                    on_progress(progress)
            if not busy:
                stop.wait(poll)

    def rebuild(self, projection: Projection, *, batch_size: int | None = None) -> Progress:
        """Build the projection from zero into a new generation and swap it in (blue/green).

        Readers keep the live view until the swap. A rebuild killed half-way is carried on by
        the next :meth:`catch_up` (or started afresh by the next :meth:`rebuild`).
        """
        batch = batch_size or self.batch_size
        self._refuse_older(projection, self._live(projection))
        self._retire(projection, BUILDING)
        building = self._new_generation(projection, BUILDING)
        handled = dead = 0
        with self.views.bulk():
            while True:
                head = self._head()
                h, d, _ = self._advance(projection, building, head, batch, _Budget(None))
                handled, dead = handled + h, dead + d
                if self._swap(projection, building.generation):
                    break
                found = self._generation(projection, building.generation)
                if found is None or found.status != BUILDING:
                    raise ProjectionError(
                        f"the rebuild of {projection.name!r} was retired by another"
                    )
                building = found
        live = self._live(projection)
        assert live is not None
        return Progress(projection.name, live.generation, live.position, head, handled, dead, True)

    # -- checking -----------------------------------------------------------------------

    def digest(self, projection: Projection, *, generation: int | None = None) -> Digest:
        """The digest of the live generation (or of ``generation``)."""
        with self.views.snapshot():
            found = (
                self._live(projection)
                if generation is None
                else self._generation(projection, generation)
            )
            if found is None:
                raise ProjectionError(f"projection {projection.name!r} has no such generation")
            return self._digest(projection, found)

    def rebuild_check(
        self, projection: Projection, *, batch_size: int | None = None
    ) -> list[Difference]:
        """Rebuild into a scratch generation up to the live position; the rows that differ.

        An empty list means the live view is exactly what the events give now. The scratch
        generation is dropped afterwards. If the live view was built by another version of
        the projection, differences are what the new version would change.
        """
        batch = batch_size or self.batch_size
        if self._live(projection) is None:
            raise ProjectionError(f"projection {projection.name!r} has no live view to check")
        self._retire(projection, CHECK)
        self._drop_retired(projection)
        check = self._new_generation(projection, CHECK)
        try:
            for _attempt in range(20):
                live = self._live(projection)
                assert live is not None
                self._advance(projection, check, live.position, batch, _Budget(None))
                with self.views.snapshot():
                    live_now = self._live(projection)
                    check_now = self._generation(projection, check.generation)
                    assert live_now is not None
                    assert check_now is not None
                    if live_now.position == check_now.position:
                        return self._differences(projection, live_now, check_now)
                check = check_now
            raise ProjectionError(f"the live view of {projection.name!r} kept moving; try again")
        finally:
            self._retire(projection, CHECK)
            self._drop_retired(projection)

    # -- reading --------------------------------------------------------------------------

    def dead_letters(
        self, projection: Projection | None = None, *, generation: int | None = None
    ) -> list[DeadLetter]:
        """Dead letters of the live generations (of one projection, or of ``generation``)."""
        d, g = quote(self.views.name(DEAD_LETTERS.name)), quote(self.views.name(GENERATIONS.name))
        columns = ", ".join(f"d.{quote(c)}" for c in DEAD_LETTERS.column_names)
        sql = (
            f"SELECT {columns} FROM {d} d JOIN {g} g "
            "ON g.projection = d.projection AND g.generation = d.generation WHERE "
        )
        params: list[Any] = []
        if generation is None:
            sql += "g.status = 'live'"
        else:
            sql += "g.generation = ?"
            params.append(generation)
        if projection is not None:
            sql += " AND d.projection = ?"
            params.append(projection.name)
        sql += " ORDER BY d.projection, d.notification_id"
        decode = self.views.row_decoder(DEAD_LETTERS)
        return [DeadLetter(**decode(values)) for values in self.views.fetchall(sql, params)]

    def status(self, projection: Projection) -> ProjectionStatus:
        """Where ``projection`` stands against the store's head."""
        head = self._head()
        generations = self._generations(projection)
        live = next((g for g in generations if g.status == LIVE), None)
        return ProjectionStatus(
            projection=projection.name,
            version=projection.version,
            live_generation=live.generation if live else 0,
            live_version=live.version if live else 0,
            position=live.position if live else 0,
            head=head,
            dead_letters=len(self.dead_letters(projection)) if live else 0,
            building=tuple((g.generation, g.position) for g in generations if g.status == BUILDING),
        )

    def rows(self, projection: Projection, table: Table | str) -> list[Row]:
        """Every row of ``table`` in the live view, in key order."""
        shape = projection.table(table if isinstance(table, str) else table.name)
        with self.views.snapshot():
            live = self._live(projection)
            if live is None:
                raise ProjectionError(f"projection {projection.name!r} has not been built yet")
            return sorted(self._rows(shape, live.generation), key=shape.key_of)

    # -- the store --------------------------------------------------------------------------

    def _head(self) -> int:
        return self.log.head()

    def _select(
        self, after: int, limit: int, stop: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        window = self._window
        if window is not None and window.after <= after and stop <= window.stop:
            return window.select(after, limit, stop, tuple(topics))
        return self.log.read(after, limit, stop=stop, topics=topics)

    def _decode(self, notification: Notification) -> Any:
        decoded = self._window.decoded if self._window is not None else None
        if decoded is not None:
            found = decoded.get(notification.id)
            if found is not None:
                return found
        try:
            event = self.log.decode(notification)
        except StoreError as exc:
            # Not a dead letter: an unreadable event means a missing cipher key, class or
            # upcaster, which would turn every event into one. Stop and say so instead.
            raise ProjectionError(f"{exc} ({notification.topic})") from exc
        if decoded is not None:
            decoded[notification.id] = event  # events are immutable: safe to share
        return event

    # -- advancing a generation ---------------------------------------------------------------

    def _advance(
        self,
        projection: Projection,
        generation: Generation,
        target: int,
        batch: int,
        budget: _Budget,
    ) -> tuple[int, int, int]:
        """Move ``generation`` to ``target``: (events handled, dead letters, position)."""
        handled = dead = 0
        position = generation.position
        if position < target:
            self._check_anchor(projection, generation)
        while position < target and budget.take():
            try:
                with _cyclic_gc_paused():
                    notifications = self._select(position, batch, target, projection.topics)
                    new = notifications[-1].id if len(notifications) == batch else target
                    last = notifications[-1] if notifications else None
                    anchor = _anchor(last) if last and last.id == new else anchor_at(self.log, new)
                    events = [(n, self._decode(n)) for n in notifications]
                    dead += self._apply(
                        projection, generation.generation, position, new, anchor, events
                    )
            except _Moved:
                found = self._generation(projection, generation.generation)
                if found is None or found.status not in _ACTIVE:
                    break
                position = found.position
                continue
            handled += len(events)
            position = new
        return handled, dead, position

    def _apply(
        self,
        projection: Projection,
        generation: int,
        position: int,
        new: int,
        anchor: str | None,
        events: list[tuple[Notification, Any]],
    ) -> int:
        batch = (projection, generation, position, new, anchor, events)
        try:
            return self._apply_batch(*batch, one_by_one=False)
        except _Moved:
            raise
        except Exception:
            # The batch's rows are written together, so a row the views database refuses
            # fails them all. Go again, each event's rows written on their own, so that only
            # the event whose rows were refused becomes a dead letter. If the database
            # itself is failing, this fails as well and the runner stops as before.
            return self._apply_batch(*batch, one_by_one=True)

    def _apply_batch(
        self,
        projection: Projection,
        generation: int,
        position: int,
        new: int,
        anchor: str | None,
        events: list[tuple[Notification, Any]],
        *,
        one_by_one: bool,
    ) -> int:
        now = datetime.now(UTC)
        g = quote(self.views.name(GENERATIONS.name))
        letters: list[list[Any]] = []
        with self.views.transaction():
            claimed = self.views.execute(
                f"UPDATE {g} SET position = ?, anchor = ?, updated_at = ? "
                "WHERE projection = ? AND generation = ? AND position = ? "
                "AND status IN ('building', 'live', 'check')",
                (new, anchor, self._ts(now), projection.name, generation, position),
            )
            if claimed != 1:
                raise _Moved
            writer = ViewWriter(self.views, projection, generation)
            if not one_by_one:  # reading ahead is for speed; event by event, reads fail alone
                self._prefetch(projection, writer, events)
            for notification, event in events:
                writer.begin()
                try:
                    handle = projection.handler(notification.topic)
                    if one_by_one:
                        with self.views.savepoint():
                            handle(writer, event, notification.id)
                            writer.flush()
                    else:
                        handle(writer, event, notification.id)
                except Exception as exc:
                    if isinstance(exc, ViewDatabaseError) and not one_by_one:
                        raise
                    writer.undo()
                    letter = _letter(projection, generation, notification, exc, now)
                    letters.append(self.views.encode_row(DEAD_LETTERS, letter))
            writer.flush()
            self.views.executemany(
                self.views.upsert_sql(self.views.name(DEAD_LETTERS.name), DEAD_LETTERS), letters
            )
        return len(letters)

    @staticmethod
    def _prefetch(
        projection: Projection, writer: ViewWriter, events: list[tuple[Notification, Any]]
    ) -> None:
        wanted: dict[str, list[Any]] = {}
        for _, event in events:
            try:
                for table, key in projection.rows_read(event):
                    wanted.setdefault(table.name, []).append(key)
            except Exception:
                continue
        for table_name, keys in wanted.items():
            writer.prefetch(table_name, keys)

    def _check_anchor(self, projection: Projection, generation: Generation) -> None:
        head = self._head()
        if generation.position > head or (
            generation.anchor is not None
            and anchor_at(self.log, generation.position) != generation.anchor
        ):
            raise ProjectionError(
                f"the views of {projection.name!r} (generation {generation.generation}) were "
                f"built to notification {generation.position}, which this store "
                f"(ending at {head}) does not hold as it was: they belong to another store or "
                "to a newer copy of this one. Rebuild them: safecomm project --rebuild"
            )

    # -- generations ----------------------------------------------------------------------------

    def _ts(self, moment: datetime) -> Any:
        return self.views.encode(GENERATIONS.column("updated_at"), moment)

    def _generations(self, projection: Projection) -> list[Generation]:
        g = self.views.name(GENERATIONS.name)
        rows = self.views.fetchall(
            f"{self.views.select_sql(g, GENERATIONS)} WHERE projection = ? ORDER BY generation",
            (projection.name,),
        )
        decode = self.views.row_decoder(GENERATIONS)
        return [Generation(**decode(values)) for values in rows]

    def _generation(self, projection: Projection, number: int) -> Generation | None:
        return next((g for g in self._generations(projection) if g.generation == number), None)

    def _live(self, projection: Projection) -> Generation | None:
        return self._find(projection, LIVE)

    def _find(self, projection: Projection, status: str) -> Generation | None:
        """The newest generation with ``status`` (building and check: of this definition)."""
        found = [
            g
            for g in self._generations(projection)
            if g.status == status and (status == LIVE or g.current(projection))
        ]
        return found[-1] if found else None

    def _new_generation(self, projection: Projection, status: str) -> Generation:
        now = datetime.now(UTC)
        g = self.views.name(GENERATIONS.name)
        with self.views.transaction():
            self.views.lock(f"projection:{projection.name}")
            existing = self._generations(projection)
            if status == BUILDING:
                # Two runners starting at once build one generation, not two.
                same = [e for e in existing if e.status == BUILDING and e.current(projection)]
                if same:
                    return same[-1]
            number = max((e.generation for e in existing), default=0) + 1
            row: dict[str, Any] = {
                "projection": projection.name,
                "generation": number,
                "version": projection.version,
                "fingerprint": projection.fingerprint,
                "status": status,
                "position": 0,
                "anchor": None,
                "tables": ",".join(t.name for t in projection.tables),
                "created_at": now,
                "updated_at": now,
                "swapped_at": None,
            }
            self.views.execute(
                self.views.upsert_sql(g, GENERATIONS), self.views.encode_row(GENERATIONS, row)
            )
            for table in projection.tables:
                # The indexes readers need come with the swap (see _swap): rows go in
                # faster without them, and handlers read by key (a find() scans).
                physical = self.views.physical(table.name, number)
                self.views.create_table(physical, table, indexes=False)
        return Generation(**row)

    def _swap(self, projection: Projection, number: int) -> bool:
        """Make generation ``number`` live if it has caught up with the live one."""
        g = quote(self.views.name(GENERATIONS.name))
        with self.views.transaction():
            self.views.lock(f"projection:{projection.name}")
            generations = self._generations(projection)
            new = next((x for x in generations if x.generation == number), None)
            live = next((x for x in generations if x.status == LIVE), None)
            if new is None or new.status != BUILDING:
                return False
            if live is not None and live.position > new.position:
                return False  # readers must never see the view go back in time
            if live is not None:
                self.views.execute(
                    f"UPDATE {g} SET status = 'retired' WHERE projection = ? AND generation = ?",
                    (projection.name, live.generation),
                )
                for old in set(live.tables.split(",")) - {t.name for t in projection.tables}:
                    self.views.point_view(self.views.name(old), None)
            self.views.execute(
                f"UPDATE {g} SET status = 'live', swapped_at = ? "
                "WHERE projection = ? AND generation = ?",
                (self._ts(datetime.now(UTC)), projection.name, number),
            )
            for table in projection.tables:
                physical = self.views.physical(table.name, number)
                self.views.create_indexes(physical, table)
                self.views.point_view(self.views.name(table.name), physical)
        self._drop_retired(projection)
        return True

    @staticmethod
    def _refuse_older(projection: Projection, live: Generation | None) -> None:
        if live is not None and live.version > projection.version:
            # Older code during a rolling upgrade: building its own generation and swapping
            # it in would undo the newer one. Stop instead.
            raise ProjectionError(
                f"the live view of {projection.name!r} was built by version {live.version}; "
                f"this code has version {projection.version}: upgrade it"
            )

    def _retire(self, projection: Projection, status: str) -> None:
        g = quote(self.views.name(GENERATIONS.name))
        with self.views.transaction():
            self.views.execute(
                f"UPDATE {g} SET status = 'retired' WHERE projection = ? AND status = ?",
                (projection.name, status),
            )

    def _retire_outdated(self, projection: Projection) -> None:
        """Generations being built by an older definition will never be swapped in.

        Newer ones are left alone: they belong to newer code running beside this one.
        """
        outdated = [
            x
            for x in self._generations(projection)
            if x.status == BUILDING
            and not x.current(projection)
            and x.version <= projection.version
        ]
        if outdated:
            g = quote(self.views.name(GENERATIONS.name))
            with self.views.transaction():
                self.views.executemany(
                    f"UPDATE {g} SET status = 'retired' "
                    "WHERE projection = ? AND generation = ? AND status = 'building'",
                    [(projection.name, x.generation) for x in outdated],
                )

    def _drop_retired(self, projection: Projection) -> None:
        g = quote(self.views.name(GENERATIONS.name))
        d = quote(self.views.name(DEAD_LETTERS.name))
        for old in self._generations(projection):
            if old.status != RETIRED:
                continue
            with self.views.transaction():
                self.views.lock(f"projection:{projection.name}")
                for table in old.tables.split(","):
                    self.views.drop_table(self.views.physical(table, old.generation))
                self.views.execute(
                    f"DELETE FROM {d} WHERE projection = ? AND generation = ?",
                    (projection.name, old.generation),
                )
                self.views.execute(
                    f"UPDATE {g} SET status = 'dropped' WHERE projection = ? AND generation = ?",
                    (projection.name, old.generation),
                )

    # -- digests ----------------------------------------------------------------------------

    def _rows(self, table: Table, generation: int) -> list[Row]:
        name = self.views.physical(table.name, generation)
        fetched = self.views.fetchall(self.views.select_sql(name, table))
        return list(map(self.views.row_decoder(table), fetched))

    def _letter_rows(self, projection: Projection, generation: int) -> list[Row]:
        d = quote(self.views.name(DEAD_LETTERS.name))
        columns = DEAD_LETTER_DIGEST.columns
        fetched = self.views.fetchall(
            f"SELECT {', '.join(quote(c.name) for c in columns)} FROM {d} "
            "WHERE projection = ? AND generation = ?",
            (projection.name, generation),
        )
        return list(map(self.views.row_decoder(DEAD_LETTER_DIGEST), fetched))

    def _contents(self, projection: Projection, generation: int) -> list[tuple[Table, list[Row]]]:
        tables = [(t, self._rows(t, generation)) for t in projection.tables]
        return [*tables, (DEAD_LETTER_DIGEST, self._letter_rows(projection, generation))]

    def _digest(self, projection: Projection, generation: Generation) -> Digest:
        contents = self._contents(projection, generation.generation)
        return digest(projection.name, generation.generation, generation.position, contents)

    def _differences(
        self, projection: Projection, live: Generation, rebuilt: Generation
    ) -> list[Difference]:
        if live.fingerprint != rebuilt.fingerprint:
            raise ProjectionError(
                f"the live view of {projection.name!r} has other tables or topics than this "
                "version: compare by rebuilding it (safecomm project --rebuild)"
            )
        return differences(
            self._contents(projection, live.generation),
            self._contents(projection, rebuilt.generation),
        )


class _Window:
    """The notifications of positions ``after`` to ``stop`` of the projections' topics, read
    once for every projection catching up together, and the events decoded from them."""

    def __init__(self, after: int, stop: int, notifications: Sequence[Notification]) -> None:
        self.after, self.stop = after, stop
        self._notifications = notifications
        self._of_topic: dict[str, list[Notification]] = {}
        for n in notifications:
            self._of_topic.setdefault(n.topic, []).append(n)
        #: Events decoded in this window, by position (events are immutable: safe to share).
        self.decoded: dict[int, Any] = {}
        self._by_topics: dict[tuple[str, ...], tuple[list[int], Sequence[Notification]]] = {}

    def select(
        self, after: int, limit: int, stop: int, topics: tuple[str, ...]
    ) -> Sequence[Notification]:
        """What :meth:`EventLog.read` would give, for a part of this window."""
        found = self._by_topics.get(topics)
        if found is None:
            found = self._by_topics[topics] = self._of_topics(topics)
        ids, kept = found
        first = bisect_right(ids, after)
        return kept[first : min(bisect_right(ids, stop), first + limit)]

    def _of_topics(self, topics: tuple[str, ...]) -> tuple[list[int], Sequence[Notification]]:
        """The positions and notifications of ``topics`` (all if none), in log order."""
        groups = [self._of_topic[t] for t in topics if t in self._of_topic]
        kept: Sequence[Notification]
        if not topics or sum(map(len, groups)) == len(self._notifications):
            kept = self._notifications
        elif len(groups) == 1:
            kept = groups[0]
        else:
            kept = sorted(itertools.chain.from_iterable(groups), key=_position)
        return [n.id for n in kept], kept


def _position(notification: Notification) -> int:
    return notification.id


def _union(topics: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """Every topic of ``topics`` (none, meaning all, if one of them is none)."""
    union: set[str] = set()
    for some in topics:
        if not some:
            return ()
        union.update(some)
    return tuple(sorted(union))


class _Budget:
    """How many more batches a call may run (None: no limit)."""

    def __init__(self, batches: int | None) -> None:
        self.left = batches

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector for one batch (or window).

    A batch keeps thousands of decoded events and rows alive until it commits, and the
    collector, triggered by every few hundred new objects, scans them again and again
    (a tenth of a rebuild's time). They are freed by reference counting when the batch
    ends; the collector runs as usual between batches. Projections catching up together
    hold it off for a whole window, whose decoded events live as long. (Mercurial's
    ``util.nogc`` does the same when it builds large structures.) Left alone if it was
    already off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def anchor_at(log: EventLog, position: int) -> str | None:
    """The identity (``id:version``) of the record ``log`` holds at ``position``, which
    views keep beside their position to recognise the store they were built from (None:
    no record there)."""
    found = log.read(position - 1, 1, stop=position)
    return _anchor(found[0]) if found and found[0].id == position else None


def _anchor(notification: Notification) -> str:
    return f"{notification.originator_id}:{notification.originator_version}"


def _letter(
    projection: Projection,
    generation: int,
    notification: Notification,
    exc: Exception,
    now: datetime,
) -> Row:
    frames = traceback.extract_tb(exc.__traceback__)
    where = (
        f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    )
    return {
        "projection": projection.name,
        "generation": generation,
        "notification_id": notification.id,
        "topic": notification.topic,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "error_type": type(exc).__name__,
        # Kept as the views database can hold it, whatever the error quotes.
        "error": f"{type(exc).__name__}: {exc}{where}"[:_ERROR_TEXT]
        .encode("utf-8", "backslashreplace")
        .decode()
        .replace("\x00", "\\x00"),
        "recorded_at": now,
    }
