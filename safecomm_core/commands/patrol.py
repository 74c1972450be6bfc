"""Commands of public-order patrols (``patrol.*``, plan M1.3).

``patrol.mediate_on_site`` also opens a dispute (source: patrol): the patrol's event and the
dispute's events are written in one transaction, or neither is.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.commands.dispute import PartyInput
from safecomm_core.commands.shape import distinct_errors
from safecomm_core.domain.dispute import Dispute, DisputeKind, Party
from safecomm_core.domain.patrol import ObservationCategory, Patrol, PatrolTeam
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import (
    count_or_none,
    ident,
    ident_or_none,
    identifier,
    ids,
    label,
    member_rule,
    moment,
    notes,
    prose,
    prose_or_none,
)

__all__ = [
    "EndPatrol",
    "MediateOnSite",
    "PlanPatrol",
    "RecordPatrolObservation",
    "StartPatrol",
    "VisitCheckpoint",
]


def _check(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidCommand(errors)


@attrs.frozen(kw_only=True)
class _OnPatrol(Command):
    patrol_id: str = ident()


@command("patrol.plan", serves=("M1.3",))
@attrs.frozen(kw_only=True)
class PlanPatrol(Command):
    """Plan a patrol: the area, its route of checkpoints, the team and the planned window."""

    patrol_id: str = ident()
    community: str = ident()
    area: str = label()
    route: tuple[str, ...] = ids()
    team: PatrolTeam = attrs.field(
        validator=[
            member_rule("police", identifier, each=True),
            member_rule("volunteers", identifier, each=True),
        ]
    )
    planned_start: datetime = moment()
    planned_end: datetime = moment()
    grid_unit: str | None = ident_or_none()

    def run(self, ctx: Context) -> None:
        errors = distinct_errors("route", self.route, what="checkpoint")
        errors += distinct_errors("team.police", self.team.police, at_least=0, what="officer")
        errors += distinct_errors(
            "team.volunteers", self.team.volunteers, at_least=0, what="volunteer"
        )
        if not self.team.members:
            errors.append(FieldError("team", "at least one member"))
        elif set(self.team.police) & set(self.team.volunteers):
            errors.append(FieldError("team", "nobody both police and volunteer"))
        if self.planned_end <= self.planned_start:
            errors.append(FieldError("planned_end", "must be after planned_start"))
        _check(errors)
        ctx.check_new(Patrol, self.patrol_id)
        ctx.add(
            Patrol(
                meta=ctx.meta,
                ref=self.patrol_id,
                community=self.community,
                grid_unit=self.grid_unit,
                area=self.area,
                route=self.route,
                team=self.team,
                planned_start=self.planned_start,
                planned_end=self.planned_end,
            )
        )


@command("patrol.start", serves=("M1.3",))
@attrs.frozen(kw_only=True)
class StartPatrol(_OnPatrol):
    """The team set out."""

    def run(self, ctx: Context) -> None:
        ctx.load(Patrol, self.patrol_id).start(ctx.meta)


@command("patrol.visit_checkpoint", serves=("M1.3",))
@attrs.frozen(kw_only=True)
class VisitCheckpoint(_OnPatrol):
    """The team passed a checkpoint (one off the route is recorded and flagged)."""

    checkpoint: str = ident()
    notes: str = notes()

    def run(self, ctx: Context) -> None:
        patrol = ctx.load(Patrol, self.patrol_id)
        patrol.visit_checkpoint(
            ctx.meta, self.checkpoint, ctx.seal_text(Patrol, self.patrol_id, self.notes)
        )


@command("patrol.record_observation", serves=("M1.3",))
@attrs.frozen(kw_only=True)
class RecordPatrolObservation(_OnPatrol):
    """Something noticed on patrol; ``details`` is free text and must not name people."""

    category: ObservationCategory
    details: str = prose()
    checkpoint: str | None = ident_or_none()

    def run(self, ctx: Context) -> None:
        patrol = ctx.load(Patrol, self.patrol_id)
        details = ctx.seal_text(Patrol, self.patrol_id, self.details)
        patrol.record_observation(ctx.meta, self.category, details, self.checkpoint)


@command("patrol.mediate_on_site", serves=("M1.3", "M1.2"))
@attrs.frozen(kw_only=True)
class MediateOnSite(_OnPatrol):
    """A patroller mediated a friction on the spot; this opens a dispute (source: patrol).

    ``mediator`` is the patroller who mediated (default: the actor); they must be on the
    team. ``settled`` means an oral agreement was reached there, and then ``terms`` records
    it; otherwise the dispute stays accepted for the committee to carry on. The dispute
    takes the patrol's community and, unless given, its grid unit.
    """

    dispute_id: str = ident()
    kind: DisputeKind
    summary: str = prose()
    parties: tuple[PartyInput, ...]
    settled: bool = False
    terms: str | None = prose_or_none()
    mediator: str | None = ident_or_none()
    grid_unit: str | None = ident_or_none()
    notes: str = notes()

    def run(self, ctx: Context) -> None:
        errors = distinct_errors("parties", (p.ref for p in self.parties), what="party")
        if self.settled and self.terms is None:
            errors.append(FieldError("terms", "required when settled on the spot"))
        if not self.settled and self.terms is not None:
            errors.append(FieldError("terms", "only when settled on the spot"))
        _check(errors)
        patrol = ctx.load(Patrol, self.patrol_id)
        # Every check comes before sealing: sealing makes the parties' data keys.
        ctx.check_new(Dispute, self.dispute_id)
        mediator = self.mediator or self.actor.id
        patrol.mediate_on_site(ctx.meta, self.dispute_id, mediator, self.settled)
        ctx.add(
            Dispute.open_on_site(
                meta=ctx.meta,
                ref=self.dispute_id,
                community=patrol.community,
                grid_unit=self.grid_unit if self.grid_unit is not None else patrol.grid_unit,
                kind=self.kind,
                summary=ctx.seal_text(Dispute, self.dispute_id, self.summary),
                parties=tuple(Party(p.role, ctx.seal(p)) for p in self.parties),
                mediator=mediator,
                notes=ctx.seal_text(Dispute, self.dispute_id, self.notes),
                oral_terms=ctx.seal_text(Dispute, self.dispute_id, self.terms)
                if self.settled and self.terms is not None
                else None,
            )
        )


@command("patrol.end", serves=("M1.3",))
@attrs.frozen(kw_only=True)
class EndPatrol(_OnPatrol):
    """The patrol is over; the distance (metres) and minutes on patrol are optional."""

    distance_m: int | None = count_or_none()
    duration_minutes: int | None = count_or_none()

    def run(self, ctx: Context) -> None:
        patrol = ctx.load(Patrol, self.patrol_id)
        patrol.end(ctx.meta, self.distance_m, self.duration_minutes)
