"""The projection runtime: exactly once, resumable, dead letters, blue/green, digests.

The property at the heart of it: for random command histories, a projection caught up
incrementally (random batch sizes, random stops, restarts in between, commands arriving
meanwhile) ends with the same digest as a rebuild from zero, and its rows agree with the
aggregates themselves.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PG_URL, drop_pg_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecomm_core import Safecomm, SafecommError, StoreError, open_store, parse_command
from safecomm_core.dates import local_date
from safecomm_core.domain.dispute import Dispute
from safecomm_core.projections import (
    DISPUTES,
    INTEGER,
    TEXT,
    TIMESTAMP,
    Column,
    PostgresViews,
    Projection,
    ProjectionError,
    Projector,
    SQLiteViews,
    Table,
    ViewWriter,
    builtin_projections,
)
from safecomm_core.projections.schema import BOOLEAN, DATE, normalise
from tests.commanding import SAMPLE, sample_commands

BASE = datetime(2014, 3, 1, 9, 0, tzinfo=UTC)

# -- command histories ----------------------------------------------------------------------

ACTIONS: dict[str, dict[str, Any]] = {
    "dispute.accept": {},
    "dispute.refuse": {"reason": "a party refused"},
    "dispute.assign_mediator": {"mediator": "staff-9"},
    "dispute.hold_session": {},
    "dispute.flag_risk": {"risk": "threats"},
    "dispute.report_to_police": {"station": "PS-1"},
    "dispute.reach_agreement": {"form": "oral", "terms": "pay"},
    "dispute.terminate": {"reason": "no deal", "routes_told": ["judicial"]},
    "dispute.record_performance": {"outcome": "performed"},
    "dispute.apply_judicial_confirmation": {},
    "dispute.decide_judicial_confirmation": {"confirmed": True},
    "dispute.follow_up": {},
    "dispute.archive": {},
    "dispute.refer_legal_aid": {"provider": "legal aid centre", "matter": "wages"},
}


def command(type_: str, dispute: int, minute: int, /, **fields: Any) -> dict[str, Any]:
    """A dispute command's JSON, as sample.jsonl writes them."""
    return {
        "type": type_,
        "command_id": f"c-{uuid.uuid4().hex[:12]}",
        "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(),
        "actor": {"id": "staff-1", "role": "mediator"},
        "dispute_id": f"d-{dispute}",
        **fields,
    }


def report(dispute: int, minute: int, channel: str = "walk-in") -> dict[str, Any]:
    return command(
        "dispute.report",
        dispute,
        minute,
        channel=channel,
        community=f"C{dispute % 3 + 1}",
        kind="neighbour",
        summary="noise",
        parties=[{"ref": f"p-{dispute}", "role": "applicant"}],
    )


@st.composite
def commands(draw: st.DrawFn) -> dict[str, Any]:
    """One dispute command; many are refused in the state they meet, as in real use."""
    dispute = draw(st.integers(0, 3))
    # Often the same moment as the one before: on-the-spot settlements happen at one time.
    minute = draw(st.sampled_from([0, 0, 1, 60, 60 * 24 * 20]))
    kind = draw(st.sampled_from(["dispute.report", *ACTIONS]))
    if kind == "dispute.report":
        return report(dispute, minute, draw(st.sampled_from(["walk-in", "patrol", "grid"])))
    fields = dict(ACTIONS[kind])
    if kind == "dispute.hold_session":
        fields["notes"] = draw(st.sampled_from(["", "boom"]))  # notes: see FLAKY
    return command(kind, dispute, minute, **fields)


def script(kind: str, *, police: bool, judicial: bool, extra: int) -> list[str]:
    """A dispute's commands along one of the workflow's paths (docs/domain.md, *Mediation*)."""
    if kind == "refused":
        return ["dispute.refuse", "dispute.archive"]
    steps = ["dispute.accept", "dispute.assign_mediator", "dispute.hold_session"]
    steps += ["dispute.hold_session"] * extra
    if police:
        steps += ["dispute.flag_risk", "dispute.report_to_police"]
    if kind == "terminated":
        return [*steps, "dispute.terminate", "dispute.follow_up", "dispute.archive"]
    steps += ["dispute.refer_legal_aid", "dispute.reach_agreement", "dispute.record_performance"]
    if judicial:
        steps += ["dispute.apply_judicial_confirmation", "dispute.decide_judicial_confirmation"]
    return [*steps, "dispute.follow_up", "dispute.archive"]


