"""The tables a projection writes: columns of a few portable types, a key, indexes.

A projection declares its tables once; the runner creates them for each generation on
SQLite and PostgreSQL alike. Column types are few on purpose: every value must mean the
same on both backends, so that a view's digest does not depend on where it was built.

=============  ==================  ==========================  ==========================
type           Python value        SQLite                      PostgreSQL
=============  ==================  ==========================  ==========================
``TEXT``       ``str`` (no NUL)    TEXT                        text
``INTEGER``    ``int``             INTEGER                     bigint
``REAL``       ``float``           REAL                        double precision
``BOOLEAN``    ``bool``            INTEGER 0/1                 boolean
``TIMESTAMP``  aware ``datetime``  TEXT, ISO 8601 in UTC       timestamptz
``DATE``       ``date``            TEXT, ISO 8601              date
=============  ==================  ==========================  ==========================

Timestamps are kept in UTC with microseconds and a fixed width on SQLite, so that text
order is time order and ``>=`` comparisons in reports work as on PostgreSQL.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

import attrs

__all__ = [
    "BOOLEAN",
    "DATE",
    "INTEGER",
    "REAL",
    "TEXT",
    "TIMESTAMP",
    "Column",
    "ColumnType",
    "Row",
    "Table",
    "canonical_rows",
    "event_columns",
    "normalise",
]

#: A row as handlers and readers see it: column name → Python value.
Row = dict[str, Any]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ColumnType(enum.StrEnum):
    """The portable column types (see the module's table)."""

    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"


TEXT = ColumnType.TEXT
INTEGER = ColumnType.INTEGER
REAL = ColumnType.REAL
BOOLEAN = ColumnType.BOOLEAN
TIMESTAMP = ColumnType.TIMESTAMP
DATE = ColumnType.DATE


def _identifier(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _NAME.fullmatch(value):
        raise ValueError(f"{attribute.name} {value!r}: lower-case letters, digits and _ only")


@attrs.frozen
class Column:
    """One column: a name, a portable type, whether it may be NULL, and what it means."""

    name: str = attrs.field(validator=_identifier)
    type: ColumnType = attrs.field(converter=ColumnType)
    nullable: bool = True
    doc: str = ""


def _columns(columns: Iterable[Column]) -> tuple[Column, ...]:
    return tuple(columns)


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


def _indexes(indexes: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(i) for i in indexes)


@attrs.frozen
class Table:
    """A table of a projection: its columns, its key, and the indexes reports need."""

    name: str = attrs.field(validator=_identifier)
    columns: tuple[Column, ...] = attrs.field(converter=_columns)
    key: tuple[str, ...] = attrs.field(converter=_names)
    indexes: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=_indexes)
    doc: str = ""
    _by_name: dict[str, Column] = attrs.field(init=False, eq=False, repr=False)
    _names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _key_columns: tuple[Column, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Handlers look columns up on every write: a dict, not a scan.
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "_names", frozenset(self._by_name))
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name!r} names a column twice")
        if not self.key:
            raise ValueError(f"table {self.name!r} needs a key")
        for column_names in (self.key, *self.indexes):
            unknown = set(column_names) - set(names)
            if unknown:
                raise ValueError(f"table {self.name!r} has no column {sorted(unknown)}")
        for name in self.key:
            if self.column(name).nullable:
                raise ValueError(f"key column {self.name}.{name} must not be nullable")
        object.__setattr__(self, "_key_columns", tuple(self._by_name[n] for n in self.key))

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"table {self.name!r} has no column {name!r}") from None

    @property
    def key_columns(self) -> tuple[Column, ...]:
        """The key's columns, in the key's order."""
        return self._key_columns

    def has_columns(self, names: Iterable[str]) -> bool:
        """Whether every one of ``names`` is a column of this table."""
        return self._names.issuperset(names)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names, in declared order."""
        return tuple(c.name for c in self.columns)

    def fingerprint(self) -> str:
        """What makes two declarations of this table the same physical table."""
        shape = {
            "name": self.name,
            "columns": [[c.name, c.type.value, c.nullable] for c in self.columns],
            "key": list(self.key),
            "indexes": [list(i) for i in self.indexes],
        }
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key of ``row``, as a tuple in the key's column order."""
        return tuple(row[name] for name in self.key)


