"""The publisher's committed position, kept in the store's views database.

One row per stream a store is published to: the last position the broker acknowledged
(:class:`~safecomm_core.projections.positions.FollowerPositions`), so it goes with the store.
"""

from __future__ import annotations

from safecomm_core.projections.database import ViewDatabase
from safecomm_core.projections.positions import FollowerPositions, positions_table

__all__ = ["PUBLISHED", "PublishedPositions"]

PUBLISHED = positions_table(
    "stream_published",
    "stream",
    "How far each stream a store is published to has been acknowledged.",
)


class PublishedPositions(FollowerPositions):
    """Read and commit a stream's acknowledged position."""

    def __init__(self, views: ViewDatabase) -> None:
        super().__init__(views, PUBLISHED)