@st.composite
def dispute_commands(draw: st.DrawFn, dispute: int) -> list[dict[str, Any]]:
    """A prefix of one dispute's workflow, as commands; sometimes all at one moment."""
    channel = draw(st.sampled_from(["walk-in", "patrol", "grid"]))
    names = script(
        draw(st.sampled_from(["agreed", "terminated", "refused"])),
        police=draw(st.booleans()),
        judicial=draw(st.booleans()),
        extra=draw(st.integers(0, 2)),
    )
    names = names[: draw(st.integers(0, len(names)))]
    on_the_spot = draw(st.booleans())
    out = [report(dispute, 0, channel)]
    for name in names:
        fields = dict(ACTIONS[name])
        if name == "dispute.hold_session":
            fields["notes"] = draw(st.sampled_from(["", "boom"]))  # notes: see FLAKY
        minute = 0 if on_the_spot else draw(st.sampled_from([0, 1, 60, 60 * 24 * 3]))
        out.append(command(name, dispute, minute, **fields))
    return out


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Disputes' workflows and stray commands interleaved, with catch-ups and restarts."""
    pools = [draw(dispute_commands(i)) for i in range(draw(st.integers(1, 6)))]
    pools += [[c] for c in draw(st.lists(commands(), max_size=6))]
    history: list[tuple[Any, ...]] = []
    while any(pools):
        pool = draw(st.sampled_from([p for p in pools if p]))
        history.append(("command", pool.pop(0)))
        history += draw(
            st.lists(
                st.one_of(
                    st.tuples(
                        st.just("catch_up"), st.integers(1, 7), st.none() | st.integers(1, 3)
                    ),
                    st.tuples(st.just("restart")),
                ),
                max_size=1,
            )
        )
    return history


