"""Checks of a command's shape that a single field's validator cannot make.

They raise :class:`~safecomm_core.errors.InvalidCommand` from ``run``, before any record is
loaded, so a malformed list is refused with the field's name and nothing is written.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from safecomm_core.errors import FieldError, InvalidCommand

__all__ = ["require_distinct"]


def require_distinct(field: str, values: Iterable[Hashable], *, at_least: int = 1) -> None:
    """``values`` hold at least ``at_least`` items, each once."""
    items = list(values)
    errors: list[FieldError] = []
    if len(items) < at_least:
        errors.append(FieldError(field, f"at least {at_least}"))
    if len(set(items)) != len(items):
        errors.append(FieldError(field, "each once"))
    if errors:
        raise InvalidCommand(errors)
