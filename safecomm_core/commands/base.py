"""Commands: one frozen class per user intention, parsed from and written to plain JSON.

JSON form::

    {"type": "<aggregate>.<verb>", "command_id": "...", "occurred_at": "<ISO, with offset>",
     "actor": {"id": "...", "role": "..."}, "channel": "...", ...fields}

A command's :meth:`Command.run` decides what happens, through a :class:`Context` the
application gives it; the application then writes every resulting event and the command's
receipt in one transaction. Commands name the plan measures they serve (``SERVES``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from safecomm_core.converter import converter, structure
from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import Rules
from safecomm_core.errors import FieldError, InvalidCommand, UnknownCommandType
from safecomm_core.freetext import SealedText
from safecomm_core.personal import PersonInput, SealedPerson
from safecomm_core.validation import check_types, excerpt, ident, identifier, member_rule, moment
from safecomm_core.values import Actor, Channel, Meta

__all__ = [
    "COMMANDS",
    "Command",
    "Context",
    "command",
    "command_to_json",
    "parse_command",
]

R = TypeVar("R", bound=Record)
C = TypeVar("C", bound="type[Command]")

#: Every command class by its ``type``, filled by the :func:`command` decorator.
COMMANDS: dict[str, type[Command]] = {}


class Context(Protocol):
    """What a command may use while it decides: records, rules, and personal-data keys."""

    @property
    def meta(self) -> Meta:
        """The command's metadata, carried by every event it causes."""

    def load(self, cls: type[R], ref: str) -> R:
        """The existing record, or :class:`~safecomm_core.errors.NotFound`."""

    def exists(self, cls: type[Record], ref: str) -> bool:
        """Whether the record exists."""

    def add(self, record: Record) -> None:
        """A new record to save (its id must be free: see :meth:`check_new`)."""

    def check_new(self, cls: type[Record], ref: str) -> None:
        """Raise :class:`~safecomm_core.errors.AlreadyExists` if the id is taken."""

    def rules(self, community: str, on: date) -> Rules:
        """The rules in force in the community on that date."""

    def seal(self, person: PersonInput) -> SealedPerson:
        """Seal a person's fields with their data key."""

    def seal_text(self, cls: type[Record], ref: str, text: str) -> SealedText:
        """Seal free text with the data key of the ``cls`` record called ``ref``."""

    def id_digest(self, id_number: str) -> str:
        """The token of an ID number (random; the key store's index maps the number to it)."""

    def erase(self, person_ref: str) -> None:
        """Destroy the person's data key (done before the events are saved)."""

    def erase_text(self, cls: type[Record], ref: str) -> None:
        """Destroy the data key of the record's free text (as :meth:`erase`)."""


def command(type_: str, *, serves: tuple[str, ...]) -> Callable[[C], C]:
    """Register a command class under its JSON ``type``, with the plan measures it serves."""

    def register(cls: C) -> C:
        if type_ in COMMANDS:
            raise ValueError(f"command type {type_!r} is already registered")
        if not serves:
            raise ValueError(f"{cls.__name__} must name the plan measures it serves")
        cls.TYPE = type_
        cls.SERVES = serves
        COMMANDS[type_] = cls
        return cls

    return register


@attrs.frozen(kw_only=True)
class Command:
    """Fields every command carries. Subclasses add their own and implement :meth:`run`."""

    TYPE: ClassVar[str] = ""
    SERVES: ClassVar[tuple[str, ...]] = ()
    #: Whether the command erases people (the service then completes unfinished erasures).
    ERASES: ClassVar[bool] = False

    command_id: str = ident()
    occurred_at: datetime = moment()
    # Checked at the door only: an Actor read back from a stored event keeps its id.
    actor: Actor = attrs.field(validator=member_rule("id", identifier))
    channel: Channel | None = None

    def __attrs_post_init__(self) -> None:
        # JSON arrives typed by the converter; a command built in Python gets the same check.
        check_types(self)

    @property
    def meta(self) -> Meta:
        """The metadata every event of this command carries."""
        return Meta(self.command_id, self.occurred_at, self.actor, self.channel)

    def run(self, ctx: Context) -> None:
        """Decide, through ``ctx``, what this command changes."""
        raise NotImplementedError


def parse_command(data: Any) -> Command:
    """Structure a JSON object as the command its ``type`` names.

    Raises :class:`~safecomm_core.errors.InvalidCommand` naming each broken field.
    """
    if not isinstance(data, Mapping):
        raise InvalidCommand([FieldError("", "a command must be a JSON object")])
    fields = dict(data)
    type_ = fields.pop("type", None)
    if type_ is None:
        raise InvalidCommand([FieldError("type", "required field missing")])
    if not isinstance(type_, str) or type_ not in COMMANDS:
        raise UnknownCommandType([FieldError("type", f"unknown command type {excerpt(type_)}")])
    return structure(fields, COMMANDS[type_])


def command_to_json(cmd: Command) -> dict[str, Any]:
    """The command's JSON object, ``type`` first; :func:`parse_command` reads it back."""
    return {"type": cmd.TYPE, **converter.unstructure(cmd)}
