"""Free text (summaries, notes, terms, reasons...) is sealed with a key per record.

Staff write names and phone numbers into free text, so it is kept like a person: sealed
in every event, shown as ``[sealed]`` in histories, record views and the event stream,
opened only for roles that may open personal data (each opening recorded), and erased
by destroying the record's key (docs/personal-data.md, *Free text*).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from safecomm_demo import scenario_commands
from safecomm_nats.envelope import envelope_of

from safecomm_core import (
    Dispute,
    EraseDispute,
    ErasureGround,
    Forbidden,
    InvalidCommand,
    InvalidTransition,
    Safecomm,
    SealedText,
    open_store,
)
from safecomm_core.access import Principal
from safecomm_core.commands.base import Command
from safecomm_core.commands.population import CorrectPopulation, RecordPopulation
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.population import PopulationBasis
from safecomm_core.freetext import open_text, record_key_ref
from safecomm_core.history import history_entry
from safecomm_core.projections import Projector, builtin_projections
from safecomm_core.validation import free_text_fields
from safecomm_core.values import Actor, Role
from tests.commanding import issue, sample_commands
from tests.conftest import drop_pg_tables, store_url
from tests.dumps import as_bytes, postgres_rows, sqlite_files, sqlite_rows
from tests.test_golden import replay

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
GOLDEN = Path(__file__).parent / "golden"

#: What the sample and the commands below write as free text, names and phones.
SUMMARY = "Water leaking from the flat above"
SESSION = "both parties present"
NOTE = "王建国 (13800001001) will let the plumber in on Friday"
TERMS = "李秀英 pays 300 yuan for the ceiling"
SECRETS = (SUMMARY, NOTE, TERMS, "王建国", "李秀英", "13800001001")


def dispute_with_notes(service: Safecomm) -> None:
    """The sample's dispute (agreed), with a follow-up note naming a party."""
    for data in sample_commands():
        if data["type"] == "dispute.reach_agreement":
            data = {**data, "terms": TERMS}
        service.handle_json(data)
    service.handle_json(
        {
            "type": "dispute.follow_up",
            "command_id": "ft-follow",
            "occurred_at": "2014-03-20T09:00:00+08:00",
            "actor": {"id": "staff-017", "role": "mediator"},
            "dispute_id": "d-2014-0001",
            "notes": NOTE,
        }
    )


def erase(service: Safecomm, command_id: str = "ft-erase") -> None:
    service.handle_json(
        {
            "type": "dispute.erase",
            "command_id": command_id,
            "occurred_at": "2017-04-01T09:00:00+08:00",
            "actor": {"id": "admin-1", "role": "admin"},
            "dispute_id": "d-2014-0001",
            "ground": "retention_ended",
        }
    )


def opened(service: Safecomm) -> dict[str, str]:
    return {t.field: t.text for t in service.texts(Dispute, "d-2014-0001")}


@pytest.fixture
def memory() -> Iterator[Safecomm]:
    service = open_store("memory://")
    yield service
    service.close()


def test_free_text_is_sealed_in_events_and_opened_with_the_records_key(
    memory: Safecomm,
) -> None:
    dispute_with_notes(memory)
    for n in memory.log.read(0, 1000):
        assert not any(s.encode() in n.state for s in SECRETS)
    dispute = memory.get(Dispute, "d-2014-0001")
    assert isinstance(dispute.summary, SealedText)
    assert dispute.summary.holder == record_key_ref("dispute", "d-2014-0001")
    assert open_text(dispute.summary, memory.keys) == SUMMARY
    assert [(t.event, t.text) for t in memory.texts(Dispute, "d-2014-0001")] == [
        ("Reported", SUMMARY),
        ("SessionHeld", SESSION),
        ("AgreementReached", TERMS),
        ("FollowUpVisited", NOTE),
    ]
    details = [e.details for e in memory.history("d-2014-0001", "dispute")]
    assert {"notes": "[sealed]"} in details
    assert not any(s in str(details) for s in SECRETS)


def test_a_box_copied_onto_another_record_does_not_open(memory: Safecomm) -> None:
    dispute_with_notes(memory)
    summary = memory.get(Dispute, "d-2014-0001").summary
    moved = SealedText(record_key_ref("dispute", "d-other"), summary.key_id, summary.box)
    assert open_text(moved, memory.keys) == "[erased]"


