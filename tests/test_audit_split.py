"""Verification split in two processes gives exactly the sequential outcome.

``parallel_from=1`` forces the split (a forked process chains the second half from the
ledger's value at the split point) on these small stores; ``parallel_from=None`` is the
sequential verifier. Whatever was tampered with, in either half or in the ledger at the
split point, the two must agree finding for finding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safecomm_core.audit import FindingKind, Ledger, Verification, split, verify
from safecomm_core.audit.split import SecondHalf
from tests.auditing import RawEvents, sealed_store, write_disputes

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
RECORDS = 40  # four disputes; sealed at 10 and 40, the split falls at 20
FIRST_SEAL = 10
SPLIT = RECORDS // 2

tampering = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # A PostgreSQL store runs its connection pool's threads, beside which verify does not
    # fork; these threads only wait on a queue, so forking beside them is safe for a test.
    monkeypatch.setattr(SecondHalf, "possible", staticmethod(lambda: True))
    monkeypatch.setattr(split, "HEAD_START", 0)  # split half-way, at SPLIT
    return str(request.param)


@contextlib.contextmanager
def _two_seals(backend: str) -> Iterator[tuple[Any, RawEvents, Any]]:
    """Sealed at position 10 and at 40 (the head)."""
    with sealed_store(backend, disputes=1) as (store, raw, _seal, key):
        write_disputes(store, 3, first=2)
        with Ledger(store) as ledger:
            ledger.seal(key)
        yield store, raw, key


@contextlib.contextmanager
def _second_halves() -> Iterator[list[bool]]:
    """For each split made, whether the second process's result was used."""
    used: list[bool] = []
    start, result = SecondHalf.__init__, SecondHalf.result

    def started(self: SecondHalf, *args: Any) -> None:
        used.append(False)
        start(self, *args)

    def returned(self: SecondHalf) -> Any:
        outcome = result(self)
        used[-1] = outcome is not None
        return outcome

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SecondHalf, "__init__", started)
        patch.setattr(SecondHalf, "result", returned)
        yield used


def _both(store: Any, key: Any) -> tuple[Verification, list[bool]]:
    """The sequential outcome, asserted equal to the split one; whether the split was used."""
    sequential = verify(store, public_key=key.public_key(), parallel_from=None)
    with _second_halves() as used:
        split = verify(store, public_key=key.public_key(), parallel_from=1)
        for batch_size in (3, 1000):  # batches cut anywhere: still the same
            assert (
                verify(store, public_key=key.public_key(), parallel_from=1, batch_size=batch_size)
                == sequential
            )
    assert split == sequential
    return sequential, used


def test_an_intact_store_verifies_the_same_split(sql_backend: str) -> None:
    with _two_seals(sql_backend) as (store, _raw, key):
        write_disputes(store, 1, first=5)  # an unsealed tail
        result, used = _both(store, key)
        assert result.intact, result.summary()
        assert result.records == RECORDS + 10
        assert len(used) == 3
        assert all(used)


@tampering
@given(where=st.integers(min_value=1, max_value=RECORDS - 1), how=st.sampled_from("usd"))
@example(where=5, how="u")  # before the first seal
@example(where=15, how="d")  # after it, before the split point
@example(where=SPLIT, how="s")  # at the split point, swapped with the next
@example(where=30, how="u")  # in the second half
def test_a_record_changed_in_either_half_is_found_the_same(
    sql_backend: str, where: int, how: str
) -> None:
    with _two_seals(sql_backend) as (store, raw, key):
        if how == "u":
            raw.set_state(where, raw.row(where)[4] + b" ")
        elif how == "s":
            raw.swap(where, where + 1)
        else:
            raw.delete(where)
        result, used = _both(store, key)
        assert not result.intact
        assert result.first is not None
        assert result.first.position == where
        # A change between the last seal before the split point and the split point keeps
        # this process's chain from the ledger's value there: the second half is thrown
        # away. Before that seal, the chain goes on from the seal's value, which holds.
        discarded = FIRST_SEAL < where <= SPLIT
        assert used == [not discarded] * 3


@pytest.mark.parametrize("value", [b"\x00" * 32, "text"])
def test_a_ledger_altered_at_the_split_point_changes_nothing(
    sql_backend: str, value: object
) -> None:
    with _two_seals(sql_backend) as (store, raw, key):
        ledger = "ledger" if raw.kind == "sqlite" else f"{store.config.name}_ledger"
        if raw.kind == "sqlite":
            raw._run("DROP TRIGGER ledger_no_update")
        else:
            raw._run(f"DROP TRIGGER {ledger}_append_only ON {ledger}")
            if isinstance(value, str):
                value = value.encode()
        raw._run(f"UPDATE {ledger} SET chain = ? WHERE position = ?", (value, SPLIT))
        result, used = _both(store, key)
        assert not any(used)  # split and thrown away, or (a chain of text) not split
        assert result.records == RECORDS
        assert [f.kind for f in result.findings] in ([], [FindingKind.LEDGER])


def test_a_memory_store_is_verified_in_one_process() -> None:
    with sealed_store("memory") as (store, _raw, _seal, key):
        result, used = _both(store, key)
        assert result.intact
        assert not used


def test_without_a_second_process_the_verifier_chains_alone(
    sql_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No process to be had, or one that fails: the same outcome, chained here."""

    def refused(self: SecondHalf, *args: Any) -> None:
        raise OSError("fork: resource temporarily unavailable")

    start = SecondHalf.__init__

    def failing(self: SecondHalf, opener: Any, *args: Any) -> None:
        def broken() -> Any:
            raise RuntimeError("the second process cannot read the store")

        start(self, broken, *args)

    with _two_seals(sql_backend) as (store, raw, key):
        raw.set_topic(30, "x")  # a finding in the second half
        expected = verify(store, public_key=key.public_key(), parallel_from=None)
        for replacement in (refused, failing):
            with monkeypatch.context() as patch:
                patch.setattr(SecondHalf, "__init__", replacement)
                assert verify(store, public_key=key.public_key(), parallel_from=1) == expected
        assert expected.first is not None
        assert expected.first.position == 30
