"""MigrantWorker (M3.1–M3.3): registration, whereabouts, permits, rights, services, erasure.

Unit tests of each rule on memory://; the public contract, the ID-number race and the
erasure on every backend; a scan of the raw store bytes for personal data; converter
round-trips; and a state machine that drives the real application beside a plain model.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule
from safecomm_cli.main import main

from safecomm_core import (
    COMMANDS,
    AlreadyExists,
    Command,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    Outcome,
    PersonData,
    RuleViolation,
    Safecomm,
    SafecommError,
    parse_command,
)
from safecomm_core.dates import add_months
from safecomm_core.domain.dispute import Dispute
from safecomm_core.domain.migrant import (
    ErasureGround,
    MigrantIdNumber,
    MigrantWorker,
    PermitBasis,
    PermitStatus,
    RegistrationSource,
    RightsKind,
    WorkerStatus,
)
from safecomm_core.personal import ERASED, id_number_digest
from tests.commanding import command_id
from tests.dumps import raw_postgres, raw_sqlite, wrapped_key
from tests.machines import REFUSED, CommandMachine, refused_unless
from tests.refusals import refused
from tests.strategies import CST

REGISTER = {
    "type": "migrant.register",
    "command_id": "c-7",
    "occurred_at": "2014-03-05T10:00:00+08:00",
    "actor": {"id": "coord-03", "role": "coordinator"},
    "channel": "door-to-door",
    "worker_id": "m-0001",
    "community": "C2",
    "person": {
        "ref": "p-2001",
        "name": "张伟",
        "id_number": "51040219900101123X",
        "phone": "13900002001",
    },
    "arrived_on": "2013-11-20",
    "dwelling": "C2-12-3-401",
    "employer": "Panzhihua Steel contractor",
}
ERASE = {
    "type": "migrant.erase",
    "command_id": "c-8",
    "occurred_at": "2014-12-31T10:00:00+08:00",
    "actor": {"id": "staff-001", "role": "admin"},
    "worker_id": "m-0001",
}
ID_NUMBER = "51040219900101123X"
ERASED_PERSON = PersonData("p-2001", ERASED, ERASED, ERASED, ERASED, erased=True)


class Desk:
    """Builds and sends commands with fresh ids; dates are 'YYYY-MM-DD' at 10:00 local."""

    def __init__(self, service: Safecomm) -> None:
        self.service = service

    def command(self, type_: str, on: str, **fields: Any) -> Command:
        return parse_command(
            {
                "type": type_,
                "command_id": command_id(),
                "occurred_at": f"{on}T10:00:00+08:00",
                "actor": {"id": "staff-1", "role": "staff"},
                **fields,
            }
        )

    def send(self, type_: str, on: str, **fields: Any) -> Outcome:
        return self.service.handle(self.command(type_, on, **fields))

    def refuse(
        self, error: type[SafecommError], type_: str, on: str, **fields: Any
    ) -> SafecommError:
        """Send a command that must be refused with ``error``, having written nothing."""
        return refused(self.service, self.command(type_, on, **fields), error)

    @staticmethod
    def registration(
        worker_id: str = "m-1",
        arrived_on: str = "2014-03-04",
        id_number: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """The fields of a migrant.register command for ``worker_id`` (person p-<id>)."""
        person: dict[str, str] = {"ref": f"p-{worker_id}", "name": "李四"}
        if id_number:
            person["id_number"] = id_number
        return {
            "channel": "door-to-door",
            "worker_id": worker_id,
            "community": "C2",
            "person": person,
            "arrived_on": arrived_on,
            "dwelling": "C2-1-1-101",
            **fields,
        }

    def register(self, worker_id: str = "m-1", on: str = "2014-03-05", **fields: Any) -> Outcome:
        return self.send("migrant.register", on, **self.registration(worker_id, **fields))

    def on_worker(self, type_: str, on: str, worker_id: str = "m-1", **fields: Any) -> Outcome:
        return self.send(type_, on, worker_id=worker_id, **fields)

    def worker(self, worker_id: str = "m-1") -> MigrantWorker:
        return self.service.get(MigrantWorker, worker_id)


@pytest.fixture
def desk(memory_service: Safecomm) -> Desk:
    return Desk(memory_service)


# -- the public contract, on every backend --------------------------------------------


def test_contract_register_then_erase(service_factory) -> None:
    service = service_factory()
    registered = service.handle_json(REGISTER)
    digest = id_number_digest(ID_NUMBER, service.keys)
    assert registered.records == ("migrant:m-0001", f"migrant_id:{digest}")
    assert service.handle_json(REGISTER).duplicate  # idempotent, not "already exists"

    worker = service.get(MigrantWorker, "m-0001")
    assert (worker.community, worker.grid_unit) == ("C2", None)
    assert worker.source is RegistrationSource.DOOR_TO_DOOR
    assert worker.employer == "Panzhihua Steel contractor"
    assert worker.arrived_on == date(2013, 11, 20)
    assert worker.registered_on == date(2014, 3, 5)
    assert worker.registration_due_on == date(2013, 11, 23)  # 3 days (local rule)
    assert worker.registered_late
    person = service.person(worker.person)
    assert (person.name, person.id_number, person.phone) == ("张伟", ID_NUMBER, "13900002001")
    assert service.person(worker.dwelling).address == "C2-12-3-401"
    assert service.get(MigrantIdNumber, digest).holder == "m-0001"

    service.handle_json(ERASE)
    reopened = service_factory()  # a new process on SQLite and PostgreSQL: replays from events
    erased = reopened.get(MigrantWorker, "m-0001")
    assert erased.status is WorkerStatus.ERASED
    assert reopened.person(erased.person) == ERASED_PERSON
    assert reopened.person(erased.dwelling) == ERASED_PERSON
    assert reopened.keys.person_key("p-2001", create=False) is None
    assert [e.event for e in reopened.history("m-0001", "migrant")] == ["Registered", "Erased"]
    # Everything but the status is the record as registered: history still replays.
    assert {k: v for k, v in erased.__dict__.items() if not k.startswith("_")} == {
        **{k: v for k, v in worker.__dict__.items() if not k.startswith("_")},
        "status": WorkerStatus.ERASED,
    }
    assert reopened.get(MigrantIdNumber, digest).holder is None


def test_contract_through_the_cli(tmp_path: Path) -> None:
    lines = tmp_path / "migrants.jsonl"
    lines.write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in (REGISTER, ERASE)) + "\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["import", str(lines), "--store", url])
    assert first.exit_code == 0, first.output
    assert "2 applied, 0 already applied, 0 failed" in first.output
    again = runner.invoke(main, ["import", str(lines), "--store", url])
    assert "0 applied, 2 already applied, 0 failed" in again.output
    shown = runner.invoke(main, ["history", "m-0001", "--kind", "migrant", "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "Registered" in shown.output
    assert "Erased" in shown.output
    for secret in ("张伟", ID_NUMBER, "13900002001", "C2-12-3-401"):
        assert secret not in shown.output


# -- personal data never in clear in the store's bytes --------------------------------

SECRETS = ("张伟", ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[:17], "13900002001", "C2-12-3-401")


def forms(text: str) -> list[bytes]:
    """The ways ``text`` could sit in a file or row: UTF-8, JSON-escaped, UTF-16."""
    return [
        text.encode(),
        json.dumps(text)[1:-1].encode(),
        text.encode("utf-16-le"),
    ]


def leaks(raw: bytes) -> list[str]:
    return [s for s in SECRETS if any(f in raw for f in forms(s))]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_no_personal_data_in_clear_before_or_after_erasure(
    service_factory, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the store cipher, so that the scan sees the events as they are serialised.
    monkeypatch.delenv("SAFECOMM_CIPHER_KEY", raising=False)
    service = service_factory()

    def raw() -> tuple[bytes, bytes]:
        return raw_sqlite(tmp_path) if backend == "sqlite" else raw_postgres(service.config.name)

    service.handle_json(REGISTER)
    desk = Desk(service)
    desk.on_worker("migrant.move", "2014-06-01", "m-0001", dwelling="C3-2-1-201", community="C3")
    key = service.keys.person_key("p-2001", create=False)
    assert key is not None
    events, keys = raw()
    # The scan reads the stored events: what is meant to be in clear is found.
    assert b"Panzhihua Steel contractor" in events
    assert b"m-0001" in events
    assert leaks(events) == []
    assert leaks(keys) == []
    assert b"C3-2-1-201" not in events
    wrapped = wrapped_key(service, "p-2001")
    assert wrapped in keys
    assert key[1] not in keys  # only wrapped by the master key, which is not in the store

    service.handle_json(ERASE)
    events, keys = raw()
    assert b"safecomm/MigrantWorker/Erased" in events
    assert leaks(events) == []
    assert leaks(keys) == []
    assert wrapped not in keys  # the wrapped data key is gone from the key store's bytes too


# -- registration ---------------------------------------------------------------------


def test_registration_is_late_only_after_the_deadline(desk: Desk) -> None:
    desk.register("m-1", on="2014-03-05", arrived_on="2014-03-02")
    desk.register("m-2", on="2014-03-05", arrived_on="2014-03-01")
    assert desk.worker("m-1").registration_due_on == date(2014, 3, 5)
    assert not desk.worker("m-1").registered_late
    assert desk.worker("m-2").registered_late


def test_the_deadline_is_the_rule_in_force_when_the_worker_arrived(desk: Desk) -> None:
    desk.send(
        "rules.adopt",
        "2014-01-10",
        effective_from="2014-01-01",
        changes={"registration_deadline_days": 7},
        community="C2",
    )
    desk.register("m-1", on="2014-01-08", arrived_on="2014-01-02")  # 6 days: within 7
    desk.register("m-2", on="2014-01-05", arrived_on="2013-12-30")  # arrived under 3 days
    desk.register("m-3", on="2014-01-08", arrived_on="2014-01-02", community="C3")
    assert not desk.worker("m-1").registered_late
    assert desk.worker("m-2").registered_late
    assert desk.worker("m-3").registered_late  # C2's rule is not C3's


def test_arrival_after_registration_is_refused(desk: Desk) -> None:
    fields = desk.registration(arrived_on="2014-03-06")
    error = desk.refuse(RuleViolation, "migrant.register", "2014-03-05", **fields)
    assert error.field == "arrived_on"
    assert desk.service.keys.person_key("p-m-1", create=False) is None  # no key for a refusal


def test_source_defaults_to_the_channel_and_is_required_otherwise(desk: Desk) -> None:
    desk.register("m-1", channel="landlord")
    desk.register("m-2", channel="landlord", source="employer")
    assert desk.worker("m-1").source is RegistrationSource.LANDLORD
    assert desk.worker("m-2").source is RegistrationSource.EMPLOYER
    for channel in ("import", None):
        fields = desk.registration("m-3", channel=channel)
        error = desk.refuse(InvalidCommand, "migrant.register", "2014-03-05", **fields)
        assert error.field == "source"
    desk.register("m-3", channel="import", source="coordinator")
    assert desk.worker("m-3").source is RegistrationSource.COORDINATOR


def test_a_worker_id_is_registered_once(desk: Desk) -> None:
    desk.register("m-1")
    fields = desk.registration("m-1", arrived_on="2014-03-01")
    error = desk.refuse(AlreadyExists, "migrant.register", "2014-03-05", **fields)
    assert error.field == "worker_id"


def test_a_second_worker_with_the_same_id_number_is_refused(desk: Desk) -> None:
    desk.register("m-1", id_number=ID_NUMBER)
    fields = desk.registration("m-2", id_number=ID_NUMBER.lower())  # the same, written lower
    error = desk.refuse(AlreadyExists, "migrant.register", "2014-03-05", **fields)
    assert "'m-1'" in str(error)
    assert ID_NUMBER not in str(error)
    assert ID_NUMBER.lower() not in str(error)
    assert error.field == "person.id_number"
    assert desk.service.keys.person_key("p-m-2", create=False) is None  # no key for a refusal
    desk.register("m-2", id_number="510402199001011234")
    desk.register("m-3")  # without an ID number there is nothing to de-duplicate


def test_racing_registrations_of_one_id_number_land_once(service_factory) -> None:
    """The check passes for both; the store's unique (id, version) constraint decides."""
    first, second = service_factory(), service_factory()
    real_exists = first.exists
    raced = threading.Event()

    def exists_then_lose_the_race(cls: type, ref: str) -> bool:
        found = real_exists(cls, ref)
        if cls is MigrantIdNumber and not raced.is_set():
            raced.set()
            Desk(second).register("m-2", id_number=ID_NUMBER)  # lands between check and write
        return found

    first.exists = exists_then_lose_the_race  # type: ignore[method-assign]
    with pytest.raises(AlreadyExists, match="'m-2'"):
        Desk(first).register("m-1", id_number=ID_NUMBER)
    assert raced.is_set()
    assert not first.exists(MigrantWorker, "m-1")
    digest = id_number_digest(ID_NUMBER, first.keys)
    assert first.get(MigrantIdNumber, digest).holder == "m-2"
    assert [e.event for e in first.history(digest, "migrant_id")] == ["Claimed"]


