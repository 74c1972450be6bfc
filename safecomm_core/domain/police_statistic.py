"""PoliceStatistic: monthly case counts from the police station. **Outside data.**

The programme's incidence rates (发案率, docs/domain.md) rest on these figures only: crime
rates are never computed from safecomm's own records. A statistic is what the station
reported for one month, one community (or ``*`` when the station gives only a subdistrict
total) and one category of case. The police may revise a figure: Corrected keeps the new
count beside the first one, so a report can show both, and an audit can see when each was
known.

Reported → Corrected*.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.values import Meta

__all__ = ["PoliceStatistic", "month_start", "statistic_ref"]


def statistic_ref(month: str, community: str, category: str) -> str:
    """The one id of a month's figure for a community and category: ``2014-03/C1/theft``.

    One id per (month, community, category) means the same figure cannot be entered
    twice under two names and then counted twice.
    """
    return f"{month}/{community}/{category}"


def month_start(month: str) -> date:
    """The first day of a ``YYYY-MM`` month."""
    return date.fromisoformat(f"{month}-01")


class PoliceStatistic(Record):
    """One month's case count for a community and category, as reported by the police."""

    KIND = "police_statistic"
    TOPIC = "safecomm/PoliceStatistic"

    #: These figures come from outside the programme: reports must say so beside them.
    OUTSIDE_DATA: ClassVar[bool] = True

    class Reported(Record.Created):
        TOPIC = "safecomm/PoliceStatistic/Reported"
        ref: str
        community: str
        month: str
        category: str
        cases: int
        source: str

    @event(Reported)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        month: str,
        category: str,
        cases: int,
        source: str,
    ) -> None:
        self._created(meta, ref, community)
        self.month = month
        self.category = category
        self.source = source
        self.reported_cases = cases
        self.cases = cases
        self.corrections = 0

    @classmethod
    def report(
        cls, *, meta: Meta, community: str, month: str, category: str, cases: int, source: str
    ) -> PoliceStatistic:
        """The station's figure for a month that has begun by the time it is reported."""
        if local_date(meta.occurred_at) < month_start(month):
            raise RuleViolation(
                f"cases for {month} cannot be reported before the month begins "
                f"(reported on {local_date(meta.occurred_at).isoformat()})",
                field="occurred_at",
                rule="not before the month begins",
            )
        return cls(
            meta=meta,
            ref=statistic_ref(month, community, category),
            community=community,
            month=month,
            category=category,
            cases=cases,
            source=source,
        )

    class Corrected(Record.Event):
        TOPIC = "safecomm/PoliceStatistic/Corrected"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        cases: int
        reason: SealedText

    @event(Corrected)
    def _corrected(self, meta: Meta, cases: int, reason: SealedText) -> None:
        self.cases = cases
        self.corrections += 1

    def correct(self, meta: Meta, cases: int, reason: SealedText) -> None:
        """The police revised the figure; the first one stays in the history."""
        self.check_after_creation(meta)
        if cases == self.cases:
            raise RuleViolation(
                f"police statistic {self.ref!r} already stands at {cases} cases",
                field="cases",
                rule="must differ from the present count",
            )
        self._corrected(meta=meta, cases=cases, reason=reason)