def handle(service: Safecomm, data: dict[str, Any], clock: list[int]) -> None:
    """Handle ``data`` with its minutes counted from the history's clock (time moves on)."""
    offset = datetime.fromisoformat(data["occurred_at"]) - BASE
    clock[0] += int(offset.total_seconds() // 60)
    data = {**data, "occurred_at": (BASE + timedelta(minutes=clock[0])).isoformat()}
    with contextlib.suppress(SafecommError):  # refused in the state it met: nothing written
        service.handle(parse_command(data))


# -- a projection whose handler raises on some events, after writing ----------------------

SESSIONS = Table(
    "sessions",
    columns=(
        Column("dispute_id", TEXT, nullable=False),
        Column("held", INTEGER, nullable=False),
        Column("last_at", TIMESTAMP, nullable=False),
    ),
    key=("dispute_id",),
)
FLAKY = Projection("flaky_sessions", version=1, tables=(SESSIONS,))


@FLAKY.handles(Dispute.SessionHeld)
def _session(view: ViewWriter, event: Dispute.SessionHeld, notification_id: int) -> None:
    key = str(event.originator_id)
    row = view.get(SESSIONS, key)
    held = row["held"] + 1 if row else 1
    view.put(SESSIONS, {"dispute_id": key, "held": held, "last_at": event.meta.occurred_at})
    # The notes are sealed (the handler cannot read them): a session with notes fails.
    if not event.notes.empty:
        raise RuntimeError("boom")  # after writing: the runner must take the write back


PROJECTIONS = (DISPUTES, FLAKY)

# -- a projection whose handler succeeds but writes a row the views database refuses -------

NOTES = Table(
    "session_notes",
    columns=(Column("notification_id", INTEGER, nullable=False), Column("notes", TEXT)),
    key=("notification_id",),
)
UNWRITABLE = Projection("unwritable_notes", version=1, tables=(NOTES,))


@UNWRITABLE.handles(Dispute.SessionHeld)
def _note(view: ViewWriter, event: Dispute.SessionHeld, notification_id: int) -> None:
    # A lone surrogate passes the column check but no database can encode it: the row
    # fails only when the batch writes its rows, after every handler has returned.
    # The notes are sealed: a session with notes stands for one no database can write.
    notes = "met" if event.notes.empty else "\ud800"
    view.put(NOTES, {"notification_id": notification_id, "notes": notes})


# -- stores on each backend, opened and reopened --------------------------------------------


def open_retrying(url: str) -> Safecomm:
    """open_store, again when PostgreSQL says "tuple concurrently updated".

    eventsourcing runs CREATE OR REPLACE FUNCTION in the shared schema whenever a store
    opens, so processes opening stores at the same moment (other test runs on the same
    server) can collide there. That is about opening, not about what is tested here.
    """
    for _attempt in range(10):
        try:
            return open_store(url)
        except StoreError as exc:
            if "concurrently updated" not in str(exc):
                raise
            time.sleep(0.1)
    return open_store(url)


class Site:
    """A store URL with its views; ``restart`` closes both and opens them again."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.name = "t" + uuid.uuid4().hex[:12]
        self.url = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{tmp / (self.name + '.db')}",
            "postgres": f"{PG_URL}?name={self.name}",
        }[backend]
        self.service = open_retrying(self.url)
        # memory:// lives in its objects: "restarting" keeps the store and its views.
        self.shared_views = SQLiteViews(":memory:") if backend == "memory" else None
        self.projector = Projector(self.service, self.shared_views)

    def restart(self) -> None:
        if self.backend == "memory":
            self.projector = Projector(self.service, self.shared_views)
            return
        self.projector.close()
        self.service.close()
        self.service = open_retrying(self.url)
        self.projector = Projector(self.service)

    def close(self) -> None:
        self.projector.close()
        self.service.close()
        if self.shared_views is not None:
            self.shared_views.close()
        if self.backend == "postgres":
            drop_pg_tables(self.name)


@pytest.fixture
def site(backend: str, tmp_path: Path) -> Iterator[Site]:
    s = Site(backend, tmp_path)
    yield s
    s.close()


def fresh_digests(service: Safecomm) -> dict[str, str]:
    """Digests of every test projection built from zero in one go, in a scratch database."""
    with Projector(service, SQLiteViews(":memory:")) as scratch:
        digests = {}
        for p in PROJECTIONS:
            scratch.catch_up(p)
            digests[p.name] = scratch.digest(p).value
        scratch.views.close()
    return digests


def assert_rows_match_aggregates(projector: Projector, service: Safecomm) -> None:
    rows = projector.rows(DISPUTES, "disputes")
    for row in rows:
        d = service.get(Dispute, row["ref"])
        assert row["dispute_id"] == str(d.id)
        assert row["status"] == d.status.value
        assert row["sessions"] == d.sessions
        assert row["mediator"] == d.mediator
        assert row["escalated_to_police"] == d.reported_to_police
        assert row["risk_flagged"] == d.risk_flagged
        assert row["first_session_at"] == d.first_session_at
        assert row["closed_at"] == d.closed_at
        assert row["performance"] == (d.performance.value if d.performance else None)
        assert row["follow_ups"] == d.follow_ups
        assert row["legal_aid_referrals"] == d.legal_aid_referrals
        assert row["version"] == d.version
        assert row["reported_on"] == local_date(d.created_meta.occurred_at)


# -- the property -------------------------------------------------------------------------


def check_history(site: Site, history: list[tuple[Any, ...]]) -> None:
    clock = [0]
    for step in history:
        if step[0] == "command":
            handle(site.service, step[1], clock)
        elif step[0] == "catch_up":
            for p in PROJECTIONS:
                site.projector.catch_up(p, batch_size=step[1], max_batches=step[2])
        else:
            site.restart()
    for p in PROJECTIONS:
        progress = site.projector.catch_up(p, batch_size=3)
        assert progress.caught_up
    expected = fresh_digests(site.service)
    for p in PROJECTIONS:
        assert site.projector.digest(p).value == expected[p.name], p.name
        assert site.projector.rebuild_check(p) == []
    assert_rows_match_aggregates(site.projector, site.service)
    sessions_with_boom = sum(1 for s in history if s[0] == "command" and s[1].get("notes"))
    assert len(site.projector.dead_letters(FLAKY)) <= sessions_with_boom


EXAMPLES = {"memory": 60, "sqlite": 12, "postgres": 8}


@pytest.mark.parametrize(
    "backend", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_incremental_catch_up_with_restarts_equals_rebuild(backend: str, tmp_path: Path) -> None:
    @settings(max_examples=EXAMPLES[backend], suppress_health_check=[HealthCheck.data_too_large])
    @given(history=histories())
    def run(history: list[tuple[Any, ...]]) -> None:
        site = Site(backend, tmp_path)
        try:
            check_history(site, history)
        finally:
            site.close()

    run()


# -- the disputes projection ----------------------------------------------------------------


def test_disputes_rows_and_provenance(site: Site) -> None:
    for data in sample_commands():
        site.service.handle(parse_command(data))
    progress = site.projector.catch_up(DISPUTES)
    assert progress.caught_up
    assert progress.swapped
    assert progress.handled == 5  # the five dispute events; receipts are never decoded
    (row,) = site.projector.rows(DISPUTES, "disputes")
    cst = timedelta(hours=8)
    assert row["ref"] == "d-2014-0001"
    assert row["community"] == "C1"
    assert row["source"] == "walk-in"
    assert row["status"] == "agreed"
    assert row["outcome"] == "agreement_written"
    assert row["reported_at"] == datetime(2014, 3, 3, 9, 10, tzinfo=UTC) - cst
    assert row["accepted_at"] == datetime(2014, 3, 3, 9, 30, tzinfo=UTC) - cst
    assert row["first_session_at"] == datetime(2014, 3, 4, 15, 0, tzinfo=UTC) - cst
    assert row["closed_on"].isoformat() == "2014-03-04"
    assert row["settled_on_spot"] is False
    assert row["escalated_to_police"] is False
    facts = {f["fact"]: f for f in site.projector.rows(DISPUTES, "dispute_facts")}
    assert sorted(facts) == ["accepted", "closed", "first_session", "mediator", "reported"]
    stored = {
        n.id: (n.topic, n.originator_version)
        for n in site.service.log.read(0, 100)
        if n.topic.startswith("safecomm/Dispute/")
    }
    for fact in facts.values():
        assert stored[fact["notification_id"]] == (fact["topic"], fact["originator_version"])
    assert facts["closed"]["topic"] == "safecomm/Dispute/AgreementReached"
    assert facts["closed"]["command_id"] == "c-5"


def test_settled_on_the_spot_is_a_patrol_agreement_at_the_moment_of_report(
    memory_service: Safecomm,
) -> None:
    for kind, fields in [
        ("dispute.accept", {}),
        ("dispute.assign_mediator", {"mediator": "patroller"}),
        ("dispute.hold_session", {}),
        ("dispute.reach_agreement", {"form": "oral", "terms": "shake hands"}),
    ]:
        if kind == "dispute.accept":
            memory_service.handle(parse_command(report(1, 0, "patrol")))
            memory_service.handle(parse_command(report(2, 0, "patrol")))
        for dispute, minute in ((1, 0), (2, 30)):  # d-2 settles half an hour later
            memory_service.handle(parse_command(command(kind, dispute, minute, **fields)))
    with Projector(memory_service) as projector:
        projector.catch_up(DISPUTES)
        rows = {r["ref"]: r for r in projector.rows(DISPUTES, "disputes")}
    assert rows["d-1"]["settled_on_spot"] is True
    assert rows["d-2"]["settled_on_spot"] is False
    assert rows["d-1"]["outcome"] == rows["d-2"]["outcome"] == "agreement_oral"


# -- dead letters ---------------------------------------------------------------------------


def test_a_raising_handler_leaves_a_dead_letter_and_the_projection_goes_on(site: Site) -> None:
    site.service.handle(parse_command(report(1, 0)))
    for kind, fields in [
        ("dispute.accept", {}),
        ("dispute.assign_mediator", {"mediator": "m"}),
        ("dispute.hold_session", {}),
        ("dispute.hold_session", {"notes": "boom"}),
        ("dispute.hold_session", {}),
    ]:
        site.service.handle(parse_command(command(kind, 1, 10, **fields)))
    progress = site.projector.catch_up(FLAKY)
    assert progress.caught_up
    assert progress.handled == 3
    assert progress.dead_letters == 1
    (letter,) = site.projector.dead_letters(FLAKY)
    boom = [n for n in site.service.log.read(0, 100) if n.topic == "safecomm/Dispute/SessionHeld"][
        1
    ]
    assert letter.notification_id == boom.id
    assert letter.topic == "safecomm/Dispute/SessionHeld"
    assert letter.originator_version == 5
    assert letter.error_type == "RuntimeError"
    assert letter.error.startswith("RuntimeError: boom")
    # The failing handler's own write was taken back; the events around it were applied.
    (row,) = site.projector.rows(FLAKY, "sessions")
    assert row["held"] == 2
    # Listed once, not again on the next run; a rebuild meets the same poison event.
    assert site.projector.catch_up(FLAKY).handled == 0
    assert len(site.projector.dead_letters()) == 1
    rebuilt = site.projector.rebuild(FLAKY)
    assert rebuilt.dead_letters == 1
    assert [d.notification_id for d in site.projector.dead_letters(FLAKY)] == [boom.id]
    assert site.projector.rebuild_check(FLAKY) == []
    assert site.projector.status(FLAKY).dead_letters == 1


def test_a_row_the_views_database_refuses_is_a_dead_letter_and_the_runner_goes_on(
    site: Site,
) -> None:
    site.service.handle(parse_command(report(1, 0)))
    for kind, fields in [
        ("dispute.accept", {}),
        ("dispute.assign_mediator", {"mediator": "m"}),
        ("dispute.hold_session", {}),
        ("dispute.hold_session", {"notes": "unwritable"}),
        ("dispute.hold_session", {}),
    ]:
        site.service.handle(parse_command(command(kind, 1, 10, **fields)))
    progress = site.projector.catch_up(UNWRITABLE)
    assert progress.caught_up
    assert progress.dead_letters == 1
    held = [n for n in site.service.log.read(0, 100) if n.topic == "safecomm/Dispute/SessionHeld"]
    (letter,) = site.projector.dead_letters(UNWRITABLE)
    assert letter.notification_id == held[1].id
    rows = site.projector.rows(UNWRITABLE, "session_notes")
    assert [(r["notification_id"], r["notes"]) for r in rows] == [
        (held[0].id, "met"),
        (held[2].id, "met"),
    ]
    # The next batch goes on as usual.
    site.service.handle(parse_command(command("dispute.hold_session", 1, 20)))
    assert site.projector.catch_up(UNWRITABLE).dead_letters == 0
    assert len(site.projector.rows(UNWRITABLE, "session_notes")) == 3
    assert site.projector.rebuild_check(UNWRITABLE) == []


def test_handler_writes_are_checked_against_the_columns() -> None:
    when = Column("when", TIMESTAMP)
    with pytest.raises(TypeError, match="timezone-aware"):
        normalise(when, datetime(2014, 1, 1))
    with pytest.raises(ValueError, match="must not be NULL"):
        normalise(Column("n", INTEGER, nullable=False), None)
    with pytest.raises(TypeError, match="wants int"):
        normalise(Column("n", INTEGER), True)
    with pytest.raises(ValueError, match="NUL"):
        normalise(Column("t", TEXT), "a\x00b")
    assert normalise(when, datetime(2014, 1, 1, 8, tzinfo=UTC) + timedelta(0)).tzinfo is UTC


def test_definitions_refuse_what_the_databases_cannot_hold() -> None:
    key = Column("k", TEXT, nullable=False)
    with pytest.raises(ValueError, match="must not be nullable"):
        Table("t", columns=(Column("k", TEXT),), key=("k",))
    with pytest.raises(ValueError, match="no column"):
        Table("t", columns=(key,), key=("x",))
    with pytest.raises(ValueError, match="at most 20"):
        Projection("p", version=1, tables=(Table("a" * 21, columns=(key,), key=("k",)),))
    with pytest.raises(ValueError, match="reserved"):
        Projection("p", version=1, tables=(Table("projection_live", columns=(key,), key=("k",)),))
    with pytest.raises(ValueError, match="already handles"):
        FLAKY.handles(Dispute.SessionHeld)(_session)


def test_shipped_projections_have_distinct_names_and_tables() -> None:
    projections = builtin_projections()
    tables = [t.name for p in projections for t in p.tables]
    assert len({p.name for p in projections}) == len(projections)
    assert len(set(tables)) == len(tables)  # they share one namespace of stable views


# -- blue/green -----------------------------------------------------------------------------

COUNTS = Table(
    "dispute_counts",
    columns=(Column("community", TEXT, nullable=False), Column("n", INTEGER, nullable=False)),
    key=("community",),
)


def counting(version: int, step: int) -> Projection:
    """A projection counting reports per community, by ``step`` (versions differ)."""
    p = Projection("counts", version=version, tables=(COUNTS,))

    @p.handles(Dispute.Reported)
    def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
        row = view.get(COUNTS, event.community)
        view.put(COUNTS, {"community": event.community, "n": (row["n"] if row else 0) + step})

    return p


def stable_view(site: Site) -> dict[str, int]:
    """What a report reading the stable view name sees."""
    views = site.projector.views
    rows = views.fetchall(f'SELECT community, n FROM "{views.name("dispute_counts")}"')
    return dict(rows)


def test_blue_green_swap(site: Site) -> None:
    for i in range(6):
        site.service.handle(parse_command(report(i, i)))
    v1 = counting(1, 1)
    assert site.projector.catch_up(v1).generation == 1
    assert stable_view(site) == {"C1": 2, "C2": 2, "C3": 2}

    # A new version is built beside the live one; readers keep the old rows meanwhile.
    v2 = counting(2, 10)
    half = site.projector.catch_up(v2, batch_size=2, max_batches=1)
    assert not half.swapped
    assert half.generation == 1
    assert stable_view(site) == {"C1": 2, "C2": 2, "C3": 2}
    status = site.projector.status(v2)
    assert status.stale
    assert status.building == ((2, status.building[0][1]),)
    # A new command arrives; the half-built generation is carried on by a new runner
    # (as after a crash) and swapped in only once it has caught up.
    site.service.handle(parse_command(report(9, 9)))
    site.restart()
    done = site.projector.catch_up(v2, batch_size=2)
    assert done.swapped
    assert done.generation == 2
    assert stable_view(site) == {"C1": 30, "C2": 20, "C3": 20}
    assert not site.projector.status(v2).stale
    # The old generation's tables are gone.
    views = site.projector.views
    assert views.fetchall(f'SELECT count(*) FROM "{views.physical("dispute_counts", 2)}"')
    with pytest.raises(ProjectionError):
        views.fetchall(f'SELECT count(*) FROM "{views.physical("dispute_counts", 1)}"')
    # An explicit rebuild goes through a third generation and gives the same rows.
    before = site.projector.digest(v2).value
    assert site.projector.rebuild(v2).generation == 3
    assert site.projector.digest(v2).value == before
    assert stable_view(site) == {"C1": 30, "C2": 20, "C3": 20}


def index_names(views: Any, table: str) -> set[str]:
    """The declared indexes (not the key's) the views database holds on ``table``."""
    if isinstance(views, PostgresViews):
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = ?"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    return {name for (name,) in views.fetchall(sql, (table,)) if "__i" in name}


def test_a_generation_gets_its_indexes_when_it_goes_live(site: Site) -> None:
    for i in range(6):
        site.service.handle(parse_command(report(i, i)))
    by_count = Table("dispute_counts", COUNTS.columns, COUNTS.key, indexes=(("n",),))
    p = Projection("counts", version=1, tables=(by_count,))

    @p.handles(Dispute.Reported)
    def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
        row = view.get(by_count, event.community)
        view.put(by_count, {"community": event.community, "n": (row["n"] if row else 0) + 1})

    views = site.projector.views
    physical = views.physical("dispute_counts", 1)
    assert not site.projector.catch_up(p, batch_size=2, max_batches=1).swapped
    assert index_names(views, physical) == set()  # being built: its key only
    assert site.projector.catch_up(p, batch_size=2).swapped
    assert index_names(views, physical) == {f"{physical}__i0"}
    assert stable_view(site) == {"C1": 2, "C2": 2, "C3": 2}


def test_a_changed_table_builds_a_new_generation(memory_service: Safecomm) -> None:
    memory_service.handle(parse_command(report(1, 0)))
    wider = Table(
        "dispute_counts",
        columns=(*COUNTS.columns, Column("note", TEXT)),
        key=("community",),
    )
    with Projector(memory_service) as projector:
        projector.catch_up(counting(1, 1))
        same_version = Projection("counts", version=1, tables=(wider,))

        @same_version.handles(Dispute.Reported)
        def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
            view.put(wider, {"community": event.community, "n": 7, "note": "x"})

        progress = projector.catch_up(same_version)
        assert progress.swapped
        assert projector.rows(same_version, "dispute_counts")[0]["note"] == "x"


# -- the store and the views must belong together ---------------------------------------------


def test_views_of_another_store_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_store(url) as service, Projector(service) as projector:
        service.handle(parse_command(report(1, 0)))
        service.handle(parse_command(report(2, 0)))
        projector.catch_up(DISPUTES)
    (tmp_path / "a.db").unlink()  # the store is replaced; the views file stays
    with open_store(url) as service, Projector(service) as projector:
        service.handle(parse_command(report(3, 0)))
        service.handle(parse_command(report(4, 0)))
        service.handle(parse_command(report(5, 0)))
        with pytest.raises(ProjectionError, match="another store"):
            projector.catch_up(DISPUTES)
        projector.rebuild(DISPUTES)  # the way out the message names
        refs = sorted(r["ref"] for r in projector.rows(DISPUTES, "disputes"))
        assert refs == ["d-3", "d-4", "d-5"]


def test_views_sit_beside_a_sqlite_store_and_are_read_while_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}"
    with open_store(url) as service, Projector(service) as projector:
        service.handle(parse_command(report(1, 0)))
        projector.catch_up(DISPUTES)
    reader = sqlite3.connect(tmp_path / "office.views.db")
    assert reader.execute("SELECT ref FROM disputes").fetchall() == [("d-1",)]
    assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reader.close()


# -- concurrent runners -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_runners_at_once_apply_each_event_once(backend: str, tmp_path: Path) -> None:
    import threading

    site = Site(backend, tmp_path)
    try:
        for i in range(40):
            site.service.handle(parse_command(report(i, i)))
            site.service.handle(parse_command(command("dispute.accept", i, i + 1)))
        errors: list[BaseException] = []

        # Opened one after the other: opening is not what is tested (eventsourcing's
        # CREATE … IF NOT EXISTS can race on PostgreSQL); projecting at once is.
        stores = [open_retrying(site.url) for _ in range(3)]
        projectors = [Projector(s, batch_size=3) for s in stores]

        def run(p: Projector) -> None:
            try:
                for projection in PROJECTIONS:
                    p.catch_up(projection)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(p,)) for p in projectors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p, s in zip(projectors, stores, strict=True):
            p.close()
            s.close()
        assert errors == []
        expected = fresh_digests(site.service)
        assert site.projector.digest(DISPUTES).value == expected["disputes"]
        assert site.projector.rebuild_check(DISPUTES) == []
        assert len(site.projector.rows(DISPUTES, "disputes")) == 40
    finally:
        site.close()


