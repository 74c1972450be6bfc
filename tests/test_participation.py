"""Participation by register (``participation_register_rate``): people named as present at
campaigns, each once, as a share of the recorded population; beside the survey's figure.

Expected figures are worked out by hand beside each history.
"""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import RuleViolation, Safecomm
from safecomm_core.errors import InvalidCommand
from safecomm_core.reports import monthly_report
from safecomm_core.reports.provenance import explain
from tests.test_monthly import Desk, at, figures, nums
from tests.test_population import population


def campaign(desk: Desk, ref: str, community: str, day: str, attendance: int) -> None:
    desk(
        "campaign.plan",
        at(day, 8),
        campaign_id=ref,
        community=community,
        title="法制宣传",
        theme="legal",
        measures=["M1.1"],
        planned_on=day,
    )
    desk(
        "campaign.hold",
        at(day, 10),
        campaign_id=ref,
        place="社区广场",
        audiences=["residents"],
        attendance=attendance,
    )


def named(desk: Desk, ref: str, day: str, *people: str) -> None:
    desk(
        "campaign.record_participants",
        at(day, 12),
        campaign_id=ref,
        participants=[{"ref": p, "name": "王某", "phone": "13800001234"} for p in people],
    )


def history(desk: Desk) -> None:
    """C1: 1,000 people (800 + 200); C2: 500 (450 + 50).

    ====  ===  ==========  ==========  =========================
    camp  in   held        attendance  named
    ====  ===  ==========  ==========  =========================
    cp-1  C1   2014-01-10  40          p1, p2, p3
    cp-2  C1   2014-02-14  25          p1, p4 (p1 again)
    cp-3  C2   2014-03-05  30          p1, p5 (p1 in C2 too)
    cp-4  C2   2014-03-20  60          — (a head count only)
    cp-5  C1   2013-02-01  10          p9 (more than twelve months before March 2014)
    ====  ===  ==========  ==========  =========================

    March 2014 (twelve months from April 2013): C1 p1..p4 = 4 / 1,000; C2 p1, p5 =
    2 / 500; the subdistrict p1..p5 once each = 5 / 1,500 (not 6: p1 once).
    """
    population(desk, "C1", "2013-01-01", 800, 200, recorded=at("2013-01-05"))
    population(desk, "C2", "2013-01-01", 450, 50, recorded=at("2013-01-05"))
    campaign(desk, "cp-5", "C1", "2013-02-01", 10)
    named(desk, "cp-5", "2013-02-01", "p9")
    campaign(desk, "cp-1", "C1", "2014-01-10", 40)
    named(desk, "cp-1", "2014-01-10", "p1", "p2")
    named(desk, "cp-1", "2014-01-11", "p3")  # the rest of the sheet, entered next day
    campaign(desk, "cp-2", "C1", "2014-02-14", 25)
    named(desk, "cp-2", "2014-02-14", "p1", "p4")
    campaign(desk, "cp-3", "C2", "2014-03-05", 30)
    named(desk, "cp-3", "2014-03-05", "p1", "p5")
    campaign(desk, "cp-4", "C2", "2014-03-20", 60)


def test_each_person_counts_once_per_scope_beside_the_survey(memory_service: Safecomm) -> None:
    history(Desk(memory_service))
    report = monthly_report(memory_service, "2014-03")
    got = figures(report)
    assert nums(got["participation_register_rate", "C1"]) == (4, 1000, 0.004)
    assert nums(got["participation_register_rate", "C2"]) == (2, 500, 0.004)
    assert nums(got["participation_register_rate", "*"]) == (5, 1500, pytest.approx(5 / 1500))
    assert got["participation_register_rate", "*"].basis == "register"
    assert got["participation_rate", "*"].basis == "survey"  # the survey's, beside it
    # head counts stay: March's campaigns, their attendance and, of it, the people named
    campaigns = {s.id: s for s in report.sections}["campaigns"]
    assert [r[:4] for r in campaigns.rows] == [("C2", 2, 90, 2)]
    # January 2014: the twelve months from February 2013 still hold cp-5: p1, p2, p3, p9
    january = explain(memory_service, "participation_register_rate", "2014-01", "C1")
    assert (january.figure.numerator, january.figure.denominator) == (4, 1000)
    assert [e.ref for e in january.numerator] == ["cp-5", "cp-1", "cp-1"]


def test_explain_names_the_event_that_first_named_each_person(memory_service: Safecomm) -> None:
    history(Desk(memory_service))
    c1 = explain(memory_service, "participation_register_rate", "2014-03", "C1")
    # p1, p2 (first sheet), p3 (second sheet), p4 (cp-2): p1's cp-2 naming is not counted
    assert [(e.ref, e.event) for e in c1.numerator] == [
        ("cp-1", "ParticipantsRecorded"),
        ("cp-1", "ParticipantsRecorded"),
        ("cp-2", "ParticipantsRecorded"),
    ]
    assert [(e.kind, e.ref) for e in c1.denominator] == [("population", "C1/2013-01-01")]


def test_names_stay_sealed(memory_service: Safecomm) -> None:
    history(Desk(memory_service))
    stored = b"".join(n.state for n in memory_service.log.read(0, 10_000))
    assert "王某".encode() not in stored
    assert b"13800001234" not in stored


def test_without_a_population_the_figure_is_left_out(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    campaign(desk, "cp-1", "C1", "2014-01-10", 40)
    named(desk, "cp-1", "2014-01-10", "p1")
    assert ("participation_register_rate", "C1") not in figures(
        monthly_report(memory_service, "2014-01")
    )


@pytest.mark.parametrize(
    ("people", "error", "field"),
    [
        (("p1", "p1"), InvalidCommand, "participants"),
        (("p2", "p3", "p4"), RuleViolation, "participants"),  # 3 named of 2 present... of 3
        (("p0",), RuleViolation, "participants[0].ref"),  # already named
    ],
)
def test_named_people_are_distinct_and_no_more_than_attended(
    people: tuple[str, ...], error: type[Exception], field: str, memory_service: Safecomm
) -> None:
    desk = Desk(memory_service)
    campaign(desk, "cp-1", "C1", "2014-01-10", 3)
    named(desk, "cp-1", "2014-01-10", "p0")
    head = memory_service.log.head()
    with pytest.raises(error) as refused:
        named(desk, "cp-1", "2014-01-11", *people)
    errors: Any = getattr(refused.value, "errors", None)
    assert (errors[0].field if errors else refused.value.field) == field  # type: ignore[attr-defined]
    assert memory_service.log.head() == head  # nothing written


def test_people_are_named_only_at_a_campaign_held(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    desk(
        "campaign.plan",
        at("2014-01-02"),
        campaign_id="cp-1",
        community="C1",
        title="法制宣传",
        theme="legal",
        measures=["M1.1"],
        planned_on="2014-01-10",
    )
    with pytest.raises(Exception, match="planned"):
        named(desk, "cp-1", "2014-01-10", "p1")