def test_leaving_releases_the_id_number_for_a_new_stay(desk: Desk) -> None:
    desk.register("m-1", id_number=ID_NUMBER)
    desk.on_worker("migrant.leave", "2014-05-01")
    assert desk.worker().status is WorkerStatus.LEFT
    assert desk.worker().left_on == date(2014, 5, 1)
    desk.register("m-2", on="2015-02-01", arrived_on="2015-01-30", id_number=ID_NUMBER)
    digest = id_number_digest(ID_NUMBER, desk.service.keys)
    assert desk.service.get(MigrantIdNumber, digest).holder == "m-2"
    events = [e.event for e in desk.service.history(digest, "migrant_id")]
    assert events == ["Claimed", "Released", "Reclaimed"]
    fields = desk.registration("m-3", arrived_on="2015-01-30", id_number=ID_NUMBER)
    error = desk.refuse(AlreadyExists, "migrant.register", "2015-02-02", **fields)
    assert "'m-2'" in str(error)


# -- erasure --------------------------------------------------------------------------

AFTER_ERASURE = {
    "migrant.move": {"dwelling": "C2-9-9-909", "community": "C2"},
    "migrant.leave": {},
    "migrant.apply_permit": {"basis": "employment"},
    "migrant.issue_permit": {},
    "migrant.endorse_permit": {},
    "migrant.suspend_permit": {},
    "migrant.open_rights_case": {"case_id": "k-1", "kind": "labour", "legal_aid": "LA-1"},
    "migrant.offer_service": {"offer_id": "s-1", "service": "health check", "proactive": True},
    "migrant.deliver_service": {"offer_id": "s-1"},
    "migrant.erase": {},
}


