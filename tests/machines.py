"""The one base of the stateful tests: the real application on ``memory://``, a clock, settings.

A machine subclasses :class:`CommandMachine`, sets ``START`` (and ``STEP`` if it wants another
pace), keeps its plain model beside ``self.service``, takes each fact's time from
:meth:`CommandMachine.tick` (so that facts follow each other unless a rule backdates one on
purpose) and hands every command to :meth:`CommandMachine.send`, saying what should become
of it. The base adds to every machine:

- the rule :meth:`~CommandMachine.repeat`: the last command that landed comes again, and
  must change nothing;
- the invariant :meth:`~CommandMachine.replayed_equals_live`: every record that a command
  saved, as the application kept it then, equals the record replayed from all its stored
  events, and the one the store serves (from a snapshot where it has one).

Command ids come from :func:`tests.commanding.command_id`, the tests' one sequence.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Repository
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from safecomm_core import Command, Safecomm, SafecommError, open_store
from tests.refusals import refused, refused_exactly, stored

#: Quick enough to run on every change; the contract tests cover the other stores.
MACHINE_SETTINGS = settings(max_examples=25, stateful_step_count=20)

#: The error a machine expects of a command its model only knows to be refused.
REFUSED = SafecommError


def refused_unless(ok: bool) -> type[SafecommError] | None:
    """What to expect of a command that lands if ``ok``, else is refused (for any reason)."""
    return None if ok else REFUSED


def state(record: Any) -> dict[str, tuple[type, Any]]:
    """A record's attributes with their types: a snapshot must give back enums, not strings."""
    return {k: (type(v), v) for k, v in vars(record).items()}


def full_replay(service: Safecomm, id_: UUID) -> Any:
    """The record ``id_`` replayed from all its events, ignoring snapshots."""
    return Repository(event_store=service.log.application.events).get(id_)


class CommandMachine(RuleBasedStateMachine):
    """A fresh in-memory application whose rules say what each command should do: land,
    or be refused with which error. Runs with ``SETTINGS``.
    """

    START: ClassVar[datetime]
    STEP: ClassVar[timedelta] = timedelta(hours=5)
    SETTINGS: ClassVar[settings] = MACHINE_SETTINGS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TestCase.settings = cls.SETTINGS

    def __init__(self) -> None:
        super().__init__()
        self.service = open_store("memory://")
        self.clock = self.START
        self.last_landed: Command | None = None
        self.live: dict[UUID, Any] = {}
        save = self.service.log.save

        def keeping(*records: Any, first: Any = ()) -> None:
            # Copies: a record the store lends to the next command may change under a
            # command that is then refused, and is no longer the application's.
            save(*records, first=first)
            self.live.update((r.id, copy.deepcopy(r)) for r in records)

        self.service.log.save = keeping  # type: ignore[method-assign]

    def tick(self, by: timedelta | None = None) -> datetime:
        """A moment ``by`` (else ``STEP``) after the clock, which moves there."""
        self.clock += self.STEP if by is None else by
        return self.clock

    def send(self, command: Command, error: type[SafecommError] | None) -> bool:
        """Handle ``command``: it must land when ``error`` is None, else be refused with
        exactly ``error`` (any error for :data:`REFUSED`) having written nothing.

        Returns whether it landed; the clock then moves on to the command's moment if
        that is later (a fact may land dated after the clock).
        """
        if error is None:
            assert not self.service.handle(command).duplicate
            self.last_landed = command
            self.clock = max(self.clock, command.occurred_at)
            return True
        (refused if error is REFUSED else refused_exactly)(self.service, command, error)
        return False

    @precondition(lambda self: self.last_landed is not None)
    @rule()
    def repeat(self) -> None:
        before = stored(self.service)
        assert self.last_landed is not None
        assert self.service.handle(self.last_landed).duplicate
        assert stored(self.service) == before

    @invariant()
    def replayed_equals_live(self) -> None:
        for id_, live in self.live.items():
            assert state(full_replay(self.service, id_)) == state(live)
            assert state(self.service.log.load(id_)) == state(live)

    def teardown(self) -> None:
        self.service.close()
