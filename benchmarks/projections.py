"""Projection throughput beside raw eventsourcing reads, on the same store in the same process.

    .venv/bin/python benchmarks/projections.py [--disputes N] [--pg URL]

Writes N disputes through their full workflow (report, accept, mediator, session,
agreement, performance: six events each, saved 100 aggregates per transaction), then times:

- raw read: eventsourcing's ``select_notifications`` in pages of 1000, every topic;
- raw read+decode: the same, each notification decoded by the application's mapper;
- raw read+decode, dispute topics: only the topics the ``disputes`` projection wants;
- project: ``Projector.catch_up(DISPUTES)`` into fresh views (one batch of 1000 a transaction);
- rebuild: ``Projector.rebuild(DISPUTES)`` (blue/green, with the swap);
- digest: ``Projector.digest(DISPUTES)``.

Prints one table per backend: wall-clock seconds, events per second, this process's CPU
seconds, and both as ratios to "raw read+decode, dispute topics" (the least a projection
must do). On a shared machine the CPU ratio is the steadier figure; on PostgreSQL part of
the work is the server's and shows only in wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from safecomm_core import Actor, Meta, Role, open_store
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    DisputeSource,
    Party,
    PartyRole,
    PerformanceOutcome,
)
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.personal import PersonInput, seal_person
from safecomm_core.projections import DISPUTES, Projector

PAGE = 1000


def fill(store_url: str, disputes: int) -> int:
    """Write ``disputes`` full workflows; the number of events written."""
    actor = Actor("staff-1", Role.MEDIATOR)
    start = datetime(2014, 1, 1, tzinfo=UTC)
    written = 0
    # Keys in memory: sealing is not what is measured, and the SQLite key store syncs per key.
    with open_store(store_url, keys=MemoryKeyStore()) as store:
        batch: list[Dispute] = []
        for i in range(disputes):
            at = start + timedelta(hours=i)

            def meta(step: int, at: datetime = at, i: int = i) -> Meta:
                return Meta(f"c-{i}-{step}", at + timedelta(minutes=step), actor)

            person = seal_person(PersonInput(ref=f"p-{i}", name="某某"), store.keys)
            d = Dispute(
                meta=meta(0),
                ref=f"d-{i}",
                community=f"C{i % 7 + 1}",
                grid_unit=None,
                source=DisputeSource.WALK_IN,
                kind=DisputeKind.NEIGHBOUR,
                summary="bench",
                parties=(Party(PartyRole.APPLICANT, person),),
            )
            d.accept(meta(1))
            d.assign_mediator(meta(2), "staff-1")
            d.hold_session(meta(3), "")
            d.reach_agreement(meta(4), AgreementForm.WRITTEN, "terms")
            d.record_performance(meta(5), PerformanceOutcome.PERFORMED, "")
            written += len(d.pending_events)
            batch.append(d)
            if len(batch) == 100:
                store.app.save(*batch)
                batch = []
        if batch:
            store.app.save(*batch)
    return written


def timed(func: Callable[[], int]) -> tuple[float, float, int]:
    """(wall seconds, this process's CPU seconds, items) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = func()
    return time.perf_counter() - wall, time.process_time() - cpu, count


def run(store_url: str, label: str) -> None:
    with open_store(store_url, keys=MemoryKeyStore()) as store:
        recorder, mapper = store.app.recorder, store.app.mapper

        def read(decode: bool, topics: tuple[str, ...] = ()) -> int:
            position, count = 0, 0
            while True:
                page = recorder.select_notifications(
                    start=position, limit=PAGE, topics=topics, inclusive_of_start=False
                )
                if not page:
                    return count
                for n in page:
                    if decode:
                        mapper.to_domain_event(n)
                count += len(page)
                position = page[-1].id

        with Projector(store) as projector:
            rows = [
                ("raw read", *timed(lambda: read(False))),
                ("raw read+decode", *timed(lambda: read(True))),
                ("raw read+decode, dispute topics", *timed(lambda: read(True, DISPUTES.topics))),
                ("project (catch_up)", *timed(lambda: projector.catch_up(DISPUTES).handled)),
                ("rebuild (blue/green)", *timed(lambda: projector.rebuild(DISPUTES).handled)),
                ("digest", *timed(lambda: projector.digest(DISPUTES).tables[0].rows)),
            ]
            assert projector.rebuild_check(DISPUTES) == []
    wall_base, cpu_base = (rows[2][1] / rows[2][3], rows[2][2] / rows[2][3])
    print(f"\n{label}")
    print(
        f"{'step':<34}{'items':>8}{'wall s':>9}{'items/s':>10}{'× raw':>8}"
        f"{'cpu s':>9}{'× raw cpu':>11}"
    )
    for name, wall, cpu, count in rows:
        ratios = (
            ("-", "-")
            if name == "digest"
            else (
                f"{wall / count / wall_base:.2f}",
                f"{cpu / count / cpu_base:.2f}",
            )
        )
        print(
            f"{name:<34}{count:>8}{wall:>9.3f}{count / wall:>10,.0f}{ratios[0]:>8}"
            f"{cpu:>9.3f}{ratios[1]:>11}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--disputes", type=int, default=5000)
    parser.add_argument("--pg", default=os.environ.get("SAFECOMM_TEST_PG"))
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {args.disputes} disputes"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        began = time.perf_counter()
        events = fill(url, args.disputes)
        print(f"SQLite: wrote {events} events in {time.perf_counter() - began:.1f} s")
        run(url, "SQLite file (views in a file beside it)")
    if args.pg:
        name = f"bench{os.getpid()}"
        url = f"{args.pg}?name={name}"
        fill(url, args.disputes)
        try:
            run(url, "PostgreSQL (views in the same database)")
        finally:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True) as db:
                for (table,) in db.execute(
                    "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (name + "\\_%",)
                ).fetchall():
                    db.execute(f'DROP TABLE "{table}" CASCADE')


if __name__ == "__main__":
    main()