def test_every_command_type_is_tried_after_erasure() -> None:
    assert set(AFTER_ERASURE) | {"migrant.register"} == {
        t for t in COMMANDS if t.startswith("migrant.")
    }


@pytest.mark.parametrize(("type_", "fields"), sorted(AFTER_ERASURE.items()))
def test_nothing_follows_an_erasure(desk: Desk, type_: str, fields: dict[str, Any]) -> None:
    desk.register(id_number=ID_NUMBER)
    desk.on_worker("migrant.erase", "2014-04-01", ground="consent_withdrawn")
    assert desk.worker().erasure_ground is ErasureGround.CONSENT_WITHDRAWN
    error = desk.refuse(InvalidTransition, type_, "2014-05-01", worker_id="m-1", **fields)
    assert "erased" in str(error)
    assert error.field == "worker_id"
    # A refused command after erasure must not bring a data key back.
    assert desk.service.keys.person_key("p-m-1", create=False) is None


def test_erasing_a_worker_who_left_keeps_the_next_holder(desk: Desk) -> None:
    desk.register("m-1", id_number=ID_NUMBER)
    desk.on_worker("migrant.leave", "2014-04-01")
    desk.register("m-2", on="2014-06-01", arrived_on="2014-06-01", id_number=ID_NUMBER)
    desk.on_worker("migrant.erase", "2014-07-01", "m-1", ground="purpose_achieved")
    digest = id_number_digest(ID_NUMBER, desk.service.keys)
    assert desk.service.get(MigrantIdNumber, digest).holder == "m-2"
    assert desk.service.person(desk.worker("m-1").person).erased
    assert desk.service.person(desk.worker("m-2").person).name == "李四"


