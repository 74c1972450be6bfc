"""Checks of a command's shape that a single field's validator cannot make.

They raise :class:`~safecomm_core.errors.InvalidCommand` from ``run``, before any record is
loaded, so a malformed list is refused with the field's name and nothing is written.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from safecomm_core.errors import FieldError, InvalidCommand

__all__ = ["distinct_errors", "require_distinct"]


def distinct_errors(
    field: str, values: Iterable[Hashable], *, at_least: int = 1, what: str = ""
) -> list[FieldError]:
    """Errors of a list that must hold ``at_least`` items, none blank, each once.

    ``what`` names one item in the rules: "at least one party", "each party once".
    """
    items = list(values)
    errors = [
        FieldError(f"{field}[{i}]", "must not be empty")
        for i, v in enumerate(items)
        if isinstance(v, str) and not v.strip()
    ]
    if len(items) < at_least:
        least = f"one {what}" if at_least == 1 and what else str(at_least)
        errors.append(FieldError(field, f"at least {least}"))
    if len(set(items)) != len(items):
        errors.append(FieldError(field, f"each {what} once" if what else "each once"))
    return errors


def require_distinct(
    field: str, values: Iterable[Hashable], *, at_least: int = 1, what: str = ""
) -> None:
    """Raise :class:`InvalidCommand` unless the list passes :func:`distinct_errors`."""
    errors = distinct_errors(field, values, at_least=at_least, what=what)
    if errors:
        raise InvalidCommand(errors)
