"""Target: set and revised per indicator and scope; every rule, round-trips and contract."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from safecomm_core import (
    AlreadyExists,
    NotFound,
    RuleViolation,
    command_to_json,
    open_store,
    parse_command,
)
from safecomm_core.commands import targets as cmds
from safecomm_core.domain.base import aggregate_id
from safecomm_core.domain.targets import Direction, Target, TargetIndicator, target_ref
from safecomm_core.indicators import INDICATORS, Unit
from safecomm_core.reports import monthly_report
from tests.commanding import field_errors, issue
from tests.refusals import refused
from tests.strategies import CST

#: Goals are fixed at the launch (P1, Oct 2013) and due at the inspection (P7, Dec 2014).
T0 = datetime(2013, 10, 20, 9, 0, tzinfo=CST)
DUE = date(2014, 12, 31)


def set_target(
    indicator: TargetIndicator = TargetIndicator.AWARENESS_RATE,
    baseline: float = 42.5,
    target: float = 90.0,
    direction: Direction = Direction.INCREASE,
    community: str = "*",
    at: datetime = T0,
    due: date = DUE,
) -> Any:
    return issue(
        cmds.SetTarget,
        at,
        indicator=indicator,
        community=community,
        direction=direction,
        baseline=baseline,
        baseline_source="sv-2013-base",
        target=target,
        due=due,
    )


def revise(
    indicator: TargetIndicator = TargetIndicator.AWARENESS_RATE,
    at: datetime = T0 + timedelta(days=200),
    **changes: Any,
) -> Any:
    return issue(
        cmds.ReviseTarget, at, indicator=indicator, reason="mid-term review (P4)", **changes
    )


def test_a_target_is_set_revised_and_replays(service_factory: Any) -> None:
    service = service_factory()
    service.handle(set_target())
    service.handle(revise(target=85.0, due=date(2015, 6, 30)))
    service.handle(revise(baseline=40.0, baseline_source="P1 diagnosis, corrected"))
    live = service.get(Target, "awareness_rate")
    assert (live.indicator, live.direction, live.community) == (
        TargetIndicator.AWARENESS_RATE,
        Direction.INCREASE,
        "*",
    )
    assert (live.baseline, live.baseline_source) == (40.0, "P1 diagnosis, corrected")
    assert (live.target, live.due, live.revisions) == (85.0, date(2015, 6, 30), 2)
    assert service_factory().get(Target, "awareness_rate").__dict__ == live.__dict__
    events = service.history("awareness_rate", "target")
    assert [e.event for e in events] == ["TargetSet", "TargetRevised", "TargetRevised"]
    assert events[0].details["target"] == 90.0  # the first plan stays in the history


def test_one_target_per_indicator_and_scope(service: Any) -> None:
    service.handle(set_target())
    refused(service, set_target(target=95.0), AlreadyExists)
    service.handle(set_target(community="C4", baseline=30.0, target=80.0))
    assert service.get(Target, "awareness_rate@C4").target == 80.0
    assert service.get(Target, "awareness_rate").target == 90.0
    assert target_ref(TargetIndicator.AWARENESS_RATE, "C4") == "awareness_rate@C4"


def test_a_decrease_target_for_incidence(memory_service: Any) -> None:
    memory_service.handle(
        set_target(TargetIndicator.INCIDENCE_PER_10K, 180.0, 120.0, Direction.DECREASE)
    )
    assert memory_service.get(Target, "incidence_per_10k").target == 120.0
    assert TargetIndicator.INCIDENCE_PER_10K.unit is Unit.PER_10K
    up = set_target(TargetIndicator.ESCALATION_RATE, 2.0, 3.0, Direction.DECREASE)
    assert refused(memory_service, up, RuleViolation).field == "target"


@pytest.mark.parametrize(("baseline", "target"), [(50.0, 50.0), (50.0, 40.0)])
def test_the_target_lies_in_the_direction(
    memory_service: Any, baseline: float, target: float
) -> None:
    error = refused(memory_service, set_target(baseline=baseline, target=target), RuleViolation)
    assert error.rule == "must increase from the baseline"


def test_rates_are_percentages(memory_service: Any) -> None:
    assert refused(memory_service, set_target(target=101.0), RuleViolation).field == "target"
    big = set_target(TargetIndicator.TIME_TO_FIRST_MEDIATION_HOURS, 200.0, 48.0, Direction.DECREASE)
    memory_service.handle(big)
    assert TargetIndicator.TIME_TO_FIRST_MEDIATION_HOURS.unit is Unit.HOURS


def test_a_due_date_cannot_be_before_the_target_is_set(memory_service: Any) -> None:
    past = set_target(due=date(2013, 10, 19))
    assert refused(memory_service, past, RuleViolation).field == "due"


def test_a_revision_changes_something_and_keeps_the_rules(memory_service: Any) -> None:
    refused(memory_service, revise(target=80.0), NotFound)
    memory_service.handle(set_target())
    nothing = revise(target=90.0)
    assert refused(memory_service, nothing, RuleViolation).field == "target_id"
    assert refused(memory_service, revise(target=40.0), RuleViolation).field == "target"
    early_due = revise(due=date(2014, 1, 1))
    assert refused(memory_service, early_due, RuleViolation).field == "due"
    before_set = revise(target=80.0, at=T0 - timedelta(days=1))
    assert refused(memory_service, before_set, RuleViolation).field == "occurred_at"


def test_a_passed_due_date_may_stay_when_the_baseline_is_corrected(memory_service: Any) -> None:
    memory_service.handle(set_target())
    memory_service.handle(revise(baseline=45.0, at=datetime(2015, 3, 1, tzinfo=CST)))
    assert memory_service.get(Target, "awareness_rate").due == DUE


def test_bad_fields_are_named() -> None:
    data = command_to_json(set_target())
    assert field_errors(data | {"baseline": -1.0}) == [
        ("baseline", "must be a finite number of zero or more")
    ]
    assert field_errors(data | {"target": float("nan")}) == [
        ("target", "must be a finite number of zero or more")
    ]
    assert field_errors(data | {"indicator": "awarness_rate"})[0][0] == "indicator"
    assert field_errors(data | {"direction": "up"})[0][0] == "direction"
    assert field_errors(data | {"target": "90"}) == [("target", "must be float")]
    assert field_errors(command_to_json(revise(target=1.0)) | {"baseline_source": " "}) == [
        ("baseline_source", "must not be empty")
    ]
    # an integer is a number: 90 reads as 90.0
    assert parse_command(data | {"target": 90}) == parse_command(data)


def test_targets_name_indicators_by_the_reports_ids() -> None:
    for member in TargetIndicator:
        assert member.value in INDICATORS, member
        assert member.unit is INDICATORS[member.value].unit
    assert TargetIndicator.SECURITY_RATE == "sense_of_security_rate"


def _as_stored_by_v1(event: StoredEvent, stored_id: str) -> StoredEvent:
    """``event`` as the first version of TargetSet stored it: under a former indicator id."""
    state = json.loads(event.state)
    assert state.pop("class_version") == 2
    state["indicator"] = stored_id
    return dataclasses.replace(event, state=json.dumps(state).encode())


def test_a_target_stored_under_a_former_id_loads_under_the_reports_id(memory_service: Any) -> None:
    memory_service.handle(set_target(TargetIndicator.SECURITY_RATE, 40.0, 90.0))
    assert target_ref(TargetIndicator.SECURITY_RATE) == "security_rate"  # the record keeps its id
    (stored,) = memory_service.log.application.recorder.select_events(
        aggregate_id("target", "security_rate")
    )
    old = open_store("memory://")
    old.log.application.recorder.insert_events([_as_stored_by_v1(stored, "security_rate")])
    assert old.get(Target, "security_rate").indicator is TargetIndicator.SECURITY_RATE
    old.handle(revise(TargetIndicator.SECURITY_RATE, target=95.0))
    assert old.get(Target, "security_rate").target == 95.0
    report = monthly_report(old, "2014-03")
    targets = next(s for s in report.sections if s.id == "targets")
    (row,) = targets.rows
    # The report's id, and the values in the unit of the figure they are compared with.
    assert row[:5] == ("sense_of_security_rate", "*", "rate", 0.4, 0.95)
    old.close()


def test_a_rate_target_is_compared_with_its_figure_in_one_unit(memory_service: Any) -> None:
    memory_service.handle(set_target(TargetIndicator.SETTLED_ON_TIME_RATE, 50.0, 80.0))
    memory_service.handle(set_target(TargetIndicator.TIME_TO_FIRST_MEDIATION_HOURS, 72.0, 48.0,
                                   Direction.DECREASE))  # fmt: skip
    report = monthly_report(memory_service, "2014-03")
    rows = {r[0]: r for r in next(s for s in report.sections if s.id == "targets").rows}
    assert rows["settled_on_time_rate"][2:5] == ("rate", 0.5, 0.8)
    assert rows["first_mediation_median_hours"][2:5] == ("hours", 72.0, 48.0)
