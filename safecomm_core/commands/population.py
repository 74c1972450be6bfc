"""Commands for communities' populations (``population.*``). Outside data."""

from __future__ import annotations

from datetime import date

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.population import Population, PopulationBasis, population_ref
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import count, day, ident, label, prose

__all__ = ["CorrectPopulation", "RecordPopulation"]


@attrs.frozen(kw_only=True)
class _OnPopulation(Command):
    population_id: str = ident()
    residents: int = count()
    migrants: int = count()


# The population is part of P1's community diagnosis (the baseline incidence per 10,000)
# and of P6's evaluation (incidence at the end); no work measure produces it.
@command("population.record", serves=("P1", "P6"))
@attrs.frozen(kw_only=True)
class RecordPopulation(_OnPopulation):
    """A community's population as of a day: registered residents and migrants living
    there, from a census or an annual update, and the source of the count.

    ``population_id`` must read ``<community>/<as_of>`` (``C1/2013-12-31``), so that one
    count has one record.
    """

    community: str = ident()
    as_of: date = day()
    basis: PopulationBasis
    source: str = label()

    def run(self, ctx: Context) -> None:
        expected = population_ref(self.community, self.as_of)
        if self.population_id != expected:
            raise InvalidCommand(
                [FieldError("population_id", f"must be {expected!r}: <community>/<as_of>")]
            )
        ctx.check_new(Population, self.population_id)
        ctx.add(
            Population.record(
                meta=ctx.meta,
                community=self.community,
                as_of=self.as_of,
                residents=self.residents,
                migrants=self.migrants,
                basis=self.basis,
                source=self.source,
            )
        )


@command("population.correct", serves=("P1", "P6"))
@attrs.frozen(kw_only=True)
class CorrectPopulation(_OnPopulation):
    """A population count was revised; the first one stays in the history."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        population = ctx.load(Population, self.population_id)
        reason = ctx.seal_text(Population, self.population_id, self.reason)
        population.correct(ctx.meta, self.residents, self.migrants, reason)
