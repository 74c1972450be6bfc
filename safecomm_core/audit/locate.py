"""Naming the first changed row: the stored events against the ledger's entries.

A seal proves that the rows up to its position hash to its value, but a hash cannot
say which row changed. The ledger can: it keeps every row's identity and state
digest, so walking the rows and the entries side by side finds the first position at
which they part, and looking the two rows up elsewhere tells an update from a deletion,
an insertion or a move. The ledger is itself only trusted where its own chain reaches the
seal's value; where it does not, the finding says the rows were changed but cannot be
named with certainty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import attrs

from safecomm_core.audit.canonical import LedgerEntry, RawRow, chain, raw_canonical
from safecomm_core.audit.findings import Finding, FindingKind, RowRef
from safecomm_core.audit.storage import AuditBackend

__all__ = ["Comparison", "classify", "compare"]


@attrs.frozen
class Comparison:
    """Rows against entries over a stretch of positions."""

    #: The first position where they part, and what each side has there.
    position: int | None
    expected: LedgerEntry | None
    found: RawRow | None
    #: The chain recomputed from the entries' own fields, from the stretch's start.
    ledger_chain: bytes
    #: The first entry whose stored chain value is not the recomputed one.
    ledger_break: int | None
    #: How many rows the stretch holds (those after the cutoff included).
    rows: int


def _flatten(batches: Iterable[list[RawRow]] | Iterable[list[LedgerEntry]]) -> Iterator[object]:
    for batch in batches:
        yield from batch


def compare(
    rows: Iterable[list[RawRow]],
    entries: Iterable[list[LedgerEntry]],
    start: bytes,
    *,
    cutoff: int | None = None,
) -> Comparison:
    """Walk rows and entries in position order from chain value ``start``.

    Rows after ``cutoff`` (the ledger's head, in the unsealed tail) are new, not
    inserted: the follower has not reached them yet.
    """
    rec_iter = _flatten(rows)
    ent_iter = _flatten(entries)
    seen = 0

    def next_record() -> RawRow | None:
        nonlocal seen
        found: RawRow | None = next(rec_iter, None)  # type: ignore[assignment]
        if found is not None and cutoff is not None and found[0] > cutoff:
            seen += 1 + sum(1 for _ in rec_iter)  # new, not compared: only counted
            return None
        seen += found is not None
        return found

    rec = next_record()
    ent: LedgerEntry | None = next(ent_iter, None)  # type: ignore[assignment]
    h = start
    ledger_break: int | None = None
    first: tuple[int, LedgerEntry | None, RawRow | None] | None = None
    while rec is not None or ent is not None:
        rec_pos = rec[0] if rec is not None else None
        ent_pos = ent.position if ent is not None else None
        take_rec = rec_pos is not None and (ent_pos is None or rec_pos <= ent_pos)
        take_ent = ent_pos is not None and (rec_pos is None or ent_pos <= rec_pos)
        encoded = b""
        if take_ent:
            assert ent is not None
            encoded = ent.encoded()
            h = chain(h, encoded)
            if ledger_break is None and ent.chain != h:
                ledger_break = ent.position
        if first is None:
            if take_rec and not take_ent:
                assert rec is not None
                first = (rec[0], None, rec)
            elif take_ent and not take_rec:
                assert ent is not None
                first = (ent.position, ent, None)
            elif rec is not None and ent is not None and raw_canonical(rec) != encoded:
                first = (ent.position, ent, rec)
        # Go on to the end of the stretch even after a difference: whether the ledger can
        # be trusted to name it depends on its chain reaching the seal.
        if take_rec:
            rec = next_record()
        if take_ent:
            ent = next(ent_iter, None)  # type: ignore[assignment]
    if first is None:
        return Comparison(None, None, None, h, ledger_break, seen)
    return Comparison(first[0], first[1], first[2], h, ledger_break, seen)


def classify(
    backend: AuditBackend,
    comparison: Comparison,
    *,
    sealed: bool,
    label: Callable[[str], str | None],
) -> Finding:
    """Say what happened at the comparison's first difference, by the ledger's account.

    Use it where the ledger is trusted (its chain reaches the seal) or where nothing
    better exists (the unsealed tail, ``sealed=False``).
    """
    position = comparison.position
    assert position is not None
    expected = comparison.expected
    found = comparison.found
    exp_ref = (
        RowRef.of(expected.position, expected.originator_id, expected.version, expected.topic)
        if expected
        else None
    )
    found_ref = RowRef.of(*found[:4]) if found else None
    moved_to = _elsewhere(backend.find_row, expected, position)
    came_from = _elsewhere(backend.find_entry, found, position)
    if expected and found and (found[1], found[2]) == (expected.originator_id, expected.version):
        kind = FindingKind.UPDATED
        if raw_canonical(found)[:1] == b"\xff":
            what = "its fields no longer have their types"
        elif found[3] != expected.topic:
            what = f"its topic was {expected.topic!r}, is {found[3]!r}"
        else:
            what = "its stored state differs"
        message = f"{exp_ref} was updated: {what}"
    elif expected and not found:
        if moved_to is not None:
            kind = FindingKind.REORDERED
            message = f"{exp_ref} was moved to position {moved_to}"
        elif backend.last_position() < position:
            kind = FindingKind.TRUNCATED
            message = (
                f"{exp_ref} and every record after it were deleted "
                f"(the store now ends at position {backend.last_position()})"
            )
        else:
            kind = FindingKind.DELETED
            message = f"{exp_ref} was deleted"
    elif found and not expected:
        if came_from is not None:
            kind = FindingKind.REORDERED
            message = f"{found_ref} belongs at position {came_from}"
        else:
            kind = FindingKind.INSERTED
            message = f"{found_ref} was inserted: the ledger never chained it"
    else:
        assert expected
        assert found
        if came_from is not None:
            kind = FindingKind.REORDERED
            message = f"{exp_ref} should be here; {found_ref}, from position {came_from}, is"
        elif moved_to is not None:
            kind = FindingKind.INSERTED
            message = f"{found_ref} was inserted here; {exp_ref} was pushed to position {moved_to}"
        else:
            kind = FindingKind.UPDATED
            message = f"{exp_ref} was overwritten with {found_ref}"
    if not sealed:
        message += " (named by the ledger; no seal covers this position yet)"
    finding = Finding(
        kind=kind,
        position=position,
        message=message,
        expected=exp_ref,
        found=found_ref,
        sealed=sealed,
    )
    subject = finding.subject
    return attrs.evolve(finding, label=label(subject.aggregate_id) if subject else None)


def _elsewhere(
    find: Callable[[str, int], list[int]],
    row: LedgerEntry | RawRow | None,
    position: int,
) -> int | None:
    if row is None:
        return None
    key = (row.originator_id, row.version) if isinstance(row, LedgerEntry) else (row[1], row[2])
    if type(key[0]) is not str or type(key[1]) is not int:
        return None
    return next((p for p in find(key[0], key[1]) if p != position), None)