# -- the command ------------------------------------------------------------------------------


def test_cli_projects_checks_and_lists_dead_letters(tmp_path: Path) -> None:
    from safecomm_cli.main import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(SAMPLE), "--store", url]).exit_code == 0
    result = runner.invoke(main, ["project", "--store", url, "--batch", "2", "--check"])
    assert result.exit_code == 0, result.output
    assert "disputes: generation 1 at 10 of 10; 5 events handled, 0 dead letters" in result.output
    assert "disputes: a rebuild equals the live view" in result.output
    again = runner.invoke(main, ["project", "--store", url, "--rebuild", "--dead-letters"])
    assert again.exit_code == 0, again.output
    assert "generation 3" in again.output  # the check used generation 2
    unknown = runner.invoke(main, ["project", "--store", url, "--only", "nope"])
    assert unknown.exit_code == 2
    assert "no projection nope" in unknown.output


def test_public_api_is_sorted_and_imports_no_driver() -> None:
    import subprocess
    import sys

    import safecomm_core.projections as api

    names = api.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(hasattr(api, n) for n in names)
    probe = "import sys, safecomm_core.projections; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # psycopg only when a PostgreSQL store is used


def test_follow_projects_new_events_until_stopped(memory_service: Safecomm) -> None:
    import threading

    stop = threading.Event()
    seen: list[int] = []
    with Projector(memory_service) as projector:
        follower = threading.Thread(
            target=projector.follow,
            args=([DISPUTES],),
            kwargs={"poll": 0.02, "stop": stop, "on_progress": lambda p: seen.append(p.position)},
        )
        follower.start()
        try:
            for i in range(3):
                memory_service.handle(parse_command(report(i, i)))
                head = memory_service.log.head()
                deadline = time.monotonic() + 10
                while not seen or seen[-1] < head:
                    assert time.monotonic() < deadline, "the follower did not catch up"
                    time.sleep(0.01)
        finally:
            stop.set()
            follower.join(10)
        assert not follower.is_alive()
        assert len(projector.rows(DISPUTES, "disputes")) == 3


