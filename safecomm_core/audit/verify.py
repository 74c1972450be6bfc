"""Verification: recompute the chain from the stored events and hold it to every seal.

::

    from safecomm_core.audit import load_public_key, verify

    result = verify(service, public_key=load_public_key("seal.key.pub"))
    if not result.intact:
        print(result.first)          # e.g. "deleted: position 17: … v3 was deleted"

How it goes:

1. Every seal (stored, plus any published or logged ones given) is checked: its
   signature, by the public key given (or, failing that, by the key it carries, which
   proves only that it was not corrupted), and that it is for this store. A seal of the
   seal log that the store lacks, or holds otherwise, is a finding; and with a public key
   given, so is a store with no seal by that key that holds: rows rewritten with the
   seals deleted are not "intact".
2. The rows are chained from the start, in notification order, and at each sealed
   position the chain must equal the seal's value. Only the rows are read on this path,
   so verifying costs about one read of the store plus two SHA-256 per row. On a large
   SQL store a forked helper takes some of that work, chaining pieces of the rows from
   the ledger's chain values, used only where the verifier's own chain reaches them
   (:mod:`safecomm_core.audit.split`): faster, never different.
3. Where a seal does not hold, the stretch since the previous seal is walked again beside
   the ledger's entries to name the first row updated, deleted, inserted, moved or
   truncated (:mod:`safecomm_core.audit.locate`); the chain then resumes from the seal's
   value, so a later stretch is judged on its own.
4. Rows after the last seal are the *unsealed tail*: not tampering, but compared with
   the ledger's entries where it has any.

Gaps in the notification ids (PostgreSQL leaves them when a transaction rolls back) are
not rows: a gap that was there when a seal was made is in its chain value as a jump of
position, and so is never mistaken for a deletion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from safecomm_core.audit.canonical import GENESIS, RawRow
from safecomm_core.audit.errors import AuditError, KeyFileError, TamperDetected
from safecomm_core.audit.findings import Finding, FindingKind
from safecomm_core.audit.locate import classify, compare
from safecomm_core.audit.replay import identify
from safecomm_core.audit.seal import Seal
from safecomm_core.audit.split import (
    MIN_PIECE,
    PARALLEL_FROM,
    PIECES,
    Chained,
    Helper,
    Reached,
    chain_through,
    stops_in,
)
from safecomm_core.audit.storage import AuditBackend, Opener, open_backend
from safecomm_core.service import Safecomm

__all__ = ["Verification", "verify"]

#: Positions per query where rows are read in batches (PostgreSQL, and naming a changed
#: row); SQLite's chaining pass reads each stretch as one stream.
BATCH = 10_000


@attrs.frozen
class Verification:
    """The outcome of :func:`verify`."""

    store: str
    #: Rows read, and the highest position among them.
    records: int
    last_position: int
    #: The chain value over every row, in hex; None when a seal did not hold (the
    #: chain is then judged stretch by stretch, from each seal's value).
    head: str | None
    #: Seals read, and how many of them hold (signature, store, chain value).
    seals: int
    seals_holding: int
    #: The highest position a holding seal covers; rows after it are unsealed.
    sealed_position: int
    unsealed: int
    #: Whether seals were checked against a public key given by the caller; if not, only
    #: against the key each seal carries.
    key_checked: bool
    findings: tuple[Finding, ...]

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The first changed row (by position), else the first other finding."""
        changed = [f for f in self.findings if f.kind is not FindingKind.BAD_SEAL]
        return min(changed, key=lambda f: f.position or 0, default=None) or next(
            iter(self.findings), None
        )

    def check(self) -> Verification:
        """Return self if intact, else raise :class:`TamperDetected` naming the first finding."""
        if not self.intact:
            raise TamperDetected(f"the store {self.store!r} was altered: {self.first}")
        return self

    def summary(self) -> list[str]:
        """Lines for people: the verdict, then the seals, the tail and each finding."""
        verdict = "INTACT" if self.intact else "TAMPERED"
        lines = [
            f"{verdict}: store {self.store!r}, {self.records} records up to position "
            f"{self.last_position}" + (f", chain {self.head}" if self.head else ""),
            f"seals: {self.seals_holding} of {self.seals} hold; sealed up to position "
            f"{self.sealed_position}"
            + ("" if self.key_checked else " (checked only with the keys the seals carry)"),
        ]
        if self.unsealed:
            lines.append(
                f"unsealed tail: {self.unsealed} records after position {self.sealed_position} "
                "(not yet sealed; not tampering)"
            )
        if self.first is not None:
            lines.append(f"first: {_described(self.first)}")
        lines.extend(f"  {_described(f)}" for f in self.findings if f is not self.first)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a JSON object."""
        data = attrs.asdict(self, recurse=False)
        data["findings"] = [f.to_dict() for f in self.findings]
        data["intact"] = self.intact
        data["first"] = self.first.to_dict() if self.first else None
        return data


def _described(finding: Finding) -> str:
    label = f" [{finding.label}]" if finding.label else ""
    return f"{finding}{label}"


def verify(
    service: Safecomm,
    *,
    public_key: Ed25519PublicKey | None = None,
    published: Iterable[Seal] = (),
    logged: Iterable[Seal] = (),
    batch_size: int = BATCH,
    parallel_from: int | None = PARALLEL_FROM,
) -> Verification:
    """Recompute the chain from ``service``'s rows and check it against every seal.

    ``published``: seals kept outside the store (e.g. printed in monthly reports), checked
    like the stored ones, so that deleting seals from the database hides nothing.
    ``logged``: the seal log's seals (:func:`~safecomm_core.audit.seal.read_seal_log`),
    checked likewise, and each must also be in the store as it is in the log.
    Reads only: it never writes to the store, the ledger or the seals.

    ``parallel_from``: from how many rows (by the last position) a second, forked
    process chains half of them, seeded by the ledger (None: never); the outcome is the
    same either way (see :mod:`safecomm_core.audit.split`).
    """
    backend = open_backend(service)
    try:
        with backend.reading():
            verifier = _Verifier(service, backend, public_key, batch_size, parallel_from)
            return verifier.run(list(published), list(logged))
    finally:
        backend.close()


class _Verifier:
    def __init__(
        self,
        service: Safecomm,
        backend: AuditBackend,
        public_key: Ed25519PublicKey | None,
        batch_size: int,
        parallel_from: int | None,
    ) -> None:
        self.service = service
        self.backend = backend
        self.public_key = public_key
        self.batch = batch_size
        self.parallel_from = parallel_from
        self.findings: list[Finding] = []

    def run(self, published: Sequence[Seal], logged: Sequence[Seal]) -> Verification:
        stored = self.backend.seals()
        logged = [s for s in logged if s.store == self.backend.name]  # a log may serve several
        self._check_log(stored, logged)
        seals = list(dict.fromkeys([*stored, *published, *logged]))
        holding = [s for s in seals if self._seal_sound(s)]
        if self.public_key is not None and not seals:  # each seal that fails is named
            self.findings.append(
                Finding(
                    kind=FindingKind.BAD_SEAL,
                    position=None,
                    message="no seal made with the public key given holds: there is no seal "
                    "at all, so nothing vouches for these records (were the seals deleted?)",
                )
            )
        by_position: dict[int, list[Seal]] = {}
        for seal in holding:
            by_position.setdefault(seal.position, []).append(seal)
        stops = sorted(by_position)

        # One pass over every row: chain them, and at each sealed position compare with
        # the seals there (_close), going on from the value it returns.
        after, stretch_start = 0, GENESIS
        failed: set[Seal] = set()

        def close(stop: int, reached: bytes) -> bytes:
            nonlocal after, stretch_start
            h = self._close(after, stop, stretch_start, reached, by_position[stop], failed)
            after, stretch_start = stop, h
            return h

        chained = self._chain(stops, close)
        sealed_position = after
        head = self.backend.head()
        unsealed = self._check_tail(sealed_position, stretch_start, head.position if head else 0)
        return Verification(
            store=self.backend.name,
            records=chained.rows,
            last_position=chained.last_position,
            head=None if failed else chained.chain.hex(),
            seals=len(seals),
            seals_holding=len(holding) - len(failed),
            sealed_position=sealed_position,
            unsealed=unsealed,
            key_checked=self.public_key is not None,
            findings=tuple(self.findings),
        )

    def _chain(self, stops: list[int], close: Reached) -> Chained:
        """Chain every row, closing each stop; with a helper process where that pays.

        The rows are cut into pieces at ledger entries (see
        :mod:`safecomm_core.audit.split`): this process chains pieces from the front, in
        order, closing their stops; the helper chains pieces from the back, each from the
        ledger's value at its start. A helper's piece is used only if this process's
        chain reaches exactly that value; its values at the stops are then those chaining
        on would reach, and each stop is still closed here, in order. After a stop whose
        seal does not hold, the chain goes on from the seal's value, which no piece started
        from, so the rows after it are chained again here, as without a helper.
        """
        plan = self._plan()
        helper = None
        if plan is not None:
            with contextlib.suppress(OSError):  # no process to be had (limits, memory)
                helper = Helper(*plan, stops, self.batch)
        if helper is None:
            return self._alone(GENESIS, 0, 0, 0, stops, close)
        h, total, last, point = GENESIS, 0, 0, 0
        try:
            while (index := helper.take()) is not None:
                after, upto = helper.piece(index)
                done = chain_through(
                    h, self._rows, after, upto, stops_in(stops, after, upto), close
                )
                h, total = done.chain, total + done.rows
                last = done.last_position or last
                if upto is None:  # the last piece: every row is chained
                    helper.cancel()
                    return Chained(h, total, last)
                point = upto
        except BaseException:
            helper.cancel()
            raise
        pieces = helper.result()
        if pieces is None:
            return self._alone(h, point, total, last, stops, close)
        for k, piece in enumerate(pieces):
            if h != piece.start:
                return self._alone(h, piece.after, total, last, stops, close)
            for stop, value in sorted(piece.values.items()):
                reached = close(stop, value)
                if reached != value:
                    again = chain_through(
                        reached, self._rows, stop, None, stops_in(stops, stop, None), close
                    )
                    rest = [p.chained for p in pieces[k:]]  # the rows, already counted
                    ends = [c.last_position for c in rest if c.last_position]
                    count = total + sum(c.rows for c in rest)
                    return Chained(again.chain, count, ends[-1] if ends else last)
            h, total = piece.chained.chain, total + piece.chained.rows
            last = piece.chained.last_position or last
        return Chained(h, total, last)

    def _alone(
        self, start: bytes, after: int, total: int, last: int, stops: list[int], close: Reached
    ) -> Chained:
        """Chain the rows after ``after`` here, onto ``start``, adding to the counts."""
        done = chain_through(start, self._rows, after, None, stops_in(stops, after, None), close)
        return Chained(done.chain, total + done.rows, done.last_position or last)

    def _rows(self, after: int, upto: int | None) -> Iterable[RawRow]:
        return self.backend.rows(after, upto, self.batch)

    def _plan(self) -> tuple[Opener, list[int], list[bytes]] | None:
        """The pieces for a helper (opener, bounds, the ledger's values there), if it pays."""
        opener = self.backend.opener()
        if opener is None or self.parallel_from is None or not Helper.possible():
            return None
        end = self.backend.last_position()
        if end < max(self.parallel_from, 2):
            return None
        # This process begins at once, the helper a few milliseconds later: the first piece
        # (this process's) is the larger, the rest are small, so that the two meet evenly.
        first, step = end * 2 // 5, max(MIN_PIECE, end // PIECES)
        bounds, seeds = [0], [GENESIS]
        try:
            for target in range(first, end, step):
                entry = self.backend.head(upto=target)
                if entry is not None and bounds[-1] < entry.position < end:
                    bounds.append(entry.position)
                    seeds.append(entry.chain)
        except (AuditError, TypeError, ValueError):  # an unreadable ledger: no helper
            return None
        if len(bounds) < 2:
            return None  # no ledger entry to start a piece from
        return opener, [*bounds, end], seeds

    def _close(
        self,
        after: int,
        position: int,
        start: bytes,
        reached: bytes,
        seals: list[Seal],
        failed: set[Seal],
    ) -> bytes:
        """The stretch (after, position] is read: hold it to the seals at ``position``.

        Returns the chain value to go on from: the one reached when a seal there holds,
        else the seal's own (a later stretch is then judged on its own).
        """
        wrong = [s for s in seals if bytes.fromhex(s.hash) != reached]
        if not wrong:
            return reached
        failed.update(wrong)
        if len(wrong) < len(seals):
            # Another seal at this position holds: the rows are as sealed, and these
            # seals, signed but for other values, are what is wrong.
            for seal in wrong:
                self.findings.append(
                    Finding(
                        kind=FindingKind.BAD_SEAL,
                        position=position,
                        message=f"seal made {seal.sealed_at} contradicts another seal of "
                        "the same position, which the records match",
                    )
                )
            return reached
        sealed = bytes.fromhex(wrong[0].hash)
        self._locate(after, position, start, sealed)
        return sealed

    def _check_log(self, stored: Sequence[Seal], logged: Sequence[Seal]) -> None:
        """Each seal of the seal log must be in the store, as the log has it."""
        kept = set(stored)
        for seal in logged:
            if seal in kept:
                continue
            named = (seal.position, seal.sealed_at, seal.key_id)
            same = [s for s in stored if (s.position, s.sealed_at, s.key_id) == named]
            state = "differs from the store's" if same else "is missing from the store"
            self.findings.append(
                Finding(
                    kind=FindingKind.BAD_SEAL,
                    position=seal.position,
                    message=f"the seal made {seal.sealed_at} in the seal log {state}",
                )
            )

    def _seal_sound(self, seal: Seal) -> bool:
        problem = ""
        if seal.store != self.backend.name:
            problem = f"it is for store {seal.store!r}"
        elif self.public_key is not None and not seal.signed_by(self.public_key):
            problem = (
                f"its signature does not hold for the public key given (sealed with key "
                f"{seal.key_id})"
            )
        elif self.public_key is None and not _self_signed(seal):
            problem = "its signature does not hold for the key it carries"
        elif not _is_hash(seal.hash):
            problem = "its chain value is not 64 hex digits"
        if problem:
            self.findings.append(
                Finding(
                    kind=FindingKind.BAD_SEAL,
                    position=seal.position if type(seal.position) is int else None,
                    message=f"seal made {seal.sealed_at} does not hold: {problem}",
                )
            )
        return not problem

    def _locate(self, after: int, upto: int, start: bytes, sealed: bytes) -> None:
        comparison = compare(
            self.backend.scan(after, upto, self.batch),
            self.backend.entries(after, upto, self.batch),
            start,
        )
        trusted = comparison.ledger_chain == sealed and comparison.ledger_break is None
        if trusted and comparison.position is not None:
            # The ledger's entries chain to the seal's value: they are the sealed rows,
            # so where the store departs from them is where it was changed.
            self.findings.append(classify(self.backend, comparison, sealed=True, label=self._label))
            return
        hints = []
        if comparison.ledger_break is not None:
            hints.append(f"the ledger's own chain breaks at position {comparison.ledger_break}")
        if comparison.position is not None:
            told = classify(self.backend, comparison, sealed=True, label=self._label)
            hints.append(f"the store departs from the ledger at position {told.position} ({told})")
        self.findings.append(
            Finding(
                kind=FindingKind.ALTERED,
                position=comparison.ledger_break or comparison.position or after + 1,
                message=(
                    f"the records in positions {after + 1} to {upto} no longer hash to the seal "
                    f"at position {upto}, and the ledger does not either, so it cannot name the "
                    "changed record with certainty" + (f"; {'; '.join(hints)}" if hints else "")
                ),
                sealed=True,
            )
        )

    def _check_tail(self, after: int, start: bytes, ledger_head: int) -> int:
        """Compare the rows after the last seal with the ledger; how many there are."""
        comparison = compare(
            self.backend.scan(after, None, self.batch),
            self.backend.entries(after, None, self.batch),
            start,
            cutoff=ledger_head,
        )
        if comparison.position is not None:
            self.findings.append(
                classify(self.backend, comparison, sealed=False, label=self._label)
            )
        elif comparison.ledger_break is not None:
            self.findings.append(
                Finding(
                    kind=FindingKind.LEDGER,
                    position=comparison.ledger_break,
                    message="the records hold, but this ledger entry's chain value was altered",
                )
            )
        return comparison.rows

    def _label(self, aggregate_id: str) -> str | None:
        """``kind:ref`` of an aggregate, from its first event, when that can be read."""
        try:
            kind, ref = identify(self.service, UUID(aggregate_id))
        except Exception:  # the first event may itself be the altered one: no label then
            return None
        return f"{kind}:{ref}"


def _self_signed(seal: Seal) -> bool:
    try:
        return seal.signed_by(seal.key())
    except KeyFileError:
        return False


def _is_hash(text: Any) -> bool:
    if not isinstance(text, str) or len(text) != 64:
        return False
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
