"""Validators for attrs value objects and commands.

A validator raises :class:`BrokenRule` naming the attribute and the rule; the converter
turns it into a field error with the attribute's full path.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

__all__ = ["BrokenRule", "matches", "non_negative", "nonempty", "one_of_or_none", "positive"]


class BrokenRule(ValueError):
    """Raised by a value object's validator: names the attribute and the rule.

    The converter turns it into a :class:`~safecomm_core.errors.FieldError` with the
    attribute's full path, so validators never need to know where they are nested.
    """

    def __init__(self, attribute: str, rule: str) -> None:
        super().__init__(f"{attribute}: {rule}")
        self.attribute = attribute
        self.rule = rule


def nonempty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    """attrs validator: a string that is not blank."""
    if not value.strip():
        raise BrokenRule(attribute.name, "must not be empty")


def non_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    """attrs validator: a count of zero or more."""
    if value < 0:
        raise BrokenRule(attribute.name, "must be zero or more")


def positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: a number above zero."""
    if value <= 0:
        raise BrokenRule(attribute.name, "must be above zero")


def matches(pattern: str, rule: str) -> Any:
    """attrs validator factory: an optional string matching ``pattern`` in full."""
    compiled = re.compile(pattern)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not compiled.fullmatch(value):
            raise BrokenRule(attribute.name, rule)

    return check


def one_of_or_none(*allowed: str) -> Any:
    """attrs validator factory: an optional string among ``allowed``."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value not in allowed:
            raise BrokenRule(attribute.name, "must be one of " + ", ".join(allowed))

    return check
