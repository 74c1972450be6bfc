"""The police station's monthly case counts per community and category (outside data).

For the P1 diagnosis the station gives the twelve months before the programme (October
2012 to September 2013) in one go; from then on it reports each month's figures in the
first week of the next month, so the programme's last month (December 2014) is not yet
reported when it ends. Thefts fall by about a quarter over the programme, robberies and
public-order cases a little, frauds rise at first and then fall back. Twice the station
revises a figure a few weeks after giving it (a late-filed case, a case reclassified).
The counts are the police's and do not scale.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from safecomm_core.commands import police_statistic as ps
from safecomm_core.values import Channel, Role
from safecomm_demo.places import POPULATION
from safecomm_demo.story import COMMUNITIES, Writer, at, months, staff

__all__ = ["CATEGORIES", "police_statistics"]

#: Category: cases a month per 6,000 residents before the programme, and at its end.
CATEGORIES = {
    "theft": (9.0, 6.5),
    "fraud": (2.5, 2.0),
    "robbery": (0.8, 0.5),
    "public_order": (5.0, 4.2),
}
_BEFORE = date(2012, 10, 1)
_START = date(2013, 10, 1)
_LAST = date(2014, 11, 1)  # the last month reported before the programme ends
_STATION = staff(45, Role.POLICE)
_SOURCE = "河门口派出所"


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth's method: the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _mean(category: str, community: str, month: date) -> float:
    before, after = CATEGORIES[category]
    progress = min(1.0, max(0.0, (month - _START).days / (_LAST - _START).days))
    level = before + (after - before) * progress
    if category == "fraud" and date(2013, 12, 1) <= month <= date(2014, 3, 1):
        level *= 1.4  # the winter wave of telephone fraud
    return level * POPULATION[community] / 6000


def police_statistics(w: Writer) -> int:
    """Report every figure; the cases of the twelve months before (the P1 baseline)."""
    rng = w.rng
    baseline = 0
    diagnosis = w.story(prompt=True)
    reported: list[tuple[ps.ReportPoliceStatistic, int]] = []
    for month in months(_BEFORE, _LAST):
        before = month < _START
        when = (
            at(date(2013, 10, 16), 10)
            if before
            else at((month + timedelta(days=32)).replace(day=rng.randint(3, 8)), 10)
        )
        s = diagnosis if before else w.story(late_share=0.1, max_delay_days=10)
        for community in COMMUNITIES:
            for category in CATEGORIES:
                cases = _poisson(rng, _mean(category, community, month))
                baseline += cases if before else 0
                command = w.add(
                    s,
                    ps.ReportPoliceStatistic,
                    when,
                    _STATION,
                    channel=Channel.IMPORT if before else Channel.API,
                    statistic_id=f"{month:%Y-%m}/{community}/{category}",
                    cases=cases,
                    month=f"{month:%Y-%m}",
                    community=community,
                    category=category,
                    source=_SOURCE,
                )
                if not before:
                    assert isinstance(command, ps.ReportPoliceStatistic)
                    reported.append((command, cases))
    revisable = [r for r in reported if r[0].occurred_at.date() < _LAST]
    for (command, cases), reason, change in zip(
        rng.sample(revisable, 2), ("补录漏报案件", "案件性质调整"), (2, -1), strict=True
    ):
        w.add(
            w.story(prompt=True),
            ps.CorrectPoliceStatistic,
            command.occurred_at + timedelta(days=rng.randint(20, 40)),
            _STATION,
            channel=Channel.API,
            statistic_id=command.statistic_id,
            cases=cases + change if cases + change >= 0 else cases + 1,
            reason=reason,
        )
    return baseline
