"""Commands for the police's monthly case counts (``police_statistic.*``). Outside data."""

from __future__ import annotations

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.police_statistic import PoliceStatistic, statistic_ref
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import count, ident, label, matches, prose

__all__ = ["CorrectPoliceStatistic", "ReportPoliceStatistic"]

_MONTH = matches(r"\d{4}-(0[1-9]|1[0-2])", "must be a month YYYY-MM")
_CATEGORY = matches(r"[a-z][a-z0-9_]*", "must be lower-case letters, digits and _ (e.g. theft)")


@attrs.frozen(kw_only=True)
class _OnStatistic(Command):
    statistic_id: str = ident()
    cases: int = count()


# Police figures are the public-order baseline of P1's diagnosis and the outcome that P6's
# self-assessment weighs; no work measure produces them.
@command("police_statistic.report", serves=("P1", "P6"))
@attrs.frozen(kw_only=True)
class ReportPoliceStatistic(_OnStatistic):
    """The police station's case count for a month, community (or ``*``) and category.

    ``statistic_id`` must read ``<month>/<community>/<category>`` (``2014-03/C1/theft``),
    so that one figure has one record.
    """

    month: str = attrs.field(validator=_MONTH)
    community: str = ident()
    category: str = attrs.field(validator=_CATEGORY)
    source: str = label()

    def run(self, ctx: Context) -> None:
        expected = statistic_ref(self.month, self.community, self.category)
        if self.statistic_id != expected:
            raise InvalidCommand(
                [
                    FieldError(
                        "statistic_id", f"must be {expected!r}: <month>/<community>/<category>"
                    )
                ]
            )
        ctx.check_new(PoliceStatistic, self.statistic_id)
        ctx.add(
            PoliceStatistic.report(
                meta=ctx.meta,
                community=self.community,
                month=self.month,
                category=self.category,
                cases=self.cases,
                source=self.source,
            )
        )


@command("police_statistic.correct", serves=("P1", "P6"))
@attrs.frozen(kw_only=True)
class CorrectPoliceStatistic(_OnStatistic):
    """The police revised a figure; the first one stays in the history."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        statistic = ctx.load(PoliceStatistic, self.statistic_id)
        statistic.correct(
            ctx.meta, self.cases, ctx.seal_text(PoliceStatistic, self.statistic_id, self.reason)
        )
