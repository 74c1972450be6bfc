"""What every safecomm aggregate shares: stable ids, stable stored names, two times, who.

An aggregate's id is derived from the caller's own reference (a case number such as
``d-2014-0001``) and the aggregate's kind, so the same reference always finds the same
record and a second "create" collides in the store's unique (id, version) constraint.

Every event carries a :class:`~safecomm_core.values.Meta`: the command that caused it,
when it happened in the world (``occurred_at``), who issued it and through which channel.
When it was recorded is eventsourcing's own ``timestamp``.

Aggregates decide in public methods and apply in private ``@event`` methods: checks run
once, when a command is handled; apply code runs on every replay and never raises.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from safecomm_core.errors import InvalidTransition, RuleViolation
from safecomm_core.values import Meta

__all__ = ["KINDS", "NAMESPACE", "Record", "aggregate_id"]

#: Namespace of every safecomm aggregate id. Never change it: ids are derived from it.
NAMESPACE = UUID("5a3c0c8e-6f1d-4b7e-9d8a-2e1f0c6b9a41")


#: Every aggregate class by its ``KIND``, filled as they are defined.
KINDS: dict[str, type[Record]] = {}


@functools.lru_cache(maxsize=4096)
def aggregate_id(kind: str, ref: str) -> UUID:
    """The stable UUID of the ``kind`` record the caller calls ``ref``."""
    # Cached: handling one command asks for the same id several times (is it new, load
    # it, create it), and a SHA-1 and a UUID per question were a visible part of a
    # small command's cost. UUIDs are immutable, so sharing them is safe.
    return uuid5(NAMESPACE, f"{kind}:{ref}")


class Record(Aggregate):
    """Base of every safecomm aggregate.

    Subclasses set ``KIND`` (the id namespace and the name in messages) and ``TOPIC`` (the
    stored name of the aggregate class); each of their events sets its own ``TOPIC``.
    """

    KIND: ClassVar[str] = ""
    #: The commands' name for this record's id, where it is not ``<KIND>_id``.
    ID_FIELD: ClassVar[str] = ""
    #: Whether commands of every community consult it (an index such as the ID numbers'),
    #: so that the access policy lets them load it whatever community it is filed under.
    CONSULTED_BY_ALL: ClassVar[bool] = False

    class Event(Aggregate.Event):
        meta: Meta

    class Created(Event, Aggregate.Created):
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # eventsourcing wants a stored name on every event class of an aggregate with a
        # TOPIC, including the generic "Created" it would otherwise define unnamed. Ours
        # create with their own domain event (Reported, Planned, ...), so give it one.
        topic = cls.__dict__.get("TOPIC")
        if topic and "Created" not in cls.__dict__:
            base = cls.__mro__[1].__dict__.get("Created", Record.Created)
            created = type(base)(
                "Created",
                (base,),
                {
                    "TOPIC": f"{topic}.Created",
                    "__module__": cls.__module__,
                    "__qualname__": f"{cls.__qualname__}.Created",
                },
            )
            cls.Created = created  # type: ignore[misc]
        super().__init_subclass__(**kwargs)
        if topic:
            if KINDS.get(cls.KIND, cls) is not cls:
                raise TypeError(f"kind {cls.KIND!r} is already used by {KINDS[cls.KIND]}")
            KINDS[cls.KIND] = cls

    def addressed_to(self) -> tuple[str, ...]:
        """The grid units this record asks to answer (an alert's recipients); none here.

        A unit's duty officer reads such a record whatever community it belongs to, as
        it may act on it for its own unit (see docs/access.md).
        """
        return ()

    @classmethod
    def id_field(cls) -> str:
        """The name of the field that carries this record's id in commands and errors."""
        return cls.ID_FIELD or f"{cls.KIND}_id"

    @classmethod
    def create_id(cls, ref: str) -> UUID:
        """Derive the id from the caller's reference."""
        return aggregate_id(cls.KIND, ref)

    # Every aggregate's creating event sets these three.
    ref: str
    community: str
    created_meta: Meta

    def _created(self, meta: Meta, ref: str, community: str) -> None:
        self.ref = ref
        self.community = community
        self.created_meta = meta

    def check_after_creation(self, meta: Meta) -> None:
        """A later fact cannot have happened before the record began."""
        self.check_not_before(meta, self.created_meta.occurred_at, "the record began")

    def check_not_before(self, meta: Meta, moment: datetime, what: str) -> None:
        """Refuse a fact dated before ``moment``, when ``what`` happened.

        Reports "as of" a date would otherwise count a consequence before its cause.
        """
        if meta.occurred_at < moment:
            raise RuleViolation(
                f"{self.KIND} {self.ref!r}: {what} at {moment.isoformat()}; "
                "occurred_at cannot be earlier",
                field="occurred_at",
                rule=f"must not be before {what}",
            )

    def not_allowed(self, action: str, state: str) -> InvalidTransition:
        """The error for an action the record's present state does not allow."""
        return InvalidTransition(
            f"cannot {action} {self.KIND} {self.ref!r}: it is {state}",
            field=self.id_field(),
            rule=f"cannot {action} when {state}",
        )
