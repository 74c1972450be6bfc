"""What every indicator is computed from: counted things, the events behind each, and months.

An indicator's definition (:mod:`safecomm_core.reports.indicators`) does not return a
number: it returns a :class:`Tally`, the things it counted in its denominator and its
numerator (disputes, recipient units, survey responses, checkpoints…), each with the
community it belongs to and the stored events that put it there (:class:`EventRef`).
Figures for every scope, chart series and provenance (``safecomm report explain``) are all
read from the same tally, so a figure and the events it names cannot disagree.

- a **rate** is Σ numerator weights / Σ denominator weights (a weight is 1 for a counted
  thing, a number of cases for a police figure); None, "not applicable", when the
  denominator is 0: never 0 or 100 %;
- a **median** or **90th percentile** is of the values of the counted things (None when
  there are none); the figure's numerator is the value and its denominator None, as the
  report model has it for measures;
- a **change** is (Σ now − Σ before) / Σ before; None when either side has nothing.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import attrs

__all__ = [
    "Counted",
    "EventRef",
    "Kind",
    "Tally",
    "events_of",
    "measure",
]

#: How an indicator turns its tally into a value.
Kind = Literal["rate", "median", "p90", "change"]


@attrs.frozen(order=True)
class EventRef:
    """A stored event, as an auditor finds it: record kind and reference, version, name."""

    notification_id: int
    kind: str  # the record's kind: "dispute", "patrol", "alert", ...
    ref: str  # the record's own reference (a case number, never a person's name)
    version: int
    topic: str  # the stored name: "safecomm/Dispute/AgreementReached"
    occurred_at: datetime
    #: In a city's report, the subdistrict whose store holds it ("": the report's own store).
    subdistrict: str = ""

    @property
    def event(self) -> str:
        """The event's name: the last part of its topic (``AgreementReached``)."""
        return self.topic.rsplit("/", 1)[-1]


@attrs.frozen
class Counted:
    """One thing an indicator counted, in one community, with the events behind it.

    ``weight`` is what it adds to a rate (1, or a police figure's cases); ``value`` is its
    measure for medians (hours to first mediation, minutes to reach every unit).
    """

    community: str
    events: tuple[EventRef, ...]
    weight: float = 1.0
    value: float | None = None


@attrs.frozen
class Tally:
    """Everything an indicator counted for one period, in every community."""

    numerator: tuple[Counted, ...] = ()
    denominator: tuple[Counted, ...] = ()
    #: What the subdistrict's figure counts where it is not everything the communities'
    #: figures count (a survey figure reads the subdistrict's latest wave and each
    #: community's own); None: the subdistrict counts everything.
    overall: Tally | None = None

    def scoped(self, scope: str) -> Tally:
        """Only what belongs to ``scope`` (a community; ``*``: everything, or the
        subdistrict's own count when the tally has one)."""
        if scope == "*":
            return self if self.overall is None else self.overall
        return self._by_community.get(scope, _EMPTY)

    @functools.cached_property
    def _by_community(self) -> dict[str, Tally]:
        # A report asks for every community's share of every tally: split it once.
        numerator: dict[str, list[Counted]] = defaultdict(list)
        denominator: dict[str, list[Counted]] = defaultdict(list)
        for c in self.numerator:
            numerator[c.community].append(c)
        for c in self.denominator:
            denominator[c.community].append(c)
        return {
            community: Tally(tuple(numerator[community]), tuple(denominator[community]))
            for community in numerator.keys() | denominator.keys()
        }


_EMPTY = Tally()


def _p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: the smallest value with at least 90 % at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def measure(kind: Kind, tally: Tally) -> tuple[float, float | None, float | None]:
    """(numerator, denominator, value) of a figure of ``kind`` from ``tally``."""
    if kind == "rate":
        num = sum((c.weight for c in tally.numerator), 0.0)
        den = sum((c.weight for c in tally.denominator), 0.0)
        return num, den, (num / den if den else None)
    if kind == "change":
        now = sum((c.weight for c in tally.numerator), 0.0)
        before = sum((c.weight for c in tally.denominator), 0.0)
        if not tally.numerator or not before:
            return now - before, before, None
        return now - before, before, (now - before) / before
    values = [c.value for c in tally.denominator if c.value is not None]
    if not values:
        return 0.0, None, None
    value = round(statistics.median(values) if kind == "median" else _p90(values), 2)
    return value, None, value


def events_of(items: Iterable[Counted]) -> list[EventRef]:
    """The distinct events behind ``items``, in the order the store holds them."""
    return sorted({e for c in items for e in c.events})
