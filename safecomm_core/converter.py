"""The one cattrs converter of record, and how its errors become :class:`FieldError` s.

It is strict on purpose: input from JSON lines and HTTP bodies is checked, not coerced. A
string is never turned into a number, a number never into a string, a date-time must carry
its offset, and unknown fields are refused. The same converter writes value objects into
stored events (see :mod:`safecomm_core.transcoding`), so what goes in is what comes out.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar, get_args

import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.v import format_exception

from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import BrokenRule

__all__ = ["converter", "field_errors", "make_converter", "structure"]

T = TypeVar("T")


def _structure_datetime(value: Any, _type: type) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise BrokenRule("", "must be an ISO 8601 date-time") from None
    else:
        raise BrokenRule("", "must be an ISO 8601 date-time string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BrokenRule("", "must carry a UTC offset (e.g. +08:00)")
    return parsed


def _structure_date(value: Any, _type: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BrokenRule("", "must be a date YYYY-MM-DD")


def _strict(kind: type, *accepted: type) -> Any:
    allowed = accepted or (kind,)

    def hook(value: Any, type_: type) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise BrokenRule("", f"must be {kind.__name__}, not a boolean")
        if not isinstance(value, allowed):
            raise BrokenRule("", f"must be {kind.__name__}")
        return type_(value)

    return hook


def make_converter() -> cattrs.Converter:
    """Build a converter configured for safecomm's value objects and commands."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(date, date.isoformat)
    # Registered per class, these hooks also receive StrEnum/IntEnum fields: they check
    # the JSON type, then build the declared type (an enum member, not a bare str).
    conv.register_structure_hook(str, _strict(str))
    conv.register_structure_hook(int, _strict(int))
    conv.register_structure_hook(float, _strict(float, int, float))
    conv.register_structure_hook(bool, _strict(bool))
    return conv


#: The converter of record. Never use cattrs' global converter.
converter = make_converter()


_SEP = "\x1f"  # joins a validator's attribute name to its rule inside cattrs' messages


def _describe(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, BrokenRule):
        return f"{exc.attribute}{_SEP}{exc.rule}"
    if isinstance(exc, ForbiddenExtraKeysError):
        return _SEP.join(sorted(exc.extra_fields)) + _SEP + "unknown field"
    enum = _enum_of(type_)
    if enum is not None and isinstance(exc, (ValueError, TypeError)):
        optional = " or null" if type_ is not enum else ""
        return _SEP + "must be one of " + ", ".join(repr(m.value) for m in enum) + optional
    return _SEP + format_exception(exc, type_)


def _enum_of(type_: Any) -> type[Enum] | None:
    """The enum of a field typed ``E`` or ``E | None``."""
    if isinstance(type_, type) and issubclass(type_, Enum):
        return type_
    members = [t for t in get_args(type_) if t is not type(None)]
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], Enum):
        return members[0]
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def field_errors(exc: BaseException) -> list[FieldError]:
    """Flatten a structuring failure into one :class:`FieldError` per broken field."""
    if isinstance(exc, BrokenRule):
        return [FieldError(exc.attribute, exc.rule)]
    if not isinstance(exc, cattrs.BaseValidationError):
        return [FieldError("", str(exc))]
    errors: list[FieldError] = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_describe):
        message, _, path = line.rpartition(" @ ")
        path = path.removeprefix("$").removeprefix(".")
        *names, rule = message.split(_SEP)
        errors.extend(FieldError(_join(path, name), rule) for name in names)
    return errors


def structure(data: Any, cls: type[T]) -> T:
    """Structure ``data`` as ``cls`` or raise :class:`InvalidCommand` naming every field."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, BrokenRule) as exc:
        raise InvalidCommand(field_errors(exc)) from None
