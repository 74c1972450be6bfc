"""What the runner tells: generations, progress of a catch-up, dead letters, status."""

from __future__ import annotations

from datetime import datetime

import attrs

from safecomm_core.projections.definition import Projection

__all__ = ["DeadLetter", "Generation", "Progress", "ProjectionStatus"]


@attrs.frozen
class Generation:
    """One generation of a projection's tables and how far it has got."""

    projection: str
    generation: int
    version: int
    fingerprint: str
    status: str
    position: int
    anchor: str | None
    tables: str
    created_at: datetime
    updated_at: datetime
    swapped_at: datetime | None

    def current(self, projection: Projection) -> bool:
        """Whether it was built by this definition of the projection."""
        return (self.version, self.fingerprint) == (projection.version, projection.fingerprint)


@attrs.frozen
class Progress:
    """What a catch-up did, and where the live view stands afterwards."""

    projection: str
    generation: int  # the live generation afterwards, 0 if there is none yet
    position: int  # the live generation's position
    head: int  # the store's last notification id when the catch-up began
    handled: int  # events handed to handlers, every generation counted
    dead_letters: int  # of those, how many became dead letters
    swapped: bool  # a new generation went live

    @property
    def caught_up(self) -> bool:
        """Whether the live view has reached the head."""
        return self.generation > 0 and self.position >= self.head


@attrs.frozen
class DeadLetter:
    """An event a projection's handler failed on: skipped, and kept here to be seen."""

    projection: str
    generation: int
    notification_id: int
    topic: str
    originator_id: str
    originator_version: int
    error_type: str
    error: str
    recorded_at: datetime


@attrs.frozen
class ProjectionStatus:
    """Where a projection stands."""

    projection: str
    version: int
    live_generation: int
    live_version: int
    position: int
    head: int
    dead_letters: int
    building: tuple[tuple[int, int], ...]  # (generation, position) of generations being built

    @property
    def stale(self) -> bool:
        """The live view was built by another version, or there is none."""
        return self.live_generation == 0 or self.live_version != self.version
