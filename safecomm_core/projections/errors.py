"""Errors of the projection runtime; both are :class:`~safecomm_core.errors.StoreError`\\ s.

::

    StoreError (RuntimeError)
    └── ProjectionError         the views and the store disagree, or an event cannot be read
        └── ViewDatabaseError   the view database failed (locked, gone, full)

A handler's own error is not among them: it becomes a dead letter and the projection goes on.
"""

from __future__ import annotations

from safecomm_core.errors import StoreError

__all__ = ["ProjectionError", "ViewDatabaseError"]


class ProjectionError(StoreError):
    """A projection cannot go on: its views do not match the store, or an event is unreadable."""


class ViewDatabaseError(ProjectionError):
    """The database holding the views failed; the batch was rolled back and can be retried."""
