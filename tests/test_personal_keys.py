"""Person keys apart from the data: the master key, the ID-number index, rotation.

The dump attack as a test: copies of every store file (SQLite) and every table
(PostgreSQL) open no person and give away no erased ID number without the master key;
erasure completes at the next rotation, for copies made before it too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from safecomm_cli.main import main

from safecomm_core import AlreadyExists, Safecomm, open_store
from safecomm_core.domain.migrant import MigrantIdNumber, MigrantWorker
from safecomm_core.keystore import SQLiteKeyStore
from safecomm_core.masterkey import (
    ENV_KEY,
    ENV_KEY_FILE,
    LocalMasterKey,
    MasterKeyError,
    ensure_key_file,
    load_master_key,
)
from safecomm_core.personal import SealedPerson, id_number_digest
from tests.conftest import store_url
from tests.dumps import as_bytes, is_key_table, postgres_rows, sqlite_files, sqlite_rows

#: Four people, each with an ID number; the first is erased in the erasure tests.
PEOPLE = [(f"m-{i}", f"51040219900101{i:03d}X") for i in range(1, 5)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def register(service: Safecomm, worker_id: str, id_number: str, n: int = 1) -> None:
    service.handle_json(
        {
            "type": "migrant.register",
            "command_id": f"reg-{worker_id}-{n}",
            "occurred_at": "2014-03-05T10:00:00+08:00",
            "actor": {"id": "coord-03", "role": "coordinator"},
            "channel": "door-to-door",
            "worker_id": worker_id,
            "community": "C2",
            "person": {"ref": f"p-{worker_id}", "name": "张伟", "id_number": id_number},
            "arrived_on": "2014-03-04",
            "dwelling": "C2-12-3-401",
        }
    )


def erase(service: Safecomm, worker_id: str) -> None:
    service.handle_json(
        {
            "type": "migrant.erase",
            "command_id": f"erase-{worker_id}",
            "occurred_at": "2014-12-31T10:00:00+08:00",
            "actor": {"id": "staff-001", "role": "admin"},
            "worker_id": worker_id,
        }
    )


def boxes(service: Safecomm) -> list[SealedPerson]:
    """The sealed people of the four workers, as the events hold them."""
    return [service.get(MigrantWorker, worker_id).person for worker_id, _ in PEOPLE]


def opens(box: SealedPerson, key: bytes) -> bool:
    raw = base64.urlsafe_b64decode(box.box)
    try:
        AESGCM(key).decrypt(raw[:12], raw[12:], f"{box.ref}\x00{box.key_id}".encode())
    except (InvalidTag, ValueError):
        return False
    return True


def windows(cells: list[bytes], size: int = 32) -> set[bytes]:
    """Every run of ``size`` bytes in the cells: where a key kept in clear would be."""
    return {cell[i : i + size] for cell in cells for i in range(len(cell) - size + 1)}


@pytest.fixture
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Safecomm, Any]]:
    """A store on SQLite or PostgreSQL, and a function that dumps it as an attacker would."""
    backend = request.param
    url, name = store_url(backend, tmp_path / "store")
    (tmp_path / "store").mkdir()
    service = open_store(url)

    def dump() -> dict[str, list[tuple[Any, ...]]]:
        if backend == "sqlite":
            files = sqlite_files(tmp_path / "store")
            copy = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}"
            return sqlite_rows(copy, files)
        return postgres_rows(name)

    yield service, dump
    service.close()
    if backend == "postgres":
        from tests.conftest import drop_pg_tables

        drop_pg_tables(name)


def cells(rows: dict[str, list[tuple[Any, ...]]]) -> list[bytes]:
    """Every cell of every table of the dump, as bytes."""
    return [as_bytes(v) for found in rows.values() for row in found for v in row]


def key_cells(rows: dict[str, list[tuple[Any, ...]]]) -> list[bytes]:
    """Every cell of the key store's tables: where a secret kept in clear would be."""
    return cells({t: found for t, found in rows.items() if is_key_table(t)})


