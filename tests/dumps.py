"""What an attacker who copies a store gets: every file (SQLite), every row (PostgreSQL).

Used by the scans for personal data in clear and by the dump attack
(``tests/test_personal_keys.py``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from safecomm_core import Safecomm
from tests.conftest import PG_URL

#: Tables (PostgreSQL) and files (SQLite) of the key store, as opposed to the events'.
KEY_TABLES = (
    "_meta",
    "_wrapped_keys",
    "_wrapped_secrets",
    "_id_index",
    "_id_holders",
    "_erased_people",
)


def is_key_table(table: str) -> bool:
    """Whether a dumped table (``file:table`` for SQLite) is the key store's."""
    return table.startswith("safecomm.keys:") or table.endswith(KEY_TABLES)


def sqlite_files(folder: Path) -> dict[str, bytes]:
    """Every file in the store's folder (database, key store, logs), as bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def sqlite_rows(folder: Path, files: dict[str, bytes]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the copied files, read as an attacker would (sqlite3)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for name in files:
        if name.endswith(("-wal", "-shm", "-journal")):
            continue
        db = sqlite3.connect(folder / name)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                rows[f"{name}:{table}"] = db.execute(f'SELECT * FROM "{table}"').fetchall()
        finally:
            db.close()
    return rows


def postgres_rows(name: str) -> dict[str, list[tuple[Any, ...]]]:
    """``SELECT *`` of every table of the application ``name``, as pg_dump would copy them."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            (name + "\\_%",),
        ).fetchall()
        assert tables
        return {t: db.execute(f'SELECT * FROM "{t}"').fetchall() for (t,) in tables}


def as_bytes(value: Any) -> bytes:
    """A cell's bytes as stored (blobs as they are, everything else as text)."""
    return bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()


def raw_sqlite(tmp_path: Path) -> tuple[bytes, bytes]:
    """The event store's files and the key store's (each with any log), as raw bytes."""
    events = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("safecomm.db*")))
    keys = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("safecomm.keys*")))
    return events, keys


def raw_postgres(name: str) -> tuple[bytes, bytes]:
    """Every row of the application's tables, as bytes: (event tables, key tables)."""
    events, keys = b"", b""
    for table, rows in postgres_rows(name).items():
        raw = b"".join(as_bytes(v) for row in rows for v in row)
        if is_key_table(table):
            keys += raw
        else:
            events += raw
    return events, keys


def wrapped_key(service: Safecomm, ref: str) -> bytes:
    """The person's data key as the key store holds it: wrapped by the master key."""
    if service.config.kind == "sqlite":
        db = sqlite3.connect(service.config.keys_path)
        try:
            row = db.execute("SELECT wrapped FROM wrapped_keys WHERE ref = ?", (ref,)).fetchone()
        finally:
            db.close()
    else:
        import psycopg

        with psycopg.connect(PG_URL) as pg:
            row = pg.execute(
                f"SELECT wrapped FROM {service.config.name}_wrapped_keys WHERE ref = %s", (ref,)
            ).fetchone()
    assert row is not None
    return bytes(row[0])
