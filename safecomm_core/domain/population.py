"""Population: how many people live in a community, as of a date. **Outside data.**

Incidence per 10,000 residents (发案率, docs/domain.md, *Incidence*) needs the people of
a community, and the count changes: a census counts them once a decade, the household
register and the migrant registry update them each year. A population is recorded per
community as of a date, with the count of registered residents and of migrants living
there, where the count comes from (a census or an annual update) and its source. A report
uses the figure in force on the day it asks about: the latest with an ``as_of`` by then.

The subdistrict's population is the sum of its communities': none is recorded for ``*``,
so the two can never disagree.

Recorded → Corrected*.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import ClassVar

from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.values import Meta

__all__ = ["Population", "PopulationBasis", "population_ref"]


class PopulationBasis(enum.StrEnum):
    """Where a population count comes from."""

    CENSUS = "census"  # 人口普查: a full count on a census day
    ANNUAL_UPDATE = "annual_update"  # 年度更新: the household register and migrant registry


def population_ref(community: str, as_of: date) -> str:
    """The one id of a community's population as of a day: ``C1/2013-12-31``.

    One id per (community, day), so the same count cannot be entered twice and summed.
    """
    return f"{community}/{as_of.isoformat()}"


class Population(Record):
    """A community's population as of a date: registered residents and migrants."""

    KIND = "population"
    TOPIC = "safecomm/Population"

    #: Counts from the census or the registers, not from the programme's own records.
    OUTSIDE_DATA: ClassVar[bool] = True

    class Recorded(Record.Created):
        TOPIC = "safecomm/Population/Recorded"
        ref: str
        community: str
        as_of: date
        residents: int
        migrants: int
        basis: PopulationBasis
        source: str

    @event(Recorded)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        as_of: date,
        residents: int,
        migrants: int,
        basis: PopulationBasis,
        source: str,
    ) -> None:
        self._created(meta, ref, community)
        self.as_of = as_of
        self.residents = residents
        self.migrants = migrants
        self.basis = PopulationBasis(basis)
        self.source = source
        self.corrections = 0

    @property
    def people(self) -> int:
        """Everyone living in the community: registered residents and migrants."""
        return self.residents + self.migrants

    @classmethod
    def record(
        cls,
        *,
        meta: Meta,
        community: str,
        as_of: date,
        residents: int,
        migrants: int,
        basis: PopulationBasis,
        source: str,
    ) -> Population:
        """A community's count as of a day that has come by the time it is recorded."""
        if community == SUBDISTRICT:
            raise RuleViolation(
                "a population is recorded per community; the subdistrict's is the sum of "
                "its communities'",
                field="community",
                rule="a community, not *",
            )
        if local_date(meta.occurred_at) < as_of:
            raise RuleViolation(
                f"a population as of {as_of.isoformat()} cannot be recorded before that day "
                f"(recorded on {local_date(meta.occurred_at).isoformat()})",
                field="as_of",
                rule="not after the day it is recorded",
            )
        return cls(
            meta=meta,
            ref=population_ref(community, as_of),
            community=community,
            as_of=as_of,
            residents=residents,
            migrants=migrants,
            basis=basis,
            source=source,
        )

    class Corrected(Record.Event):
        TOPIC = "safecomm/Population/Corrected"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        residents: int
        migrants: int
        reason: SealedText

    @event(Corrected)
    def _corrected(self, meta: Meta, residents: int, migrants: int, reason: SealedText) -> None:
        self.residents = residents
        self.migrants = migrants
        self.corrections += 1

    def correct(self, meta: Meta, residents: int, migrants: int, reason: SealedText) -> None:
        """The count was revised; the first one stays in the history."""
        self.check_after_creation(meta)
        if (residents, migrants) == (self.residents, self.migrants):
            raise RuleViolation(
                f"population {self.ref!r} already stands at {residents} residents and "
                f"{migrants} migrants",
                field="residents",
                rule="must differ from the present count",
            )
        self._corrected(meta=meta, residents=residents, migrants=migrants, reason=reason)