def test_cli_follow_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'follow.db'}"
    code = "from safecomm_cli.main import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "project", "--store", url, "--follow", "--poll", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open_store(url) as service, Projector(service) as look:
            service.handle(parse_command(report(1, 0)))
            deadline = time.monotonic() + 60
            while look.status(DISPUTES).position < service.log.head():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the follower did not catch up"
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "disputes: generation 1 at 2 of 2" in out


def test_older_code_does_not_undo_a_newer_view(memory_service: Safecomm) -> None:
    memory_service.handle(parse_command(report(1, 0)))
    with Projector(memory_service) as projector:
        projector.catch_up(counting(2, 10))
        with pytest.raises(ProjectionError, match="built by version 2"):
            projector.catch_up(counting(1, 1))
        with pytest.raises(ProjectionError, match="built by version 2"):
            projector.rebuild(counting(1, 1))
        assert projector.rows(counting(2, 10), "dispute_counts")[0]["n"] == 10


@pytest.mark.postgres
def test_refuses_a_store_whose_notification_ids_may_commit_out_of_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "t" + uuid.uuid4().hex[:12]
    monkeypatch.setenv("POSTGRES_ENABLE_DB_FUNCTIONS", "y")
    try:
        with (
            open_retrying(f"{PG_URL}?name={name}") as service,
            pytest.raises(ProjectionError, match="out of order"),
        ):
            Projector(service)
    finally:
        drop_pg_tables(name)