def test_erasing_a_dispute_erases_its_parties_and_its_text(memory: Safecomm) -> None:
    dispute_with_notes(memory)
    before = memory.get(Dispute, "d-2014-0001")
    erase(memory)
    dispute = memory.get(Dispute, "d-2014-0001")
    assert dispute.erasure_ground is ErasureGround.RETENTION_ENDED
    assert set(opened(memory).values()) == {"[erased]"}
    assert [memory.person(p.person).name for p in dispute.parties] == ["[erased]"] * 2
    # What the figures count stays.
    assert (dispute.status, dispute.agreement_form, dispute.closed_at) == (
        before.status,
        before.agreement_form,
        before.closed_at,
    )
    # Nothing new is recorded on an erased file, and the erasure is not repeated.
    with pytest.raises(InvalidTransition):
        memory.handle_json(
            {
                "type": "dispute.follow_up",
                "command_id": "ft-late",
                "occurred_at": "2017-05-01T09:00:00+08:00",
                "actor": {"id": "staff-017", "role": "mediator"},
                "dispute_id": "d-2014-0001",
                "notes": "again",
            }
        )
    with pytest.raises(InvalidTransition):
        erase(memory, "ft-erase-again")
    assert memory.handle_json(
        {
            "type": "dispute.erase",
            "command_id": "ft-erase",
            "occurred_at": "2017-04-01T09:00:00+08:00",
            "actor": {"id": "admin-1", "role": "admin"},
            "dispute_id": "d-2014-0001",
            "ground": "retention_ended",
        }
    ).duplicate


def test_only_an_admin_erases_a_dispute(memory: Safecomm) -> None:
    dispute_with_notes(memory)
    mediator = Principal("staff-017", Role.MEDIATOR, ["C1"])
    command = EraseDispute(
        command_id="ft-by-mediator",
        occurred_at=datetime.fromisoformat("2017-04-01T09:00:00+08:00"),
        actor=Actor("staff-017", Role.MEDIATOR),
        dispute_id="d-2014-0001",
    )
    with pytest.raises(Forbidden):
        memory.handle(command, mediator)
    assert opened(memory)["summary"] == SUMMARY


def test_opening_text_is_for_roles_that_may_open_people_and_is_recorded(
    memory: Safecomm,
) -> None:
    dispute_with_notes(memory)
    head = memory.log.head()
    evaluator = Principal("ev-1", Role.EVALUATOR, ["*"])
    with pytest.raises(Forbidden):
        memory.texts(Dispute, "d-2014-0001", evaluator, why="to check")
    mediator = Principal("staff-017", Role.MEDIATOR, ["C1"])
    with pytest.raises(InvalidCommand):
        memory.texts(Dispute, "d-2014-0001", mediator, why=" ")
    assert memory.log.head() == head
    texts = memory.texts(Dispute, "d-2014-0001", mediator, why="to prepare a visit")
    assert {t.text for t in texts} == {SUMMARY, SESSION, TERMS, NOTE}
    assert memory.log.head() == head + 1


def test_a_person_ref_cannot_take_a_records_key_name(memory: Safecomm) -> None:
    data = sample_commands()[0]
    data = {**data, "parties": [{"ref": "record:dispute:d-1", "role": "applicant"}]}
    with pytest.raises(InvalidCommand, match="records' keys"):
        memory.handle_json(data)


def test_the_stream_envelope_holds_no_free_text(memory: Safecomm) -> None:
    dispute_with_notes(memory)
    for n in memory.log.read(0, 1000):
        event = memory.log.decode(n)
        entry = history_entry("dispute", "d-2014-0001", event)
        payload = envelope_of("s", n.id, "C1", entry).to_json()
        assert not any(s.encode() in payload for s in SECRETS)
    last = memory.log.decode(list(memory.log.read(0, 1000))[-1])
    assert envelope_of("s", 1, "C1", history_entry("dispute", "x", last)).data == {
        "notes": "[sealed]"
    }


def test_clear_text_of_an_earlier_version_still_loads_and_is_shown_sealed() -> None:
    (dispute,) = [a for a in replay(GOLDEN / "v0_1_dispute.jsonl").values() if a.KIND == "dispute"]
    assert isinstance(dispute.summary, SealedText)
    assert dispute.summary.clear == "Water leaking from the flat above"
    from safecomm_core.history import shown

    assert shown(dispute.summary) == "[sealed]"


