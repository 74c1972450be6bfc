"""The self-assessment: measures and elements against recorded evidence, phase progress and
gaps, each checked on hand-built histories as of given days."""

from __future__ import annotations

from datetime import date

from safecomm_core import Safecomm
from safecomm_core.commands import phase as pc
from safecomm_core.commands import survey as sc
from safecomm_core.coverage import PLAN_MEASURES
from safecomm_core.domain.phase import PhaseId, ReviewKind
from safecomm_core.domain.survey import Wave
from safecomm_core.reports.assessment import ELEMENTS, GAP_KINDS, measures_served
from tests.assessing import History, at, evidence, figure, rows, self_assessment_of


def gaps(report: object) -> set[tuple[str, str, object]]:
    return {(g["gap"], g["subject"], g["detail"]) for g in rows(report, "gaps")}  # type: ignore[arg-type]


def by_id(report: object, section: str, key: str) -> dict[str, dict[str, object]]:
    return {r[key]: r for r in rows(report, section)}  # type: ignore[arg-type]


def test_an_empty_record_has_no_evidence_for_any_measure_or_element(
    memory_service: Safecomm,
) -> None:
    report = self_assessment_of(memory_service, date(2014, 12, 31))
    assert {(g, s) for g, s, _ in gaps(report)} == {("no_evidence", m.id) for m in PLAN_MEASURES}
    elements = by_id(report, "elements", "element")
    assert [e.id for e in ELEMENTS] == [f"E{n}" for n in range(1, 13)]
    assert {e["status"] for e in elements.values()} == {"gap"}
    assert figure(report, "measure_evidence_coverage") == (0, 27)
    assert figure(report, "phase_completion_rate") == (0, 0)
    rates = {f.id: f.value for f in report.figures}
    assert rates["phase_completion_rate"] is None  # nothing due: not applicable, never 0
    assert [r["gap"] for r in rows(report, "gap_kinds")] == list(GAP_KINDS)


def test_a_measure_has_evidence_from_the_commands_that_serve_it_by_the_day(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1))
    h.accept("d-1", at(2014, 3, 2))  # accept + assign mediator: two commands
    h.dispute("d-2", at(2014, 4, 1))

    march = by_id(self_assessment_of(memory_service, date(2014, 3, 31)), "measures", "measure")
    assert (march["M1.2"]["facts"], march["M1.2"]["events"], march["M1.2"]["latest"]) == (
        3,
        3,
        "2014-03-02",
    )
    assert (march["M3.5"]["facts"], march["M3.5"]["status"]) == (1, "evidence")  # report only
    assert march["M1.3"]["status"] == "no_evidence"
    april = by_id(self_assessment_of(memory_service, date(2014, 4, 30)), "measures", "measure")
    assert (april["M1.2"]["facts"], april["M1.2"]["latest"]) == (4, "2014-04-01")


def test_a_fact_entered_late_counts_from_when_it_occurred(memory_service: Safecomm) -> None:
    h = History(memory_service)
    before = self_assessment_of(memory_service, date(2014, 3, 31))
    assert ("no_evidence", "M1.2", None) in gaps(before)
    h.dispute("d-1", at(2014, 3, 1))  # typed in from paper today
    after = self_assessment_of(memory_service, date(2014, 3, 31))
    assert ("no_evidence", "M1.2", None) not in gaps(after)
    assert ("no_evidence", "M1.2", None) in gaps(
        self_assessment_of(memory_service, date(2014, 2, 28))
    )


