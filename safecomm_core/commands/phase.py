"""Commands of the programme's phases (``phase.*``, plan II: P1–P7)."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.commands.shape import require_distinct
from safecomm_core.domain.phase import Evidence, PhaseId, ProjectPhase, ReviewKind
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import (
    LABEL_MAX_LENGTH,
    BrokenRule,
    day,
    ident,
    label,
    labels,
    listed,
    member_rule,
    prose,
    text_rule,
)

__all__ = [
    "CompletePhase",
    "HoldPhaseReview",
    "MarkPhaseOverdue",
    "PlanPhase",
    "RecordDeliverable",
    "StartPhase",
]

_ALL_PHASES = tuple(p.value for p in PhaseId)


def _score(_instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
    ):
        raise BrokenRule(attribute.name, "must be from 0 to 100")


@attrs.frozen(kw_only=True)
class _OnPhase(Command):
    phase_id: PhaseId


@command("phase.plan", serves=_ALL_PHASES)
@attrs.frozen(kw_only=True)
class PlanPhase(_OnPhase):
    """Plan a phase: its title, planned window (inclusive dates) and required deliverables.

    ``community`` defaults to ``*``: the programme is the subdistrict's.
    """

    title: str = label()
    window_start: date = day()
    window_end: date = day()
    required_deliverables: tuple[str, ...] = labels(default=())
    community: str = ident(default=SUBDISTRICT)

    def run(self, ctx: Context) -> None:
        if self.window_end < self.window_start:
            raise InvalidCommand([FieldError("window_end", "must not be before window_start")])
        require_distinct("required_deliverables", self.required_deliverables, at_least=0)
        ctx.check_new(ProjectPhase, self.phase_id.value)
        ctx.add(
            ProjectPhase(
                meta=ctx.meta,
                ref=self.phase_id.value,
                community=self.community,
                title=self.title,
                window_start=self.window_start,
                window_end=self.window_end,
                required_deliverables=self.required_deliverables,
            )
        )


@command("phase.start", serves=_ALL_PHASES)
@attrs.frozen(kw_only=True)
class StartPhase(_OnPhase):
    """The phase's work began."""

    def run(self, ctx: Context) -> None:
        ctx.load(ProjectPhase, self.phase_id.value).start(ctx.meta)


@command("phase.record_deliverable", serves=_ALL_PHASES)
@attrs.frozen(kw_only=True)
class RecordDeliverable(_OnPhase):
    """A deliverable was produced; ``evidence`` references its documents by content hash.

    At least one document, each once: a deliverable that cannot be verified is not evidence.
    """

    name: str = label()
    evidence: tuple[Evidence, ...] = attrs.field(
        validator=listed(member_rule("title", text_rule(LABEL_MAX_LENGTH, required=True)))
    )

    def run(self, ctx: Context) -> None:
        if not self.evidence:
            raise InvalidCommand([FieldError("evidence", "at least one document")])
        require_distinct("evidence", (e.sha256 for e in self.evidence), at_least=0)
        phase = ctx.load(ProjectPhase, self.phase_id.value)
        phase.record_deliverable(ctx.meta, self.name, self.evidence)


@command("phase.hold_review", serves=("P4", "P6", "P7"))
@attrs.frozen(kw_only=True)
class HoldPhaseReview(_OnPhase):
    """A review was held: mid-term (P4), self-assessment (P6, scored), look-back, inspection."""

    kind: ReviewKind
    findings: str = prose()
    score: int | None = attrs.field(default=None, validator=_score)

    def run(self, ctx: Context) -> None:
        phase = ctx.load(ProjectPhase, self.phase_id.value)
        phase.hold_review(
            ctx.meta,
            self.kind,
            self.score,
            ctx.seal_text(ProjectPhase, self.phase_id.value, self.findings),
        )


@command("phase.complete", serves=_ALL_PHASES)
@attrs.frozen(kw_only=True)
class CompletePhase(_OnPhase):
    """The phase is done; missing required deliverables are recorded as its gaps."""

    def run(self, ctx: Context) -> None:
        ctx.load(ProjectPhase, self.phase_id.value).complete(ctx.meta)


@command("phase.mark_overdue", serves=_ALL_PHASES)
@attrs.frozen(kw_only=True)
class MarkPhaseOverdue(_OnPhase):
    """The phase's window has ended without completion (checked against ``occurred_at``)."""

    def run(self, ctx: Context) -> None:
        ctx.load(ProjectPhase, self.phase_id.value).mark_overdue(ctx.meta)
