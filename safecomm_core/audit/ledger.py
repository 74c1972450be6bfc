"""The ledger: a follower that chains every stored event, and sealing its head.

::

    from safecomm_core import open_store
    from safecomm_core.audit import Ledger, load_private_key

    with open_store("sqlite:///safecomm.db") as service, Ledger(service) as ledger:
        head = ledger.catch_up()                       # incremental: only new rows
        seal = ledger.seal(load_private_key("seal.key"))
        print(seal.to_json())                          # publish it

The follower reads the rows after its head in batches, computes each one's entry (see
:mod:`safecomm_core.audit.canonical`) and appends them with the new head in one
transaction per batch, so that an interrupted catch-up resumes where it stopped and two
followers never chain the same row twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safecomm_core.audit.canonical import (
    GENESIS,
    EntryRow,
    LedgerEntry,
    MalformedRow,
    RawRow,
    chain,
    entry_rows,
)
from safecomm_core.audit.errors import KeyFileError, TamperDetected
from safecomm_core.audit.seal import Seal, sign_seal
from safecomm_core.audit.storage import AuditBackend, open_backend
from safecomm_core.service import Safecomm

__all__ = ["Ledger", "LedgerHead"]

#: Rows per transaction when catching up: large enough that the per-batch cost
#: (a transaction, a query) disappears, small enough to keep a batch in memory.
BATCH = 5000


@attrs.frozen
class LedgerHead:
    """How far the ledger has chained: the last position and the chain value after it."""

    position: int
    hash: bytes

    @property
    def hex(self) -> str:
        """The chain value in hex, as seals print it."""
        return self.hash.hex()


class Ledger:
    """The store's ledger: catch up with the rows, seal the head, read the entries."""

    def __init__(self, service: Safecomm, *, batch_size: int = BATCH) -> None:
        self.service = service
        self.batch_size = batch_size
        self.backend: AuditBackend = open_backend(service)

    def close(self) -> None:
        """Release the ledger's own database connection (not the store's)."""
        self.backend.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def head(self) -> LedgerHead:
        """The ledger's head as stored (position 0 and the genesis value when empty)."""
        entry = self.backend.head()
        return LedgerHead(entry.position, entry.chain) if entry else LedgerHead(0, GENESIS)

    def catch_up(self, *, limit: int | None = None) -> LedgerHead:
        """Chain every row stored after the head (at most ``limit`` of them).

        Raises :class:`~safecomm_core.audit.errors.TamperDetected` when a row cannot be
        encoded (its fields were given other types by raw SQL): the ledger never chains
        what it cannot re-encode, so such a row stops it where it stands.
        """
        done = 0
        while limit is None or done < limit:
            batch = self.batch_size if limit is None else min(self.batch_size, limit - done)
            added = self.backend.extend(_extend, batch)
            done += added
            if not added:  # a short batch may only mean a gap in the ids: go on until none
                break
        return self.head()

    def entries(self, after: int = 0, upto: int | None = None) -> Iterator[LedgerEntry]:
        """The ledger's entries with ``after < position <= upto``, in order."""
        for batch in self.backend.entries(after, upto, self.batch_size):
            yield from batch

    def seal(self, key: Ed25519PrivateKey, *, sealed_at: datetime | None = None) -> Seal:
        """Catch up, then sign and store the head. Returns the seal, to be published.

        Before signing, the entries since the last seal are re-chained from that seal's
        value: a ledger altered since then is refused rather than signed.
        """
        head = self.catch_up()
        self._check_since_last_seal(head)
        seal = sign_seal(
            key,
            store=self.backend.name,
            position=head.position,
            chain_hash=head.hash,
            sealed_at=sealed_at,
        )
        self.backend.add_seal(seal)
        return seal

    def seals(self) -> list[Seal]:
        """Every stored seal, oldest first."""
        return self.backend.seals()

    def _check_since_last_seal(self, head: LedgerHead) -> None:
        # Only seals that hold up by their own key: a row someone slipped into the seals
        # table could otherwise make every later seal refuse.
        own = [s for s in self.backend.seals() if s.store == self.backend.name and _sound(s)]
        last = max(own, key=lambda s: s.position, default=None)
        position, h = (last.position, bytes.fromhex(last.hash)) if last else (0, GENESIS)
        for entry in self.entries(position, head.position):
            h = chain(h, entry.encoded())
            if h != entry.chain:
                raise TamperDetected(
                    f"the ledger entry at position {entry.position} does not follow from the "
                    "last seal; run 'safecomm audit verify' before sealing again"
                )
        if h != head.hash:
            raise TamperDetected(
                "the ledger's head does not follow from the last seal; "
                "run 'safecomm audit verify' before sealing again"
            )


def _sound(seal: Seal) -> bool:
    try:
        return seal.signed_by(seal.key()) and len(bytes.fromhex(seal.hash)) == 32
    except (KeyFileError, ValueError):
        return False


def _extend(head: LedgerEntry | None, rows: Sequence[RawRow]) -> list[EntryRow]:
    try:
        return entry_rows(head.chain if head else GENESIS, rows)
    except MalformedRow as exc:
        raise TamperDetected(f"{exc}; run 'safecomm audit verify'") from None
