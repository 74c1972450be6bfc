"""Audit verification beside a raw scan of the same rows, on the same store in the same process.

    .venv/bin/python benchmarks/audit_verify.py [--events N] [--pg URL] [--repeat R]

Writes about N events (the projections benchmark's workload: disputes through their whole
workflow, six events each), then times, best of R, interleaved:

- raw scan: every row of the events table read with plain sqlite3 / psycopg (position,
  originator id, version, topic, state), nothing else done with it;
- catch-up: the ledger chaining every record from empty (once; it is incremental after);
- verify: ``safecomm_core.audit.verify`` with one seal at the head, public key given.

Prints one table per backend: seconds, rows per second, and the speed as a fraction of the
raw scan's (1.0 = as fast as reading the rows; the target for verify is 0.5 or more).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from projections import fill  # the projections benchmark's workload: real dispute events

from safecomm_core import open_store
from safecomm_core.audit import Ledger, verify
from safecomm_core.keystore import MemoryKeyStore


def raw_scan_sqlite(path: str) -> Callable[[], int]:
    def scan() -> int:
        db = sqlite3.connect(path)
        count = 0
        for _row in db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ):
            count += 1
        db.close()
        return count

    return scan


def raw_scan_postgres(conninfo: str, table: str) -> Callable[[], int]:
    import psycopg

    def scan() -> int:
        count = 0
        with psycopg.connect(conninfo) as db, db.cursor(name="raw", binary=True) as cursor:
            cursor.itersize = 10_000
            cursor.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table} ORDER BY notification_id"
            )
            for _row in cursor:
                count += 1
        return count

    return scan


def best(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times)


def run(url: str, label: str, events: int, repeat: int) -> None:
    written = fill(url, max(1, events // 6))
    key = Ed25519PrivateKey.generate()
    with open_store(url, keys=MemoryKeyStore()) as store:
        config = store.config
        if config.kind == "sqlite":
            raw = raw_scan_sqlite(config.env["SQLITE_DBNAME"])
        else:
            raw = raw_scan_postgres(config.conninfo, f"{config.name}_events")
        with Ledger(store) as ledger:
            began = time.perf_counter()
            ledger.catch_up()
            catch_up = time.perf_counter() - began
            ledger.seal(key)
        assert verify(store, public_key=key.public_key()).intact
        public = key.public_key()
        scans, verifies = [], []
        for _ in range(repeat):  # interleaved: a noisy machine slows both alike
            scans.append(best(raw, 1))
            verifies.append(best(lambda: verify(store, public_key=public), 1))
    scan_s = min(scans)
    print(f"\n{label}: {written} events")
    print(f"{'':<20}{'seconds':>10}{'rows/s':>12}{'× raw scan':>12}")
    for name, seconds in (
        ("raw scan", scan_s),
        ("catch-up (once)", catch_up),
        ("verify", min(verifies)),
    ):
        print(f"{name:<20}{seconds:>10.3f}{written / seconds:>12,.0f}{scan_s / seconds:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg", help="also PostgreSQL at this URL (a fresh ?name= is added)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite file", args.events, args.repeat)
    if args.pg:
        name = "bench" + uuid.uuid4().hex[:8]
        try:
            run(f"{args.pg}?name={name}", "PostgreSQL", args.events, args.repeat)
        finally:
            import psycopg

            conninfo = open_store(f"{args.pg}?name={name}").config.conninfo
            with psycopg.connect(conninfo, autocommit=True) as db:
                for suffix in ("events", "ledger", "seals", "snapshots", "person_keys", "secrets"):
                    db.execute(f"DROP TABLE IF EXISTS {name}_{suffix} CASCADE")


if __name__ == "__main__":
    main()
