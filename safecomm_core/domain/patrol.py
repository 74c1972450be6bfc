"""Patrol: a public-order patrol by police and volunteers (治安巡逻, 群防群治; plan M1.3).

Planned (area, route of checkpoints, team, window) → Started → CheckpointVisited* /
ObservationRecorded* / OnSiteMediationHeld* → Ended.

Decisions this module makes, and why:

- **Off-route checkpoints are allowed and flagged.** Patrollers go where trouble is; a visit to
  a place not on the planned route is a fact worth keeping, not an error. The event carries
  ``off_route`` as decided against the route when it was recorded, so a coverage report
  needs no copy of the route to tell planned visits from others. A checkpoint is on the route
  when its id equals a route entry exactly. Repeat visits are recorded as visits; coverage
  counts distinct checkpoints (:attr:`Patrol.route_visited`).
- **Nothing happens on a patrol before it started.** Checkpoints, observations, on-site
  mediations and the end must not have ``occurred_at`` before the start; the end must also
  not precede any fact already recorded, so every fact lies inside the patrol's time.
- **The mediator of an on-site mediation is on the team.** The dispute it opens names a
  patroller as mediator; staff entering a paper record name that patroller explicitly.
- **A reported duration cannot exceed the time between start and end.** It may be shorter
  (breaks); when not given, reports use the elapsed time.

Observation texts are free text: like every free text they must not name people (docs/domain.md,
*Personal data*); people belong in a dispute's sealed parties.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs
from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.transcoding import value_type
from safecomm_core.values import Meta

__all__ = ["ObservationCategory", "Patrol", "PatrolStatus", "PatrolTeam", "Visit"]


class PatrolStatus(enum.StrEnum):
    PLANNED = "planned"
    STARTED = "started"
    ENDED = "ended"


class ObservationCategory(enum.StrEnum):
    """What a patroller noticed (M1.3 deterrence; M2.1–M2.2 prevention assets)."""

    HAZARD = "hazard"
    SUSPICIOUS_ACTIVITY = "suspicious_activity"
    DISORDER = "disorder"
    THEFT_RISK = "theft_risk"
    FACILITY_FAULT = "facility_fault"
    OTHER = "other"


@value_type("patrol_team")
@attrs.frozen(kw_only=True)
class PatrolTeam:
    """Who patrols: police officers' and volunteers' staff ids (never names)."""

    # tuple() so that a team given lists in Python equals the same team read back from JSON.
    police: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    volunteers: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @property
    def members(self) -> tuple[str, ...]:
        """Every member, police first."""
        return (*self.police, *self.volunteers)


@attrs.frozen
class Visit:
    """A checkpoint visit as the patrol keeps it."""

    checkpoint: str
    at: datetime
    off_route: bool


class Patrol(Record):
    """One patrol of an area, from its plan to its end."""

    KIND = "patrol"
    TOPIC = "safecomm/Patrol"

    # -- creation ---------------------------------------------------------------------

    class Planned(Record.Created):
        TOPIC = "safecomm/Patrol/Planned"
        ref: str
        community: str
        grid_unit: str | None
        area: str
        route: tuple[str, ...]
        team: PatrolTeam
        planned_start: datetime
        planned_end: datetime

    @event(Planned)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        grid_unit: str | None,
        area: str,
        route: tuple[str, ...],
        team: PatrolTeam,
        planned_start: datetime,
        planned_end: datetime,
    ) -> None:
        self._created(meta, ref, community)
        self.grid_unit = grid_unit
        self.area = area
        self.route = tuple(route)
        self.team = team
        self.planned_start = planned_start
        self.planned_end = planned_end
        self.status = PatrolStatus.PLANNED
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        #: The latest ``occurred_at`` of any fact on the patrol: the end may not precede it.
        self.last_fact_at: datetime = meta.occurred_at
        self.visits: tuple[Visit, ...] = ()
        self.observations: tuple[ObservationCategory, ...] = ()
        #: Refs of the disputes opened on the spot, in order.
        self.mediations: tuple[str, ...] = ()
        self.settled_on_site = 0
        self.distance_m: int | None = None
        self.duration_minutes: int | None = None

    # -- start and end ----------------------------------------------------------------

    class Started(Record.Event):
        TOPIC = "safecomm/Patrol/Started"

    @event(Started)
    def _started(self, meta: Meta) -> None:
        self.status = PatrolStatus.STARTED
        self.started_at = meta.occurred_at
        self._fact_at(meta)

    def start(self, meta: Meta) -> None:
        """The team set out (possibly earlier or later than planned)."""
        self.check_after_creation(meta)
        if self.status is not PatrolStatus.PLANNED:
            raise self.not_allowed("start", self.status.value)
        self._started(meta=meta)

    class Ended(Record.Event):
        TOPIC = "safecomm/Patrol/Ended"
        distance_m: int | None
        duration_minutes: int | None

    @event(Ended)
    def _ended(self, meta: Meta, distance_m: int | None, duration_minutes: int | None) -> None:
        self.status = PatrolStatus.ENDED
        self.ended_at = meta.occurred_at
        self.distance_m = distance_m
        self.duration_minutes = duration_minutes
        self._fact_at(meta)

    def end(self, meta: Meta, distance_m: int | None, duration_minutes: int | None) -> None:
        """The patrol is over; distance walked and time on patrol are optional."""
        started_at = self._require_on_patrol(meta, "end")
        self.check_not_before(meta, self.last_fact_at, "the patrol's latest fact")
        elapsed = int((meta.occurred_at - started_at).total_seconds() // 60)
        if duration_minutes is not None and duration_minutes > elapsed:
            raise RuleViolation(
                f"patrol {self.ref!r} lasted {elapsed} minutes from start to end; "
                f"a duration of {duration_minutes} minutes cannot be",
                field="duration_minutes",
                rule="at most the minutes from start to end",
            )
        self._ended(meta=meta, distance_m=distance_m, duration_minutes=duration_minutes)

    # -- on patrol --------------------------------------------------------------------

    class CheckpointVisited(Record.Event):
        TOPIC = "safecomm/Patrol/CheckpointVisited"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        checkpoint: str
        off_route: bool
        notes: SealedText

    @event(CheckpointVisited)
    def _visited(self, meta: Meta, checkpoint: str, off_route: bool, notes: SealedText) -> None:
        self.visits = (*self.visits, Visit(checkpoint, meta.occurred_at, off_route))
        self._fact_at(meta)

    def visit_checkpoint(self, meta: Meta, checkpoint: str, notes: SealedText) -> None:
        """The team passed a checkpoint; one not on the route is kept, flagged off-route."""
        self._require_on_patrol(meta, "visit a checkpoint on")
        off_route = checkpoint not in self.route
        self._visited(meta=meta, checkpoint=checkpoint, off_route=off_route, notes=notes)

    class ObservationRecorded(Record.Event):
        TOPIC = "safecomm/Patrol/ObservationRecorded"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("details"))
        category: ObservationCategory
        details: SealedText
        checkpoint: str | None

    @event(ObservationRecorded)
    def _observed(
        self, meta: Meta, category: ObservationCategory, details: SealedText, checkpoint: str | None
    ) -> None:
        self.observations = (*self.observations, ObservationCategory(category))
        self._fact_at(meta)

    def record_observation(
        self, meta: Meta, category: ObservationCategory, details: SealedText, checkpoint: str | None
    ) -> None:
        """Something the team noticed: a hazard, suspicious activity, a broken light, ..."""
        self._require_on_patrol(meta, "record an observation on")
        self._observed(meta=meta, category=category, details=details, checkpoint=checkpoint)

    class OnSiteMediationHeld(Record.Event):
        TOPIC = "safecomm/Patrol/OnSiteMediationHeld"
        dispute_ref: str
        mediator: str
        settled: bool

    @event(OnSiteMediationHeld)
    def _mediated(self, meta: Meta, dispute_ref: str, mediator: str, settled: bool) -> None:
        self.mediations = (*self.mediations, dispute_ref)
        if settled:
            self.settled_on_site += 1
        self._fact_at(meta)

    def mediate_on_site(self, meta: Meta, dispute_ref: str, mediator: str, settled: bool) -> None:
        """A patroller mediated a friction on the spot (M1.3).

        The dispute itself is opened by :meth:`Dispute.open_on_site
        <safecomm_core.domain.dispute.Dispute.open_on_site>` in the same command, so
        both are written in one transaction or not at all.
        """
        self._require_on_patrol(meta, "mediate on")
        if mediator not in self.team.members:
            raise RuleViolation(
                f"{mediator!r} is not on the team of patrol {self.ref!r}",
                field="mediator",
                rule="must be a member of the patrol's team",
            )
        self._mediated(meta=meta, dispute_ref=dispute_ref, mediator=mediator, settled=settled)

    # -- queries ----------------------------------------------------------------------

    @property
    def route_visited(self) -> tuple[str, ...]:
        """The route's checkpoints visited at least once, in route order."""
        seen = {v.checkpoint for v in self.visits}
        return tuple(c for c in self.route if c in seen)

    @property
    def route_missed(self) -> tuple[str, ...]:
        """The route's checkpoints not visited (yet)."""
        seen = {v.checkpoint for v in self.visits}
        return tuple(c for c in self.route if c not in seen)

    # -- checks -----------------------------------------------------------------------

    def _fact_at(self, meta: Meta) -> None:
        # Facts may be entered out of order (paper notes typed in later): keep the latest.
        self.last_fact_at = max(self.last_fact_at, meta.occurred_at)

    def _require_on_patrol(self, meta: Meta, action: str) -> datetime:
        """Check that the patrol is under way and ``meta`` is not before its start."""
        self.check_after_creation(meta)
        if self.status is not PatrolStatus.STARTED or self.started_at is None:
            raise self.not_allowed(action, self.status.value)
        self.check_not_before(meta, self.started_at, "the patrol started")
        return self.started_at
