"""Commands that set and revise the plan's targets (``target.*``)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.domain.targets import Direction, Indicator, Target, target_ref
from safecomm_core.validation import BrokenRule, nonempty

__all__ = ["ReviseTarget", "SetTarget"]


def _amount(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise BrokenRule(attribute.name, "must be a finite number of zero or more")


@attrs.frozen(kw_only=True)
class _OnTarget(Command):
    indicator: Indicator
    community: str = attrs.field(default=SUBDISTRICT, validator=nonempty)

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
    baseline: float = attrs.field(validator=_amount)
    baseline_source: str = attrs.field(validator=nonempty)
    target: float = attrs.field(validator=_amount)
    due: date

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

    reason: str = attrs.field(validator=nonempty)
    baseline: float | None = attrs.field(default=None, validator=_amount)
    baseline_source: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(nonempty)
    )
    target: float | None = attrs.field(default=None, validator=_amount)
    due: date | None = None

    def run(self, ctx: Context) -> None:
        ctx.load(Target, self.target_id).revise(
            ctx.meta,
            self.reason,
            baseline=self.baseline,
            baseline_source=self.baseline_source,
            target=self.target,
            due=self.due,
        )
