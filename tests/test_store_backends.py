"""The store on every backend: commands land once, replay equals live, ids are stable."""

from __future__ import annotations

import uuid

import attrs
import psycopg
import pytest

from safecomm_core import CommandIdReused, RuleViolation, application, parse_command
from safecomm_core.domain.dispute import Dispute, DisputeStatus
from safecomm_core.errors import StoreError
from safecomm_core.keystore import MemoryKeyStore
from tests.commanding import sample_commands
from tests.conftest import PG_URL, drop_pg_tables


def test_dispute_workflow_lands_and_replays(service_factory) -> None:
    service = service_factory()
    for data in sample_commands():
        service.handle(parse_command(data))
    live = service.get(Dispute, "d-2014-0001")
    assert live.status is DisputeStatus.AGREED
    reopened = service_factory()
    replayed = reopened.get(Dispute, "d-2014-0001")
    assert replayed.__dict__ == live.__dict__
    assert [p.ref for p in (pp.person for pp in replayed.parties)] == ["p-1001", "p-1002"]
    assert reopened.person(replayed.parties[0].person).name == "王建国"


def test_same_command_twice_has_the_effect_of_once(service) -> None:
    first = sample_commands()[0]
    one = service.handle(parse_command(first))
    two = service.handle(parse_command(first))
    assert not one.duplicate
    assert two.duplicate
    assert two.records == one.records
    assert [e.version for e in service.history("d-2014-0001")] == [1]


def test_reused_command_id_with_other_content_is_refused(service) -> None:
    first = sample_commands()[0]
    service.handle(parse_command(first))
    changed = {**first, "summary": "something else"}
    with pytest.raises(CommandIdReused):
        service.handle(parse_command(changed))


def judicial_confirmation(occurred_at: str) -> dict[str, object]:
    """The sample dispute's application for judicial confirmation, made at ``occurred_at``."""
    return {
        "type": "dispute.apply_judicial_confirmation",
        "command_id": "c-6",
        "occurred_at": occurred_at,
        "actor": {"id": "staff-017", "role": "mediator"},
        "dispute_id": "d-2014-0001",
    }


def test_late_judicial_confirmation_is_refused_and_writes_nothing(service) -> None:
    for data in sample_commands():
        service.handle(parse_command(data))
    before = service.history("d-2014-0001")
    late = judicial_confirmation("2014-04-20T10:00:00+08:00")
    with pytest.raises(RuleViolation, match="47 days") as info:
        service.handle(parse_command(late))
    assert info.value.field == "occurred_at"
    assert service.history("d-2014-0001") == before
    # nothing half-written: not even the receipt, so a corrected command can reuse the id
    on_time = {**late, "occurred_at": "2014-04-01T10:00:00+08:00"}
    assert not service.handle(parse_command(on_time)).duplicate


def adopt(command_id: str, days: int) -> dict[str, object]:
    return {
        "type": "rules.adopt",
        "command_id": command_id,
        "occurred_at": "2014-01-01T00:00:00+08:00",
        "actor": {"id": "staff-001", "role": "admin"},
        "effective_from": "2014-01-01",
        "community": "C1",
        "changes": {"judicial_confirmation_days": days},
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_each_writer_decides_on_what_the_other_stored(service_factory) -> None:
    """Two applications on one store (two processes): neither decides on a stale record.

    Each keeps the records it saved for its next command; the other's events must count
    whether the kept record is refused on (no mediator yet), written to (a version the
    other took), or only read (the rulebook).
    """
    mine, theirs = service_factory(), service_factory()
    report, accept, assign, session, agreement = (parse_command(d) for d in sample_commands())
    mine.handle(parse_command(adopt("r-1", 30)))  # mine keeps the rulebook
    mine.handle(report)
    mine.handle(accept)  # mine keeps the dispute, accepted, without a mediator
    theirs.handle(assign)
    assert not mine.handle(session).duplicate  # would be refused without their mediator
    theirs.handle(attrs.evolve(session, command_id="c-4b"))  # a second session
    mine.handle(agreement)  # written after their session, not over it
    events = [(e.version, e.event) for e in mine.history("d-2014-0001", "dispute")]
    assert events == [
        (1, "Reported"),
        (2, "Accepted"),
        (3, "MediatorAssigned"),
        (4, "SessionHeld"),
        (5, "SessionHeld"),
        (6, "AgreementReached"),
    ]
    theirs.handle(parse_command(adopt("r-2", 10)))
    apply = judicial_confirmation("2014-03-24T10:00:00+08:00")
    with pytest.raises(RuleViolation, match="20 days"):  # within 30, as mine kept the rules
        mine.handle(parse_command(apply))
    assert len(mine.history("d-2014-0001", "dispute")) == 6


@pytest.mark.postgres
def test_an_opening_held_up_by_another_gives_up_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(application, "SCHEMA_LOCK_TIMEOUT_S", 0.5)
    url = f"{PG_URL}?name=t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as other:
        # Another process stuck while opening a store: it holds the schema lock.
        other.execute("SELECT pg_advisory_lock(%s)", (application._SCHEMA_LOCK,))
        with pytest.raises(StoreError, match="another process has been opening a store"):
            application.open_store(url, keys=MemoryKeyStore())
    # Once it lets go, the store opens (and nothing was left half-made by the refusal).
    with application.open_store(url, keys=MemoryKeyStore()) as service:
        service.handle(parse_command(sample_commands()[0]))
    drop_pg_tables(url.rsplit("=", 1)[1])
