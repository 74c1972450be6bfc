"""Audit verification beside a raw sqlite3 scan of the same stored rows.

Ours: :func:`safecomm_core.audit.verify` with one Ed25519 seal at the head and the public
key given: it reads every stored event, recomputes the hash chain and checks the seal.
From 5,000 records it forks a helper that chains pieces of the records from the ledger's
values (:mod:`safecomm_core.audit.split`), so on a busy machine, with no second core free,
the ratio falls back towards the one-process one.
The ledger's first catch-up (chaining every record from empty, once; incremental after)
is reported beside it.

Baseline: every row of the events table read with plain ``sqlite3`` (position, originator
id, version, topic, state) and nothing else done with it. The ratio is scan seconds /
verify seconds (target ≥ 0.5: verify at least half as fast as reading the rows).
"""

from __future__ import annotations

import sqlite3

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.harness import Context, Result, interleaved, throughput, timed
from safecomm_core import open_store
from safecomm_core.audit import Ledger, verify
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["audit_verify", "raw_scan"]


def raw_scan(path: str) -> int:
    """Read every stored row with plain sqlite3."""
    db = sqlite3.connect(path)
    try:
        count = 0
        for _row in db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ):
            count += 1
        return count
    finally:
        db.close()


def audit_verify(ctx: Context, url: str, events: int) -> list[Result]:
    """Ledger catch-up once, then verify and the raw scan, best of ``ctx.repeat``."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    with open_store(url, keys=MemoryKeyStore()) as service:
        path = service.config.env["SQLITE_DBNAME"]
        with Ledger(service) as ledger:
            catch_up, _ = timed(ledger.catch_up)
            ledger.seal(key)
        result = verify(service, public_key=public)
        assert result.intact, result.summary()
        ours, base = interleaved(
            lambda: verify(service, public_key=public), lambda: raw_scan(path), ctx.repeat
        )
    return [
        throughput(
            "audit_verify",
            "audit verify (chain + seal)",
            events,
            ours.wall,
            base.wall,
            at_least=0.5,
            baseline="raw sqlite3 scan",
            details={
                "ledger_catch_up_s": catch_up.wall,
                "ledger_catch_up_events_per_s": events / catch_up.wall,
            },
        )
    ]
