"""The rules of input: one set, kept on the attrs classes, for JSON and Python alike.

Commands and the value objects they carry declare their fields with the helpers here
(:func:`ident`, :func:`label`, :func:`prose`, :func:`count`, :func:`moment`, :func:`day`...),
so a command built in Python is refused exactly where the same value in JSON is. The
converter only turns JSON into Python types; what a value must be is decided here.

A rule that fails raises :class:`BrokenRule`, an
:class:`~safecomm_core.errors.InvalidCommand` naming the attribute and the rule; the
converter prefixes the attribute's full path when the object is nested.

The bounds below are domain rules, set once here; ``docs/input-rules.md`` lists them.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import typing
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import UnionType
from typing import Any

import attrs

from safecomm_core.errors import FieldError, InvalidCommand

__all__ = [
    "AMOUNT_MAX",
    "COUNT_MAX",
    "EARLIEST_DAY",
    "EXCERPT_LENGTH",
    "ID_MAX_LENGTH",
    "LABEL_MAX_LENGTH",
    "LATEST_DAY",
    "PHONE_MAX_DIGITS",
    "PHONE_MIN_DIGITS",
    "TEXT_MAX_LENGTH",
    "BrokenRule",
    "amount",
    "amount_rule",
    "check_text",
    "check_types",
    "count",
    "count_or_none",
    "day",
    "day_or_none",
    "excerpt",
    "free_text_fields",
    "ident",
    "ident_or_none",
    "identifier",
    "ids",
    "label",
    "label_or_none",
    "labels",
    "listed",
    "matches",
    "member_rule",
    "moment",
    "non_negative",
    "nonempty",
    "notes",
    "one_of_or_none",
    "phone",
    "positive",
    "prose",
    "prose_or_none",
    "shown_name",
    "text_rule",
]

# -- the bounds of input (domain rules) -------------------------------------------------

#: Longest id (record ids, command ids, actor ids, communities, staff ids).
ID_MAX_LENGTH = 64
#: Longest short text: names, titles, places, sources, addresses.
LABEL_MAX_LENGTH = 200
#: Longest free text: summaries, notes, minutes, reasons, messages.
TEXT_MAX_LENGTH = 4000
#: The programme's plausible window: no date or moment of a command falls outside it.
EARLIEST_DAY = date(1990, 1, 1)
LATEST_DAY = date(2100, 12, 31)
#: Largest count (people reached, attendance, entries, cases, metres, minutes).
COUNT_MAX = 1_000_000
#: Largest amount of a target or baseline.
AMOUNT_MAX = 1e9
#: A phone number has at least this many digits (and at most 15, as E.164 allows).
PHONE_MIN_DIGITS = 5
PHONE_MAX_DIGITS = 15
#: Largest command, in bytes of its JSON (a request's body, a line of an import).
COMMAND_MAX_BYTES = 1 << 20
#: How much of a refused value an error message may quote.
EXCERPT_LENGTH = 40


class BrokenRule(InvalidCommand):
    """A field broke a rule: names the attribute and the rule.

    Raised by validators, so a command or value object built in Python fails with the
    same :class:`~safecomm_core.errors.InvalidCommand` a JSON command gets; the converter
    prefixes the attribute's full path when the object is nested.
    """

    def __init__(self, attribute: str, rule: str) -> None:
        super().__init__([FieldError(attribute, rule)])
        self.attribute = attribute


def excerpt(value: object) -> str:
    """A bounded, printable quotation of a refused value, for error messages."""
    text = value if isinstance(value, str) else repr(value)
    short = text[:EXCERPT_LENGTH]
    quoted = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode()
        for ch in short
    )
    return f"'{quoted}'" + ("..." if len(text) > EXCERPT_LENGTH else "")


def shown_name(key: object) -> str:
    """A field's name as an error may show it: as it is if printable and short, else quoted."""
    text = str(key)
    return text if text.isprintable() and len(text) <= EXCERPT_LENGTH else excerpt(text)


# -- validators -------------------------------------------------------------------------

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _string(attribute: attrs.Attribute[Any], value: Any) -> str:
    if not isinstance(value, str):
        raise BrokenRule(attribute.name, "must be str")
    return value


