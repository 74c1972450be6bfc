"""A service that keeps its own table of safecomm's records from the event stream.

Another service (a data warehouse, the grid platform) does not read safecomm's store: it
reads the stream ``safecomm stream publish`` fills, through a durable consumer, and keeps
what it needs in its own database::

    safecomm stream publish --store sqlite:///safecomm.db          # once, or with --follow
    python examples/stream_consumer.py safecomm copy.db [nats://127.0.0.1:4222]

1. Subscribes as the durable consumer ``record-copy``: a second run goes on where the first
   stopped, and an envelope it did not finish with comes again.
2. Keeps one row per record: kind, ref, community, its last event and version. Receipts of
   commands are not kept.
3. Drops its copy of a record whose personal data was erased (an ``Erased`` event).
4. Stops once the stream has been quiet for two seconds (a service would run on).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

from safecomm_nats import Envelope, subscribe

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    community TEXT NOT NULL,
    last_event TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (kind, ref)
)
"""


def keep(db: sqlite3.Connection, envelope: Envelope) -> None:
    """Bring the copy of the envelope's record up to date (idempotent: a redelivered
    envelope, at or below the position already kept, changes nothing)."""
    if envelope.kind == "command":
        return
    if envelope.event == "Erased":
        db.execute("DELETE FROM records WHERE kind = ? AND ref = ?", (envelope.kind, envelope.ref))
        return
    db.execute(
        "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, ref) DO UPDATE SET "
        "last_event = excluded.last_event, version = excluded.version, "
        "position = excluded.position WHERE excluded.position > records.position",
        (
            envelope.kind,
            envelope.ref,
            envelope.community,
            envelope.event,
            envelope.record_version,
            envelope.position,
        ),
    )


async def main(store: str, path: str, servers: str) -> None:
    db = sqlite3.connect(path)
    db.execute(SCHEMA)
    received = 0
    async with subscribe(servers, store=store, durable="record-copy", idle=2.0) as events:
        async for envelope in events:
            try:
                with db:  # one transaction per envelope, committed before it is acked
                    keep(db, envelope)
            except sqlite3.Error as exc:
                await events.reject(envelope, exc)
                continue
            received += 1
    (count,) = db.execute("SELECT count(*) FROM records").fetchone()
    db.close()
    print(f"received {received} envelopes; the table holds {count} records")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    asyncio.run(main(args[0], args[1], args[2] if len(args) == 3 else "nats://127.0.0.1:4222"))
