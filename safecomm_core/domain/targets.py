"""Target: the plan's goal for one indicator, so that reports can show progress against it.

A target is set once per indicator and scope (the subdistrict, or one community): its
baseline and where that figure came from (the P1 diagnosis, a survey wave), the value aimed
at, the direction (increase / decrease) and the due date. TargetRevised changes the aim,
the due date or the baseline, with a reason; the first target stays in the history.

TargetSet → TargetRevised*.
"""

from __future__ import annotations

import enum
from datetime import date

from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import RuleViolation
from safecomm_core.values import Meta

__all__ = ["Direction", "Indicator", "Target", "Unit", "target_ref"]


class Unit(enum.StrEnum):
    """What an indicator's values measure."""

    PERCENT = "percent"  # 0–100
    HOURS = "hours"
    MINUTES = "minutes"
    PER_10K = "per_10k"  # cases per 10,000 residents


class Indicator(enum.StrEnum):
    """The indicators of domain.md §3, by stable id. Rates are in percent."""

    AWARENESS_RATE = "awareness_rate"  # 知晓率 (survey)
    PARTICIPATION_RATE = "participation_rate"  # 参与率 (survey)
    PARTICIPATION_REGISTER_RATE = "participation_register_rate"  # 参与率 (register)
    SATISFACTION_RATE = "satisfaction_rate"  # 满意率 (survey)
    SECURITY_RATE = "security_rate"  # 群众安全感 (survey)
    MEDIATION_SUCCESS_RATE = "mediation_success_rate"  # 调解成功率
    AGREEMENT_PERFORMANCE_RATE = "agreement_performance_rate"  # 协议履行率
    SETTLED_ON_TIME_RATE = "settled_on_time_rate"  # 按期调结率
    TIME_TO_FIRST_MEDIATION_HOURS = "time_to_first_mediation_hours"  # median
    ESCALATION_RATE = "escalation_rate"  # 民转刑
    ON_SITE_SHARE = "on_site_share"  # settled on the spot by patrols
    PATROL_COVERAGE = "patrol_coverage"  # of planned patrol-hours and checkpoints
    ALERT_REACH_RATE = "alert_reach_rate"
    ALERT_ACK_RATE = "alert_ack_rate"
    TIME_TO_REACH_ALL_UNITS_MINUTES = "time_to_reach_all_units_minutes"
    REGISTRATION_COVERAGE_RATE = "registration_coverage_rate"
    TIMELY_REGISTRATION_RATE = "timely_registration_rate"
    PROACTIVE_SERVICE_RATE = "proactive_service_rate"
    PREVENTION_ASSET_COVERAGE = "prevention_asset_coverage"
    INCIDENCE_PER_10K = "incidence_per_10k"  # 发案率, from police statistics only

    @property
    def unit(self) -> Unit:
        """What this indicator's values measure."""
        return _UNITS.get(self, Unit.PERCENT)


_UNITS = {
    Indicator.TIME_TO_FIRST_MEDIATION_HOURS: Unit.HOURS,
    Indicator.TIME_TO_REACH_ALL_UNITS_MINUTES: Unit.MINUTES,
    Indicator.INCIDENCE_PER_10K: Unit.PER_10K,
}


class Direction(enum.StrEnum):
    """Which way the plan wants the indicator to move from its baseline."""

    INCREASE = "increase"
    DECREASE = "decrease"


def target_ref(indicator: Indicator, community: str = SUBDISTRICT) -> str:
    """The id of the target record: the indicator id, ``@community`` for one community."""
    return indicator.value if community == SUBDISTRICT else f"{indicator.value}@{community}"


