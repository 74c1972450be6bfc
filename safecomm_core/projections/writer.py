"""What a handler writes through: rows of its projection's tables, found by key.

A :class:`ViewWriter` lives for one batch (one transaction). It keeps every row it has
read or written in memory and writes the changed ones once, at the end of the batch, with
one ``executemany`` per table: a dispute touched by five events in a batch costs one read
and one write, not ten statements. Every change is logged so that the runner can take back
what a failing handler half-wrote (:meth:`ViewWriter.undo`) before it records the event as a
dead letter; the rest of the batch goes on in the same transaction.

Values are checked against the table's columns as they are written (see
:func:`~safecomm_core.projections.schema.normalise`), so a handler's mistake fails inside
the handler, where it belongs to one event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from safecomm_core.projections.database import ViewDatabase, quote
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.schema import INTEGER, TEXT, ColumnType, Row, Table, normalise

__all__ = ["RowExists", "ViewWriter"]

_Key = tuple[Any, ...]
_UNKNOWN = object()  # undo marker: the row was written without being read first
_CHUNK = 500  # parameters per prefetch statement, well under SQLite's limit
#: The column types whose values a write checks without calling normalise, and their type.
_PLAIN: dict[ColumnType, type] = {TEXT: str, INTEGER: int}
_INT64 = 2**63


class RowExists(ValueError):
    """:meth:`ViewWriter.insert` found a row with the same key."""


class _TableState:
    def __init__(self, db: ViewDatabase, table: Table, name: str) -> None:
        self.table = table
        # Looked up on every write: kept here rather than derived from the table each time.
        self.columns = tuple((c.name, c, _PLAIN.get(c.type), c.nullable) for c in table.columns)
        self.by_name = {c.name: c for c in table.columns}
        self.key_names = frozenset(table.key)
        self.key_size = len(table.key)
        self.text_key = all(c.type is TEXT for c in table.key_columns)
        self.rows: dict[_Key, Row | None] = {}
        self.dirty: set[_Key] = set()
        self.select_all = db.select_sql(name, table)
        self.select = f"{self.select_all} {db.key_where(table)}"
        self.upsert = db.upsert_sql(name, table)
        self.delete = f"DELETE FROM {quote(name)} {db.key_where(table)}"
        self.encode = db.row_encoder(table)
        self.decode = db.row_decoder(table)
        self.name = name


class ViewWriter:
    """Reads and writes rows of one projection's tables in the running batch."""

    def __init__(self, db: ViewDatabase, projection: Projection, generation: int) -> None:
        self._db = db
        self._tables = {
            t.name: _TableState(db, t, db.physical(t.name, generation)) for t in projection.tables
        }
        # Handlers name their tables by the very objects the projection declares: found by
        # identity first, without hashing a table's every field.
        self._declared = {id(s.table): s for s in self._tables.values()}
        self._undo: list[tuple[_TableState, _Key, object]] = []

    # -- for handlers -----------------------------------------------------------------

    def get(self, table: Table | str, key: Any) -> Row | None:
        """The row of ``table`` with ``key`` (a value, or a tuple for a composite key)."""
        state = self._state(table)
        row = self._load(state, self._key(state, key))
        return dict(row) if row is not None else None

    def insert(self, table: Table | str, row: Mapping[str, Any]) -> None:
        """Add a row; :class:`RowExists` if its key is taken. Missing columns are NULL."""
        state = self._state(table)
        full = self._full_row(state, row)
        key = state.table.key_of(full)
        if self._load(state, key) is not None:
            raise RowExists(f"{state.table.name} already has a row with key {key!r}")
        self._set(state, key, full)

    def put(self, table: Table | str, row: Mapping[str, Any]) -> None:
        """Add a row, or replace the row with the same key. Missing columns are NULL."""
        state = self._state(table)
        full = self._full_row(state, row)
        self._set(state, state.table.key_of(full), full)

    def update(self, table: Table | str, key: Any, **changes: Any) -> bool:
        """Change some columns of the row with ``key``; False if there is no such row."""
        state = self._state(table)
        key = self._key(state, key)
        current = self._load(state, key)
        if current is None:
            return False
        changed = current.copy()
        for name, value in changes.items():
            if name in state.key_names:
                raise ValueError(f"cannot change key column {state.table.name}.{name}")
            column = state.by_name.get(name) or state.table.column(name)  # (which raises)
            changed[name] = normalise(column, value)
        self._set(state, key, changed)
        return True

    def delete(self, table: Table | str, key: Any) -> bool:
        """Remove the row with ``key``; False if there was none."""
        state = self._state(table)
        key = self._key(state, key)
        if self._load(state, key) is None:
            return False
        self._set(state, key, None)
        return True

    def find(self, table: Table | str, **equals: Any) -> list[Row]:
        """Rows whose columns equal the given values (None matches NULL), in key order.

        Sees this batch's writes: rows read from the database are overlaid with the ones
        this batch has changed.
        """
        state = self._state(table)
        wanted = {name: normalise(state.table.column(name), v) for name, v in equals.items()}
        conditions, params = [], []
        for name, value in wanted.items():
            if value is None:
                conditions.append(f"{quote(name)} IS NULL")
            else:
                conditions.append(f"{quote(name)} = ?")
                params.append(self._db.encode(state.table.column(name), value))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        found: dict[_Key, Row] = {}
        for values in self._db.fetchall(f"{state.select_all}{where}", params):
            row = state.decode(values)
            key = state.table.key_of(row)
            state.rows.setdefault(key, row)
            found[key] = row
        for key in state.dirty:
            mine = state.rows[key]
            if mine is not None and all(mine[n] == v for n, v in wanted.items()):
                found[key] = mine
            else:
                found.pop(key, None)
        return [dict(found[k]) for k in sorted(found)]

    def prefetch(self, table: Table | str, keys: Iterable[Any]) -> None:
        """Read the rows with ``keys`` in a few statements, ahead of the handlers' gets."""
        state = self._state(table)
        missing = list(
            dict.fromkeys(k for k in (self._key(state, x) for x in keys) if k not in state.rows)
        )
        columns = state.table.key_columns
        size = _CHUNK // len(columns)
        for start in range(0, len(missing), size):
            chunk = missing[start : start + size]
            if len(columns) == 1:
                where = f"{quote(columns[0].name)} IN ({', '.join('?' * len(chunk))})"
            else:
                # Row values (``(a, b) IN (VALUES …)``) make SQLite scan the table; an OR of
                # key matches is looked up in the key's index, term by term, on both backends.
                one = " AND ".join(f"{quote(c.name)} = ?" for c in columns)
                where = " OR ".join([f"({one})"] * len(chunk))
            fetched = self._db.fetchall(
                f"{state.select_all} WHERE {where}",
                [self._db.encode(c, v) for key in chunk for c, v in zip(columns, key, strict=True)],
            )
            for key in chunk:
                state.rows[key] = None
            for values in fetched:
                row = state.decode(values)
                state.rows[state.table.key_of(row)] = row

    # -- for the runner -----------------------------------------------------------------

    def begin(self) -> None:
        """Start one event's changes: :meth:`undo` takes back those, and only those.

        What came before can no longer be taken back, so the rows it replaced are freed
        as the batch goes rather than at its end.
        """
        self._undo.clear()

    def undo(self) -> None:
        """Take back every change made since :meth:`begin`."""
        while self._undo:
            state, key, previous = self._undo.pop()
            if previous is _UNKNOWN:
                # Never read, so the database still holds what was there: forget the change.
                state.rows.pop(key, None)
                state.dirty.discard(key)
            else:
                state.rows[key] = previous  # type: ignore[assignment]
                state.dirty.add(key)

    def flush(self) -> None:
        """Write every changed row to the database (inside the batch's transaction)."""
        for state in self._tables.values():
            if not state.dirty:
                continue
            puts, deletes = [], []
            # A fixed order, fewer lock surprises. Keys are tuples of normalised values of
            # the key's columns, never NULL: they compare as they are.
            for key in sorted(state.dirty):
                row = state.rows[key]
                if row is None:
                    deletes.append(self._key_params(state, key))
                else:
                    puts.append(state.encode(row))
            self._db.executemany(state.delete, deletes)
            self._db.executemany(state.upsert, puts)
            state.dirty.clear()

    # -- inside ---------------------------------------------------------------------------

    def _state(self, table: Table | str) -> _TableState:
        found = self._declared.get(id(table))
        if found is not None and found.table is table:  # the common case
            return found
        if type(table) is str:
            found = self._tables.get(table)
            if found is not None:
                return found
        name = table if isinstance(table, str) else table.name
        try:
            state = self._tables[name]
        except KeyError:
            raise KeyError(f"this projection has no table {name!r}") from None
        if table is not state.table and not isinstance(table, str) and table != state.table:
            raise ValueError(f"table {name!r} is not the one this projection declares")
        return state

    @staticmethod
    def _key(state: _TableState, key: Any) -> _Key:
        # The common cases, text ids alone or in a tuple, are checked without the general
        # path: they are already what the key columns keep.
        if state.text_key:
            if type(key) is str:
                if state.key_size == 1 and "\x00" not in key:
                    return (key,)
            elif (
                type(key) is tuple
                and len(key) == state.key_size
                and all(type(v) is str and "\x00" not in v for v in key)
            ):
                return key
        table = state.table
        values = key if isinstance(key, tuple) else (key,)
        if len(values) != state.key_size:
            raise ValueError(f"{table.name} is keyed by {table.key}, got {key!r}")
        return tuple(normalise(c, v) for c, v in zip(table.key_columns, values, strict=True))

    @staticmethod
    def _full_row(state: _TableState, row: Mapping[str, Any]) -> Row:
        table = state.table
        if not table.has_columns(row):
            unknown = sorted(set(row) - set(table.column_names))
            raise KeyError(f"{table.name} has no column(s) {unknown}")
        get = row.get
        full: Row = {}
        for name, column, plain, nullable in state.columns:
            value = get(name)
            kind = type(value)
            # Most values are NULL, text or integers already as kept: normalise's first
            # tests, without the call.
            if value is None:
                if nullable:
                    full[name] = None
                    continue
            elif kind is plain:
                if kind is str:
                    if "\x00" not in value:
                        full[name] = value
                        continue
                elif -_INT64 <= value < _INT64:
                    full[name] = value
                    continue
            full[name] = normalise(column, value)
        return full

    def _load(self, state: _TableState, key: _Key) -> Row | None:
        if key in state.rows:
            return state.rows[key]
        fetched = self._db.fetchall(state.select, self._key_params(state, key))
        row = state.decode(fetched[0]) if fetched else None
        state.rows[key] = row
        return row

    def _key_params(self, state: _TableState, key: _Key) -> list[Any]:
        columns = state.table.key_columns
        return [self._db.encode(c, v) for c, v in zip(columns, key, strict=True)]

    def _set(self, state: _TableState, key: _Key, row: Row | None) -> None:
        self._undo.append((state, key, state.rows.get(key, _UNKNOWN)))
        state.rows[key] = row
        state.dirty.add(key)