def identifier(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: an id.

    Printable characters only (no control, format, private-use, unassigned or unusual
    space characters), no space at either end, at most :data:`ID_MAX_LENGTH` long, and in
    NFKC form: full-width look-alikes (``Ｃ１``) and other compatibility characters are
    refused rather than silently changed, so an id reads back exactly as it was given and
    two spellings never name one record.
    """
    text = _string(attribute, value)
    name = attribute.name
    if not text.strip():
        raise BrokenRule(name, "must not be empty")
    if len(text) > ID_MAX_LENGTH:
        raise BrokenRule(name, f"at most {ID_MAX_LENGTH} characters")
    if not text.isprintable():
        raise BrokenRule(name, "printable characters only (no control or format characters)")
    if text != text.strip():
        raise BrokenRule(name, "no space at either end")
    if unicodedata.normalize("NFKC", text) != text:
        raise BrokenRule(name, "no full-width or compatibility characters (NFKC form)")


# Control characters (Cc) other than tab and newline, and lone surrogates (Cs): text that
# carries them breaks terminals, files and databases downstream.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def text_rule(maximum: int, *, required: bool) -> Validator:
    """attrs validator factory: free text of at most ``maximum`` characters.

    Tab and newline are the only control characters allowed. ``required`` text must not
    be blank (spaces of any kind, U+3000 included, do not count).
    """

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_text(attribute.name, _string(attribute, value), maximum, required=required)

    return check


def check_text(name: str, text: str, maximum: int = TEXT_MAX_LENGTH, *, required: bool) -> None:
    """Free text ``text`` of field ``name`` against the rules of :func:`text_rule`, for
    text that arrives outside a command (a reason for opening personal data)."""
    if required and not text.strip():
        raise BrokenRule(name, "must not be empty")
    if len(text) > maximum:
        raise BrokenRule(name, f"at most {maximum} characters")
    if _BAD_TEXT.search(text):
        raise BrokenRule(name, "no control characters (tab and newline only)")


def nonempty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    """attrs validator: a string that is not blank."""
    if not _string(attribute, value).strip():
        raise BrokenRule(attribute.name, "must not be empty")


def _number(attribute: attrs.Attribute[Any], value: Any, *kinds: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise BrokenRule(attribute.name, f"must be {kinds[-1].__name__}")
    return value


def count_rule(minimum: int) -> Validator:
    """attrs validator factory: a whole number from ``minimum`` to :data:`COUNT_MAX`."""

    below = "must be zero or more" if minimum == 0 else f"must be {minimum} or more"
    if minimum == 1:
        below = "must be above zero"

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        number = _number(attribute, value, int)
        if number < minimum:
            raise BrokenRule(attribute.name, below)
        if number > COUNT_MAX:
            raise BrokenRule(attribute.name, f"at most {COUNT_MAX}")

    return check


#: attrs validator: a count of zero or more.
non_negative = count_rule(0)
#: attrs validator: a count of one or more.
positive = count_rule(1)


def amount_rule(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: a finite number from 0 to :data:`AMOUNT_MAX`, or None."""
    if value is not None:
        number = _number(attribute, value, int, float)
        if not math.isfinite(number) or number < 0:
            raise BrokenRule(attribute.name, "must be a finite number of zero or more")
        if number > AMOUNT_MAX:
            raise BrokenRule(attribute.name, f"at most {AMOUNT_MAX:g}")


def _in_window(attribute: attrs.Attribute[Any], day_: date) -> None:
    if not EARLIEST_DAY <= day_ <= LATEST_DAY:
        raise BrokenRule(attribute.name, f"must fall between {EARLIEST_DAY} and {LATEST_DAY}")


def moment_rule(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: a date-time with a UTC offset, inside the programme's window."""
    if not isinstance(value, datetime):
        raise BrokenRule(attribute.name, "must be an ISO 8601 date-time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BrokenRule(attribute.name, "must carry a UTC offset (e.g. +08:00)")
    # The wall-clock date: converting a year-9999 moment to UTC would overflow.
    _in_window(attribute, value.date())


def day_rule(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: a calendar date inside the programme's window."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise BrokenRule(attribute.name, "must be a date YYYY-MM-DD")
    _in_window(attribute, value)


def matches(pattern: str, rule: str) -> Validator:
    """attrs validator factory: an optional string matching ``pattern`` in full."""
    compiled = re.compile(pattern, re.ASCII)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not compiled.fullmatch(_string(attribute, value)):
            raise BrokenRule(attribute.name, rule)

    return check


_PHONE = re.compile(r"\+?[0-9](?:[0-9 \-]*[0-9])?", re.ASCII)


def phone_rule(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: an optional phone number.

    ASCII digits with an optional leading ``+``, spaces and hyphens between them, and
    from :data:`PHONE_MIN_DIGITS` to :data:`PHONE_MAX_DIGITS` digits.
    """
    if value is None:
        return
    text = _string(attribute, value)
    digits = sum(ch.isdigit() for ch in text)
    if (
        not _PHONE.fullmatch(text)
        or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS
        or len(text) > 2 * PHONE_MAX_DIGITS
    ):
        raise BrokenRule(attribute.name, "must be a phone number")


def one_of_or_none(*allowed: str) -> Validator:
    """attrs validator factory: an optional string among ``allowed``."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value not in allowed:
            raise BrokenRule(attribute.name, "must be one of " + ", ".join(allowed))

    return check


# -- fields: a rule and its type in one word --------------------------------------------

_optional = attrs.validators.optional


def _field(rules: list[Validator], **kwargs: Any) -> Any:
    return attrs.field(validator=rules, **kwargs)


def ident(*also: Validator, **kwargs: Any) -> Any:
    """An id field (see :func:`identifier`), with any further rules; attrs' ``default``."""
    return _field([identifier, *also], **kwargs)


def ident_or_none() -> Any:
    """An optional id field, None by default."""
    return _field([_optional(identifier)], default=None)


def label(**kwargs: Any) -> Any:
    """Short required text: at most :data:`LABEL_MAX_LENGTH` characters, not blank."""
    return _field([text_rule(LABEL_MAX_LENGTH, required=True)], **kwargs)


def label_or_none() -> Any:
    """Optional short text, None by default; when given, not blank."""
    return _field([_optional(text_rule(LABEL_MAX_LENGTH, required=True))], default=None)


#: The metadata key that marks a command's free-text fields (see :func:`free_text_fields`).
_FREE_TEXT = "safecomm_free_text"


def prose(**kwargs: Any) -> Any:
    """Required free text: at most :data:`TEXT_MAX_LENGTH` characters, not blank."""
    return _field(
        [text_rule(TEXT_MAX_LENGTH, required=True)], metadata={_FREE_TEXT: True}, **kwargs
    )


def prose_or_none() -> Any:
    """Optional free text, None by default; when given, not blank."""
    return _field(
        [_optional(text_rule(TEXT_MAX_LENGTH, required=True))],
        default=None,
        metadata={_FREE_TEXT: True},
    )


def notes(*also: Validator) -> Any:
    """Free text that may be left empty (the default), with any further rules."""
    return _field(
        [text_rule(TEXT_MAX_LENGTH, required=False), *also],
        default="",
        metadata={_FREE_TEXT: True},
    )


def free_text_fields(cls: type) -> tuple[str, ...]:
    """The names of the fields of ``cls`` (a command) that take free text (:func:`prose`,
    :func:`prose_or_none`, :func:`notes`): what staff write in their own words, which may
    name people, and is therefore sealed in the events (docs/personal-data.md, *Free
    text*) but for what is published on purpose."""
    return tuple(f.name for f in attrs.fields(cls) if f.metadata.get(_FREE_TEXT))


def count(*, minimum: int = 0) -> Any:
    """A whole number from ``minimum`` to :data:`COUNT_MAX`."""
    return _field([count_rule(minimum)])


def count_or_none() -> Any:
    """An optional count of zero or more, None by default."""
    return _field([_optional(non_negative)], default=None)


def amount(**kwargs: Any) -> Any:
    """A finite amount from 0 to :data:`AMOUNT_MAX` (None allowed where typed so)."""
    return _field([amount_rule], **kwargs)


def moment() -> Any:
    """A date-time with a UTC offset inside the programme's window."""
    return _field([moment_rule])


def day() -> Any:
    """A calendar date inside the programme's window."""
    return _field([day_rule])


def day_or_none() -> Any:
    """An optional calendar date, None by default."""
    return _field([_optional(day_rule)], default=None)


def phone() -> Any:
    """An optional phone number, None by default."""
    return _field([phone_rule], default=None)


def listed(rule: Validator) -> Validator:
    """attrs validator factory: a tuple whose every item keeps ``rule``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple):
            raise BrokenRule(attribute.name, "must be a list")
        for i, item in enumerate(value):
            try:
                rule(instance, attribute, item)
            except BrokenRule as exc:
                where = exc.field.replace(attribute.name, f"{attribute.name}[{i}]", 1)
                raise BrokenRule(where, exc.rule) from None

    return check


def member_rule(member: str, rule: Validator, *, each: bool = False) -> Validator:
    """attrs validator factory: ``rule`` on one field of a value object (on each item of it).

    For value objects that stored events share: their own classes keep what every stored
    event already holds, and the commands that bring new ones in add the rules of the door.
    """

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not attrs.has(type(value)):
            return  # not the value object at all: the type check names it
        field = attrs.fields_dict(type(value))[member]
        inner = getattr(value, member)
        for i, item in enumerate(inner) if each else [(None, inner)]:
            try:
                rule(value, field, item)
            except BrokenRule as exc:
                index = "" if i is None else f"[{i}]"
                raise BrokenRule(f"{attribute.name}.{member}{index}", exc.rule) from None

    return check


def ids(**kwargs: Any) -> Any:
    """A list of ids (kept as a tuple)."""
    return _field([listed(identifier)], **kwargs)


def labels(*also: Validator, **kwargs: Any) -> Any:
    """A list of short texts (kept as a tuple), with any further rules."""
    return _field([listed(text_rule(LABEL_MAX_LENGTH, required=True)), *also], **kwargs)


# -- types, for objects built in Python ---------------------------------------------------


def check_types(instance: Any) -> None:
    """Raise :class:`InvalidCommand` naming every field whose value is not of its type.

    The converter gives JSON input its declared types; this gives a command built in
    Python the same check (enum members, nested objects, tuples), nested objects included.
    """
    errors = list(_type_errors(instance, ""))
    if errors:
        raise InvalidCommand(errors)


def _type_errors(instance: Any, path: str) -> typing.Iterator[FieldError]:
    cls: type = type(instance)
    for name, hint in _hints(cls).items():
        yield from _misfits(getattr(instance, name), hint, f"{path}{name}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    resolved = typing.get_type_hints(cls)
    return {a.name: resolved[a.name] for a in attrs.fields(cls)}


def _is_value_of(kind: type[enum.Enum], value: Any) -> bool:
    try:
        kind(value)
    except (ValueError, TypeError):
        return False
    return type(value) is type(kind(value).value)


def _type_name(hint: Any) -> str:
    return str(getattr(hint, "__name__", hint))


def _misfits(value: Any, hint: Any, path: str) -> typing.Iterator[FieldError]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, UnionType):
        if value is None and type(None) in args:
            return
        members = [a for a in args if a is not type(None)]
        if len(members) > 1:  # fits if it fits one of them (a rule's int or bool)
            if all(any(_misfits(value, m, path)) for m in members):
                yield FieldError(path, "must be " + " or ".join(map(_type_name, members)))
            return
        hint = members[0]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if not isinstance(value, tuple):
            yield FieldError(path, "must be a list")
            return
        for i, item in enumerate(value):
            yield from _misfits(item, args[0], f"{path}[{i}]")
    elif origin is dict:
        if not isinstance(value, Mapping):
            yield FieldError(path, "must be an object")
            return
        for key, item in value.items():
            yield from _misfits(key, args[0], path)
            yield from _misfits(item, args[1], f"{path}.{key}")
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        # A member, or its value: a StrEnum member equals its value, as JSON gives it.
        if not isinstance(value, hint) and not _is_value_of(hint, value):
            yield FieldError(path, "must be one of " + ", ".join(repr(m.value) for m in hint))
    elif isinstance(hint, type) and attrs.has(hint):
        if not isinstance(value, hint):
            yield FieldError(path, f"must be {hint.__name__}")
        else:
            yield from _type_errors(value, f"{path}.")
    elif hint is bool and type(value) is not bool:
        yield FieldError(path, "must be bool")
    elif hint in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, hint))):
        yield FieldError(path, f"must be {hint.__name__}")
    elif hint is str and not isinstance(value, str):
        yield FieldError(path, "must be str")
