"""The store on every backend: commands land once, replay equals live, ids are stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safecomm_core import CommandIdReused, RuleViolation, parse_command
from safecomm_core.domain.dispute import Dispute, DisputeStatus

SAMPLE = Path(__file__).parents[1] / "adapters" / "safecomm_cli" / "sample.jsonl"


def sample_commands() -> list[dict[str, object]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_dispute_workflow_lands_and_replays(store_factory) -> None:
    store = store_factory()
    for data in sample_commands():
        store.handle(parse_command(data))
    live = store.get(Dispute, "d-2014-0001")
    assert live.status is DisputeStatus.AGREED
    reopened = store_factory()
    replayed = reopened.get(Dispute, "d-2014-0001")
    assert replayed.__dict__ == live.__dict__
    assert [p.ref for p in (pp.person for pp in replayed.parties)] == ["p-1001", "p-1002"]
    assert reopened.person(replayed.parties[0].person).name == "王建国"


def test_same_command_twice_has_the_effect_of_once(store) -> None:
    first = sample_commands()[0]
    one = store.handle(parse_command(first))
    two = store.handle(parse_command(first))
    assert not one.duplicate
    assert two.duplicate
    assert two.records == one.records
    assert [e.version for e in store.history("d-2014-0001")] == [1]


def test_reused_command_id_with_other_content_is_refused(store) -> None:
    first = sample_commands()[0]
    store.handle(parse_command(first))
    changed = {**first, "summary": "something else"}
    with pytest.raises(CommandIdReused):
        store.handle(parse_command(changed))


def test_late_judicial_confirmation_is_refused_and_writes_nothing(store) -> None:
    for data in sample_commands():
        store.handle(parse_command(data))
    before = store.history("d-2014-0001")
    late = {
        "type": "dispute.apply_judicial_confirmation",
        "command_id": "c-6",
        "occurred_at": "2014-04-20T10:00:00+08:00",
        "actor": {"id": "staff-017", "role": "mediator"},
        "dispute_id": "d-2014-0001",
    }
    with pytest.raises(RuleViolation, match="47 days") as info:
        store.handle(parse_command(late))
    assert info.value.field == "occurred_at"
    assert store.history("d-2014-0001") == before
    # nothing half-written: not even the receipt, so a corrected command can reuse the id
    on_time = {**late, "occurred_at": "2014-04-01T10:00:00+08:00"}
    assert not store.handle(parse_command(on_time)).duplicate
