"""The monthly report: every indicator against values worked out by hand on small histories.

The histories are built with commands, as an adapter would send them (JSON). Expected
figures are typed in only where they were computed by hand from the history, written out
beside each assertion. Zero denominators must give ``None`` (not applicable), never 0 or
100 %; facts entered late count in the month they occurred.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from safecomm_core import Safecomm, open_store, parse_command
from safecomm_core.dates import SUBDISTRICT_TZ, Month
from safecomm_core.indicators import INDICATORS, UnknownIndicator
from safecomm_core.projections import Projector
from safecomm_core.reports import monthly_report
from safecomm_core.reports.counting import Tally, events_of, measure
from safecomm_core.reports.disclosure import SUPPRESSED, WITHHELD, suppress
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Figure, Report
from safecomm_core.reports.provenance import explain
from tests.commanding import command_id, sample_commands


def at(day: str, hour: int = 9, minute: int = 0) -> str:
    """A moment in the subdistrict, as commands carry it."""
    moment = datetime.combine(date.fromisoformat(day), time(hour, minute), SUBDISTRICT_TZ)
    return moment.isoformat()


class Desk:
    """Sends commands as JSON, each with a fresh command id."""

    def __init__(self, service: Safecomm) -> None:
        self.service = service

    def __call__(self, type_: str, when: str, **fields: Any) -> None:
        data = {
            "type": type_,
            "command_id": command_id(),
            "occurred_at": when,
            "actor": {"id": "staff-001", "role": "staff"},
            **fields,
        }
        self.service.handle(parse_command(json.loads(json.dumps(data, ensure_ascii=False))))

    # -- disputes -------------------------------------------------------------------

    def dispute(self, ref: str, community: str, reported: str, *, kind: str = "neighbour") -> None:
        self(
            "dispute.report",
            reported,
            channel="walk-in",
            dispute_id=ref,
            community=community,
            kind=kind,
            summary="noise at night",
            parties=[{"ref": f"p-{ref}", "name": "王某", "role": "applicant"}],
        )

    def mediate(self, ref: str, accepted: str, session: str) -> None:
        self("dispute.accept", accepted, dispute_id=ref)
        self("dispute.assign_mediator", accepted, dispute_id=ref, mediator="staff-017")
        self("dispute.hold_session", session, dispute_id=ref)

    def agree(self, ref: str, when: str, form: str = "written") -> None:
        self("dispute.reach_agreement", when, dispute_id=ref, form=form, terms="repair it")


def disputes(desk: Desk) -> None:
    """March 2014, worked out by hand:

    ======  =====  ==========  ===========  ==============  ===========================
    case    where  reported    accepted     first session   outcome
    ======  =====  ==========  ===========  ==============  ===========================
    d-1     C1     03-01 09h   03-01        03-02 09h (24h) agreed 03-05, performed
    d-2     C1     03-03 09h   03-03        03-05 09h (48h) police 03-06, ended 03-10
    d-3     C2     01-20 09h   01-20        01-21           agreed 03-02 (41 days), partly
    d-4     C2     03-15 09h   refused 03-15
    d-5     C1     03-20 10h   on the spot by a patrol (0h), agreed orally at once
    d-6     C1     02-10       02-10        02-11           agreed 02-12 (entered last)
    ======  =====  ==========  ===========  ==============  ===========================
    """
    desk.dispute("d-1", "C1", at("2014-03-01"))
    desk.mediate("d-1", at("2014-03-01", 10), at("2014-03-02"))
    desk.agree("d-1", at("2014-03-05"))
    desk("dispute.record_performance", at("2014-03-20"), dispute_id="d-1", outcome="performed")

    desk.dispute("d-2", "C1", at("2014-03-03"), kind="family")
    desk.mediate("d-2", at("2014-03-03", 10), at("2014-03-05"))
    desk("dispute.flag_risk", at("2014-03-06"), dispute_id="d-2", risk="threats")
    desk("dispute.report_to_police", at("2014-03-06", 10), dispute_id="d-2", station="PS-1")
    desk(
        "dispute.terminate",
        at("2014-03-10"),
        dispute_id="d-2",
        reason="no agreement",
        routes_told=["judicial"],
    )

    desk.dispute("d-3", "C2", at("2014-01-20"))
    desk.mediate("d-3", at("2014-01-20", 10), at("2014-01-21"))
    desk.agree("d-3", at("2014-03-02"))
    desk(
        "dispute.record_performance",
        at("2014-03-25"),
        dispute_id="d-3",
        outcome="partly_performed",
    )

    desk.dispute("d-4", "C2", at("2014-03-15"))
    desk("dispute.refuse", at("2014-03-15", 11), dispute_id="d-4", reason="not a civil matter")

    patrol(desk, "p-1", "C1", "2014-03-20", route=["A", "B", "C"], visits=["A", "A", "D", "B"])
    desk(
        "patrol.mediate_on_site",
        at("2014-03-20", 10),
        patrol_id="p-1",
        dispute_id="d-5",
        kind="neighbour",
        summary="parking quarrel",
        parties=[{"ref": "p-d-5", "name": "李某", "role": "applicant"}],
        settled=True,
        terms="moved the car",
        mediator="staff-040",
    )
    desk("patrol.end", at("2014-03-20", 11), patrol_id="p-1", duration_minutes=90)

    # Entered last, occurred in February: it counts in February, not in March.
    desk.dispute("d-6", "C1", at("2014-02-10"))
    desk.mediate("d-6", at("2014-02-10", 10), at("2014-02-11"))
    desk.agree("d-6", at("2014-02-12"))


def patrol(
    desk: Desk,
    ref: str,
    community: str,
    day: str,
    *,
    route: list[str],
    visits: list[str] | None,
) -> None:
    """A patrol of ``route`` on ``day`` from 09:00; started with ``visits`` unless None."""
    desk(
        "patrol.plan",
        at(day, 8),
        patrol_id=ref,
        community=community,
        area="market",
        route=route,
        team={"police": ["staff-040"], "volunteers": ["staff-060"]},
        planned_start=at(day, 9),
        planned_end=at(day, 11),
    )
    if visits is None:
        return
    desk("patrol.start", at(day, 9), patrol_id=ref)
    for minute, checkpoint in enumerate(visits):
        desk(
            "patrol.visit_checkpoint", at(day, 9, minute + 1), patrol_id=ref, checkpoint=checkpoint
        )


def figures(report: Report) -> dict[tuple[str, str], Figure]:
    return {(f.id, f.scope): f for f in report.figures}


def nums(figure: Figure) -> tuple[float, float | None, float | None]:
    return figure.numerator, figure.denominator, figure.value


@pytest.fixture
def march(memory_service: Safecomm) -> Safecomm:
    disputes(Desk(memory_service))
    return memory_service


# -- disputes -----------------------------------------------------------------------------


def test_dispute_indicators_by_hand(march: Safecomm) -> None:
    got = figures(monthly_report(march, "2014-03"))
    # closed in March by agreement or termination: d-1, d-2, d-3, d-5 (d-4 was refused)
    assert nums(got["mediation_success_rate", "*"]) == (3, 4, 0.75)
    assert nums(got["mediation_success_rate", "C1"]) == (2, 3, 2 / 3)
    assert nums(got["mediation_success_rate", "C2"]) == (1, 1, 1.0)
    # agreements of March: d-1 (performed), d-3 (partly), d-5 (no record yet)
    assert nums(got["agreement_performance_rate", "*"]) == (1, 3, 1 / 3)
    assert nums(got["agreement_performance_rate", "C2"]) == (0, 1, 0.0)
    # within 30 days of acceptance: d-1 (4), d-2 (7), d-5 (0); not d-3 (41)
    assert nums(got["settled_on_time_rate", "*"]) == (3, 4, 0.75)
    assert nums(got["settled_on_time_rate", "C2"]) == (0, 1, 0.0)
    # first sessions in March: d-1 24h, d-2 48h, d-5 0h (d-3's was in January)
    assert nums(got["first_mediation_median_hours", "*"]) == (24.0, None, 24.0)
    assert nums(got["first_mediation_p90_hours", "*"]) == (48.0, None, 48.0)
    # reported in March: d-1, d-2, d-4, d-5; to the police: d-2; on the spot: d-5
    assert nums(got["dispute_escalation_rate", "*"]) == (1, 4, 0.25)
    assert nums(got["onsite_settlement_share", "*"]) == (1, 4, 0.25)
    assert nums(got["onsite_settlement_share", "C2"]) == (0, 1, 0.0)


def test_a_fact_entered_late_counts_in_the_month_it_occurred(march: Safecomm) -> None:
    february = figures(monthly_report(march, "2014-02"))
    # d-6 was written down after everything else, but happened in February
    assert nums(february["mediation_success_rate", "C1"]) == (1, 1, 1.0)
    assert nums(february["first_mediation_median_hours", "C1"]) == (24.0, None, 24.0)
    assert nums(february["dispute_escalation_rate", "*"]) == (0, 1, 0.0)
    january = figures(monthly_report(march, "2014-01"))
    assert nums(january["dispute_escalation_rate", "C2"]) == (0, 1, 0.0)  # d-3
    assert nums(january["mediation_success_rate", "C2"]) == (0, 0, None)


def test_zero_denominators_are_not_applicable_never_zero(march: Safecomm) -> None:
    may = figures(monthly_report(march, "2014-05"))
    for (indicator, _scope), figure in may.items():
        if DEFINITIONS[indicator].kind == "rate":
            assert figure.denominator == 0, indicator
        assert figure.value is None, indicator
    assert nums(may["mediation_success_rate", "C1"]) == (0, 0, None)
    assert nums(may["first_mediation_median_hours", "C1"]) == (0.0, None, None)


def test_sample_contract_gives_mediation_success_1_of_1_for_2014_03_in_c1(
    memory_service: Safecomm,
) -> None:
    for data in sample_commands():
        memory_service.handle(parse_command(data))
    report = monthly_report(memory_service)  # the latest month with events
    assert report.period == "2014-03"
    figure = figures(report)["mediation_success_rate", "C1"]
    assert figure == Figure(
        id="mediation_success_rate",
        numerator=1,
        denominator=1,
        value=1.0,
        period="2014-03",
        scope="C1",
        definition_version="1",
        basis="register",
    )


def test_every_figure_of_the_contract_has_a_label_and_each_definition_says_what_it_counts(
    march: Safecomm,
) -> None:
    report = monthly_report(march, "2014-03")
    required = {
        "mediation_success_rate",
        "agreement_performance_rate",
        "settled_on_time_rate",
        "dispute_escalation_rate",
        "onsite_settlement_share",
        "alert_ack_rate",
        "registration_coverage",
        "awareness_rate",
        "participation_rate",
        "satisfaction_rate",
    }
    assert required <= {f.id for f in report.figures}
    for definition in DEFINITIONS.values():
        assert definition.id in INDICATORS
        assert definition.basis in ("register", "survey", "police")
        doc = definition.doc
        if definition.kind == "rate":
            assert "Numerator" in doc, definition.id
            assert "Denominator" in doc, definition.id
        assert "(v1" in doc, definition.id


# -- patrols ------------------------------------------------------------------------------


def test_patrol_coverage_counts_planned_checkpoints_visited(march: Safecomm) -> None:
    desk = Desk(march)
    patrol(desk, "p-2", "C1", "2014-03-22", route=["A"], visits=None)  # never started
    got = figures(monthly_report(march, "2014-03"))
    # p-1: A, B of A, B, C (D was off its route); p-2: nothing of A
    assert nums(got["patrol_checkpoint_coverage", "C1"]) == (2, 4, 0.5)
    section = {s.id: s for s in monthly_report(march, "2014-03").sections}["patrols"]
    (row,) = section.rows
    # community, area, week, planned, started, ended, hours, planned hours, visited,
    # planned checkpoints, off-route, observations, settled on site
    assert row == ("C1", "market", "2014-W12", 2, 1, 1, 1.5, 4.0, 2, 4, 1, 0, 1)


# -- alerts ---------------------------------------------------------------------------------


def alert_history(desk: Desk) -> None:
    """u1 raises an alert in C1 at 10:00 on 2014-03-12; u2 and u3 are told.

    u2: sent 10:01, delivered 10:05, acknowledged 10:20 (within 30 minutes).
    u3: sent 10:01, failed, escalated 10:40, acknowledged 10:50 (late under 30, in time
    under 60). Every unit had it by 10:50: 50 minutes to reach all.
    """
    desk("network.open", at("2014-03-01"), network_id="net", name="联防网络", community="*")
    for unit in ("u1", "u2", "u3"):
        desk(
            "network.join",
            at("2014-03-01"),
            network_id="net",
            unit_id=unit,
            name=f"{unit} 小区",
            kind="residential_compound",
            community="C1",
        )
        desk(
            "network.set_contact",
            at("2014-03-01"),
            network_id="net",
            unit_id=unit,
            contact_channel="sms",
            contact="13800001234",
        )
    desk(
        "alert.raise",
        at("2014-03-12", 10),
        alert_id="a-1",
        network_id="net",
        raised_by="u1",
        category="theft",
        area="north gate",
        message="bike stolen",
        expires_at=at("2014-03-12", 18),
    )
    for unit in ("u2", "u3"):
        desk(
            "alert.send",
            at("2014-03-12", 10, 1),
            alert_id="a-1",
            unit_id=unit,
            contact_channel="sms",
        )
    desk("alert.record_delivery", at("2014-03-12", 10, 5), alert_id="a-1", unit_id="u2")
    desk("alert.acknowledge", at("2014-03-12", 10, 20), alert_id="a-1", unit_id="u2")
    desk(
        "alert.record_failure", at("2014-03-12", 10, 6), alert_id="a-1", unit_id="u3", reason="off"
    )
    desk("alert.escalate", at("2014-03-12", 10, 40), alert_id="a-1", unit_id="u3")
    desk("alert.acknowledge", at("2014-03-12", 10, 50), alert_id="a-1", unit_id="u3")


def test_alert_indicators_by_hand(memory_service: Safecomm) -> None:
    alert_history(Desk(memory_service))
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["alert_reach_rate", "C1"]) == (2, 2, 1.0)  # u3 reached: its reply
    assert nums(got["alert_ack_rate", "C1"]) == (1, 2, 0.5)  # u3 replied after 50 minutes
    assert nums(got["alert_time_to_all_minutes", "C1"]) == (50.0, None, 50.0)


def test_alert_acknowledgement_uses_the_rule_in_force_on_the_day_raised(
    memory_service: Safecomm,
) -> None:
    desk = Desk(memory_service)
    alert_history(desk)
    # adopted for C1 from the day after the alert: not its rule
    desk(
        "rules.adopt",
        at("2014-03-20"),
        community="C1",
        effective_from="2014-03-13",
        changes={"alert_ack_minutes": 60},
    )
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["alert_ack_rate", "C1"]) == (1, 2, 0.5)
    # adopted later with an earlier effective date, for the subdistrict: C1's own later
    # set does not cover the 12th, so the subdistrict's 60 minutes apply to it
    desk(
        "rules.adopt",
        at("2014-03-25"),
        effective_from="2014-03-01",
        changes={"alert_ack_minutes": 60},
    )
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["alert_ack_rate", "C1"]) == (2, 2, 1.0)


# -- migrant workers ------------------------------------------------------------------------


def register(desk: Desk, ref: str, arrived: str, registered: str, community: str = "C2") -> None:
    desk(
        "migrant.register",
        at(registered),
        channel="door-to-door",
        worker_id=ref,
        community=community,
        person={"ref": f"p-{ref}", "name": "张某"},
        arrived_on=arrived,
        dwelling="C2-1-1-101",
    )


def migrants(desk: Desk) -> None:
    """Deadline 3 days (default). By hand:

    w-1 arrived 03-01, registered 03-02 (on time); w-2 arrived 03-25, registered 04-02
    (late, and not yet registered at the end of March); w-3 arrived 2010-01-01, registered
    03-10 (late), offered an M3.3 service proactively on 03-20; w-4 arrived 2010-06-01,
    registered 03-05 (late), eligible since 2013-06-01 and never offered one; w-5 arrived
    2014-02-01, registered 02-02 and left on 03-03 (not living here at the end of March).
    """
    register(desk, "w-1", "2014-03-01", "2014-03-02")
    register(desk, "w-3", "2010-01-01", "2014-03-10")
    register(desk, "w-4", "2010-06-01", "2014-03-05")
    register(desk, "w-5", "2014-02-01", "2014-02-02")
    desk("migrant.leave", at("2014-03-03"), worker_id="w-5")
    desk(
        "migrant.offer_service",
        at("2014-03-20"),
        worker_id="w-3",
        offer_id="o-1",
        service="children's schooling",
        proactive=True,
        long_residence=True,
    )
    register(desk, "w-2", "2014-03-25", "2014-04-02")  # entered late: registered in April


def test_migrant_indicators_by_hand(memory_service: Safecomm) -> None:
    migrants(Desk(memory_service))
    march = figures(monthly_report(memory_service, "2014-03"))
    # registrations made in March: w-1 (on time), w-3, w-4 (late)
    assert nums(march["timely_registration_rate", "C2"]) == (1, 3, 1 / 3)
    # living here on 03-31: w-1, w-2, w-3, w-4 (w-5 left); registered by then: all but w-2
    assert nums(march["registration_coverage", "C2"]) == (3, 4, 0.75)
    # eligible (3 years) and registered by 03-31: w-3, w-4; offered proactively: w-3
    assert nums(march["proactive_service_rate", "C2"]) == (1, 2, 0.5)
    april = figures(monthly_report(memory_service, "2014-04"))
    assert nums(april["timely_registration_rate", "C2"]) == (0, 1, 0.0)  # w-2
    assert nums(april["registration_coverage", "C2"]) == (4, 4, 1.0)
    february = figures(monthly_report(memory_service, "2014-02"))
    assert nums(february["registration_coverage", "C2"]) == (1, 3, 1 / 3)  # w-5 of w-3,4,5


# -- surveys --------------------------------------------------------------------------------


def survey(desk: Desk, ref: str, wave: str, day: str, answers: list[dict[str, Any]]) -> None:
    desk("survey.open_wave", at(day), survey_id=ref, wave=wave, sample_target=10)
    for i, answer in enumerate(answers):
        desk(
            "survey.record_response",
            at(day, 10, i),
            survey_id=ref,
            response_id=f"{ref}-{i}",
            community="C3",
            answers=answer,
        )


BASELINE = [
    {"aware": True, "participated": False, "satisfaction": "satisfied", "security": "fairly_safe"},
    {
        "aware": False,
        "participated": True,
        "satisfaction": "fairly_satisfied",
        "security": "very_safe",
    },
    {"participated": True, "satisfaction": "very_dissatisfied"},
]


def test_survey_indicators_by_hand_with_and_without_the_middle_answers(
    memory_service: Safecomm,
) -> None:
    desk = Desk(memory_service)
    survey(desk, "s-1", "baseline", "2014-02-10", BASELINE)
    desk(
        "dispute.report",
        at("2014-03-01"),
        channel="walk-in",
        dispute_id="d-x",
        community="C3",
        kind="other",
        summary="x",
        parties=[{"ref": "p-x", "role": "applicant"}],
    )
    strict = figures(monthly_report(memory_service, "2014-03"))
    assert nums(strict["awareness_rate", "C3"]) == (1, 2, 0.5)  # one left it unanswered
    assert nums(strict["participation_rate", "C3"]) == (2, 3, 2 / 3)
    assert nums(strict["satisfaction_rate", "C3"]) == (1, 3, 1 / 3)
    assert nums(strict["sense_of_security_rate", "C3"]) == (1, 2, 0.5)
    assert strict["satisfaction_rate", "C3"].basis == "survey"
    # the reading is a rule: C3 counts the middle answers from March
    desk(
        "rules.adopt",
        at("2014-03-20"),
        community="C3",
        effective_from="2014-03-01",
        changes={"fairly_satisfied_counts": True, "fairly_safe_counts": True},
    )
    fairly = figures(monthly_report(memory_service, "2014-03"))
    assert nums(fairly["satisfaction_rate", "C3"]) == (2, 3, 2 / 3)
    assert nums(fairly["sense_of_security_rate", "C3"]) == (2, 2, 1.0)
    assert fairly["satisfaction_rate", "C3"].definition_version == "1+basic"
    # before the first response: not applicable
    january = figures(monthly_report(memory_service, "2014-01"))
    assert nums(january["awareness_rate", "C3"]) == (0, 0, None)
    # a later wave replaces the earlier one from the month it has responses
    survey(desk, "s-2", "mid_term", "2014-04-10", [{"aware": True}])
    april = figures(monthly_report(memory_service, "2014-04"))
    assert nums(april["awareness_rate", "C3"]) == (1, 1, 1.0)
    assert nums(april["satisfaction_rate", "C3"]) == (0, 0, None)


# -- prevention assets, police figures ------------------------------------------------------


def test_prevention_asset_coverage_as_of_the_month_end(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    for ref, compound in (("dev-1", "X"), ("dev-2", "Y")):
        desk(
            "asset.install",
            at("2014-02-01"),
            asset_id=ref,
            community="C4",
            compound=compound,
            description="alarm",
            funding_source="district fund",
        )
    desk("asset.report_fault", at("2014-03-10"), asset_id="dev-1", fault="no power")
    desk(
        "asset.build",
        at("2014-02-01"),
        asset_id="lot-1",
        community="C4",
        compound="X",
        kind="parking_lot",
    )
    desk("asset.assign_custodian", at("2014-02-02"), asset_id="lot-1", custodian="staff-200")
    desk(
        "asset.build",
        at("2014-02-01"),
        asset_id="gate-1",
        community="C4",
        compound="Y",
        kind="gatehouse",
    )
    desk("asset.repair", at("2014-04-02"), asset_id="dev-1", notes="new battery")
    # compounds X (faulty), Y (working); lot staffed; gatehouse not staffed
    march = figures(monthly_report(memory_service, "2014-03"))
    assert nums(march["prevention_asset_coverage", "C4"]) == (2, 4, 0.5)
    april = figures(monthly_report(memory_service, "2014-04"))
    assert nums(april["prevention_asset_coverage", "C4"]) == (3, 4, 0.75)
    february = figures(monthly_report(memory_service, "2014-02"))
    assert nums(february["prevention_asset_coverage", "C4"]) == (3, 4, 0.75)


def police(desk: Desk, month: Month, cases: int, community: str = "C5") -> None:
    desk(
        "police_statistic.report",
        at(str(month.shift(1).first)),
        statistic_id=f"{month}/{community}/theft",
        month=str(month),
        community=community,
        category="theft",
        cases=cases,
        source="派出所",
    )


def test_incidence_change_compares_two_years_and_the_latest_correction_wins(
    memory_service: Safecomm,
) -> None:
    desk = Desk(memory_service)
    march = Month(2014, 3)
    for back in range(24):
        police(desk, march.shift(-back), 8 if back < 12 else 10)
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["incidence_change", "C5"]) == (-24, 120, -0.2)  # (96 - 120) / 120
    assert got["incidence_change", "C5"].basis == "police"
    desk(
        "police_statistic.correct",
        at("2014-04-20"),
        statistic_id="2014-01/C5/theft",
        cases=20,
        reason="late-filed cases",
    )
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["incidence_change", "C5"]) == (-12, 120, -0.1)  # (108 - 120) / 120
    # a month without figures: not applicable (never -100 %)
    later = figures(monthly_report(memory_service, "2014-04"))
    assert later["incidence_change", "C5"].value is None
    # per 10,000 people, over the year, only once a population is recorded
    assert ("incidence_per_10k", "C5") not in got
    desk(
        "population.record",
        at("2014-01-10"),
        population_id="C5/2013-12-31",
        community="C5",
        as_of="2013-12-31",
        residents=5000,
        migrants=1000,
        basis="annual_update",
        source="街道年度人口统计",
    )
    per = figures(monthly_report(memory_service, "2014-03"))
    assert per["incidence_per_10k", "C5"].value == pytest.approx(108 / 0.6)


def test_campaign_and_broadcast_sections_by_hand(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    desk(
        "campaign.plan",
        at("2014-03-01"),
        campaign_id="cp-1",
        community="*",
        title="防诈骗宣传",
        theme="anti_fraud",
        measures=["M1.5"],
        planned_on="2014-03-08",
    )
    desk(
        "campaign.hold",
        at("2014-03-08"),
        campaign_id="cp-1",
        place="广场",
        community="C6",
        audiences=["residents"],
        attendance=120,
        partners=["派出所"],
    )
    desk(
        "campaign.distribute_materials",
        at("2014-03-08", 11),
        campaign_id="cp-1",
        kind="leaflet",
        count=300,
    )
    desk(
        "campaign.plan",
        at("2014-03-01"),
        campaign_id="cp-2",
        community="C6",
        title="法制宣传",
        theme="legal",
        measures=["M1.1"],
        planned_on="2014-03-20",
    )
    desk("campaign.cancel", at("2014-03-19"), campaign_id="cp-2", reason="rain")
    desk(
        "broadcast.publish",
        at("2014-03-10"),
        broadcast_id="b-1",
        community="C6",
        category="anti_theft",
        period="ordinary",
        text="锁好电动车",
        outlets=[
            {"outlet": {"medium": "sms"}, "recipients": 900},
            {"outlet": {"medium": "qq_group", "community": "C6"}, "recipients": 150},
        ],
    )
    desk(
        "broadcast.receive_question",
        at("2014-03-10", 12),
        broadcast_id="b-1",
        question_id="q-1",
        outlet={"medium": "qq_group", "community": "C6"},
        text="哪里登记?",
    )
    desk(
        "broadcast.answer_question",
        at("2014-03-10", 15),
        broadcast_id="b-1",
        question_id="q-1",
        answer="社区服务中心",
    )
    sections = {s.id: s for s in monthly_report(memory_service, "2014-03").sections}
    # held, attendance, of them named, materials, bravery acts, themes (the cancelled one
    # is not held)
    assert sections["campaigns"].rows == (("C6", 1, 120, 0, 300, 0, "anti_fraud 1"),)
    # published, outlets, recipients, questions, answered, median hours to answer
    assert sections["broadcasts"].rows == (("C6", 1, 2, 1050, 1, 1, 3.0),)
    assert {s.id for s in monthly_report(memory_service, "2014-04").sections} >= {"campaigns"}
    assert monthly_report(memory_service, "2014-04", scope="C6").sections[0].rows == ()


def test_progress_against_targets(march: Safecomm) -> None:
    Desk(march)(
        "target.set",
        at("2014-01-05"),
        indicator="mediation_success_rate",
        direction="increase",
        baseline=50.0,
        baseline_source="P1 诊断",
        target=100.0,
        due="2014-12-31",
    )
    sections = {s.id: s for s in monthly_report(march, "2014-03").sections}
    # March's success rate is 75 %: half of the way from 50 to 100 (stated in percent, shown
    # in the figure's unit, a fraction)
    assert sections["targets"].rows == (
        ("mediation_success_rate", "*", "rate", 0.5, 1.0, "2014-12-31", 0.75, 0.5, "P1 诊断"),
    )


# -- provenance -----------------------------------------------------------------------------


def test_explain_lists_the_events_counted(march: Safecomm) -> None:
    found = explain(march, "dispute_escalation_rate", "2014-03")
    assert (found.figure.numerator, found.figure.denominator) == (1, 4)
    assert [(e.ref, e.event) for e in found.numerator] == [
        ("d-2", "Reported"),
        ("d-2", "ReportedToPolice"),
    ]
    assert sorted(e.ref for e in found.denominator) == ["d-1", "d-2", "d-4", "d-5"]
    assert {e.event for e in found.denominator} == {"Reported"}
    assert all(e.kind == "dispute" for e in found.denominator)
    one = explain(march, "mediation_success_rate", "2014-03", "C2")
    assert [(e.ref, e.version, e.event) for e in one.numerator] == [("d-3", 5, "AgreementReached")]
    assert one.numerator[0].occurred_at == datetime(2014, 3, 2, 1, 0, tzinfo=UTC)
    assert "Numerator" in one.definition
    with pytest.raises(UnknownIndicator):
        explain(march, "happiness_rate", "2014-03")


def test_explain_agrees_with_the_report_for_every_figure(march: Safecomm) -> None:
    desk = Desk(march)
    alert_history(desk)
    migrants(desk)
    report = monthly_report(march, "2014-03")
    with Projector(march) as projector:
        for figure in report.figures:
            found = explain(projector, figure.id, "2014-03", figure.scope)
            assert found.figure == figure
            if figure.denominator:
                assert found.denominator, figure.id


# -- measures and suppression ---------------------------------------------------------------


def test_measures_of_a_tally() -> None:
    from safecomm_core.reports.counting import Counted

    def items(*values: float) -> tuple[Counted, ...]:
        return tuple(Counted("C1", (), value=v) for v in values)

    assert measure("median", Tally((), items(1, 2, 3, 10))) == (2.5, None, 2.5)
    assert measure("p90", Tally((), items(*range(1, 11)))) == (9, None, 9)
    assert measure("p90", Tally((), items(5))) == (5, None, 5)
    assert measure("rate", Tally()) == (0, 0, None)
    assert measure("change", Tally((), items(1))) == (-1, 1, None)
    assert events_of([]) == []


def test_suppression_hides_small_counts_and_what_would_give_them_away() -> None:
    rows = [("a", 1, 5, 0), ("b", 4, 7, 9), ("c", 0, 0, 6)]
    shown = suppress(rows, range(1, 4))
    assert shown[0] == ("a", SUPPRESSED, WITHHELD, 0)  # row a would give its 1 away
    # column 1 had one suppressed cell: its smallest other non-zero count is withheld;
    # column 2 then had one withheld cell: its smallest other is withheld too
    assert shown[1] == ("b", WITHHELD, WITHHELD, 9)
    assert shown[2] == ("c", 0, 0, 6)
    assert suppress([("a", 0, 3)], range(1, 3)) == (("a", 0, 3),)


def test_dispute_tables_never_show_one_or_two_cases(march: Safecomm) -> None:
    report = monthly_report(march, "2014-03")
    rows = [
        (section.id, row)
        for section in report.sections
        if section.id.startswith("disputes") or section.id == "registrations"
        for row in section.rows
    ]
    assert rows  # March's disputes fill the tables checked
    for section_id, row in rows:
        assert not any(cell in (1, 2) for cell in row[1:]), (section_id, row)
    text = json.dumps([s.rows for s in report.sections], ensure_ascii=False)
    assert "王某" not in text
    assert "李某" not in text
    assert "p-d-5" not in text


def test_dead_letters_are_counted_and_listed_not_hidden(
    march: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecomm_core.domain.patrol import Patrol
    from safecomm_core.projections.definition import event_topic
    from safecomm_core.projections.patrols import PATROLS

    def broken(*_args: Any) -> None:
        raise RuntimeError("a handler that fails")

    monkeypatch.setitem(PATROLS._handlers, event_topic(Patrol.Ended), broken)
    report = monthly_report(march, "2014-03")
    assert report.dead_letters == 1
    (row,) = {s.id: s for s in report.sections}["dead_letters"].rows
    assert row == ("patrols", 1, "safecomm/Patrol/Ended 1")
    # the rest of the patrol's facts were projected; only its end is missing
    assert nums(figures(report)["patrol_checkpoint_coverage", "C1"]) == (2, 3, 2 / 3)


# -- one end-to-end report on every backend -------------------------------------------------


def test_end_to_end_on_every_backend(service: Safecomm) -> None:
    desk = Desk(service)
    disputes(desk)
    alert_history(desk)
    report = monthly_report(service, "2014-03", generated_at=datetime(2014, 4, 1, tzinfo=UTC))
    got = figures(report)
    assert nums(got["mediation_success_rate", "*"]) == (3, 4, 0.75)
    assert nums(got["alert_ack_rate", "C1"]) == (1, 2, 0.5)
    assert report.dead_letters == 0
    assert [s.indicator for s in report.series][:1] == ["mediation_success_rate"]
    trend = {(s.indicator, s.scope): dict(s.points) for s in report.series}
    assert trend["mediation_success_rate", "C2"] == {
        "2014-01": None,
        "2014-02": None,
        "2014-03": 1.0,
    }
    assert trend["mediation_success_rate", "C1"]["2014-02"] == 1.0  # d-6, entered late
    one = monthly_report(service, "2014-03", scope="C2")
    assert {f.scope for f in one.figures} == {"C2"}
    assert figures(one)["mediation_success_rate", "C2"] == got["mediation_success_rate", "C2"]


@pytest.fixture
def reports(tmp_path: Path) -> Iterator[tuple[str, Report]]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as s:
        desk = Desk(s)
        disputes(desk)
        migrants(desk)
        survey(desk, "s-1", "baseline", "2014-02-10", BASELINE)
        yield url, monthly_report(s, "2014-03", generated_at=datetime(2014, 4, 1, tzinfo=UTC))


def test_report_is_read_from_views_caught_up_first(reports: tuple[str, Report]) -> None:
    url, before = reports
    with open_store(url) as s:
        Desk(s)(
            "dispute.report",
            at("2014-03-30"),
            channel="walk-in",
            dispute_id="d-9",
            community="C1",
            kind="other",
            summary="x",
            parties=[{"ref": "p-9", "role": "applicant"}],
        )
        after = figures(monthly_report(s, "2014-03"))
    assert nums(after["dispute_escalation_rate", "*"]) == (1, 5, 0.2)
    assert figures(before)["dispute_escalation_rate", "*"].denominator == 4


def test_months() -> None:
    assert Month.parse("2014-03").last == date(2014, 3, 31)
    assert Month(2014, 1).shift(-1) == Month(2013, 12)
    assert list(Month(2014, 2).since(Month(2013, 12))) == [
        Month(2013, 12),
        Month(2014, 1),
        Month(2014, 2),
    ]
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse("2014-13")
