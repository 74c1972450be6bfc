"""Issuing commands in tests: fresh command ids, one actor, a given moment; and checking
what became of them (field errors, round-trips, a state machine's expected outcome)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis.stateful import precondition, rule

from safecomm_core import (
    Command,
    InvalidCommand,
    SafecommError,
    command_to_json,
    parse_command,
)
from safecomm_core.values import Actor, Role
from tests.machines import StoreMachine
from tests.refusals import refused, stored

C = TypeVar("C", bound=Command)

STAFF = Actor("staff-001", Role.STAFF)
_ids = itertools.count()

#: The CLI's sample: one dispute's workflow (five commands), one JSON object a line.
SAMPLE = Path(__file__).parents[1] / "adapters" / "safecomm_cli" / "sample.jsonl"


def sample_commands() -> list[dict[str, Any]]:
    """The sample's commands as JSON objects, in order."""
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def issue(cls: type[C], at: datetime, **fields: Any) -> C:
    """A ``cls`` command at ``at`` with a command id never used before in this process."""
    return cls(command_id=f"c-{next(_ids)}", occurred_at=at, actor=STAFF, **fields)


def through_json(cmd: Command) -> Command:
    """The command after a trip through JSON text and back, as an adapter would see it."""
    return parse_command(json.loads(json.dumps(command_to_json(cmd), ensure_ascii=False)))


def round_trips(cmd: Command) -> bool:
    """Whether the converter gives the command back, as objects and as JSON text."""
    return parse_command(command_to_json(cmd)) == cmd and through_json(cmd) == cmd


def field_errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, rule) pairs for which parsing ``data`` is refused."""
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    return [(e.field, e.rule) for e in info.value.errors]


#: Quick enough to run on every change; the contract tests cover the other stores.
class CommandMachine(StoreMachine):
    """A fresh in-memory application whose rules say what each command should do: land,
    or be refused with which error. Every command that landed may come again: the repeat
    must change nothing. Facts take their time from :meth:`tick`, ``STEP`` after ``START``.
    """

    last_ok: Command | None = None

    def send(self, cmd: Command, error: type[SafecommError] | None) -> bool:
        """Handle ``cmd``: it must land when ``error`` is None, else be refused cleanly."""
        if error is None:
            assert not self.store.handle(cmd).duplicate
            self.last_ok = cmd
            return True
        refused(self.store, cmd, error)
        return False

    @precondition(lambda self: self.last_ok is not None)
    @rule()
    def repeat(self) -> None:
        before = stored(self.store)
        assert self.last_ok is not None
        assert self.store.handle(self.last_ok).duplicate
        assert stored(self.store) == before
