"""How value objects are kept inside stored events.

eventsourcing's JSON transcoder knows UUIDs, decimals and date-times. Every other value
type is kept by one generic :class:`ValueTranscoding`, registered per type under a stable
name (never a module path: audits read these records for years), and converted by the one
converter of record, so the store and the adapters agree on every value's form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from safecomm_core.converter import converter

__all__ = ["DateAsISO", "ValueTranscoding", "register_value_types", "value_type"]

_VALUE_TYPES: dict[str, type] = {}


def value_type(name: str) -> Any:
    """Class decorator: keep this attrs class in stored events under ``name``."""

    def register(cls: type) -> type:
        if _VALUE_TYPES.get(name, cls) is not cls:
            raise ValueError(f"stored name {name!r} is already used by {_VALUE_TYPES[name]}")
        _VALUE_TYPES[name] = cls
        return cls

    return register


class ValueTranscoding(Transcoding):
    """Keeps one attrs value type as the converter's plain form, under a stable name."""

    def __init__(self, type_: type, name: str) -> None:
        self.type = type_
        self.name = name

    def encode(self, obj: Any) -> Any:
        return converter.unstructure(obj)

    def decode(self, data: Any) -> Any:
        return converter.structure(data, self.type)


class DateAsISO(Transcoding):
    """Keeps calendar dates (arrival dates, phase windows) as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def register_value_types(transcoder: JSONTranscoder) -> None:
    """Register every declared value type (and dates) on an application's transcoder."""
    transcoder.register(DateAsISO())
    for name, cls in sorted(_VALUE_TYPES.items()):
        transcoder.register(ValueTranscoding(cls, name))
