"""The ledger, seals and verification on every backend; the canonical encoding exactly."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

import safecomm_core.audit as audit
from safecomm_core import Safecomm
from safecomm_core.audit import (
    GENESIS,
    FindingKind,
    Ledger,
    LedgerEntry,
    LedgerHead,
    Seal,
    TamperDetected,
    canonical,
    chain,
    chain_rows,
    sign_seal,
    state_digest,
    verify,
)
from safecomm_core.audit.canonical import entry_row, entry_rows, raw_canonical
from safecomm_core.personal import ERASED
from tests.auditing import RawEvents, write_disputes

# -- the definition -------------------------------------------------------------------------


def _by_the_book(position: int, oid: str, version: int, topic: str, state: bytes) -> bytes:
    """canonical(record) written out from the table in canonical.py's docstring."""
    o, t = oid.encode(), topic.encode()
    return (
        position.to_bytes(8, "big", signed=True)
        + len(o).to_bytes(4, "big")
        + o
        + version.to_bytes(8, "big", signed=True)
        + len(t).to_bytes(4, "big")
        + t
        + hashlib.sha256(state).digest()
    )


records = st.tuples(
    st.integers(1, 2**62),
    st.text(max_size=40),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=60),
    st.binary(max_size=300),
)


@given(records)
def test_canonical_is_the_documented_layout(record: tuple[int, str, int, str, bytes]) -> None:
    position, oid, version, topic, state = record
    assert canonical(position, oid, version, topic, state_digest(state)) == _by_the_book(*record)
    assert raw_canonical(record) == _by_the_book(*record)


@given(records, records)
def test_different_records_encode_differently(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    if a != b:
        assert raw_canonical(a) != raw_canonical(b)


@given(
    st.tuples(
        st.integers(1, 2**62),
        st.one_of(st.binary(), st.none(), st.integers()),
        st.one_of(st.text(), st.floats(), st.none()),
        st.one_of(st.binary(), st.none()),
        st.one_of(st.text(), st.none()),
    )
)
def test_malformed_records_never_encode_like_well_formed_ones(record: tuple) -> None:  # type: ignore[type-arg]
    encoded = raw_canonical(record)
    assert encoded[:1] == b"\xff"
    with pytest.raises(audit.MalformedRow):
        LedgerEntry.of(record, GENESIS)


anything = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(max_size=40), st.text(max_size=40)
)
stored_rows = st.lists(
    st.tuples(
        st.integers(1, 2**62),
        st.one_of(
            st.text(min_size=32, max_size=32),  # 32 characters, ASCII or not
            st.uuids().map(lambda u: u.hex),
            anything,
        ),
        st.one_of(st.integers(-(2**63), 2**63 - 1), anything),
        st.one_of(st.sampled_from(["safecomm/Dispute/Reported", "t"]), anything),
        st.one_of(st.binary(max_size=100), anything),
    ),
    max_size=8,
)


@given(stored_rows, st.one_of(st.just(GENESIS), st.binary(min_size=32, max_size=32), st.binary()))
def test_the_fast_chain_is_the_definition(
    rows: list[tuple],  # type: ignore[type-arg]
    previous: bytes,
) -> None:
    expected = previous
    for row in rows:
        expected = chain(expected, raw_canonical(row))
    assert chain_rows(previous, rows) == expected


@given(stored_rows, st.one_of(st.just(GENESIS), st.binary(min_size=32, max_size=32), st.binary()))
def test_the_ledgers_entries_are_the_definition(
    rows: list[tuple],  # type: ignore[type-arg]
    previous: bytes,
) -> None:
    # entry_rows (the catch-up's loop) against entry_row row by row: the same entries, or
    # MalformedRow at the same row.
    expected: list[tuple] = []  # type: ignore[type-arg]
    h = previous
    try:
        for row in rows:
            expected.append(entry_row(row, h))
            h = expected[-1][5]
    except audit.MalformedRow:
        with pytest.raises(audit.MalformedRow, match=f"position {row[0]} "):
            entry_rows(previous, rows)
        return
    assert entry_rows(previous, rows) == expected


def test_genesis_and_chain_are_sha256() -> None:
    assert hashlib.sha256(b"safecomm audit ledger v1").digest() == GENESIS
    assert chain(GENESIS, b"x") == hashlib.sha256(GENESIS + b"x").digest()


# -- seals ----------------------------------------------------------------------------------