def test_writer_reads_its_own_writes_and_takes_changes_back() -> None:
    from safecomm_core.projections import RowExists

    db = SQLiteViews(":memory:")
    db.setup()
    p = Projection("writer", version=1, tables=(COUNTS,))
    db.create_table(db.physical("dispute_counts", 1), COUNTS)
    with db.transaction():
        w = ViewWriter(db, p, 1)
        w.insert(COUNTS, {"community": "C1", "n": 1})
        w.insert("dispute_counts", {"community": "C2", "n": 2})
        w.flush()
    with db.transaction():
        w = ViewWriter(db, p, 1)
        with pytest.raises(RowExists):
            w.insert(COUNTS, {"community": "C1", "n": 5})
        assert w.update(COUNTS, "C9", n=1) is False
        assert w.delete(COUNTS, "C9") is False
        with pytest.raises(ValueError, match="key column"):
            w.update(COUNTS, "C1", community="C7")
        with pytest.raises(KeyError, match="no column"):
            w.put(COUNTS, {"community": "C1", "n": 1, "typo": 2})
        w.begin()
        w.put(COUNTS, {"community": "C3", "n": 1})  # written without being read
        assert w.delete(COUNTS, "C1")
        assert w.update(COUNTS, "C2", n=1)
        # find sees the batch's writes over what the database holds
        assert [r["community"] for r in w.find(COUNTS, n=1)] == ["C2", "C3"]
        w.undo()
        assert [r["community"] for r in w.find(COUNTS, n=1)] == ["C1"]
        assert w.get(COUNTS, "C3") is None
        w.put(COUNTS, {"community": "C2", "n": 9})
        w.begin()  # what came before stays whatever the next undo takes back
        w.put(COUNTS, {"community": "C2", "n": 10})
        w.undo()
        w.flush()
    assert dict(db.fetchall('SELECT community, n FROM "dispute_counts__g1"')) == {"C1": 1, "C2": 9}
    db.close()