def event_columns() -> tuple[Column, ...]:
    """The columns that name a stored event: notification id, topic, originator version.

    For provenance: a row keeps the event that set it, with the originator's id in a
    column of its own (a dispute's id, say) that completes the event's identity.
    """
    return (
        Column("notification_id", INTEGER, nullable=False, doc="position in the store's log"),
        Column("topic", TEXT, nullable=False),
        Column("originator_version", INTEGER, nullable=False),
    )


#: The Python type of each column type's values (exactly: ``bool`` is no ``INTEGER``).
_PLAIN: dict[ColumnType, Any] = {
    ColumnType.TEXT: str,
    ColumnType.INTEGER: int,
    ColumnType.REAL: float,
    ColumnType.BOOLEAN: bool,
    ColumnType.TIMESTAMP: datetime,
    ColumnType.DATE: date,
}


def normalise(column: Column, value: Any) -> Any:
    """``value`` as the column keeps it, or a ``TypeError`` / ``ValueError`` naming the column.

    Handlers' mistakes surface here, inside the handler call, so that they become dead
    letters of the event that caused them rather than a failed batch.
    """
    # Values that are already what the column keeps are the common case (every column of
    # every row a handler writes): return them after the cheapest test that proves it.
    kind = column.type
    if type(value) is _PLAIN[kind]:
        if kind is ColumnType.TEXT:
            if "\x00" not in value:
                return value
        elif kind is ColumnType.INTEGER:
            if -(2**63) <= value < 2**63:
                return value
        elif kind is ColumnType.TIMESTAMP:
            if value.tzinfo is UTC:
                return value
        elif kind is not ColumnType.REAL:  # a bool or a date (not a datetime): as it is
            return value
    elif value is None and column.nullable:
        return None
    return _checked(column, value)


def _checked(column: Column, value: Any) -> Any:
    """:func:`normalise` of any value: converted, or refused with the column's name."""
    if value is None:
        if not column.nullable:
            raise ValueError(f"column {column.name!r} must not be NULL")
        return None
    kind = column.type
    if kind is ColumnType.TEXT:
        if not isinstance(value, str):
            raise TypeError(f"column {column.name!r} wants str, not {type(value).__name__}")
        if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it on both backends
            raise ValueError(f"column {column.name!r}: text must not contain NUL")
        return value
    if kind is ColumnType.BOOLEAN:
        if not isinstance(value, bool):
            raise TypeError(f"column {column.name!r} wants bool, not {type(value).__name__}")
        return value
    if kind is ColumnType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"column {column.name!r} wants int, not {type(value).__name__}")
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"column {column.name!r}: {value} does not fit in 64 bits")
        return value
    if kind is ColumnType.REAL:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"column {column.name!r} wants float, not {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"column {column.name!r}: {value} is not a finite number")
        return float(value)
    if kind is ColumnType.TIMESTAMP:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"column {column.name!r} wants a timezone-aware datetime")
        return value.astimezone(UTC)
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"column {column.name!r} wants a date, not {type(value).__name__}")
    return value


def timestamp_text(value: datetime) -> str:
    """A UTC timestamp as fixed-width ISO 8601 text (text order is time order)."""
    if value.tzinfo is not UTC:  # normalised values are UTC already
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


_CANONICAL: dict[ColumnType, Callable[[Any], Any]] = {
    ColumnType.TEXT: lambda v: v,
    ColumnType.INTEGER: lambda v: v,
    ColumnType.BOOLEAN: lambda v: v,
    ColumnType.REAL: repr,  # exact, and never confused with an int
    ColumnType.TIMESTAMP: timestamp_text,
    ColumnType.DATE: date.isoformat,
}


def canonical_rows(table: Table, rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Each row as canonical bytes: the same values give the same bytes on every backend."""
    columns = [(c.name, _CANONICAL[c.type]) for c in table.columns]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for row in rows:
        values = [None if row[name] is None else canon(row[name]) for name, canon in columns]
        yield dumps(values).encode()
