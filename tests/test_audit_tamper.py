"""Tampering by raw SQL, on SQLite and PostgreSQL: each kind is detected and the right row
named. Hypothesis picks the position; every example gets its own freshly sealed store."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecomm_core.audit import FindingKind, Ledger, Verification, verify
from tests.auditing import RawEvents, sealed_store, write_disputes

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ROWS = 20  # two disputes through the sample workflow: ten rows each

# Each example builds, seals and tampers with a store of its own: few examples.
tampering = settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])

position = st.integers(min_value=1, max_value=ROWS)


def _dashed(oid: str) -> str:
    return str(UUID(hex=oid))


def _first(result: Verification) -> tuple[FindingKind, int | None, str | None, object]:
    assert not result.intact
    first = result.first
    assert first is not None
    return first.kind, first.position, first.aggregate_id, first.version


def _named(raw: RawEvents, position: int) -> tuple[int, str, int]:
    row = raw.row(position)
    return row[0], _dashed(row[1]), row[2]


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_untouched_store_verifies_and_counts_the_unsealed_tail(sql_backend: str) -> None:
    with sealed_store(sql_backend) as (service, raw, seal, key):
        assert seal.position == ROWS
        write_disputes(service, 1, first=9)  # written after the seal
        result = verify(service, public_key=key.public_key())
        assert result.intact, result.summary()
        assert result.records == ROWS + 10
        assert result.sealed_position == ROWS
        assert result.unsealed == 10
        assert raw.positions()[-1] == result.last_position


@tampering
@given(where=position, byte=st.integers(min_value=0, max_value=10_000), bit=st.integers(0, 7))
def test_one_changed_byte_of_a_state_is_named(
    sql_backend: str, where: int, byte: int, bit: int
) -> None:
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, where)
        state = bytearray(raw.row(where)[4])
        state[byte % len(state)] ^= 1 << bit
        raw.set_state(where, bytes(state))
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.UPDATED, *expected)
        assert result.first is not None
        assert result.first.sealed
        assert "state" in result.first.message


@tampering
@given(where=position)
def test_a_changed_topic_is_named(sql_backend: str, where: int) -> None:
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, where)
        raw.set_topic(where, "safecomm/Dispute/Forged")
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.UPDATED, *expected)
        assert result.first is not None
        assert "topic" in result.first.message


@tampering
@given(where=st.integers(min_value=1, max_value=ROWS - 1))
def test_a_deleted_record_is_named(sql_backend: str, where: int) -> None:
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, where)
        raw.delete(where)
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.DELETED, *expected)
        assert result.records == ROWS - 1


@tampering
@given(where=st.integers(min_value=1, max_value=ROWS - 1))
def test_a_truncated_tail_is_named(sql_backend: str, where: int) -> None:
    """Every row after ``where`` removed, though the seal covered them."""
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, where + 1)
        raw.delete_after(where)
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.TRUNCATED, *expected)
        assert result.last_position == where


def test_deleting_the_last_sealed_record_is_truncation(sql_backend: str) -> None:
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, ROWS)
        raw.delete(ROWS)
        assert _first(verify(service, public_key=key.public_key())) == (
            FindingKind.TRUNCATED,
            *expected,
        )


@tampering
@given(where=position, source=position)
def test_a_forged_record_inserted_is_named(sql_backend: str, where: int, source: int) -> None:
    """A forged next version of some dispute slipped in at ``where``; the rows from there
    on were moved one place to make room."""
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        _pos, oid, _version, topic, state = raw.row(source)
        raw.shift_from(where)
        raw.insert(where, oid, 99, topic, state)
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.INSERTED, where, _dashed(oid), 99)
        assert result.first is not None
        assert result.first.found is not None
        assert result.first.expected is not None  # the row that was pushed on


@tampering
@given(a=position, b=position)
def test_two_swapped_rows_are_named(sql_backend: str, a: int, b: int) -> None:
    if a == b:
        return
    a, b = min(a, b), max(a, b)
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        expected = _named(raw, a)
        moved_in = _named(raw, b)
        raw.swap(a, b)
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.REORDERED, *expected)
        assert result.first is not None
        assert result.first.found is not None
        assert result.first.found.aggregate_id == moved_in[1]
        assert result.first.found.version == moved_in[2]


def test_a_state_stored_as_text_is_a_malformed_update() -> None:
    """Only SQLite lets a column hold another type than declared."""
    with sealed_store("sqlite") as (service, raw, _seal, key):
        expected = _named(raw, 7)
        raw._run("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = 7")
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.UPDATED, *expected)
        assert result.first is not None
        assert "types" in result.first.message


def test_each_sealed_stretch_is_judged_on_its_own(sql_backend: str) -> None:
    """Two seals, a change in each stretch: both are named, the earlier one first."""
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        write_disputes(service, 1, first=9)
        with Ledger(service) as ledger:
            ledger.seal(key)
        early, late = _named(raw, 3), _named(raw, ROWS + 4)
        raw.set_topic(3, "x")
        raw.delete(ROWS + 4)
        result = verify(service, public_key=key.public_key())
        kinds = [(f.kind, f.position) for f in result.findings]
        assert kinds == [(FindingKind.UPDATED, early[0]), (FindingKind.DELETED, late[0])]
        assert result.head is None
        assert result.seals_holding == 0
        for batch_size in (1, 7):  # batches cut anywhere: the same outcome
            assert verify(service, public_key=key.public_key(), batch_size=batch_size) == result


def test_changes_after_the_last_seal_are_named_by_the_ledger(sql_backend: str) -> None:
    """Unsealed but already chained: the ledger names the change, no signature proves it."""
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        write_disputes(service, 1, first=9)
        with Ledger(service) as ledger:
            ledger.catch_up()
        expected = _named(raw, ROWS + 2)
        raw.delete(ROWS + 2)
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.DELETED, *expected)
        assert result.first is not None
        assert not result.first.sealed
        assert result.seals_holding == 1


def test_a_record_and_its_ledger_entry_changed_together_are_still_caught(sql_backend: str) -> None:
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        raw.set_topic(5, "x")
        _drop_ledger_triggers(raw)
        ledger = "ledger" if raw.kind == "sqlite" else f"{service.config.name}_ledger"
        raw._run(f"UPDATE {ledger} SET topic = 'x' WHERE position = 5")
        result = verify(service, public_key=key.public_key())
        assert not result.intact
        first = result.first
        assert first is not None
        assert first.kind is FindingKind.ALTERED
        assert first.sealed
        assert first.position == 5  # the entry's stored chain value no longer follows


def _drop_ledger_triggers(raw: RawEvents) -> None:
    if raw.kind == "sqlite":
        raw._run("DROP TRIGGER ledger_no_update")
    else:
        name = raw.table.removesuffix("_events")
        raw._run(f"DROP TRIGGER {name}_ledger_append_only ON {name}_ledger")


@pytest.mark.postgres
def test_a_rolled_back_gap_is_no_tampering_but_a_record_forged_into_it_is() -> None:
    import psycopg

    with sealed_store("postgres", disputes=1) as (service, raw, _seal, key):
        with psycopg.connect(service.config.conninfo) as db:  # a transaction that rolls back
            db.execute(
                f"INSERT INTO {raw.table} (originator_id, originator_version, topic, state) "
                "VALUES (gen_random_uuid(), 1, 't', 'x')"
            )
            db.rollback()
        write_disputes(service, 1, first=2)
        positions = raw.positions()
        gap = next(p for p in range(1, positions[-1]) if p not in positions)
        with Ledger(service) as ledger:
            ledger.seal(key)
        assert verify(service, public_key=key.public_key()).intact
        oid = raw.row(positions[0])[1]
        raw.insert(gap, oid, 42, "safecomm/Dispute/Archived", b"{}")
        result = verify(service, public_key=key.public_key())
        assert _first(result) == (FindingKind.INSERTED, gap, _dashed(oid), 42)


def test_records_inserted_after_the_seal_are_only_an_unsealed_tail(sql_backend: str) -> None:
    """Appended after the seal and never chained: not provable either way, and said so."""
    with sealed_store(sql_backend) as (service, raw, _seal, key):
        oid = raw.row(1)[1]
        raw.insert(ROWS + 1, oid, 50, "safecomm/Dispute/Archived", b"{}")
        result = verify(service, public_key=key.public_key())
        assert result.intact
        assert result.unsealed == 1
