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
from typing import Any

from eventsourcing.domain import event

from safecomm_core import indicators
from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.indicators import Unit
from safecomm_core.values import Meta

__all__ = ["Direction", "Target", "TargetIndicator", "target_ref"]


class TargetIndicator(enum.StrEnum):
    """The indicators a target may be set for, by their id in the indicator registry
    (:data:`~safecomm_core.indicators.INDICATORS`), which names them and gives their unit.

    Values are stated in the indicator's unit, a rate in percent (90 for 90 %).
    """

    AWARENESS_RATE = "awareness_rate"
    PARTICIPATION_RATE = "participation_rate"
    PARTICIPATION_REGISTER_RATE = "participation_register_rate"
    SATISFACTION_RATE = "satisfaction_rate"
    SECURITY_RATE = "sense_of_security_rate"
    MEDIATION_SUCCESS_RATE = "mediation_success_rate"
    AGREEMENT_PERFORMANCE_RATE = "agreement_performance_rate"
    SETTLED_ON_TIME_RATE = "settled_on_time_rate"
    TIME_TO_FIRST_MEDIATION_HOURS = "first_mediation_median_hours"
    ESCALATION_RATE = "dispute_escalation_rate"
    ON_SITE_SHARE = "onsite_settlement_share"
    PATROL_COVERAGE = "patrol_checkpoint_coverage"
    ALERT_REACH_RATE = "alert_reach_rate"
    ALERT_ACK_RATE = "alert_ack_rate"
    TIME_TO_REACH_ALL_UNITS_MINUTES = "alert_time_to_all_minutes"
    REGISTRATION_COVERAGE_RATE = "registration_coverage"
    TIMELY_REGISTRATION_RATE = "timely_registration_rate"
    PROACTIVE_SERVICE_RATE = "proactive_service_rate"
    PREVENTION_ASSET_COVERAGE = "prevention_asset_coverage"
    INCIDENCE_PER_10K = "incidence_per_10k"

    @property
    def info(self) -> indicators.Indicator:
        """The indicator's entry in the registry."""
        return indicators.indicator(self.value)

    @property
    def unit(self) -> Unit:
        """What this indicator's values measure."""
        return self.info.unit


class Direction(enum.StrEnum):
    """Which way the plan wants the indicator to move from its baseline."""

    INCREASE = "increase"
    DECREASE = "decrease"


def target_ref(indicator: TargetIndicator, community: str = SUBDISTRICT) -> str:
    """The id of the target record: the indicator id, ``@community`` for one community.

    An indicator renamed since targets were first stored keeps its first id here, so that
    its target is the same record whichever id the target was set with.
    """
    key = (indicator.info.former_ids or (indicator.value,))[0]
    return key if community == SUBDISTRICT else f"{key}@{community}"


class Target(Record):
    """The plan's target for one indicator in one scope."""

    KIND = "target"
    TOPIC = "safecomm/Target"

    class TargetSet(Record.Created):
        TOPIC = "safecomm/Target/TargetSet"
        # v2 names the indicator by the registry's id; v1 events may use a former id.
        class_version = 2
        ref: str
        community: str
        indicator: TargetIndicator
        direction: Direction
        baseline: float
        baseline_source: str
        target: float
        due: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["indicator"] = indicators.current_id(state["indicator"])

    @event(TargetSet)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        indicator: TargetIndicator,
        direction: Direction,
        baseline: float,
        baseline_source: str,
        target: float,
        due: date,
    ) -> None:
        self._created(meta, ref, community)
        self.indicator = TargetIndicator(indicator)
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
        indicator: TargetIndicator,
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
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        baseline: float
        baseline_source: str
        target: float
        due: date
        reason: SealedText

    @event(TargetRevised)
    def _revised(
        self,
        meta: Meta,
        baseline: float,
        baseline_source: str,
        target: float,
        due: date,
        reason: SealedText,
    ) -> None:
        self.baseline = baseline
        self.baseline_source = baseline_source
        self.target = target
        self.due = due
        self.revisions += 1

    def revise(
        self,
        meta: Meta,
        reason: SealedText,
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
    indicator: TargetIndicator,
    direction: Direction,
    baseline: float,
    target: float,
    due: date,
    earliest: date | None,
) -> None:
    # Commands already refuse negative and non-finite numbers; these rules need the
    # indicator, which only the domain knows.
    most = indicator.unit.stated_max
    for name, value in (("baseline", baseline), ("target", target)):
        if most is not None and value > most:
            raise RuleViolation(
                f"{name} of {indicator.value} is a percentage: {value} is above {most:g}",
                field=name,
                rule=f"at most {most:g} (percent)",
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
