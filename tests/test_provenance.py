"""Provenance for every figure of every report, and replays of every report.

``explain`` answers for each figure the monthly report, the self-assessment and the
watchlist give, with the very figure the report gives; hand-worked histories check what it
names. Each of the three reports replays known at now to the live report.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit import Cut, replay_named_report
from safecomm_core.audit.report_replay import REPORTS
from safecomm_core.domain.phase import PhaseId
from safecomm_core.reports import Report, monthly_report, self_assessment, watchlist
from safecomm_core.reports.provenance import EXPLAINED, explain
from tests.assessing import FULL_AS_OF, History, at, full_history
from tests.test_monthly import Desk, disputes
from tests.test_participation import history as participation_history


@pytest.fixture
def everything(memory_service: Safecomm) -> Safecomm:
    """Disputes, populations and named participants (March 2014), and a little of
    everything the self-assessment and the watchlist read (alerts too, to June 2014)."""
    desk = Desk(memory_service)
    disputes(desk)
    participation_history(desk)
    full_history(memory_service)
    return memory_service


def test_every_report_figure_is_explained_as_the_report_gives_it(everything: Safecomm) -> None:
    monthly = monthly_report(everything, "2014-03")
    assessed = self_assessment(everything, as_of=FULL_AS_OF)
    assessed_c1 = self_assessment(everything, as_of=FULL_AS_OF, community="C1")
    figures = [*monthly.figures, *assessed.figures, *assessed_c1.figures]
    assert {f.id for f in figures} == {i for i, r in EXPLAINED.items() if r != "watchlist"}
    for figure in figures:
        found = explain(everything, figure.id, figure.period, figure.scope)
        assert found.figure == figure, (figure.id, figure.scope)


def test_every_watchlist_count_is_explained_row_by_row(everything: Safecomm) -> None:
    for scope in ("*", "C1"):
        report = watchlist(everything, as_of=FULL_AS_OF, community=None if scope == "*" else scope)
        sections = {s.id: s for s in report.sections}
        counts = {row[0]: row[3] for row in sections["summary"].rows}
        assert set(counts) == {i for i, r in EXPLAINED.items() if r == "watchlist"}
        for list_id, count in counts.items():
            found = explain(everything, list_id, FULL_AS_OF.isoformat(), scope)
            assert found.figure.value == count
            assert [cells for cells, _ in found.rows] == list(sections[list_id].rows)
            # every row rests on at least one stored event
            assert all(events for _, events in found.rows), list_id


def test_action_on_time_rate_names_assignments_and_closings(memory_service: Safecomm) -> None:
    """Actions of meeting m-10 (October 2013), as of 25 January 2014:

    a-1 due 15 Nov, closed 10 Nov (on time); a-2 due 30 Nov, closed 5 Dec (late);
    a-3 due 20 Jan, open (overdue); a-4 due 28 Feb (not yet due).
    Rate: 1 of 3. Numerator: a-1's assignment and closing; denominator: the three
    assignments.
    """
    h = History(memory_service)
    h.phase(PhaseId.P2, date(2013, 10, 1), date(2014, 8, 31))
    h.meeting("m-10", "2013-10", at(2013, 10, 28))
    for action, due in (
        ("a-1", date(2013, 11, 15)),
        ("a-2", date(2013, 11, 30)),
        ("a-3", date(2014, 1, 20)),
        ("a-4", date(2014, 2, 28)),
    ):
        h.action("m-10", action, at(2013, 10, 28), due=due)
    h.close_action("m-10", "a-1", at(2013, 11, 10))
    h.close_action("m-10", "a-2", at(2013, 12, 5))
    found = explain(memory_service, "action_on_time_rate", "2014-01-25")
    assert (found.figure.numerator, found.figure.denominator) == (1, 3)
    assert found.report == "self-assessment"
    assert [(e.kind, e.ref, e.event) for e in found.numerator] == [
        ("meeting", "m-10", "ActionAssigned"),
        ("meeting", "m-10", "ActionClosed"),
    ]
    assert [e.event for e in found.denominator] == ["ActionAssigned"] * 3
    # the month is its last day
    assert explain(memory_service, "action_on_time_rate", "2014-01").figure.period == "2014-01-31"


def test_a_watchlist_row_names_the_event_that_put_it_there(memory_service: Safecomm) -> None:
    """d-1 accepted on 2 May 2014 and never closed: past the 30 days to settle on 20 June."""
    h = History(memory_service)
    h.dispute("d-1", at(2014, 5, 1))
    h.accept("d-1", at(2014, 5, 2))
    found = explain(memory_service, "settlement_overdue", "2014-06-20")
    assert found.figure.value == 1
    ((cells, events),) = found.rows
    assert cells[0] == "d-1"
    assert [(e.kind, e.ref, e.event) for e in events] == [("dispute", "d-1", "Accepted")]


def _same(replayed: Report, live: Report) -> None:
    def shown(report: Report) -> dict[str, Any]:
        return attrs.asdict(attrs.evolve(report, generated_at=datetime(2000, 1, 1, tzinfo=UTC)))

    assert shown(replayed) == shown(live)


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_replays_known_at_now_to_the_live_one(name: str, service: Safecomm) -> None:
    full_history(service)
    participation_history(Desk(service))
    now = Cut.known_at(datetime.now(UTC))
    live = {
        "monthly": lambda: monthly_report(service, "2014-03", "C1"),
        "self-assessment": lambda: self_assessment(service, as_of=FULL_AS_OF, community="C1"),
        "watchlist": lambda: watchlist(service, as_of=FULL_AS_OF, community="C1"),
    }[name]()
    period = "2014-03" if name == "monthly" else FULL_AS_OF.isoformat()
    _same(replay_named_report(service, now, name, period, "C1"), live)
    # as of a time: late entries in, the same here (every fact occurred long before)
    _same(replay_named_report(service, Cut.as_of(datetime.now(UTC)), name, period, "C1"), live)


def test_the_command_line_explains_and_replays_each_report(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        full_history(service)
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(main, [*args, "--store", url])
        assert result.exit_code == 0, result.output
        return result.stdout

    text = run("report", "explain", "action_on_time_rate", "--as-of", "2014-06-20")
    assert text.startswith("action_on_time_rate 2014-06-20 scope *: 0 / 1 = 0")
    listed = json.loads(
        run("report", "explain", "settlement_overdue", "--period", "2014-06", "--json")
    )
    assert listed["report"] == "watchlist"
    assert listed["figure"]["period"] == "2014-06-30"
    assert all(row["events"] for row in listed["rows"])
    for name in REPORTS:
        replayed = json.loads(
            run("audit", "replay", "--known-at", "2030-01-01", "--report", name,
                "--period", "2014-06")
        )  # fmt: skip
        assert replayed["kind"] == name
    # a monthly figure wants a month, the others a day or a month
    bad = runner.invoke(
        main,
        ["report", "explain", "mediation_success_rate", "--as-of", "2014-06-20", "--store", url],
    )
    assert bad.exit_code == 2
