"""The plan's targets for its main indicators, set at the end of P1 from its baselines.

Baselines come from where P1 found them: the baseline survey wave (the three rates and the
sense of security, computed here from the very responses the survey part recorded), the
police's figures for the year before (incidence per 10,000 residents), the imported
migrant registers (timely registration), and the diagnosis report for what no record of
ours holds (mediation success and time to first mediation from the 2012 mediation books,
device coverage of old compounds). Measures new with the programme (alert acknowledgement,
M3.3's proactive service) start from zero. At the P3 progress meeting the group raised the
participation target and moved the inspection-ready date of asset coverage earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from safecomm_core.commands import targets as tg
from safecomm_core.domain.survey import Answers, Wave
from safecomm_core.domain.targets import Direction, TargetIndicator
from safecomm_core.indicators import Unit
from safecomm_core.values import Role
from safecomm_demo.migrants import Migrant
from safecomm_demo.places import POPULATION
from safecomm_demo.story import Writer, at, staff

__all__ = ["targets"]

_SET = date(2013, 11, 6)
_DUE = date(2014, 12, 31)
_SURVEY = "基线调查 (2013年10月)"
_DIAGNOSIS = "P1 社会治安诊断报告"


def _percent(hits: int, valid: int) -> float:
    return round(100 * hits / valid, 1) if valid else 0.0


def _rates(answers: Sequence[Answers]) -> dict[TargetIndicator, float]:
    """The baseline wave's rates, by the indicators' definitions (docs/domain.md, *Indicators*)."""
    aware = [a.aware for a in answers if a.aware is not None]
    took_part = [a.participated for a in answers if a.participated is not None]
    satisfied = [a.satisfaction.favourable() for a in answers if a.satisfaction is not None]
    safe = [a.security.favourable() for a in answers if a.security is not None]
    return {
        TargetIndicator.AWARENESS_RATE: _percent(sum(aware), len(aware)),
        TargetIndicator.PARTICIPATION_RATE: _percent(sum(took_part), len(took_part)),
        TargetIndicator.SATISFACTION_RATE: _percent(sum(satisfied), len(satisfied)),
        TargetIndicator.SECURITY_RATE: _percent(sum(safe), len(safe)),
    }


def _aim(direction: Direction, baseline: float, target: float, percent: bool = True) -> float:
    """``target``, moved past the baseline if a small sample put the baseline beyond it."""
    if direction is Direction.INCREASE and target <= baseline:
        return min(100.0, baseline + 5) if percent else baseline * 1.1
    if direction is Direction.DECREASE and target >= baseline:
        return baseline * 0.85
    return target


def targets(
    w: Writer, waves: dict[Wave, list[Answers]], baseline_cases: int, migrants: Sequence[Migrant]
) -> None:
    """Set the targets from the baselines, and revise two at the P3 progress meeting."""
    office = staff(1, Role.ADMIN)
    imported = [m for m in migrants if m.registered.date() < date(2013, 10, 1)]
    residents = sum(POPULATION.values())
    incidence = round(baseline_cases / residents * 10_000, 1)
    rates = _rates(waves[Wave.BASELINE])
    aims: list[tuple[TargetIndicator, Direction, float, str, float]] = [
        (i, Direction.INCREASE, value, _SURVEY, target)
        for (i, value), target in zip(rates.items(), (90.0, 60.0, 85.0, 90.0), strict=True)
    ]
    aims += [
        (TargetIndicator.MEDIATION_SUCCESS_RATE, Direction.INCREASE, 82.0, _DIAGNOSIS, 95.0),
        (TargetIndicator.TIME_TO_FIRST_MEDIATION_HOURS, Direction.DECREASE, 72.0, _DIAGNOSIS, 48.0),
        (TargetIndicator.ALERT_ACK_RATE, Direction.INCREASE, 0.0, "联动网络新建, 无基线", 90.0),
        (
            TargetIndicator.TIMELY_REGISTRATION_RATE,
            Direction.INCREASE,
            _percent(sum(m.on_time for m in imported), len(imported)),
            "2010–2013 流动人口登记台账",
            92.0,
        ),
        (
            TargetIndicator.PROACTIVE_SERVICE_RATE,
            Direction.INCREASE,
            0.0,
            "M3.3 新措施, 无基线",
            80.0,
        ),
        (TargetIndicator.PREVENTION_ASSET_COVERAGE, Direction.INCREASE, 30.0, _DIAGNOSIS, 95.0),
        (
            TargetIndicator.INCIDENCE_PER_10K,
            Direction.DECREASE,
            incidence,
            "派出所 2012年10月–2013年9月 案件统计",
            round(incidence * 0.85, 1),
        ),
    ]
    s = w.story(prompt=True)
    for indicator, direction, baseline, source, target in aims:
        if direction is Direction.INCREASE and baseline >= 100:
            continue  # a tiny sample (small scales) can leave nothing to improve
        w.add(
            s,
            tg.SetTarget,
            at(_SET, 10),
            office,
            indicator=indicator,
            direction=direction,
            baseline=baseline,
            baseline_source=source,
            target=_aim(direction, baseline, target, indicator.unit is Unit.RATE),
            due=_DUE,
        )
    progress_meeting = at(date(2014, 4, 18), 16)
    participation = _aim(Direction.INCREASE, rates[TargetIndicator.PARTICIPATION_RATE], 65.0)
    if participation != _aim(Direction.INCREASE, rates[TargetIndicator.PARTICIPATION_RATE], 60.0):
        w.add(
            s,
            tg.ReviseTarget,
            progress_meeting,
            office,
            indicator=TargetIndicator.PARTICIPATION_RATE,
            target=participation,
            reason="推进会: 志愿者队伍扩大, 提高参与率目标",
        )
    w.add(
        s,
        tg.ReviseTarget,
        progress_meeting,
        office,
        indicator=TargetIndicator.PREVENTION_ASSET_COVERAGE,
        due=date(2014, 11, 30),
        reason="推进会: 省级验收前完成技防设施建设",
    )
