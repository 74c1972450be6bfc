"""Verification with a helper process gives exactly the sequential outcome.

``parallel_from=1`` forces a helper (a forked process chaining pieces from the back, each
from the ledger's value at its start) on these small stores: 40 rows, two pieces cut at
position 16 (the verifier's first piece is two fifths). ``parallel_from=None`` is the
sequential verifier. Whatever was tampered with, in either piece or in the ledger where
they meet, the two must agree finding for finding.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safecomm_core.audit import FindingKind, Ledger, Verification, verify
from safecomm_core.audit.split import Helper
from safecomm_core.audit.storage import open_backend
from tests.auditing import RawEvents, sealed_store, write_disputes

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ROWS = 40  # four disputes; sealed at 10 and 40, the pieces meet at 16
FIRST_SEAL = 10
SPLIT = ROWS * 2 // 5

tampering = settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # A PostgreSQL store runs its connection pool's threads, beside which verify does not
    # fork; these threads only wait on a queue, so forking beside them is safe for a test.
    monkeypatch.setattr(Helper, "possible", staticmethod(lambda: True))
    monkeypatch.setattr(Helper, "take", _patient)
    monkeypatch.setattr(Helper, "_take_back", _not_the_first)
    return str(request.param)


_take, _take_back = Helper.take, Helper._take_back


def _patient(self: Helper) -> int | None:
    """Take a piece once the helper has taken its first: on stores this small the verifier
    would otherwise chain every piece before the helper starts, and each test means to
    have one piece chained by each process."""
    deadline = time.monotonic() + 30
    while self._ends[1] == len(self._bounds) - 1 and time.monotonic() < deadline:
        if not self._process.is_alive():  # a helper that failed takes nothing
            break
        time.sleep(0.001)
    return _take(self)


def _not_the_first(self: Helper) -> int | None:
    """The helper's next piece from the back, never the first one, which is left to the
    verifier: a helper quick enough to take both would otherwise chain every row while
    the verifier waits, and the tests could not tell which process chained what."""
    if self._ends[1] <= 1:  # only the helper moves this end: no lock needed to read it
        return None
    return _take_back(self)


@contextlib.contextmanager
def _two_seals(backend: str) -> Iterator[tuple[Any, RawEvents, Any]]:
    """Sealed at position 10 and at 40 (the head)."""
    with sealed_store(backend, disputes=1) as (service, raw, _seal, key):
        write_disputes(service, 3, first=2)
        with Ledger(service) as ledger:
            ledger.seal(key)
        yield service, raw, key


@contextlib.contextmanager
def _helpers() -> Iterator[list[bool]]:
    """For each helper started, whether the chain it computed was taken up."""
    used: list[bool] = []
    start, result = Helper.__init__, Helper.result
    verifier = importlib.import_module("safecomm_core.audit.verify")._Verifier
    alone = verifier._alone

    def chained_alone(self: Any, start: bytes, after: int, *args: Any) -> Any:
        if used and after:  # thrown away: chaining on alone from where the pieces met
            used[-1] = False
        return alone(self, start, after, *args)

    def started(self: Helper, *args: Any) -> None:
        used.append(False)
        start(self, *args)

    def returned(self: Helper) -> Any:
        outcome = result(self)
        used[-1] = bool(outcome)
        return outcome

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Helper, "__init__", started)
        patch.setattr(Helper, "result", returned)
        patch.setattr(verifier, "_alone", chained_alone)
        yield used


def _both(service: Any, key: Any) -> tuple[Verification, list[bool]]:
    """The sequential outcome, asserted equal to the helped ones; whether helpers chained."""
    sequential = verify(service, public_key=key.public_key(), parallel_from=None)
    with _helpers() as used:
        split = verify(service, public_key=key.public_key(), parallel_from=1)
        for batch_size in (3, 1000):  # batches cut anywhere: still the same
            assert (
                verify(service, public_key=key.public_key(), parallel_from=1, batch_size=batch_size)
                == sequential
            )
    assert split == sequential
    return sequential, used


def test_an_intact_store_verifies_the_same_with_a_helper(sql_backend: str) -> None:
    with _two_seals(sql_backend) as (service, _raw, key):
        write_disputes(service, 1, first=5)  # an unsealed tail
        result, used = _both(service, key)
        assert result.intact, result.summary()
        assert result.records == ROWS + 10
        assert len(used) == 3
        assert all(used)


@tampering
@given(where=st.integers(min_value=1, max_value=ROWS - 1), how=st.sampled_from("usd"))
@example(where=5, how="u")  # before the first seal
@example(where=FIRST_SEAL, how="s")  # at the first seal, swapped with the row after it
@example(where=15, how="d")  # after it, before the pieces meet
@example(where=SPLIT, how="s")  # where they meet, swapped with the next
@example(where=30, how="u")  # in the helper's piece
def test_a_record_changed_in_either_half_is_found_the_same(
    sql_backend: str, where: int, how: str
) -> None:
    with _two_seals(sql_backend) as (service, raw, key):
        if how == "u":
            raw.set_state(where, raw.row(where)[4] + b" ")
        elif how == "s":
            raw.swap(where, where + 1)
        else:
            raw.delete(where)
        result, used = _both(service, key)
        assert not result.intact
        assert result.first is not None
        assert result.first.position == where
        # A change between the last seal before the pieces meet and where they meet keeps
        # this process's chain from the ledger's value there: the helper's piece is thrown
        # away. Before that seal, the chain goes on from the seal's value, which holds. A
        # swap changes two rows, the one at ``where`` and the one after it: swapped at
        # the seal, the second is past it.
        changed = (where, where + 1) if how == "s" else (where,)
        discarded = any(FIRST_SEAL < position <= SPLIT for position in changed)
        assert used == [not discarded] * 3


@pytest.mark.parametrize("value", [b"\x00" * 32, "text"])
def test_a_ledger_altered_where_the_pieces_meet_changes_nothing(
    sql_backend: str, value: object
) -> None:
    with _two_seals(sql_backend) as (service, raw, key):
        ledger = "ledger" if raw.kind == "sqlite" else f"{service.config.name}_ledger"
        if raw.kind == "sqlite":
            raw._run("DROP TRIGGER ledger_no_update")
        else:
            raw._run(f"DROP TRIGGER {ledger}_append_only ON {ledger}")
            if isinstance(value, str):
                value = value.encode()
        raw._run(f"UPDATE {ledger} SET chain = ? WHERE position = ?", (value, SPLIT))
        result, used = _both(service, key)
        assert not any(used)  # thrown away, or (a chain of text) no helper at all
        assert result.records == ROWS
        assert [f.kind for f in result.findings] in ([], [FindingKind.LEDGER])


def test_a_memory_store_is_verified_in_one_process() -> None:
    with sealed_store("memory") as (service, _raw, _seal, key):
        result, used = _both(service, key)
        assert result.intact
        assert not used


def test_without_a_second_process_the_verifier_chains_alone(
    sql_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No helper to be had, or one that fails: the same outcome, chained here."""

    def refused(self: Helper, *args: Any) -> None:
        raise OSError("fork: resource temporarily unavailable")

    start = Helper.__init__

    def failing(self: Helper, opener: Any, *args: Any) -> None:
        def broken() -> Any:
            raise RuntimeError("the second process cannot read the store")

        start(self, broken, *args)

    with _two_seals(sql_backend) as (service, raw, key):
        raw.set_topic(30, "x")  # a finding in the second half
        expected = verify(service, public_key=key.public_key(), parallel_from=None)
        for replacement in (refused, failing):
            with monkeypatch.context() as patch:
                patch.setattr(Helper, "__init__", replacement)
                assert verify(service, public_key=key.public_key(), parallel_from=1) == expected
        assert expected.first is not None
        assert expected.first.position == 30


@pytest.mark.parametrize(
    "backend", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_rows_are_the_scan_one_by_one(backend: str) -> None:
    with sealed_store(backend, disputes=1) as (service, _raw, _seal, _key):
        audit = open_backend(service)
        try:
            for after, upto in ((0, None), (3, 7), (7, 7), (9, 100)):
                scanned = [r for batch in audit.scan(after, upto, 4) for r in batch]
                assert list(audit.rows(after, upto, 4)) == scanned
            assert len(list(audit.rows(0, None, 4))) == 10
        finally:
            audit.close()