_TYPED = Table(
    "typed",
    columns=(
        Column("id", TEXT, nullable=False),
        Column("at", TIMESTAMP),
        Column("on", DATE),
        Column("flag", BOOLEAN),
        Column("count", INTEGER),
    ),
    key=("id",),
)


def test_a_row_decoder_reads_each_column_as_decode_does() -> None:
    table = _TYPED
    views = SQLiteViews(":memory:")
    try:
        for stored in (
            ("a", "2014-03-01T08:00:00.000000+00:00", "2014-03-01", 1, 3),
            ("b", None, None, None, None),
        ):
            decoded = views.decode_row(table, stored)
            assert decoded == {
                c.name: views.decode(c, v) for c, v in zip(table.columns, stored, strict=True)
            }
            assert views.encode_row(table, decoded) == list(stored)
        assert views.decode_row(table, ("a", None, None, 0, 0))["flag"] is False
    finally:
        views.close()


@pytest.mark.postgres
def test_a_postgres_row_decoder_reads_each_column_as_decode_does() -> None:
    # psycopg hands back Python values; only timestamps change (to UTC, as rows keep them).
    views = PostgresViews(PG_URL, "decoder")
    try:
        at = datetime(2014, 3, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))
        for stored in (("a", at, date(2014, 3, 1), True, 3), ("b", None, None, None, None)):
            decoded = views.decode_row(_TYPED, stored)
            assert decoded == {
                c.name: views.decode(c, v) for c, v in zip(_TYPED.columns, stored, strict=True)
            }
        decoded = views.decode_row(_TYPED, ("a", at, date(2014, 3, 1), False, 0))
        assert decoded["at"] == at
        assert decoded["at"].tzinfo is UTC  # what PostgresViews.decoded must not leave out
        assert decoded["flag"] is False
    finally:
        views.close()


