"""Committed positions of followers of the log that are not projections.

A follower outside the views (the stream publisher, the alert dispatcher) keeps, per name,
the last position it has finished with. The rows live where the store's views live
(:func:`~safecomm_core.projections.database.open_views`: a file beside a SQLite store,
prefixed tables on PostgreSQL), so they go with the store. Each follower names its own
table: a key column (the stream, the dispatcher), ``position`` and ``updated_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from safecomm_core.projections.database import ViewDatabase, quote
from safecomm_core.projections.schema import INTEGER, TEXT, TIMESTAMP, Column, Table

__all__ = ["FollowerPositions", "positions_table"]


def positions_table(name: str, key: str, doc: str) -> Table:
    """A table of committed positions called ``name``, one row per ``key``."""
    return Table(
        name,
        columns=(
            Column(key, TEXT, nullable=False),
            Column("position", INTEGER, nullable=False, doc="last position finished with"),
            Column("updated_at", TIMESTAMP, nullable=False),
        ),
        key=(key,),
        doc=doc,
    )


class FollowerPositions:
    """Read and commit followers' positions in ``table`` (see :func:`positions_table`)."""

    def __init__(self, views: ViewDatabase, table: Table) -> None:
        self._views = views
        self._spec = table
        self._table = views.name(table.name)
        with views.transaction():
            views.create_table(self._table, table)

    def get(self, key: str) -> int:
        """The last committed position of ``key`` (0 before the first)."""
        rows = self._views.fetchall(
            f"SELECT position FROM {quote(self._table)} {self._views.key_where(self._spec)}",
            (key,),
        )
        return int(rows[0][0]) if rows else 0

    def commit(self, key: str, position: int) -> None:
        """Record that ``key`` has finished with everything up to ``position``."""
        row = {self._spec.key[0]: key, "position": position, "updated_at": datetime.now(UTC)}
        with self._views.transaction():
            self._views.execute(
                self._views.upsert_sql(self._table, self._spec),
                self._views.encode_row(self._spec, row),
            )

    def close(self) -> None:
        """Release the views database."""
        self._views.close()
