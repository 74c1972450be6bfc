"""Digests of a generation's rows, and the rows two generations disagree on.

A digest must be the same for the same rows wherever they were built: each row is turned
into canonical bytes (:func:`~safecomm_core.projections.schema.canonical_rows`), hashed,
and the hashes are added up modulo 2**256. The sum does not depend on row order, so no
backend's collation or physical order can change it; rows are unique by key, so none can
cancel another out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from safecomm_core.projections.database import DEAD_LETTERS
from safecomm_core.projections.schema import Row, Table, canonical_rows

__all__ = ["DEAD_LETTER_DIGEST", "Difference", "Digest", "TableDigest", "differences", "digest"]

#: What a digest keeps of dead letters: which events failed, and how (not when, not the
#: message, which may name memory addresses or line numbers that change with the code).
DEAD_LETTER_DIGEST = Table(
    "projection_dead_letters",
    columns=[DEAD_LETTERS.column(c) for c in ("notification_id", "topic", "error_type")],
    key=("notification_id",),
)

#: A generation's contents: each table with its rows, dead letters last.
Contents = Sequence[tuple[Table, Sequence[Row]]]


@attrs.frozen
class TableDigest:
    """The digest of one table of a generation."""

    table: str
    rows: int
    value: str


@attrs.frozen
class Digest:
    """A canonical, order-independent digest of a generation's rows and dead letters."""

    projection: str
    generation: int
    position: int
    tables: tuple[TableDigest, ...]
    value: str


@attrs.frozen
class Difference:
    """A row that is not the same in the live view and in a rebuild (None: missing)."""

    table: str
    key: tuple[Any, ...]
    live: Row | None
    rebuilt: Row | None


def table_digest(table: Table, rows: Iterable[Row]) -> TableDigest:
    """The digest of one table's rows."""
    total = count = 0
    for encoded in canonical_rows(table, rows):
        total += int.from_bytes(hashlib.sha256(encoded).digest())
        count += 1
    total %= 1 << 256
    value = hashlib.sha256(f"{table.fingerprint()}:{count}:{total:064x}".encode()).hexdigest()
    return TableDigest(table.name, count, value)


def digest(projection: str, generation: int, position: int, contents: Contents) -> Digest:
    """The digest of a generation from its contents."""
    tables = tuple(table_digest(table, rows) for table, rows in contents)
    whole = "\n".join(f"{t.table}:{t.rows}:{t.value}" for t in tables)
    return Digest(
        projection, generation, position, tables, hashlib.sha256(whole.encode()).hexdigest()
    )


def differences(live: Contents, rebuilt: Contents) -> list[Difference]:
    """The rows, by key, that differ between two generations of the same tables."""
    found: list[Difference] = []
    for (table, live_rows), (_, rebuilt_rows) in zip(live, rebuilt, strict=True):
        if table_digest(table, live_rows) == table_digest(table, rebuilt_rows):
            continue
        old = {table.key_of(r): r for r in live_rows}
        new = {table.key_of(r): r for r in rebuilt_rows}
        for key in sorted(old.keys() | new.keys(), key=repr):
            if old.get(key) != new.get(key):
                found.append(Difference(table.name, key, old.get(key), new.get(key)))
    return found