def test_a_seal_round_trips_and_its_message_is_stable() -> None:
    key = Ed25519PrivateKey.generate()
    seal = sign_seal(
        key,
        store="s",
        position=7,
        chain_hash=b"\x01" * 32,
        sealed_at=datetime(2014, 8, 31, tzinfo=UTC),
    )
    assert Seal.from_json(seal.to_json()) == seal
    assert seal.message() == (
        b'safecomm audit seal v1\n{"hash":"'
        + b"01" * 32
        + b'","key_id":"'
        + seal.key_id.encode()
        + b'","position":7,"sealed_at":"2014-08-31T00:00:00+00:00","store":"s"}'
    )
    assert seal.signed_by(key.public_key())
    assert not seal.signed_by(Ed25519PrivateKey.generate().public_key())
    for change in ({"position": 8}, {"hash": "02" * 32}, {"store": "t"}, {"sealed_at": "x"}):
        forged = Seal.from_dict({**seal.to_dict(), **change})
        assert not forged.signed_by(key.public_key())


@pytest.mark.parametrize("line", ["", "{}", '{"position": "7"}', "[1]"])
def test_not_a_seal_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="seal"):
        Seal.from_json(line)


# -- the ledger and verification on every backend ------------------------------------------


def _recomputed(service: Safecomm) -> list[LedgerEntry]:
    """The ledger as the definition says it should be, straight from the notifications."""
    entries, previous = [], GENESIS
    for n in service.log.read(0, 10_000):
        record = (n.id, n.originator_id.hex, n.originator_version, n.topic, n.state)
        entries.append(LedgerEntry.of(record, previous))
        previous = entries[-1].chain
    return entries


def test_the_ledger_catches_up_in_batches_and_resumes(service: Safecomm) -> None:
    write_disputes(service, 1)
    with Ledger(service, batch_size=3) as ledger:
        assert ledger.head().position == 0
        assert ledger.catch_up(limit=4).position == 4
        write_disputes(service, 1, first=2)
        head = ledger.catch_up()
        assert list(ledger.entries()) == _recomputed(service)
        assert head.position == 20
        assert head.hash == _recomputed(service)[-1].chain
        assert ledger.catch_up() == head  # nothing new: nothing changes


def test_seal_then_verify_on_every_backend(service: Safecomm) -> None:
    write_disputes(service, 1)
    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        seal = ledger.seal(key)
        assert ledger.seals() == [seal]
    assert seal.position == 10
    assert seal.store == service.config.name
    assert seal.hash == _recomputed(service)[-1].chain.hex()
    result = verify(service, public_key=key.public_key()).check()
    assert (result.records, result.seals, result.seals_holding) == (10, 1, 1)
    assert result.head == seal.hash
    assert result.key_checked


def test_an_empty_store_can_be_sealed_and_verified(service: Safecomm) -> None:
    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        seal = ledger.seal(key)
    assert (seal.position, seal.hash) == (0, GENESIS.hex())
    assert verify(service, public_key=key.public_key()).intact


def test_a_wrong_public_key_fails_verification(service: Safecomm) -> None:
    write_disputes(service, 1)
    with Ledger(service) as ledger:
        ledger.seal(Ed25519PrivateKey.generate())
    result = verify(service, public_key=Ed25519PrivateKey.generate().public_key())
    assert not result.intact
    assert [f.kind for f in result.findings] == [FindingKind.BAD_SEAL]
    assert "public key given" in result.findings[0].message
    assert result.seals_holding == 0
    with pytest.raises(TamperDetected, match="public key given"):
        result.check()


def test_a_seal_for_another_store_fails(service: Safecomm) -> None:
    with Ledger(service) as ledger:
        head = ledger.catch_up()
    key = Ed25519PrivateKey.generate()
    other = sign_seal(key, store="elsewhere", position=head.position, chain_hash=head.hash)
    result = verify(service, public_key=key.public_key(), published=[other])
    assert [f.kind for f in result.findings] == [FindingKind.BAD_SEAL]
    assert "elsewhere" in result.findings[0].message


def test_an_erased_person_still_verifies(service: Safecomm) -> None:
    """Crypto-shredding destroys a key outside the store; no stored event changes."""
    from safecomm_core.domain.dispute import Dispute

    write_disputes(service, 2)
    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        ledger.seal(key)
    assert service.keys.destroy("p-1001-1")
    party = service.get(Dispute, "d-2014-0001").parties[0].person
    assert service.person(party).name == ERASED
    result = verify(service, public_key=key.public_key())
    assert result.intact, result.summary()
    with Ledger(service) as ledger:
        ledger.seal(key)  # and sealing goes on
    assert verify(service, public_key=key.public_key()).intact


def test_seals_are_checked_against_their_own_key_when_none_is_given(service: Safecomm) -> None:
    write_disputes(service, 1)
    with Ledger(service) as ledger:
        ledger.seal(Ed25519PrivateKey.generate())
    result = verify(service)
    assert result.intact
    assert not result.key_checked
    assert "checked only with the keys the seals carry" in "\n".join(result.summary())


