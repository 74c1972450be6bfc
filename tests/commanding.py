"""Issuing commands in tests: fresh command ids, one actor, a given moment; and checking
what became of them (field errors, round-trips)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from safecomm_core import (
    Command,
    InvalidCommand,
    command_to_json,
    parse_command,
)
from safecomm_core.values import Actor, Role

C = TypeVar("C", bound=Command)

STAFF = Actor("staff-001", Role.STAFF)
_ids = itertools.count()

#: The CLI's sample: one dispute's workflow (five commands), one JSON object a line.
SAMPLE = Path(__file__).parents[1] / "adapters" / "safecomm_cli" / "sample.jsonl"


def sample_commands() -> list[dict[str, Any]]:
    """The sample's commands as JSON objects, in order."""
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def command_id() -> str:
    """A command id never given before in this process (the tests' one sequence; the
    ``t-`` prefix keeps it apart from the ids written out in test data)."""
    return f"t-{next(_ids)}"


def issue(cls: type[C], at: datetime, **fields: Any) -> C:
    """A ``cls`` command at ``at`` with a fresh :func:`command_id`."""
    return cls(command_id=command_id(), occurred_at=at, actor=STAFF, **fields)


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