def report_dispute(desk: Desk, dispute_id: str = "d-1", party: str = "p-m-1") -> None:
    desk.send(
        "dispute.report",
        "2014-03-06",
        dispute_id=dispute_id,
        community="C2",
        kind="wage_arrears",
        summary="Unpaid wages",
        parties=[{"ref": party, "name": "李四", "role": "applicant"}],
    )


def test_erasure_reaches_the_person_in_other_records(desk: Desk) -> None:
    desk.register()
    report_dispute(desk)
    desk.on_worker("migrant.erase", "2014-04-01")
    party = desk.service.get(Dispute, "d-1").parties[0].person
    assert desk.service.person(party).erased


# -- whereabouts ----------------------------------------------------------------------


def test_a_move_seals_the_new_dwelling_and_changes_jurisdiction(desk: Desk) -> None:
    desk.register()
    desk.on_worker("migrant.move", "2014-04-01", dwelling="C5-3-2-202", community="C5")
    worker = desk.worker()
    assert (worker.community, worker.grid_unit, worker.moves) == ("C5", None, 1)
    assert desk.service.person(worker.dwelling).address == "C5-3-2-202"
    assert desk.service.person(worker.person).address is None
    history = desk.service.history("m-1", "migrant")
    assert history[-1].details["dwelling"] == {"person": "p-m-1"}


def test_no_fact_before_the_registration(desk: Desk) -> None:
    desk.register(on="2014-03-05")
    move = {"worker_id": "m-1", "dwelling": "x", "community": "C2"}
    error = desk.refuse(RuleViolation, "migrant.move", "2014-03-04", **move)
    assert error.field == "occurred_at"


def test_a_worker_who_left_neither_moves_nor_leaves_again(desk: Desk) -> None:
    desk.register()
    desk.on_worker("migrant.leave", "2014-04-01")
    move = {"worker_id": "m-1", "dwelling": "x", "community": "C2"}
    assert "left" in str(desk.refuse(InvalidTransition, "migrant.move", "2014-04-02", **move))
    desk.refuse(InvalidTransition, "migrant.leave", "2014-04-02", worker_id="m-1")


def test_an_unknown_worker_is_not_found(desk: Desk) -> None:
    error = desk.refuse(NotFound, "migrant.leave", "2014-04-01", worker_id="m-404")
    assert error.field == "worker_id"


# -- residence permit -----------------------------------------------------------------


def permit_holder(desk: Desk, issued_on: str = "2014-09-10") -> MigrantWorker:
    """m-1, arrived 2014-03-01, applied for a permit 2014-09-01, issued on ``issued_on``."""
    desk.register(on="2014-03-02", arrived_on="2014-03-01")
    desk.on_worker("migrant.apply_permit", "2014-09-01", basis="employment")
    desk.on_worker("migrant.issue_permit", issued_on)
    return desk.worker()


def test_a_permit_needs_six_months_residence(desk: Desk) -> None:
    desk.register(on="2013-09-01", arrived_on="2013-08-31")
    apply = {"worker_id": "m-1", "basis": "employment"}
    error = desk.refuse(RuleViolation, "migrant.apply_permit", "2014-02-27", **apply)
    assert error.field == "occurred_at"
    assert "6 months" in str(error)
    assert "2014-02-28" in str(error)  # 31 Aug + 6 months: the end of February
    desk.on_worker("migrant.apply_permit", "2014-02-28", basis="employment")
    assert desk.worker().permit is PermitStatus.APPLIED
    assert desk.worker().permit_basis is PermitBasis.EMPLOYMENT
    again = desk.refuse(InvalidTransition, "migrant.apply_permit", "2014-03-01", **apply)
    assert "applied" in str(again)


def test_a_permit_is_issued_only_after_an_application(desk: Desk) -> None:
    desk.register(on="2014-03-02", arrived_on="2014-03-01")
    error = desk.refuse(InvalidTransition, "migrant.issue_permit", "2014-09-01", worker_id="m-1")
    assert "none" in str(error)
    desk.on_worker("migrant.apply_permit", "2014-09-01", basis="dwelling")
    error = desk.refuse(RuleViolation, "migrant.issue_permit", "2014-08-31", worker_id="m-1")
    assert error.field == "occurred_at"


