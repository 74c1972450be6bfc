"""Value objects shared by every aggregate: who acted, through which channel, and when.

All are ``attrs.frozen``; the converter in :mod:`safecomm_core.converter` is their one way
in and out of JSON, and the store keeps them through the same converter.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from safecomm_core.transcoding import value_type
from safecomm_core.validation import nonempty

__all__ = ["Actor", "Channel", "Meta", "Role"]


class Role(enum.StrEnum):
    """The role of the principal that issued a command."""

    ADMIN = "admin"
    STAFF = "staff"
    MEDIATOR = "mediator"
    COMMITTEE = "committee"
    POLICE = "police"
    VOLUNTEER = "volunteer"
    GRID_WORKER = "grid_worker"
    COORDINATOR = "coordinator"
    UNIT = "unit"
    EVALUATOR = "evaluator"
    SYSTEM = "system"


class Channel(enum.StrEnum):
    """How the fact reached the office (also migrant registration sources)."""

    WALK_IN = "walk-in"
    PATROL = "patrol"
    GRID = "grid"
    HOTLINE = "hotline"
    REFERRAL = "referral"
    IMPORT = "import"
    API = "api"
    DOOR_TO_DOOR = "door-to-door"
    LANDLORD = "landlord"
    EMPLOYER = "employer"
    COORDINATOR = "coordinator"


@value_type("actor")
@attrs.frozen
class Actor:
    """The principal that issued a command: a staff id and a role."""

    id: str = attrs.field(validator=nonempty)
    role: Role


@value_type("meta")
@attrs.frozen
class Meta:
    """What every event carries besides its own facts.

    ``occurred_at`` is when it happened in the world (the caller says so: paper records
    are entered late); the time it was recorded is the event's ``timestamp``.
    """

    command_id: str
    occurred_at: datetime
    actor: Actor
    channel: Channel | None = None
