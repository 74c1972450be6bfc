"""Commands that set and revise the plan's targets (``target.*``)."""

from __future__ import annotations

from datetime import date

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.domain.targets import Direction, Target, TargetIndicator, target_ref
from safecomm_core.validation import (
    amount,
    day,
    day_or_none,
    ident,
    label,
    label_or_none,
    prose,
)

__all__ = ["ReviseTarget", "SetTarget"]


@attrs.frozen(kw_only=True)
class _OnTarget(Command):
    indicator: TargetIndicator
    community: str = ident(default=SUBDISTRICT)

    @property
    def target_id(self) -> str:
        """The target record's id: the indicator, ``@community`` for one community."""
        return target_ref(self.indicator, self.community)


# A target is one of P1's "goals"; S1 asks for clear goals the group works to.
@command("target.set", serves=("P1", "S1"))
@attrs.frozen(kw_only=True)
class SetTarget(_OnTarget):
    """Set the target of an indicator in a community or the subdistrict (``*``)."""

    direction: Direction
    baseline: float = amount()
    baseline_source: str = label()
    target: float = amount()
    due: date = day()

    def run(self, ctx: Context) -> None:
        ctx.check_new(Target, self.target_id)
        ctx.add(
            Target.set(
                meta=ctx.meta,
                community=self.community,
                indicator=self.indicator,
                direction=self.direction,
                baseline=self.baseline,
                baseline_source=self.baseline_source,
                target=self.target,
                due=self.due,
            )
        )


# P3 adjusts the plans as the projects advance; S1's monthly meeting keeps goals current.
@command("target.revise", serves=("P3", "S1"))
@attrs.frozen(kw_only=True)
class ReviseTarget(_OnTarget):
    """Revise a target: give only what changes, and why."""

    reason: str = prose()
    baseline: float | None = amount(default=None)
    baseline_source: str | None = label_or_none()
    target: float | None = amount(default=None)
    due: date | None = day_or_none()

    def run(self, ctx: Context) -> None:
        ctx.load(Target, self.target_id).revise(
            ctx.meta,
            ctx.seal_text(Target, self.target_id, self.reason),
            baseline=self.baseline,
            baseline_source=self.baseline_source,
            target=self.target,
            due=self.due,
        )
