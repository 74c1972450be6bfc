"""Audit verification beside a raw sqlite3 scan of the same stored rows.

Ours: :func:`safecomm_core.audit.verify` with one Ed25519 seal at the head and the public
key given: it reads every stored event, recomputes the hash chain and checks the seal.
From 5,000 records it forks a helper that chains pieces of the records from the ledger's
values (:mod:`safecomm_core.audit.split`), so on a busy machine, with no second core free,
the ratio falls back towards the one-process one.
The ledger's first catch-up (chaining every record from empty, once; incremental after)
is reported as a figure of its own (``ledger_catch_up``), beside the same raw scan: it
must stay flat as history grows.

Baseline: every row of the events table read with plain ``sqlite3`` (position, originator
id, version, topic, state) and nothing else done with it. The ratio is scan seconds /
verify seconds (target ≥ 0.5: verify at least half as fast as reading the rows).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.harness import Context, Result, interleaved, throughput, timed
from safecomm_core import open_store
from safecomm_core.audit import Ledger, verify
from safecomm_core.keystore import MemoryKeyStore

__all__ = ["CATCH_UP_TARGET", "audit_verify", "raw_scan"]

#: The ledger's first catch-up, in events per second, at every size.
CATCH_UP_TARGET = 100_000


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
    # The scan is the baseline, as for verify; the target is a rate, flat at every size.
    ledger = throughput(
        "ledger_catch_up",
        "ledger catch-up from empty",
        events,
        catch_up.wall,
        base.wall,
        at_least=0.0,
        baseline="raw sqlite3 scan",
        # One run (a first catch-up happens once per store), so its wall time follows the
        # machine's load; its CPU time says how much of that was the catch-up's own work.
        details={"cpu_s": catch_up.cpu, "events_per_cpu_s": events / catch_up.cpu},
    )
    return [
        replace(
            ledger,
            target=f"≥ {CATCH_UP_TARGET:,} events/s, flat",
            met=ledger.ours >= CATCH_UP_TARGET,
        ),
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
        ),
    ]
