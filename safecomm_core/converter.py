"""The one cattrs converter of record, and how its errors become :class:`FieldError` s.

It is strict on purpose: input from JSON lines and HTTP bodies is checked, not coerced. A
string is never turned into a number, a number never into a string, a string or an object
never into a list, and unknown fields are refused. What a value must be beyond its JSON
type (an offset on date-times, bounds, the grammar of ids and text) is the rule of the
field it fills, kept on the attrs classes (:mod:`safecomm_core.validation`), so that a
command built in Python meets the same rules. Every broken field is named, at any depth.
The same converter writes value objects into stored events (see
:mod:`safecomm_core.transcoding`), so what goes in is what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn
from cattrs.v import format_exception

from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import BrokenRule, shown_name

__all__ = ["converter", "field_errors", "make_converter", "structure"]

T = TypeVar("T")


def _structure_datetime(value: Any, _type: type) -> datetime:
    # Only the JSON form: whether it carries an offset and falls in the programme's window
    # is the field's rule (safecomm_core.validation), the same for commands built in Python.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise BrokenRule("", "must be an ISO 8601 date-time")


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


def _number_or_flag(value: Any, _type: Any) -> int | bool:
    # A rule's new value (rules.adopt): which of the two the rule takes is the Rules
    # class's own field type, checked when the full set is structured.
    if not isinstance(value, (int, bool)):
        raise BrokenRule("", "must be a whole number or a boolean")
    return value


def _is_list(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_mapping(type_: Any) -> bool:
    return get_origin(type_) is dict


def _list_hook(type_: Any, conv: cattrs.Converter) -> Any:
    items = homogenous_tuple_structure_factory(type_, conv)

    def hook(value: Any, _type: Any) -> Any:
        # A string or an object is iterable too: without this, "U03" became ("U","0","3").
        if not isinstance(value, (list, tuple)):
            raise BrokenRule("", "must be a list")
        return items(value, _type)

    return hook


def _mapping_hook(type_: Any, conv: cattrs.Converter) -> Any:
    key_type, value_type = get_args(type_)

    def hook(value: Any, _type: Any) -> Any:
        if not isinstance(value, Mapping):
            raise BrokenRule("", "must be an object")
        result, errors = {}, []
        for key, item in value.items():
            try:
                result[conv.structure(key, key_type)] = conv.structure(item, value_type)
            except Exception as exc:
                exc.__notes__ = [*getattr(exc, "__notes__", []), _at_key(key, value_type)]
                errors.append(exc)
        if errors:
            raise cattrs.ClassValidationError("While structuring a mapping", errors, dict)
        return result

    return hook


def _at_key(key: Any, type_: Any) -> AttributeValidationNote:
    return AttributeValidationNote(f"Structuring key {shown_name(key)}", shown_name(key), type_)


def _record_hook(cls: type, conv: cattrs.Converter) -> Any:
    fast: Any = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True)

    def hook(value: Any, _type: Any) -> Any:
        if not isinstance(value, Mapping):
            raise BrokenRule("", "must be an object")
        try:
            return fast(value, cls)
        except Exception as exc:
            # cattrs stops at the first failing class: look again, field by field, so that
            # the error names every broken field at every depth.
            raise _every_error(conv, cls, value) or exc from None

    return hook


def _every_error(
    conv: cattrs.Converter, cls: type, data: Mapping[str, Any]
) -> cattrs.ClassValidationError | None:
    """Every field of ``data`` that cannot be structured, or breaks its rule, as one error."""
    fields = attrs.fields(cls)
    errors: list[Exception] = []
    extra = set(data) - {f.alias for f in fields}
    if extra:
        errors.append(ForbiddenExtraKeysError(None, cls, extra))
    values: dict[str, Any] = {}
    for f in fields:
        note = AttributeValidationNote(f"Structuring {cls.__name__}.{f.name}", f.name, f.type)
        if f.alias not in data:
            if f.default is attrs.NOTHING:
                missing = KeyError(f.alias)
                missing.__notes__ = [note]
                errors.append(missing)
            continue
        try:
            value = conv.structure(data[f.alias], f.type)
            values[f.name] = f.converter(value) if callable(f.converter) else value
        except Exception as exc:
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]
            errors.append(exc)
    # The rules of the fields that could be read, against what the object would hold.
    defaults = {f.name: f.default for f in fields if not isinstance(f.default, type(attrs.NOTHING))}
    view = SimpleNamespace(**{**defaults, **values})
    for f in fields:
        if f.name in values and f.validator is not None:
            try:
                f.validator(view, f, values[f.name])
            except BrokenRule as exc:
                errors.append(exc)
            except InvalidCommand as exc:  # a rule that names several broken parts at once
                errors.extend(BrokenRule(e.field, e.rule) for e in exc.errors)
            except Exception:  # a rule needing a field that is itself broken
                continue
    if not errors:
        return None
    return cattrs.ClassValidationError(f"While structuring {cls.__name__}", errors, cls)


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
    conv.register_structure_hook(int | bool, _number_or_flag)
    conv.register_structure_hook_factory(_is_list, lambda t: _list_hook(t, conv))
    conv.register_structure_hook_factory(_is_mapping, lambda t: _mapping_hook(t, conv))
    conv.register_structure_hook_factory(attrs.has, lambda t: _record_hook(t, conv))
    return conv


#: The converter of record. Never use cattrs' global converter.
converter = make_converter()


_SEP = "\x1f"  # joins a validator's attribute name to its rule inside cattrs' messages


def _describe(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, BrokenRule):
        return f"{exc.attribute}{_SEP}{exc.rule}"
    if isinstance(exc, ForbiddenExtraKeysError):
        return _SEP.join(sorted(map(shown_name, exc.extra_fields))) + _SEP + "unknown field"
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
