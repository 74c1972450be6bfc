"""PoliceStatistic: outside data, reported and corrected; round-trips and contract."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from safecomm_core import (
    AlreadyExists,
    InvalidCommand,
    NotFound,
    RuleViolation,
    command_to_json,
)
from safecomm_core.commands import police_statistic as cmds
from safecomm_core.domain.police_statistic import PoliceStatistic, statistic_ref
from tests.commanding import field_errors, issue
from tests.refusals import refused
from tests.strategies import CST

#: The station sends March's figures in early April.
T0 = datetime(2014, 4, 3, 10, 0, tzinfo=CST)
REF = "2014-03/C1/theft"


def report(
    month: str = "2014-03",
    community: str = "C1",
    category: str = "theft",
    cases: int = 4,
    at: datetime = T0,
    **extra: Any,
) -> Any:
    fields: dict[str, Any] = {
        "statistic_id": statistic_ref(month, community, category),
        "month": month,
        "community": community,
        "category": category,
        "cases": cases,
        "source": "Hemenkou police station",
    } | extra
    return issue(cmds.ReportPoliceStatistic, at, **fields)


def correct(cases: int, ref: str = REF, at: datetime = T0 + timedelta(days=9)) -> Any:
    return issue(
        cmds.CorrectPoliceStatistic, at, statistic_id=ref, cases=cases, reason="late filing"
    )


def test_a_figure_is_reported_corrected_and_keeps_both(service_factory: Any) -> None:
    service = service_factory()
    service.handle(report())
    service.handle(correct(6))
    service.handle(correct(5, at=T0 + timedelta(days=20)))
    live = service.get(PoliceStatistic, REF)
    assert (live.month, live.community, live.category) == ("2014-03", "C1", "theft")
    assert (live.reported_cases, live.cases, live.corrections) == (4, 5, 2)
    assert live.source == "Hemenkou police station"
    assert service_factory().get(PoliceStatistic, REF).__dict__ == live.__dict__
    figures = [e.details.get("cases") for e in service.history(REF, "police_statistic")]
    assert figures == [4, 6, 5]


def test_it_is_marked_as_outside_data() -> None:
    assert PoliceStatistic.OUTSIDE_DATA is True


def test_one_figure_has_one_record(service: Any) -> None:
    service.handle(report())
    refused(service, report(cases=9), AlreadyExists)
    assert service.get(PoliceStatistic, REF).cases == 4


def test_the_id_must_name_month_community_and_category(memory_service: Any) -> None:
    error = refused(memory_service, report(statistic_id="march-theft"), InvalidCommand)
    assert error.field == "statistic_id"
    assert "'2014-03/C1/theft'" in error.rule


def test_a_subdistrict_total_is_its_own_figure(memory_service: Any) -> None:
    memory_service.handle(report(community="*", cases=31))
    assert memory_service.get(PoliceStatistic, "2014-03/*/theft").cases == 31


def test_a_month_cannot_be_reported_before_it_begins(memory_service: Any) -> None:
    early = report(month="2014-05")
    assert refused(memory_service, early, RuleViolation).field == "occurred_at"
    # the first moment of the month in the subdistrict is already in it
    first = report(month="2014-05", at=datetime(2014, 5, 1, 0, 0, tzinfo=CST))
    memory_service.handle(first)


def test_a_correction_must_change_the_figure_and_follow_the_report(memory_service: Any) -> None:
    refused(memory_service, correct(3), NotFound)
    memory_service.handle(report())
    assert refused(memory_service, correct(4), RuleViolation).field == "cases"
    before = correct(7, at=T0 - timedelta(hours=1))
    assert refused(memory_service, before, RuleViolation).field == "occurred_at"


def test_bad_fields_are_named() -> None:
    data = command_to_json(report())
    assert field_errors(data | {"cases": -1}) == [("cases", "must be zero or more")]
    assert field_errors(data | {"month": "2014-13"}) == [("month", "must be a month YYYY-MM")]
    assert field_errors(data | {"month": "2014-3"}) == [("month", "must be a month YYYY-MM")]
    assert field_errors(data | {"category": "Theft"})[0][0] == "category"
    assert field_errors(data | {"cases": "4"}) == [("cases", "must be int")]
    assert field_errors(data | {"source": ""}) == [("source", "must not be empty")]