def test_phase_commands_count_only_for_their_own_phase(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.phase(PhaseId.P3, date(2014, 4, 1), date(2014, 4, 30), ("推进会",))
    h.do(pc.StartPhase, at(2014, 4, 1), phase_id=PhaseId.P3)
    h.do(pc.RecordDeliverable, at(2014, 4, 10), phase_id=PhaseId.P3, name="推进会",
         evidence=evidence("推进会"))  # fmt: skip
    measures = by_id(self_assessment_of(memory_service, date(2014, 4, 30)), "measures", "measure")
    # started and a deliverable; planning it is bookkeeping, not evidence of its work
    assert (measures["P3"]["facts"], measures["P3"]["deliverables"]) == (2, 1)
    for other in ("P1", "P2", "P4", "P5", "P6", "P7"):
        assert measures[other]["facts"] == 0, other
    assert measures_served("phase.start", "P3") == ("P3",)
    assert measures_served("phase.plan", "P3") == measures_served("phase.mark_overdue", "P3") == ()
    assert measures_served("target.set", None) == ("P1", "S1")
    assert measures_served("no.such_command", None) == ()


def test_a_survey_wave_is_evidence_of_its_own_phase_and_responses_are_counted(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.do(sc.OpenSurveyWave, at(2013, 10, 15), survey_id="s-base", wave=Wave.BASELINE,
         sample_target=100)  # fmt: skip
    measures = by_id(self_assessment_of(memory_service, date(2013, 10, 31)), "measures", "measure")
    assert measures["P1"]["facts"] == 1
    assert measures["P4"]["facts"] == measures["P6"]["facts"] == 0
    assert measures["S6"]["facts"] == 1
    assert measures["S6"]["survey_responses"] == 0


def test_phase_progress_overdue_late_and_missing_deliverables_as_of_the_day(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.phase(PhaseId.P1, date(2013, 10, 1), date(2013, 10, 31), ("诊断报告", "实施方案"))
    h.do(pc.StartPhase, at(2013, 10, 2), phase_id=PhaseId.P1)
    h.do(pc.RecordDeliverable, at(2013, 10, 20), phase_id=PhaseId.P1, name="诊断报告",
         evidence=evidence("诊断报告"))  # fmt: skip

    during = self_assessment_of(memory_service, date(2013, 10, 31))
    p1 = by_id(during, "phases", "phase")["P1"]
    assert (p1["status"], p1["overdue_days"], p1["deliverables"]) == ("started", None, "1/2")
    assert not {g for g in gaps(during) if g[0] in ("phase_overdue", "deliverable_missing")}

    after = self_assessment_of(memory_service, date(2013, 11, 10))
    p1 = by_id(after, "phases", "phase")["P1"]
    assert (p1["overdue_days"], p1["missing"], p1["documents"]) == (10, "实施方案", 1)
    assert {("phase_overdue", "P1", 10), ("deliverable_missing", "P1", "实施方案")} <= gaps(after)
    assert figure(after, "phase_completion_rate") == (0, 1)
    assert figure(after, "deliverable_completion_rate") == (1, 2)

    h.do(pc.MarkPhaseOverdue, at(2013, 11, 4), phase_id=PhaseId.P1)
    h.do(pc.CompletePhase, at(2013, 11, 20), phase_id=PhaseId.P1)
    done = self_assessment_of(memory_service, date(2013, 11, 30))
    p1 = by_id(done, "phases", "phase")["P1"]
    assert (p1["status"], p1["completed"], p1["completed_late"], p1["marked_overdue"]) == (
        "completed",
        "2013-11-20",
        "yes",
        "2013-11-04",
    )
    assert p1["overdue_days"] is None
    assert not {g for g in gaps(done) if g[0] == "phase_overdue"}
    assert ("phase_completed_late", "P1", 20) in gaps(done)
    assert ("deliverable_missing", "P1", "实施方案") in gaps(done)  # completed one short
    assert figure(done, "phase_completion_rate") == (1, 1)
    # as of a day before completion, it was still overdue
    assert ("phase_overdue", "P1", 14) in gaps(
        self_assessment_of(memory_service, date(2013, 11, 14))
    )


def test_reviews_and_the_self_assessment_score(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.phase(PhaseId.P4, date(2014, 5, 1), date(2014, 8, 31))
    h.phase(PhaseId.P6, date(2014, 9, 1), date(2014, 12, 31))
    h.do(pc.StartPhase, at(2014, 5, 1), phase_id=PhaseId.P4)
    assert ("review_missing", "P4", "mid-term") in gaps(
        self_assessment_of(memory_service, date(2014, 9, 1))
    )
    h.do(pc.HoldPhaseReview, at(2014, 8, 20), phase_id=PhaseId.P4, kind=ReviewKind.MID_TERM,
         findings="on track")  # fmt: skip
    september = self_assessment_of(memory_service, date(2014, 9, 1))
    assert not {g for g in gaps(september) if g[0] == "review_missing"}
    assert ("no_self_assessment", "P6", None) in gaps(september)
    assert "no_self_assessment" not in {
        g[0] for g in gaps(self_assessment_of(memory_service, date(2014, 8, 31)))
    }

    h.do(pc.StartPhase, at(2014, 9, 1), phase_id=PhaseId.P6)
    h.do(pc.HoldPhaseReview, at(2014, 11, 5), phase_id=PhaseId.P6,
         kind=ReviewKind.SELF_ASSESSMENT, findings="mostly met", score=86)  # fmt: skip
    november = self_assessment_of(memory_service, date(2014, 11, 30))
    assert ("self_assessment_score", "P6", 14) in gaps(november)
    assert "no_self_assessment" not in {g[0] for g in gaps(november)}
    p6 = by_id(november, "phases", "phase")["P6"]
    assert (p6["reviews"], p6["score"]) == ("self-assessment", 86)
    e12 = by_id(november, "elements", "element")["E12"]
    assert e12["status"] == "partial"
    assert "self_assessment_score×1" in str(e12["gaps"])


def test_meetings_per_month_months_without_one_and_overdue_actions(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.phase(PhaseId.P2, date(2013, 10, 1), date(2014, 8, 31))
    h.meeting("m-10", "2013-10", at(2013, 10, 28))
    h.meeting("m-12", "2013-12", at(2014, 1, 3))  # December's, held after a holiday
    h.action("m-10", "a-1", at(2013, 10, 28), due=date(2013, 11, 15))
    h.action("m-10", "a-2", at(2013, 10, 28), due=date(2013, 11, 30))
    h.action("m-12", "a-3", at(2014, 1, 3), due=date(2014, 1, 20))
    h.close_action("m-10", "a-1", at(2013, 11, 10))  # on time
    h.close_action("m-10", "a-2", at(2013, 12, 5))  # late

    report = self_assessment_of(memory_service, date(2014, 1, 25))
    months = by_id(report, "meetings", "month")
    assert (months["2013-10"]["meetings"], months["2013-10"]["assigned"]) == (1, 2)
    assert (months["2013-10"]["closed"], months["2013-10"]["late"]) == (2, 1)
    assert (months["2013-12"]["open"], months["2013-12"]["overdue"]) == (1, 1)
    found = gaps(report)
    assert ("meeting_missing", "S1", "2013-11") in found
    assert ("meeting_missing", "S1", "2013-12") not in found  # held in January, still December's
    assert ("meeting_missing", "S1", "2014-01") not in found  # January's may still come
    assert ("action_overdue", "S1", 1) in found
    assert figure(report, "meeting_month_coverage") == (2, 3)
    assert figure(report, "action_on_time_rate") == (1, 3)
    e11 = by_id(report, "elements", "element")["E11"]
    assert (e11["status"], e11["gaps"]) == ("partial", "action_overdue×1")
    measures = by_id(report, "measures", "measure")
    assert measures["S1"]["meetings"] == 2
    assert measures["M2.2"]["meetings"] == 2  # the meetings that raised M2.2 problems


def test_a_communitys_self_assessment_counts_its_facts_and_the_subdistricts(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1), "C1")
    h.meeting("m-1", "2014-03", at(2014, 3, 28))  # the subdistrict's group
    c2 = self_assessment_of(memory_service, date(2014, 3, 31), community="C2")
    measures = by_id(c2, "measures", "measure")
    assert measures["M1.2"]["status"] == "no_evidence"
    assert measures["S1"]["status"] == "evidence"
    assert c2.scope == "C2"
    whole = self_assessment_of(memory_service, date(2014, 3, 31))
    assert figure(whole, "measure_evidence_coverage") == (3, 27)  # M1.2, M3.5, S1
    assert figure(whole, "measure_evidence_coverage", "C1") == (3, 27)
    assert figure(c2, "measure_evidence_coverage", "C2") == (1, 27)


def test_elements_are_met_when_every_measure_has_evidence_and_no_gap_weighs_on_them(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1))
    h.network(("u1", "u2"), at(2014, 1, 1))
    elements = by_id(self_assessment_of(memory_service, date(2014, 3, 31)), "elements", "element")
    assert (elements["E9"]["status"], elements["E9"]["measures_evidenced"]) == ("met", "2/2")
    assert elements["E7"]["status"] == "partial"  # M2.3 yes, M2.4 no
    assert elements["E7"]["gaps"] == "no_evidence:M2.4"
    assert elements["E3"]["status"] == "gap"


def test_the_report_says_what_it_is(memory_service: Safecomm) -> None:
    report = self_assessment_of(memory_service, date(2014, 12, 31))
    assert (report.kind, report.period, report.scope, report.dead_letters) == (
        "self-assessment",
        "2014-12-31",
        "*",
        0,
    )
    assert [s.id for s in report.sections] == [
        "elements",
        "measures",
        "phases",
        "meetings",
        "gaps",
        "gap_kinds",
    ]
    assert [r["phase"] for r in rows(report, "phases")] == [p.value for p in PhaseId]
    assert {f.definition_version for f in report.figures} == {"sa-2"}