@pytest.mark.parametrize(("issued_on", "late"), [("2014-09-16", False), ("2014-09-17", True)])
def test_issue_is_late_after_fifteen_days(desk: Desk, issued_on: str, late: bool) -> None:
    worker = permit_holder(desk, issued_on)
    assert worker.permit is PermitStatus.ISSUED
    assert worker.permit_issue_due_on == date(2014, 9, 16)
    assert worker.permit_issued_late is late
    assert worker.endorsement_due_on == date.fromisoformat(issued_on).replace(year=2015)


def test_endorsement_in_the_month_before_the_year_keeps_residence(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    error = desk.refuse(RuleViolation, "migrant.endorse_permit", "2015-08-09", worker_id="m-1")
    assert error.field == "occurred_at"
    assert "2015-08-10" in str(error)
    desk.on_worker("migrant.endorse_permit", "2015-08-10")
    worker = desk.worker()
    assert worker.endorsement_due_on == date(2016, 9, 10)
    assert worker.residence_since == date(2014, 3, 1)
    assert worker.endorsements == 1


def test_overdue_endorsement_suspends_and_a_late_one_restarts_residence(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    early = desk.refuse(RuleViolation, "migrant.suspend_permit", "2015-09-10", worker_id="m-1")
    assert "not overdue" in str(early)
    desk.on_worker("migrant.suspend_permit", "2015-09-11")
    assert desk.worker().permit is PermitStatus.SUSPENDED
    desk.refuse(InvalidTransition, "migrant.suspend_permit", "2015-09-12", worker_id="m-1")
    desk.on_worker("migrant.endorse_permit", "2015-11-02")
    worker = desk.worker()
    assert worker.permit is PermitStatus.ISSUED
    assert worker.residence_since == date(2015, 11, 2)  # 居住证暂行条例 Art. 10
    assert worker.endorsement_due_on == date(2016, 11, 2)


def test_a_late_endorsement_without_a_recorded_suspension_is_late_too(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    desk.on_worker("migrant.endorse_permit", "2015-10-01")
    assert desk.worker().residence_since == date(2015, 10, 1)
    history = desk.service.history("m-1", "migrant")
    assert history[-1].details["due_on"] == "2015-09-10"


def test_the_endorsement_window_is_a_rule(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    desk.send(
        "rules.adopt",
        "2015-01-01",
        effective_from="2015-01-01",
        changes={"permit_endorsement_window_months": 2},
    )
    desk.on_worker("migrant.endorse_permit", "2015-07-10")
    assert desk.worker().endorsement_due_on == date(2016, 9, 10)


def test_permit_facts_stay_in_order_and_stop_on_leaving(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    error = desk.refuse(RuleViolation, "migrant.suspend_permit", "2014-09-09", worker_id="m-1")
    assert "last changed" in str(error)
    desk.on_worker("migrant.leave", "2014-12-01")
    error = desk.refuse(InvalidTransition, "migrant.endorse_permit", "2015-09-01", worker_id="m-1")
    assert "left" in str(error)


# -- rights cases (M3.2) --------------------------------------------------------------


def test_a_rights_case_links_an_existing_dispute_or_legal_aid(desk: Desk) -> None:
    desk.register()
    report_dispute(desk)
    case = {"case_id": "k-1", "kind": "wage_arrears", "dispute_id": "d-1"}
    desk.on_worker("migrant.open_rights_case", "2014-03-07", **case)
    desk.on_worker("migrant.leave", "2014-04-01")
    # A claim outlives a departure.
    case = {"case_id": "k-2", "kind": "work_injury", "legal_aid": "LA-2014-031"}
    desk.on_worker("migrant.open_rights_case", "2014-05-01", **case)
    cases = desk.worker().rights_cases
    assert [(c.case_id, c.kind, c.dispute_id, c.legal_aid, c.opened_on) for c in cases] == [
        ("k-1", RightsKind.WAGE_ARREARS, "d-1", None, date(2014, 3, 7)),
        ("k-2", RightsKind.WORK_INJURY, None, "LA-2014-031", date(2014, 5, 1)),
    ]


def test_rights_case_refusals(desk: Desk) -> None:
    desk.register()
    report_dispute(desk)
    case = {"worker_id": "m-1", "case_id": "k-1", "kind": "labour"}
    on = "2014-03-07"
    missing = desk.refuse(NotFound, "migrant.open_rights_case", on, dispute_id="d-404", **case)
    assert missing.field == "dispute_id"
    for link in ({}, {"dispute_id": "d-1", "legal_aid": "LA-1"}):
        error = desk.refuse(InvalidCommand, "migrant.open_rights_case", on, **case, **link)
        assert "exactly one" in str(error)
    desk.send("migrant.open_rights_case", on, dispute_id="d-1", **case)
    twice = desk.refuse(AlreadyExists, "migrant.open_rights_case", on, legal_aid="LA-1", **case)
    assert twice.field == "case_id"
    relinked = {**case, "case_id": "k-2", "dispute_id": "d-1"}
    error = desk.refuse(RuleViolation, "migrant.open_rights_case", on, **relinked)
    assert "already linked" in str(error)


# -- services (M3.3) ------------------------------------------------------------------

LONG_RESIDENCE_OFFER = {
    "worker_id": "m-1",
    "offer_id": "s-1",
    "service": "family-planning support",
    "proactive": True,
    "long_residence": True,
}


def test_a_long_residence_service_waits_for_three_years(desk: Desk) -> None:
    desk.register(on="2011-03-02", arrived_on="2011-03-01")
    offer = LONG_RESIDENCE_OFFER
    error = desk.refuse(RuleViolation, "migrant.offer_service", "2014-02-28", **offer)
    assert error.field == "occurred_at"
    assert "3 years" in str(error)
    desk.send("migrant.offer_service", "2014-03-01", **offer)
    # A service for every migrant needs no residence.
    other = {"offer_id": "s-2", "service": "legal class", "proactive": False}
    desk.on_worker("migrant.offer_service", "2014-03-01", **other)
    services = desk.worker().services
    assert [(s.offer_id, s.proactive, s.eligible_since) for s in services] == [
        ("s-1", True, date(2014, 3, 1)),
        ("s-2", False, None),
    ]


def test_a_late_endorsement_restarts_the_three_years(desk: Desk) -> None:
    permit_holder(desk, "2014-09-10")
    desk.on_worker("migrant.endorse_permit", "2015-10-01")  # late
    offer = LONG_RESIDENCE_OFFER
    error = desk.refuse(RuleViolation, "migrant.offer_service", "2017-03-02", **offer)
    assert "since 2015-10-01" in str(error)
    desk.send("migrant.offer_service", "2018-10-01", **offer)


def test_a_service_is_delivered_once_after_its_offer(desk: Desk) -> None:
    desk.register()
    deliver = {"worker_id": "m-1", "offer_id": "s-1"}
    error = desk.refuse(InvalidTransition, "migrant.deliver_service", "2014-04-01", **deliver)
    assert "not offered" in str(error)
    assert error.field == "offer_id"
    offer = {**deliver, "service": "x", "proactive": False}
    desk.send("migrant.offer_service", "2014-04-01", **offer)
    desk.refuse(AlreadyExists, "migrant.offer_service", "2014-04-01", **offer)
    error = desk.refuse(RuleViolation, "migrant.deliver_service", "2014-03-31", **deliver)
    assert "offered on" in str(error)
    desk.send("migrant.deliver_service", "2014-04-03", **deliver)
    assert desk.worker().services[0].delivered_on == date(2014, 4, 3)
    error = desk.refuse(InvalidTransition, "migrant.deliver_service", "2014-04-04", **deliver)
    assert "already delivered" in str(error)


# -- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2014, 1, 31), 1, date(2014, 2, 28)),
        (date(2015, 2, 28), 12, date(2016, 2, 28)),
        (date(2016, 2, 29), 12, date(2017, 2, 28)),
        (date(2014, 3, 31), -1, date(2014, 2, 28)),
        (date(2014, 1, 15), -1, date(2013, 12, 15)),
        (date(2014, 11, 30), 3, date(2015, 2, 28)),
        (date(2011, 3, 1), 36, date(2014, 3, 1)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# -- converter round-trip -------------------------------------------------------------


# -- state machine: the real application beside a plain model -------------------------

WORKERS = ["m-1", "m-2"]
#: Mostly m-1, whom the machine registers first, so that its records grow long.
WORKER_IDS = st.just("m-1") | st.sampled_from(WORKERS)
ID_NUMBERS = ["51040219900101123X", "510402199001011234", None]
#: The permit command that should land next in each permit state.
_NEXT_PERMIT_ACTION = {
    PermitStatus.NONE: "apply",
    PermitStatus.APPLIED: "issue",
    PermitStatus.ISSUED: "endorse",
    PermitStatus.SUSPENDED: "endorse",
}


@attrs.define
class Model:
    """What a worker's record should say, kept by hand."""

    community: str
    arrived_on: date
    registered_on: date
    id_number: str | None
    residence_since: date
    status: WorkerStatus = WorkerStatus.REGISTERED
    moves: int = 0
    permit: PermitStatus = PermitStatus.NONE
    permit_changed_on: date | None = None
    endorsement_due_on: date | None = None
    endorsements: int = 0
    cases: dict[str, str | None] = attrs.Factory(dict)
    offers: dict[str, date | None] = attrs.Factory(dict)


class MigrantMachine(CommandMachine):
    """Random command sequences, valid and not, at a clock that only moves forward."""

    START = datetime(2014, 1, 1, 10, tzinfo=CST)

    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk(self.service)
        self.models: dict[str, Model] = {}
        report_dispute(self.desk)  # d-1 exists; d-2 never does

    @property
    def today(self) -> date:
        return self.clock.date()

    def holders(self) -> dict[str, str]:
        return {
            m.id_number: worker_id
            for worker_id, m in self.models.items()
            if m.id_number and m.status is WorkerStatus.REGISTERED
        }

    def registered(self, worker_id: str) -> Model | None:
        model = self.models.get(worker_id)
        return model if model and model.status is WorkerStatus.REGISTERED else None

    def jump_to(self, day: date) -> None:
        """Move the clock forward to ``day`` (never back), to reach a rule's boundary."""
        self.clock = max(self.clock, datetime.combine(day, self.clock.timetz()))

    def attempt(self, ok: bool, type_: str, **fields: Any) -> None:
        """On the clock's day: lands when ``ok``, else is refused having written nothing."""
        event(f"{type_} {'lands' if ok else 'refused'}")  # coverage in --hypothesis-show-statistics
        self.send(self.desk.command(type_, self.today.isoformat(), **fields), refused_unless(ok))

    @initialize()
    def first_worker(self) -> None:
        self.register("m-1", ID_NUMBERS[0], days_before=2, community="C1")

    @rule(days=st.integers(0, 400))
    def advance(self, days: int) -> None:
        self.tick(timedelta(days=days))

    @rule(
        worker_id=WORKER_IDS,
        id_number=st.sampled_from(ID_NUMBERS),
        days_before=st.integers(-2, 10),
        community=st.sampled_from(["C1", "C2"]),
    )
    def register(
        self, worker_id: str, id_number: str | None, days_before: int, community: str
    ) -> None:
        arrived_on = self.today - timedelta(days=days_before)
        ok = (
            worker_id not in self.models
            and (id_number is None or id_number not in self.holders())
            and arrived_on <= self.today
        )
        fields = Desk.registration(
            worker_id,
            arrived_on=arrived_on.isoformat(),
            id_number=id_number,
            community=community,
            dwelling=f"{community}-1-1-{len(self.models)}",
        )
        had_key = self.service.keys.person_key(f"p-{worker_id}", create=False) is not None
        self.attempt(ok, "migrant.register", **fields)
        if ok:
            self.models[worker_id] = Model(
                community, arrived_on, self.today, id_number, residence_since=arrived_on
            )
        elif not had_key:
            assert self.service.keys.person_key(f"p-{worker_id}", create=False) is None

    @rule(
        worker_id=WORKER_IDS,
        community=st.sampled_from(["C1", "C2", "C3"]),
        backdated=st.booleans(),
    )
    def move(self, worker_id: str, community: str, backdated: bool) -> None:
        """A move, or one dated before the registration (always refused)."""
        model = self.models.get(worker_id)
        move = {"worker_id": worker_id, "dwelling": f"{community}-9-9", "community": community}
        if backdated:
            on = (model.registered_on if model else self.today) - timedelta(days=1)
            command = self.desk.command("migrant.move", on.isoformat(), **move)
            self.send(command, REFUSED)
            return
        model = self.registered(worker_id)
        self.attempt(bool(model), "migrant.move", **move)
        if model:
            model.community = community
            model.moves += 1

    @rule(
        worker_id=WORKER_IDS,
        # Half the time the expected next step, so that runs reach endorsements.
        action=st.just("next") | st.sampled_from(["apply", "issue", "endorse", "suspend"]),
        timing=st.sampled_from(["now", "window", "late"]),
    )
    def permit(self, worker_id: str, action: str, timing: str) -> None:
        """A permit command: ``next`` is the one the model expects to land, to go deep.

        ``timing`` may move the clock forward first, to the day a rule turns or past it.
        """
        model = self.registered(worker_id)
        if action == "next":
            action = _NEXT_PERMIT_ACTION[model.permit if model else PermitStatus.NONE]
        getattr(self, f"_{action}_permit")(worker_id, model, timing)

    def _apply_permit(self, worker_id: str, model: Model | None, timing: str) -> None:
        if model and timing != "now":
            eligible = add_months(model.residence_since, 6)
            self.jump_to(eligible if timing == "window" else eligible + timedelta(days=30))
        ok = bool(
            model
            and model.permit is PermitStatus.NONE
            and self.today >= add_months(model.residence_since, 6)
        )
        self.attempt(ok, "migrant.apply_permit", worker_id=worker_id, basis="employment")
        if ok and model:
            model.permit, model.permit_changed_on = PermitStatus.APPLIED, self.today

    def _issue_permit(self, worker_id: str, model: Model | None, timing: str) -> None:
        if timing == "late":
            self.tick(timedelta(days=20))
        ok = bool(model and model.permit is PermitStatus.APPLIED)
        self.attempt(ok, "migrant.issue_permit", worker_id=worker_id)
        if ok and model:
            model.permit, model.permit_changed_on = PermitStatus.ISSUED, self.today
            model.endorsement_due_on = add_months(self.today, 12)

    def _endorse_permit(self, worker_id: str, model: Model | None, timing: str) -> None:
        due = model.endorsement_due_on if model else None
        if due is not None and timing != "now":
            self.jump_to(due - timedelta(days=10) if timing == "window" else due + timedelta(20))
        ok = bool(
            model
            and due
            and model.permit in (PermitStatus.ISSUED, PermitStatus.SUSPENDED)
            and self.today >= add_months(due, -1)
        )
        self.attempt(ok, "migrant.endorse_permit", worker_id=worker_id)
        if ok and model and due:
            late = self.today > due
            model.permit, model.permit_changed_on = PermitStatus.ISSUED, self.today
            model.endorsements += 1
            model.endorsement_due_on = add_months(self.today if late else due, 12)
            if late:
                model.residence_since = self.today

    def _suspend_permit(self, worker_id: str, model: Model | None, timing: str) -> None:
        due = model.endorsement_due_on if model else None
        if due is not None and timing != "now":
            self.jump_to(due if timing == "window" else due + timedelta(days=1))
        ok = bool(model and due and model.permit is PermitStatus.ISSUED and self.today > due)
        self.attempt(ok, "migrant.suspend_permit", worker_id=worker_id)
        if ok and model:
            model.permit, model.permit_changed_on = PermitStatus.SUSPENDED, self.today

    @rule(
        worker_id=WORKER_IDS,
        case_id=st.sampled_from(["k-1", "k-2"]),
        link=st.sampled_from(
            [{"dispute_id": "d-1"}, {"dispute_id": "d-2"}, {"legal_aid": "L"}, {}]
        ),
    )
    def open_rights_case(self, worker_id: str, case_id: str, link: dict[str, str]) -> None:
        model = self.models.get(worker_id)
        dispute = link.get("dispute_id")
        ok = bool(
            model
            and model.status is not WorkerStatus.ERASED
            and len(link) == 1
            and dispute != "d-2"
            and case_id not in model.cases
            and (dispute is None or dispute not in model.cases.values())
        )
        case = {"worker_id": worker_id, "case_id": case_id, "kind": "labour", **link}
        self.attempt(ok, "migrant.open_rights_case", **case)
        if ok and model:
            model.cases[case_id] = dispute

    @rule(
        worker_id=WORKER_IDS,
        offer_id=st.sampled_from(["s-1", "s-2"]),
        deliver=st.booleans(),
        long_residence=st.booleans(),
        jump=st.booleans(),
    )
    def service(
        self, worker_id: str, offer_id: str, deliver: bool, long_residence: bool, jump: bool
    ) -> None:
        """Offer a service, or deliver one: after its offer, the usual order, or not."""
        model = self.registered(worker_id)
        if deliver:
            ok = bool(model and offer_id in model.offers and not model.offers[offer_id])
            self.attempt(ok, "migrant.deliver_service", worker_id=worker_id, offer_id=offer_id)
            if ok and model:
                model.offers[offer_id] = self.today
            return
        if model and long_residence and jump:
            self.jump_to(add_months(model.residence_since, 36))
        ok = bool(
            model
            and offer_id not in model.offers
            and (not long_residence or self.today >= add_months(model.residence_since, 36))
        )
        offer = {"offer_id": offer_id, "service": "health check", "proactive": True}
        self.attempt(
            ok, "migrant.offer_service", worker_id=worker_id, long_residence=long_residence, **offer
        )
        if ok and model:
            model.offers[offer_id] = None

    @rule(worker_id=WORKER_IDS, erase=st.booleans())
    def end_stay(self, worker_id: str, erase: bool) -> None:
        """Leave, or erase (one rule, so that records end less often than they grow)."""
        model = self.models.get(worker_id)
        if erase:
            ok = bool(model and model.status is not WorkerStatus.ERASED)
            self.attempt(ok, "migrant.erase", worker_id=worker_id)
            if ok and model:
                model.status = WorkerStatus.ERASED
            return
        ok = bool(model and model.status is WorkerStatus.REGISTERED)
        self.attempt(ok, "migrant.leave", worker_id=worker_id)
        if ok and model:
            model.status = WorkerStatus.LEFT

    @invariant()
    def replayed_records_equal_the_model(self) -> None:
        for worker_id, model in self.models.items():
            worker = self.service.get(MigrantWorker, worker_id)
            assert worker.status is model.status
            assert worker.community == model.community
            assert worker.moves == model.moves
            assert worker.arrived_on == model.arrived_on
            assert worker.registered_on == model.registered_on
            late = model.registered_on > model.arrived_on + timedelta(days=3)
            assert worker.registered_late is late
            assert worker.residence_since == model.residence_since
            assert worker.permit is model.permit
            assert worker.permit_changed_on == model.permit_changed_on
            assert worker.endorsement_due_on == model.endorsement_due_on
            assert worker.endorsements == model.endorsements
            assert {c.case_id: c.dispute_id for c in worker.rights_cases} == model.cases
            assert {s.offer_id: s.delivered_on for s in worker.services} == model.offers
            person = self.service.person(worker.person)
            dwelling = self.service.person(worker.dwelling)
            erased = model.status is WorkerStatus.ERASED
            assert person.erased is erased
            assert dwelling.erased is erased
            if not erased:
                assert (person.name, person.id_number) == ("李四", model.id_number)
                assert dwelling.address
                assert dwelling.address.startswith(model.community)

    @invariant()
    def the_id_number_index_equals_the_model(self) -> None:
        holders = self.holders()
        for number in filter(None, ID_NUMBERS):
            digest = id_number_digest(number, self.service.keys)
            if self.service.exists(MigrantIdNumber, digest):
                assert self.service.get(MigrantIdNumber, digest).holder == holders.get(number)
            else:
                assert number not in holders


TestMigrantMachine = MigrantMachine.TestCase