def test_verify_writes_nothing(service: Safecomm) -> None:
    write_disputes(service, 1)
    assert verify(service).intact
    with Ledger(service) as ledger:
        assert ledger.head().position == 0
        assert ledger.seals() == []


# -- the seals and ledger tables ------------------------------------------------------------


SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_seals_and_ledger_are_append_only(service: Safecomm) -> None:
    write_disputes(service, 1)
    with Ledger(service) as ledger:
        ledger.seal(Ed25519PrivateKey.generate())
    raw = RawEvents(service)
    prefix = "" if raw.kind == "sqlite" else f"{service.config.name}_"
    try:
        for statement in (
            f"DELETE FROM {prefix}seals",
            f"UPDATE {prefix}seals SET position = 1",
            f"DELETE FROM {prefix}ledger WHERE position > 5",
            f"UPDATE {prefix}ledger SET topic = 'x'",
        ):
            with pytest.raises(Exception, match="append-only"):
                raw._run(statement)
    finally:
        raw.close()


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_published_seals_catch_what_deleted_stored_seals_would_hide(service: Safecomm) -> None:
    """Records truncated, the seals table and the ledger emptied: only a published seal knows."""
    write_disputes(service, 1)
    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        published = ledger.seal(key)
    raw = RawEvents(service)
    prefix = "" if raw.kind == "sqlite" else f"{service.config.name}_"
    try:
        for table in ("seals", "ledger"):
            if raw.kind == "sqlite":
                raw._run(f"DROP TRIGGER {table}_no_delete")
            else:
                raw._run(f"DROP TRIGGER {prefix}{table}_append_only ON {prefix}{table}")
            raw._run(f"DELETE FROM {prefix}{table}")
        raw.delete_after(6)
    finally:
        raw.close()
    # Nothing left in the store to compare with; but no seal by the key vouches for it.
    wiped = verify(service, public_key=key.public_key())
    assert not wiped.intact
    assert "no seal made with the public key given holds" in str(wiped.first)
    result = verify(service, public_key=key.public_key(), published=[published])
    assert not result.intact
    assert result.first is not None
    assert result.first.kind is FindingKind.ALTERED
    assert result.first.sealed


def test_sealing_refuses_a_ledger_altered_since_the_last_seal() -> None:
    from safecomm_core import open_store

    with open_store("memory://") as service:
        write_disputes(service, 1)
        key = Ed25519PrivateKey.generate()
        with Ledger(service) as ledger:
            ledger.seal(key)
            write_disputes(service, 1, first=2)
            ledger.catch_up()
            entries = ledger.backend._entries  # type: ignore[attr-defined]
            entries[12] = attrs.evolve(entries[12], topic="x")
            with pytest.raises(TamperDetected, match="position 13"):
                ledger.seal(key)


def test_a_signed_seal_that_contradicts_a_holding_one_is_named(service: Safecomm) -> None:
    """Two signed seals at one position, for different values: the records decide."""
    write_disputes(service, 1)
    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        good = ledger.seal(key)
    odd = sign_seal(key, store=good.store, position=good.position, chain_hash=b"\x07" * 32)
    result = verify(service, public_key=key.public_key(), published=[odd])
    assert [f.kind for f in result.findings] == [FindingKind.BAD_SEAL]
    assert "contradicts another seal" in result.findings[0].message
    assert result.seals_holding == 1


def test_two_followers_at_once_chain_each_row_once(service_factory) -> None:  # type: ignore[no-untyped-def]
    import threading

    service = service_factory()
    write_disputes(service, 3)
    heads = []

    def follow() -> None:
        with Ledger(service_factory(), batch_size=4) as ledger:
            heads.append(ledger.catch_up())

    threads = [threading.Thread(target=follow) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Ledger(service) as ledger:
        assert list(ledger.entries()) == _recomputed(service)
    assert heads[0] == heads[1] == LedgerHead(30, _recomputed(service)[-1].chain)


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_catching_up_goes_past_gaps_in_the_ids(service: Safecomm) -> None:
    """Ids missing before the ledger saw them (PostgreSQL's rolled-back ids, say) are gaps,
    not the end: small batches go on past them."""
    write_disputes(service, 1)
    raw = RawEvents(service)
    try:
        for position in (3, 4, 5, 8):
            raw.delete(position)
    finally:
        raw.close()
    key = Ed25519PrivateKey.generate()
    with Ledger(service, batch_size=1) as ledger:
        assert ledger.catch_up().position == 10
        assert [e.position for e in ledger.entries()] == [1, 2, 6, 7, 9, 10]
        ledger.seal(key)
    assert verify(service, public_key=key.public_key(), batch_size=2).intact