def test_catching_up_together_equals_one_by_one(
    service: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecomm_demo import scenario_commands

    from safecomm_core.projections import runner

    for command in scenario_commands(2014, 0.01)[:400]:
        service.handle(command)
    monkeypatch.setattr(runner, "WINDOW", 97)  # many windows, none on a batch's edge
    projections = builtin_projections()
    with (
        Projector(service, SQLiteViews(":memory:")) as together,
        Projector(service, SQLiteViews(":memory:")) as alone,
    ):
        done = together.catch_up_all(projections)
        assert [p.projection for p in done] == [p.name for p in projections]
        assert all(p.caught_up for p in done)
        assert sum(p.handled for p in done) > service.log.head()  # evidence reads them all
        for projection in projections:
            one = alone.catch_up(projection)
            assert one.handled == next(p.handled for p in done if p.projection == projection.name)
            assert together.digest(projection) == alone.digest(projection)
        # Nothing new: nothing handled, and the shared events are not kept.
        assert [p.handled for p in together.catch_up_all(projections)] == [0] * len(projections)
        assert together._window is None


def test_a_long_catch_up_checkpoints_its_log_less_often(
    memory_service: Safecomm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecomm_core.projections import database, runner

    views = SQLiteViews(str(tmp_path / "views.db"))
    usual = views.fetchall("PRAGMA wal_autocheckpoint")[0][0]
    assert usual == database._CHECKPOINT_PAGES
    # The log grown in bulk is cut back to the usual checkpoint's size when next reset.
    assert views.fetchall("PRAGMA journal_size_limit")[0][0] == usual * 4096
    seen: list[int] = []
    p = Projection("counts", version=1, tables=(COUNTS,))

    @p.handles(Dispute.Reported)
    def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
        seen.append(views.fetchall("PRAGMA wal_autocheckpoint")[0][0])
        row = view.get(COUNTS, event.community)
        view.put(COUNTS, {"community": event.community, "n": (row["n"] if row else 0) + 1})

    for i in range(6):
        memory_service.handle(parse_command(report(i, i)))
    monkeypatch.setattr(runner, "WINDOW", 4)  # twelve events: three windows behind
    with Projector(memory_service, views) as projector:
        projector.catch_up_all([p])
        assert seen == [database._BULK_CHECKPOINT_PAGES] * 6
        assert views.fetchall("PRAGMA wal_autocheckpoint")[0][0] == usual
        memory_service.handle(parse_command(report(6, 6)))  # within a window: as usual
        projector.catch_up_all([p])
        assert seen[6:] == [usual]
        projector.rebuild(p)  # a rebuild is always in bulk
        assert seen[7:] == [database._BULK_CHECKPOINT_PAGES] * 7
        assert views.fetchall("PRAGMA wal_autocheckpoint")[0][0] == usual
    views.close()


def test_reports_read_with_a_small_page_cache(memory_service: Safecomm, tmp_path: Path) -> None:
    from safecomm_core.projections import database
    from safecomm_core.projections.disputes import DISPUTE_ROWS
    from safecomm_core.reports.reading import read_views
    from safecomm_core.reports.register import PROJECTIONS, Register, load

    views = SQLiteViews(str(tmp_path / "views.db"))

    def cache() -> int:
        return int(views.fetchall("PRAGMA cache_size")[0][0])

    for i in range(3):
        memory_service.handle(parse_command(report(i, i)))
    with Projector(memory_service, views) as projector:
        projector.catch_up_all(list(PROJECTIONS))
        assert cache() == -database._CACHE_KIB
        with read_views(projector, PROJECTIONS) as read:
            assert cache() == -database._LEAN_CACHE_KIB
            assert len(read.rows(DISPUTE_ROWS)) == 3
        assert cache() == -database._CACHE_KIB  # writing has its cache back
        with pytest.raises(ZeroDivisionError), read_views(projector, PROJECTIONS):
            _ = 1 / 0
        assert cache() == -database._CACHE_KIB
        assert isinstance(load(projector), Register)
    views.close()
