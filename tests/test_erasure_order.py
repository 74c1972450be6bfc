"""Erasure and the key store: nothing before every rule passed, nothing half-done after.

- A refused command leaves nothing in the key store: keys and ID-number tokens a command
  makes are kept only once every rule has passed.
- An erasure marks the person erased first (they read as erased from then on), then stores
  its events, then destroys the key. A failure at any step leaves either nothing done or
  a state that sending the same command again completes.
"""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import RuleViolation, Safecomm, StoreError
from safecomm_core.domain.migrant import MigrantWorker, WorkerStatus
from tests.test_migrant import Desk


def key_rows(service: Safecomm) -> int:
    keys: Any = service.keys
    tables = ("wrapped_keys", "id_index", "id_holders")
    return sum(keys._one(f"SELECT count(*) FROM {keys._t[t]}")[0] for t in tables)


def stored_key(service: Safecomm, ref: str) -> Any:
    keys: Any = service.keys
    return keys._one(f"SELECT key_id FROM {keys._t['wrapped_keys']} WHERE ref = %s", (ref,))


@pytest.fixture
def desk(memory_service: Safecomm) -> Desk:
    return Desk(memory_service)


def test_a_refused_command_makes_no_key(desk: Desk) -> None:
    desk.send("network.open", "2014-03-01", network_id="net", name="N")
    before = key_rows(desk.service)
    for n in range(20):  # a contact for a unit that is not a member: refused, after sealing
        desk.refuse(
            RuleViolation,
            "network.set_contact",
            "2014-03-02",
            network_id="net",
            unit_id=f"u-{n}",
            contact_channel="sms",
            contact="13800001234",
        )
    assert key_rows(desk.service) == before
    # Refused registrations: the arrival is after the registration (a rule of the record).
    desk.refuse(
        RuleViolation,
        "migrant.register",
        "2014-03-01",
        **desk.registration(arrived_on="2014-03-04", id_number="110101199001011234"),
    )
    assert key_rows(desk.service) == before
    desk.register(id_number="110101199001011234")
    assert key_rows(desk.service) == before + 3  # the key, the ID number's token, its holder


def test_a_command_that_lands_keeps_the_key_it_sealed_with(desk: Desk) -> None:
    desk.register()
    worker = desk.worker()
    assert desk.service.person(worker.person).name == "李四"
    assert stored_key(desk.service, "p-m-1")[0] == worker.person.key_id


def test_a_key_destruction_that_fails_is_completed_by_sending_the_command_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.register()
    erase = desk.command("migrant.erase", "2014-04-01", worker_id="m-1")
    keys: Any = desk.service.keys
    real = keys.destroy

    def busy(ref: str) -> bool:
        raise OSError("database is locked")

    monkeypatch.setattr(keys, "destroy", busy)
    with pytest.raises(StoreError, match=r"send command .* again"):
        desk.service.handle(erase)
    # The erasure is recorded and the person reads as erased, though the key is still there.
    assert desk.worker().status is WorkerStatus.ERASED
    assert desk.service.person(desk.worker().person).erased
    assert stored_key(desk.service, "p-m-1") is not None
    monkeypatch.setattr(keys, "destroy", real)
    assert desk.service.handle(erase).duplicate
    assert stored_key(desk.service, "p-m-1") is None


def test_an_erasure_whose_events_cannot_be_stored_is_completed_by_sending_it_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.register()
    erase = desk.command("migrant.erase", "2014-04-01", worker_id="m-1")
    log: Any = desk.service.log
    real = log.save

    def unavailable(*records: Any, **_: Any) -> None:
        raise StoreError("the store refused the write: disk full")

    monkeypatch.setattr(log, "save", unavailable)
    with pytest.raises(StoreError, match="disk full"):
        desk.service.handle(erase)
    # Nothing is stored, but the person already reads as erased: no window in which a
    # reader opens someone whose erasure was asked for.
    assert desk.worker().status is WorkerStatus.REGISTERED
    assert desk.service.person(desk.worker().person).erased
    monkeypatch.setattr(log, "save", real)
    assert not desk.service.handle(erase).duplicate
    assert desk.service.get(MigrantWorker, "m-1").status is WorkerStatus.ERASED
    assert stored_key(desk.service, "p-m-1") is None


def test_sealing_races_keep_one_key(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process keeps a key for the same person between this command's decision and
    # its save: the command is decided again and seals with the key that was kept.
    keys: Any = desk.service.keys
    real = keys.keep_person_key
    raced: list[str] = []

    def another_writer_first(ref: str, key_id: str, key: bytes) -> bool:
        if not raced:
            raced.append(ref)
            real(ref, *keys.new_person_key(ref))
        return bool(real(ref, key_id, key))

    monkeypatch.setattr(keys, "keep_person_key", another_writer_first)
    desk.register()
    assert raced == ["p-m-1"]
    worker = desk.worker()
    assert stored_key(desk.service, "p-m-1")[0] == worker.person.key_id
    assert desk.service.person(worker.person).name == "李四"
