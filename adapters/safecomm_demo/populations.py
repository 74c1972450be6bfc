"""The communities' populations (outside data), for incidence per 10,000.

At the P1 diagnosis the office enters the 2010 census (第六次全国人口普查, 1 November
2010) and the annual update of 31 December 2012 from the household register and the
migrant registry; the update of 31 December 2013 follows in January 2014. The 2013 count
is :data:`~safecomm_demo.places.POPULATION`, the people the police's figures were drawn
for; earlier counts are a little smaller, migrants having grown fastest. The counts do
not scale.
"""

from __future__ import annotations

from datetime import date

from safecomm_core.commands.population import RecordPopulation
from safecomm_core.domain.population import PopulationBasis, population_ref
from safecomm_core.values import Channel, Role
from safecomm_demo.places import POPULATION
from safecomm_demo.story import COMMUNITIES, Writer, at, staff

__all__ = ["populations"]

#: Each community's share of migrants in its people at the end of 2013.
_MIGRANT_SHARE = {"C1": 0.22, "C2": 0.18, "C3": 0.31, "C4": 0.15, "C5": 0.26, "C6": 0.2, "C7": 0.12}
#: (as of, basis, source, recorded on, people then as a share of 2013's, migrants' share).
_COUNTS = (
    (date(2010, 11, 1), PopulationBasis.CENSUS, "第六次全国人口普查",
     date(2013, 10, 16), 0.94, 0.8),
    (date(2012, 12, 31), PopulationBasis.ANNUAL_UPDATE, "户籍与流动人口年度统计",
     date(2013, 10, 16), 0.98, 0.93),
    (date(2013, 12, 31), PopulationBasis.ANNUAL_UPDATE, "户籍与流动人口年度统计",
     date(2014, 1, 20), 1.0, 1.0),
)  # fmt: skip
_OFFICE = staff(3, Role.STAFF)


def populations(w: Writer) -> int:
    """Record every count; returns how many."""
    recorded = 0
    for as_of, basis, source, on, people, migrant_growth in _COUNTS:
        story = w.story(prompt=True)
        for community in COMMUNITIES:
            migrants = round(POPULATION[community] * _MIGRANT_SHARE[community] * migrant_growth)
            residents = round(POPULATION[community] * people) - migrants
            w.add(
                story,
                RecordPopulation,
                at(on, 11),
                _OFFICE,
                channel=Channel.IMPORT if as_of < date(2013, 1, 1) else Channel.API,
                population_id=population_ref(community, as_of),
                community=community,
                as_of=as_of,
                residents=residents,
                migrants=migrants,
                basis=basis,
                source=source,
            )
            recorded += 1
    return recorded
