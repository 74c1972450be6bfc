"""The publisher's committed position, kept in the store's views database.

One row per stream a store is published to: the last position the broker acknowledged.
It lives where the store's views live (:func:`safecomm_core.projections.database.open_views`:
a file beside a SQLite store, prefixed tables on PostgreSQL), so it goes with the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

from safecomm_core.projections.database import ViewDatabase, quote
from safecomm_core.projections.schema import INTEGER, TEXT, TIMESTAMP, Column, Table

__all__ = ["PUBLISHED", "PublishedPositions"]

PUBLISHED = Table(
    "stream_published",
    columns=(
        Column("stream", TEXT, nullable=False),
        Column("position", INTEGER, nullable=False, doc="last position the broker acknowledged"),
        Column("updated_at", TIMESTAMP, nullable=False),
    ),
    key=("stream",),
    doc="How far each stream a store is published to has been acknowledged.",
)


class PublishedPositions:
    """Read and commit a stream's acknowledged position."""

    def __init__(self, views: ViewDatabase) -> None:
        self._views = views
        self._table = views.name(PUBLISHED.name)
        with views.transaction():
            views.create_table(self._table, PUBLISHED)

    def get(self, stream: str) -> int:
        """The last acknowledged position of ``stream`` (0 before the first)."""
        rows = self._views.fetchall(
            f"SELECT position FROM {quote(self._table)} {self._views.key_where(PUBLISHED)}",
            (stream,),
        )
        return int(rows[0][0]) if rows else 0

    def commit(self, stream: str, position: int) -> None:
        """Record that the broker has acknowledged ``stream`` up to ``position``."""
        row = {"stream": stream, "position": position, "updated_at": datetime.now(UTC)}
        with self._views.transaction():
            self._views.execute(
                self._views.upsert_sql(self._table, PUBLISHED),
                self._views.encode_row(PUBLISHED, row),
            )

    def close(self) -> None:
        """Release the views database."""
        self._views.close()