def wrapped_rows(rows: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    return [r for table, found in rows.items() if table.endswith("wrapped_keys") for r in found]


@pytest.mark.parametrize("sql_store", SQL_BACKENDS, indirect=True)
def test_a_dump_without_the_master_key_opens_no_person(sql_store: tuple[Safecomm, Any]) -> None:
    service, dump = sql_store
    for worker_id, id_number in PEOPLE:
        register(service, worker_id, id_number)
    sealed = boxes(service)
    rows = dump()
    # Every 32 bytes of every key store cell tried as a data key: none opens a person.
    candidates = windows(key_cells(rows))
    assert candidates
    assert sum(any(opens(box, key) for key in candidates) for box in sealed) == 0
    # The same dump with the master key opens all four: the attack is aimed right.
    master = load_master_key()
    unwrapped = [
        master.unwrap(bytes(wrapped), f"person-key\x00{ref}\x00{key_id}".encode())
        for ref, key_id, wrapped in wrapped_rows(rows)
    ]
    assert sum(any(opens(box, key) for key in unwrapped) for box in sealed) == 4


@pytest.mark.parametrize("sql_store", SQL_BACKENDS, indirect=True)
def test_an_erased_id_number_is_not_found_among_candidates(
    sql_store: tuple[Safecomm, Any],
) -> None:
    service, dump = sql_store
    for worker_id, id_number in PEOPLE:
        register(service, worker_id, id_number)
    erased_id = PEOPLE[0][1]
    candidates = [f"51040219900101{i:03d}X" for i in range(1000)]
    assert erased_id in candidates
    before = dump()
    erase(service, PEOPLE[0][0])
    after = dump()
    values = {as_bytes(v).decode(errors="replace") for v in cells(after)}
    # The event store's digest fields and record ids too: everything stored is a target.
    values |= {service.get(MigrantWorker, w).id_digest or "" for w, _ in PEOPLE}

    def identified(secrets: set[bytes], ids: list[str]) -> set[str]:
        return {
            c
            for c in ids
            for s in secrets
            if hmac.new(s, c.encode(), hashlib.sha256).hexdigest() in values
        }

    # Without the master key: every 32 bytes of the key store's cells tried as the secret.
    assert identified(windows(key_cells(after)), candidates) == set()
    # With it (an insider, before any rotation): the live ID numbers are in the index, as
    # de-duplication needs; the erased one is not.
    lookup = service.keys.secret("id-number-lookup")
    assert identified({lookup}, candidates) == {i for _, i in PEOPLE[1:]}
    # The copy made before the erasure had it; rotation retires what could open it.
    values |= {as_bytes(v).decode(errors="replace") for v in cells(before)}
    assert erased_id in identified({lookup}, candidates)
    service.keys.rotate(LocalMasterKey.generate())
    values |= {as_bytes(v).decode(errors="replace") for v in cells(dump())}
    live = identified({service.keys.secret("id-number-lookup")}, candidates)
    assert live == {i for _, i in PEOPLE[1:]}  # found in the index as it is now only


@pytest.mark.parametrize("sql_store", SQL_BACKENDS, indirect=True)
def test_erasure_completes_at_rotation(
    sql_store: tuple[Safecomm, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, dump = sql_store
    for worker_id, id_number in PEOPLE:
        register(service, worker_id, id_number)
    sealed = boxes(service)
    before = wrapped_rows(dump())  # a backup, a WAL segment, a dead tuple: a copy made now
    erase(service, PEOPLE[0][0])
    old = load_master_key()
    new = LocalMasterKey.generate()
    assert service.keys.rotate(new) == 3
    monkeypatch.setenv(ENV_KEY, new.encoded())

    def opened_with(master: LocalMasterKey) -> int:
        count = 0
        for box in sealed:
            for ref, key_id, wrapped in before:
                try:
                    key = master.unwrap(bytes(wrapped), f"person-key\x00{ref}\x00{key_id}".encode())
                except MasterKeyError:
                    continue
                count += opens(box, key)
        return count

    assert opened_with(old) == 4  # the old key (were it kept) would open the old copy
    assert opened_with(new) == 0  # the key in force opens nothing of it
    after = dump()
    raw = b"".join(key_cells(after))
    assert not any(bytes(w) in raw for _, _, w in before)  # every stored key re-wrapped
    # Live people still open; the erased one does not; de-duplication still holds.
    reopened = open_store(service.config.url)
    try:
        people = [reopened.person(box) for box in sealed]
        assert [p.erased for p in people] == [True, False, False, False]
        assert people[1].id_number == PEOPLE[1][1]
        with pytest.raises(AlreadyExists, match="'m-2'"):
            register(reopened, "m-9", PEOPLE[1][1])
        register(reopened, "m-8", PEOPLE[0][1])  # the erased person may come back
    finally:
        reopened.close()


def test_after_erase_and_rotate_the_old_wrapped_key_is_nowhere_in_the_files(
    tmp_path: Path,
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'safecomm.db'}") as service:
        for worker_id, id_number in PEOPLE:
            register(service, worker_id, id_number)
        db = sqlite3.connect(tmp_path / "safecomm.keys")
        old = dict(db.execute("SELECT ref, wrapped FROM wrapped_keys").fetchall())
        db.close()
        raw = b"".join(sqlite_files(tmp_path).values())
        assert all(w in raw for w in old.values())
        erase(service, PEOPLE[0][0])
        service.keys.rotate(LocalMasterKey.generate())
    raw = b"".join(sqlite_files(tmp_path).values())
    assert [ref for ref, w in old.items() if w in raw] == []


def test_each_id_number_has_a_random_token_until_its_last_holder_is_erased() -> None:
    with open_store("memory://") as service:
        register(service, "m-1", PEOPLE[0][1])
        token = id_number_digest(PEOPLE[0][1], service.keys)
        lookup = hmac.new(service.keys.secret("id-number-lookup"), PEOPLE[0][1].encode(), "sha256")
        assert token != lookup.hexdigest()
        assert service.get(MigrantIdNumber, token).holder == "m-1"
        erase(service, "m-1")
        assert id_number_digest(PEOPLE[0][1], service.keys) != token


# -- the master key ------------------------------------------------------------------


def cli(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def test_no_master_key_is_a_clear_error_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_KEY)
    monkeypatch.setenv(ENV_KEY_FILE, str(tmp_path / "conf" / "master.key"))
    service = tmp_path / "data" / "safecomm.db"
    service.parent.mkdir()
    result = cli("history", "x", "--store", f"sqlite:///{service}")
    assert result.exit_code == 2
    assert "master.key does not exist" in result.output
    assert "safecomm keys init" in result.output
    assert "SAFECOMM_MASTER_KEY" in result.output
    assert "Traceback" not in result.output
    assert list(service.parent.iterdir()) == []  # neither the store nor its keys were made


def test_a_malformed_or_wrong_master_key_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        register(service, "m-1", PEOPLE[0][1])
    monkeypatch.setenv(ENV_KEY, "not base64!")
    with pytest.raises(MasterKeyError, match=r"\$SAFECOMM_MASTER_KEY is not base64"):
        open_store(url)
    monkeypatch.setenv(ENV_KEY, LocalMasterKey.generate().encoded())
    with pytest.raises(MasterKeyError, match="wrapped by master key"):
        open_store(url)


def test_keys_init_writes_a_private_file_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "conf" / "master.key"
    monkeypatch.delenv(ENV_KEY)
    monkeypatch.setenv(ENV_KEY_FILE, str(path))
    first = cli("keys", "init")
    assert first.exit_code == 0, first.output
    assert str(path) in first.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    again = cli("keys", "init")
    assert again.exit_code == 2
    assert "not overwriting" in again.output
    assert path.read_bytes() == content
    path.chmod(0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key()


def test_keys_rotate_rewraps_the_store_and_retires_the_old_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "conf" / "master.key"
    monkeypatch.delenv(ENV_KEY)
    monkeypatch.setenv(ENV_KEY_FILE, str(path))
    assert cli("keys", "init").exit_code == 0
    url = f"sqlite:///{tmp_path / 'data' / 'safecomm.db'}"
    (tmp_path / "data").mkdir()
    with open_store(url) as service:
        for worker_id, id_number in PEOPLE:
            register(service, worker_id, id_number)
        sealed = boxes(service)
    backup = shutil.copy(tmp_path / "data" / "safecomm.keys", tmp_path / "backup.keys")
    old = path.read_bytes()
    result = cli("keys", "rotate", "--store", url)
    assert result.exit_code == 0, result.output
    assert "4 person keys re-wrapped" in result.output
    assert path.read_bytes() != old
    assert not path.with_name("master.key.next").exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open_store(url) as service:
        assert [service.person(b).name for b in sealed] == ["张伟"] * 4
    # The backup made before the rotation does not open with the key in force.
    with pytest.raises(MasterKeyError, match="wrapped by master key"):
        SQLiteKeyStore(str(backup), load_master_key())


def test_rotate_refuses_an_environment_key_and_memory_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    open_store(url).close()
    result = cli("keys", "rotate", "--store", url)
    assert result.exit_code == 2
    assert "unset SAFECOMM_MASTER_KEY" in result.output
    assert "memory://" in cli("keys", "rotate", "--store", "memory://").output


def test_the_demo_needs_no_set_up_and_says_where_the_key_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_KEY)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    result = cli("demo", "--scale", "0.02", "--lang", "en")
    assert result.exit_code == 0, result.output
    made = tmp_path / "config" / "safecomm" / "master.key"
    assert f"Created the master key {made}" in result.output
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert (tmp_path / "safecomm-seal.key").exists()
    assert len((tmp_path / "safecomm-seal.log").read_text().splitlines()) == 1
    assert all("master" not in p.name for p in tmp_path.iterdir())  # not beside the store
    assert ensure_key_file() is None  # made once: later runs use it
    assert load_master_key().source == str(made)


# -- legacy key stores ----------------------------------------------------------------


def test_a_key_store_that_kept_keys_in_clear_is_wrapped_on_opening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        register(service, "m-1", PEOPLE[0][1])
        sealed = service.get(MigrantWorker, "m-1").person
        key_id, key = service.keys.person_key("p-m-1", create=True) or ("", b"")
    legacy_secret = os.urandom(32)
    keys_file = tmp_path / "safecomm.keys"
    keys_file.unlink()
    db = sqlite3.connect(keys_file)
    db.execute("CREATE TABLE person_keys (ref TEXT PRIMARY KEY, key_id TEXT, key BLOB)")
    db.execute("CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB)")
    db.execute("CREATE TABLE erased (ref TEXT PRIMARY KEY)")
    db.execute("INSERT INTO person_keys VALUES (?, ?, ?)", ("p-m-1", key_id, key))
    db.execute("INSERT INTO secrets VALUES (?, ?)", ("id-number-hmac", legacy_secret))
    db.commit()
    db.close()
    with open_store(url) as service:
        assert service.person(sealed).name == "张伟"
        # A number first seen now gets the old keyed digest: old index records still match.
        assert (
            id_number_digest(PEOPLE[1][1], service.keys)
            == hmac.new(legacy_secret, PEOPLE[1][1].encode(), hashlib.sha256).hexdigest()
        )
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("safecomm.keys*"))
    assert key not in raw
    assert legacy_secret not in raw


# -- store URLs and files ------------------------------------------------------------


def test_a_password_is_never_shown_and_cannot_inject_options() -> None:
    from psycopg.conninfo import conninfo_to_dict

    from safecomm_core import StoreError
    from safecomm_core.store import parse_store_url

    url = "postgresql://bob:s3cret%20sslmode%3Drequire@127.0.0.1:1/test"
    config = parse_store_url(url)
    assert conninfo_to_dict(config.conninfo) == {
        "host": "127.0.0.1",
        "port": "1",
        "dbname": "test",
        "user": "bob",
        "password": "s3cret sslmode=require",
    }
    assert config.display == "postgresql://bob:***@127.0.0.1:1/test"
    with pytest.raises(StoreError) as raised:
        open_store(url)
    assert "s3cret" not in str(raised.value)
    assert "bob:***@127.0.0.1" in str(raised.value)
    result = cli("history", "x", "--store", url)
    assert result.exit_code != 0
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3@h:5432/db", "postgresql://bob:***@h:5432/db"),
        # A list of URLs split at a comma inside a password: the first piece.
        ("postgresql://bob:zq9", "postgresql://bob:***"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db"),
        ("postgresql://bob@h/db", "postgresql://bob@h/db"),
    ],
)
def test_a_url_s_password_is_never_shown_even_cut_short(url: str, shown: str) -> None:
    from safecomm_core.store import mask_url

    assert mask_url(url) == shown


def test_a_store_list_cut_inside_a_password_does_not_show_it() -> None:
    result = cli("report", "monthly", "--stores", "postgresql://bob:zq9,x7@127.0.0.1:1/db")
    assert result.exit_code != 0
    assert "zq9" not in result.output
    assert "bob:***" in result.output


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """The umask a shell usually has (022): the files must be private regardless."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("shell_umask")
def test_the_files_a_store_writes_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        register(service, "m-1", PEOPLE[0][1])
        from safecomm_core.projections import Projector, builtin_projections

        with Projector(service) as projector:
            projector.catch_up(builtin_projections()[0])
        names = sorted(p.name for p in tmp_path.iterdir())
        assert {"safecomm.db", "safecomm.keys", "safecomm.views.db"} <= set(names)
        assert any(n.endswith("-wal") for n in names)
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert {n: m for n, m in modes.items() if m != 0o600} == {}


@pytest.mark.usefixtures("shell_umask")
def test_the_command_line_writes_private_files(tmp_path: Path) -> None:
    commands = tmp_path / "in.jsonl"
    commands.write_text("", encoding="utf-8")
    key = tmp_path / "seal.key"
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    assert cli("import", str(commands), "--store", url).exit_code == 0
    assert cli("audit", "keygen", "--out", str(key)).exit_code == 0
    assert cli("audit", "seal", "--key", str(key), "--store", url).exit_code == 0
    log = tmp_path / "safecomm-seal.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "safecomm.db").stat().st_mode) == 0o600


# -- seals outside the store ---------------------------------------------------------


@pytest.fixture
def sealed_store(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        register(service, "m-1", PEOPLE[0][1])
    key = tmp_path / "keys" / "seal.key"
    key.parent.mkdir()
    assert cli("audit", "keygen", "--out", str(key)).exit_code == 0
    sealed = cli("audit", "seal", "--key", str(key), "--store", url)
    assert sealed.exit_code == 0, sealed.output
    return url, key


def wipe_seals(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "safecomm.db")
    db.execute("DROP TRIGGER seals_no_delete")
    db.execute("DELETE FROM seals")
    db.commit()
    db.close()


def test_seal_appends_to_the_seal_log_beside_the_key(
    sealed_store: tuple[str, Path],
) -> None:
    url, key = sealed_store
    log = key.with_name("safecomm-seal.log")
    (line,) = log.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["position"] > 0
    verified = cli("audit", "verify", "--store", url, "--public-key", f"{key}.pub")
    assert verified.exit_code == 0, verified.output
    assert "INTACT" in verified.output


def test_seals_wiped_from_the_store_fail_verification(
    sealed_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, key = sealed_store
    wipe_seals(tmp_path)
    verified = cli("audit", "verify", "--store", url, "--public-key", f"{key}.pub")
    assert verified.exit_code == 8
    assert "TAMPERED" in verified.output
    assert "in the seal log is missing from the store" in verified.output
    # Without the log (removed too), the public key alone still refuses "0 of 0 hold".
    key.with_name("safecomm-seal.log").unlink()
    bare = cli("audit", "verify", "--store", url, "--public-key", f"{key}.pub")
    assert bare.exit_code == 8
    assert "no seal made with the public key given holds" in bare.output


def test_a_logged_seal_that_differs_from_the_stored_one_is_a_finding(
    sealed_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, key = sealed_store
    log = key.with_name("safecomm-seal.log")
    data = json.loads(log.read_text(encoding="utf-8"))
    data["signature"] = base64.b64encode(b"\0" * 64).decode()
    log.write_text(json.dumps(data) + "\n", encoding="utf-8")
    verified = cli("audit", "verify", "--store", url, "--public-key", f"{key}.pub")
    assert verified.exit_code == 8
    assert "in the seal log differs from the store's" in verified.output


@pytest.mark.postgres
def test_postgres_key_tables_kept_in_clear_are_wrapped_on_opening(tmp_path: Path) -> None:
    import psycopg

    from tests.conftest import PG_URL, drop_pg_tables

    url, name = store_url("postgres", tmp_path)
    try:
        with open_store(url) as service:
            register(service, "m-1", PEOPLE[0][1])
            sealed = service.get(MigrantWorker, "m-1").person
            key_id, key = service.keys.person_key("p-m-1", create=True) or ("", b"")
        with psycopg.connect(PG_URL, autocommit=True) as db:
            for table in ("meta", "wrapped_keys", "wrapped_secrets", "id_index", "id_holders"):
                db.execute(f"DROP TABLE {name}_{table}")
            db.execute(f"CREATE TABLE {name}_person_keys (ref TEXT, key_id TEXT, key BYTEA)")
            db.execute(f"CREATE TABLE {name}_secrets (name TEXT, value BYTEA)")
            db.execute(
                f"INSERT INTO {name}_person_keys VALUES (%s, %s, %s)", ("p-m-1", key_id, key)
            )
        with open_store(url) as service:
            assert service.person(sealed).name == "张伟"
        rows = postgres_rows(name)
        assert {f"{name}_person_keys", f"{name}_secrets"} & set(rows) == set()
        assert key not in b"".join(cells(rows))
    finally:
        drop_pg_tables(name)