def test_the_sealed_versions_golden_file_holds_no_text_and_loads_erased() -> None:
    path = GOLDEN / "v0_3_dispute_erased.jsonl"
    assert "pipe" not in path.read_text(encoding="utf-8")
    (dispute,) = [a for a in replay(path).values() if a.KIND == "dispute"]
    assert dispute.erasure_ground is ErasureGround.RETENTION_ENDED
    assert isinstance(dispute.summary, SealedText)
    assert dispute.summary.clear is None


@pytest.fixture
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Safecomm, Any]]:
    """A store on SQLite or PostgreSQL, and a function that dumps every file or table."""
    backend = request.param
    folder = tmp_path / "store"
    folder.mkdir()
    url, name = store_url(backend, folder)
    service = open_store(url)

    def dump() -> list[bytes]:
        if backend == "sqlite":
            files = sqlite_files(folder)
            rows = sqlite_rows(tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}", files)
            return list(files.values()) + [as_bytes(v) for t in rows.values() for r in t for v in r]
        return [as_bytes(v) for t in postgres_rows(name).values() for r in t for v in r]

    yield service, dump
    service.close()
    if backend == "postgres":
        drop_pg_tables(name)


@pytest.mark.parametrize("sql_store", SQL_BACKENDS, indirect=True)
def test_erasure_leaves_no_text_and_no_key_in_any_file_or_table(
    sql_store: tuple[Safecomm, Any],
) -> None:
    service, dump = sql_store
    dispute_with_notes(service)
    with Projector(service) as projector:
        for projection in builtin_projections():
            projector.catch_up(projection)
    holders = {record_key_ref("dispute", "d-2014-0001"), "p-1001", "p-1002"}
    before = b"".join(dump())
    assert not any(s.encode() in before for s in SECRETS)
    assert all(h.encode() in before for h in holders)  # their wrapped keys, among others
    erase(service)
    with Projector(service) as projector:
        for projection in builtin_projections():
            projector.catch_up(projection)
    cells = dump()
    raw = b"".join(cells)
    assert not any(s.encode() in raw for s in SECRETS)
    assert set(opened(service).values()) == {"[erased]"}
    # No key row is left for the record or its parties: only the erased refs' list and
    # the sealed boxes name them.
    assert service.keys.person_key(record_key_ref("dispute", "d-2014-0001"), create=False) is None
    assert all(service.keys.person_key(p, create=False) is None for p in ("p-1001", "p-1002"))


#: Free text that is published on purpose, and so stays in clear (docs/personal-data.md,
#: *Free text*): a broadcast's text, and what a prevention asset is.
PUBLISHED = {("broadcast.publish", "text"), ("asset.install", "description")}
PUBLISHED |= {("asset.build", "description")}


def test_no_free_text_of_the_demo_reaches_an_event_in_clear() -> None:
    """Every free-text field of every command the demo's scenario sends (and a population's
    correction, which it does not send), written as the office writes it: none is found
    in a stored event's bytes, but what is published on purpose."""
    service = open_store("memory://")
    written: dict[str, tuple[str, str]] = {}
    commands = [*scenario_commands(2014, 0.03), *population_correction()]
    for command in commands:
        service.handle(command)
        for name in free_text_fields(type(command)):
            text = getattr(command, name)
            if text and len(text) >= 4 and (command.TYPE, name) not in PUBLISHED:
                written.setdefault(text, (command.TYPE, name))
    assert ("population.correct", "reason") in set(written.values())
    stored = [n.state.decode("utf-8") for n in service.log.read(0, 10**7)]
    service.close()
    found = {
        where: text
        for text, where in written.items()
        if any(text in state or json.dumps(text)[1:-1] in state for state in stored)
    }
    assert found == {}


def population_correction() -> list[Command]:
    """A count recorded for C9 and corrected, the reason naming who gave the new count."""
    at = datetime(2014, 2, 10, 11, tzinfo=SUBDISTRICT_TZ)
    fields: dict[str, Any] = {"population_id": "C9/2013-12-31", "residents": 5000}
    return [
        issue(
            RecordPopulation,
            at,
            community="C9",
            as_of=date(2013, 12, 31),
            migrants=1000,
            basis=PopulationBasis.CENSUS,
            source="街道年度人口统计",
            **fields,
        ),
        issue(
            CorrectPopulation, at, migrants=1200, reason="王建国 recounted the registry", **fields
        ),
    ]