class Target(Record):
    """The plan's target for one indicator in one scope."""

    KIND = "target"
    TOPIC = "safecomm/Target"

    class TargetSet(Record.Created):
        TOPIC = "safecomm/Target/TargetSet"
        ref: str
        community: str
        indicator: Indicator
        direction: Direction
        baseline: float
        baseline_source: str
        target: float
        due: date

    @event(TargetSet)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        indicator: Indicator,
        direction: Direction,
        baseline: float,
        baseline_source: str,
        target: float,
        due: date,
    ) -> None:
        self._created(meta, ref, community)
        self.indicator = Indicator(indicator)
        self.direction = Direction(direction)
        self.baseline = baseline
        self.baseline_source = baseline_source
        self.target = target
        self.due = due
        self.revisions = 0

    @classmethod
    def set(
        cls,
        *,
        meta: Meta,
        community: str,
        indicator: Indicator,
        direction: Direction,
        baseline: float,
        baseline_source: str,
        target: float,
        due: date,
    ) -> Target:
        """Set the target for ``indicator`` in ``community`` (``*``: the subdistrict)."""
        _check(indicator, direction, baseline, target, due, local_date(meta.occurred_at))
        return cls(
            meta=meta,
            ref=target_ref(indicator, community),
            community=community,
            indicator=indicator,
            direction=direction,
            baseline=baseline,
            baseline_source=baseline_source,
            target=target,
            due=due,
        )

    class TargetRevised(Record.Event):
        TOPIC = "safecomm/Target/TargetRevised"
        baseline: float
        baseline_source: str
        target: float
        due: date
        reason: str

    @event(TargetRevised)
    def _revised(
        self,
        meta: Meta,
        baseline: float,
        baseline_source: str,
        target: float,
        due: date,
        reason: str,
    ) -> None:
        self.baseline = baseline
        self.baseline_source = baseline_source
        self.target = target
        self.due = due
        self.revisions += 1

    def revise(
        self,
        meta: Meta,
        reason: str,
        *,
        baseline: float | None = None,
        baseline_source: str | None = None,
        target: float | None = None,
        due: date | None = None,
    ) -> None:
        """Change what was given (``None`` keeps the present value); the event holds all."""
        self.check_after_creation(meta)
        new_baseline = self.baseline if baseline is None else baseline
        new_source = self.baseline_source if baseline_source is None else baseline_source
        new_target = self.target if target is None else target
        new_due = self.due if due is None else due
        if (new_baseline, new_source, new_target, new_due) == (
            self.baseline,
            self.baseline_source,
            self.target,
            self.due,
        ):
            raise RuleViolation(
                f"the revision of target {self.ref!r} changes nothing",
                field="target_id",
                rule="must change the baseline, its source, the target or the due date",
            )
        # A due date already passed may stay as it is (say, when only the baseline is
        # corrected after the fact); a new one cannot lie before the revision.
        earliest = local_date(meta.occurred_at) if new_due != self.due else None
        _check(self.indicator, self.direction, new_baseline, new_target, new_due, earliest)
        self._revised(
            meta=meta,
            baseline=new_baseline,
            baseline_source=new_source,
            target=new_target,
            due=new_due,
            reason=reason,
        )


def _check(
    indicator: Indicator,
    direction: Direction,
    baseline: float,
    target: float,
    due: date,
    earliest: date | None,
) -> None:
    # Commands already refuse negative and non-finite numbers; these rules need the
    # indicator, which only the domain knows.
    for name, value in (("baseline", baseline), ("target", target)):
        if indicator.unit is Unit.PERCENT and value > 100:
            raise RuleViolation(
                f"{name} of {indicator.value} is a percentage: {value} is above 100",
                field=name,
                rule="at most 100 (percent)",
            )
    wanted = target > baseline if direction is Direction.INCREASE else target < baseline
    if not wanted:
        raise RuleViolation(
            f"a target to {direction.value} {indicator.value} from {baseline} cannot be {target}",
            field="target",
            rule=f"must {direction.value} from the baseline",
        )
    if earliest is not None and due < earliest:
        raise RuleViolation(
            f"target for {indicator.value} due on {due.isoformat()}, before the day it is "
            f"set ({earliest.isoformat()})",
            field="due",
            rule="not before the day it is set",
        )
