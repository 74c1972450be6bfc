"""Checkpoints of a report replay's views: where the next replay known at T starts.

A report replayed as known at T folds the log's recorded prefix (:mod:`.prefix`) through
the report's projections. Folding from zero costs as much as rebuilding those views, so a
replay leaves **checkpoints** behind: the views it had built at every multiple of
``every`` positions (10,000 by default), compressed, each with the latest recorded time of
the rows it folded. A later replay known at T' starts from the latest checkpoint whose
rows were all recorded by T' and folds only the rest.

They live in the views database beside the live views (table ``replay_checkpoints``:
``<store>.views.db`` for SQLite, ``<name>_replay_checkpoints`` on PostgreSQL; an in-memory
store keeps none), keyed by the report and a fingerprint of its projections' definitions,
so that a changed projection never starts from views an older one built, and each names the
row at its position, so that one is never used with a store that does not hold that
row there (a views file copied beside another store, say). Like the views, they are
derived from the log, not part of it: a checkpoint is trusted as far as the views
database is. An auditor who wants the replay to rest on the log alone replays with
``checkpoints=False`` (``--no-checkpoints``), which reads and writes none, and can compare.

Size: a checkpoint is the views at its position, zlib-compressed: about 60 bytes per
position of the log it covers on the scenario (the nine up to position 90,000 of the
1M-event store take 27 MB; one near the end of it, some 40 MB). Checkpoints are only made
up to the latest moment replayed.

Retention: a report's checkpoints are kept within a budget of bytes (``budget``, 256 MB by
default: ``--checkpoint-budget`` on the command line). When a new one takes them over it,
older ones are dropped, each time the one whose loss leaves the shortest stretch of the
log without a checkpoint, so that those kept stay spread over the history replayed; the
newest is always kept. Checkpoints made by other definitions of the report's projections
(an older version) can never be used again, and are dropped too.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs

from safecomm_core.projections import Projection
from safecomm_core.projections.database import SQLiteViews, ViewDatabase, quote

__all__ = ["BUDGET", "EVERY", "Checkpoint", "Checkpoints", "ReplayViews", "fingerprint"]

#: The default spacing of checkpoints, in positions of the log.
EVERY = 10_000

#: The default budget of a report's checkpoints, in bytes.
BUDGET = 256 * 2**20


class ReplayViews(SQLiteViews):
    """Views in memory that can be saved as bytes and started again from them."""

    def __init__(self) -> None:
        super().__init__(":memory:")

    def dump(self) -> bytes:
        """The whole database, compressed."""
        return zlib.compress(self._db.serialize(), 1)

    @classmethod
    def load(cls, data: bytes) -> ReplayViews:
        """Views holding what :meth:`dump` saved."""
        views = cls()
        views._db.deserialize(zlib.decompress(data))
        return views


@attrs.frozen
class Checkpoint:
    """A report's views as they stood after the rows up to ``position``."""

    position: int
    #: The latest recorded time of those rows, microseconds since the epoch.
    latest_recorded: int
    #: The row at ``position``, as views name it (:func:`~safecomm_core.projections.
    #: runner.anchor_at`): a checkpoint is only used with a store that holds it there.
    anchor: str | None
    data: bytes = attrs.field(repr=False)


def fingerprint(projections: Sequence[Projection]) -> str:
    """What the views of ``projections`` depend on: their names, versions and shapes."""
    shape = [[p.name, p.version, p.fingerprint] for p in projections]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


class Checkpoints:
    """The checkpoints of one report in a views database."""

    def __init__(
        self, views: ViewDatabase, report: str, fingerprint: str, *, budget: int = BUDGET
    ) -> None:
        if budget < 0:
            raise ValueError("a checkpoint budget cannot be negative")
        self.views = views
        self.report = report
        self.fingerprint = fingerprint
        #: Bytes the report's checkpoints may take (the newest is kept whatever its size).
        self.budget = budget
        self.table = quote(views.name("replay_checkpoints"))
        blob = "BLOB" if isinstance(views, SQLiteViews) else "BYTEA"
        with views.transaction():
            views.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "report TEXT NOT NULL, fingerprint TEXT NOT NULL, position BIGINT NOT NULL, "
                f"latest_recorded BIGINT NOT NULL, anchor TEXT, data {blob} NOT NULL, "
                "made_at TEXT NOT NULL, "
                "PRIMARY KEY (report, fingerprint, position))"
            )

    def latest(self, recorded_by: int) -> Checkpoint | None:
        """The furthest checkpoint whose rows were all recorded by ``recorded_by``."""
        with self.views.snapshot():
            rows = self.views.fetchall(
                f"SELECT position, latest_recorded, anchor, data FROM {self.table} "
                "WHERE report = ? AND fingerprint = ? AND latest_recorded <= ? "
                "ORDER BY position DESC LIMIT 1",
                (self.report, self.fingerprint, recorded_by),
            )
        if not rows:
            return None
        position, latest, anchor, data = rows[0]
        return Checkpoint(int(position), int(latest), anchor, bytes(data))

    def save(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint``, in place of any kept at its position."""
        with self.views.transaction():
            self.views.execute(
                f"INSERT INTO {self.table} "
                "(report, fingerprint, position, latest_recorded, anchor, data, made_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report, fingerprint, position) "
                "DO UPDATE SET latest_recorded = excluded.latest_recorded, "
                "anchor = excluded.anchor, data = excluded.data, made_at = excluded.made_at",
                (
                    self.report,
                    self.fingerprint,
                    checkpoint.position,
                    checkpoint.latest_recorded,
                    checkpoint.anchor,
                    checkpoint.data,
                    datetime.now(UTC).isoformat(),
                ),
            )
            self._retain()

    def _retain(self) -> None:
        """Drop what can never be used again, then thin the rest down to the budget."""
        self.views.execute(
            f"DELETE FROM {self.table} WHERE report = ? AND fingerprint <> ?",
            (self.report, self.fingerprint),
        )
        kept = [
            (int(position), int(size))
            for position, size in self.views.fetchall(
                f"SELECT position, LENGTH(data) FROM {self.table} "
                "WHERE report = ? AND fingerprint = ? ORDER BY position",
                (self.report, self.fingerprint),
            )
        ]
        total = sum(size for _, size in kept)
        dropped = []
        while total > self.budget and len(kept) > 1:
            # The stretch left without a checkpoint if the i-th went (never the newest).
            gaps = [kept[i + 1][0] - (kept[i - 1][0] if i else 0) for i in range(len(kept) - 1)]
            i = gaps.index(min(gaps))
            total -= kept[i][1]
            dropped.append(kept.pop(i)[0])
        for position in dropped:
            self.views.execute(
                f"DELETE FROM {self.table} WHERE report = ? AND fingerprint = ? AND position = ?",
                (self.report, self.fingerprint, position),
            )

    def size(self) -> tuple[int, int]:
        """How many checkpoints of this report are kept, and their bytes."""
        with self.views.snapshot():
            rows = self.views.fetchall(
                f"SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM {self.table} "
                "WHERE report = ? AND fingerprint = ?",
                (self.report, self.fingerprint),
            )
        return int(rows[0][0]), int(rows[0][1])
