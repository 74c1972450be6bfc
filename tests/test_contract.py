"""The public contract of the core issue, line by line, through `safecomm import` and handle().

Line 6 applies for judicial confirmation 47 days after the agreement: refused, with a clear
message. The other lines land. No name, phone or ID number of the file is ever in clear in
the store's files (events, keys, views) or PostgreSQL tables, before or after erasure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core import RuleViolation, parse_command
from safecomm_core.domain.migrant import MigrantWorker

CONTRACT = Path(__file__).parent / "data" / "contract.jsonl"
SECRETS = ["王建国", "李秀英", "13800001001", "张伟", "51040219900101123X", "13900002001"]


def lines() -> list[dict[str, Any]]:
    return [json.loads(x) for x in CONTRACT.read_text(encoding="utf-8").splitlines()]


def forms(secret: str) -> list[bytes]:
    """The ways a secret could sit in a file: UTF-8, JSON-escaped, UTF-16."""
    return [
        secret.encode(),
        json.dumps(secret).strip('"').encode(),
        secret.encode("utf-16-le"),
    ]


def in_clear(blobs: list[bytes]) -> list[str]:
    return [s for s in SECRETS for f in forms(s) for b in blobs if f in b]


def sqlite_files(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.iterdir() if p.is_file()]


def test_through_safecomm_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    result = CliRunner().invoke(main, ["import", str(CONTRACT), "--store", url])
    assert result.exit_code == 1
    assert "7 applied, 0 already applied, 1 failed" in result.stdout
    (failure,) = result.stderr.strip().splitlines()
    assert failure.startswith(f"{CONTRACT}:6: RuleViolation: judicial confirmation")
    assert "47 days" in failure
    assert "the limit is 30 days" in failure
    # The erased worker's history still replays; the store never held the secrets in clear.
    history = CliRunner().invoke(main, ["history", "m-0001", "--store", url])
    assert "Erased" in history.stdout
    project = CliRunner().invoke(main, ["project", "--store", url])
    assert project.exit_code == 0, project.output
    files = sqlite_files(tmp_path)
    assert b"Panzhihua Steel contractor" in b"".join(files)  # the scan reads the events
    assert in_clear(files) == []
    again = CliRunner().invoke(main, ["import", str(CONTRACT), "--store", url])
    assert "0 applied, 7 already applied, 1 failed" in again.stdout


def test_through_handle_on_every_backend(service: Any, backend: str) -> None:
    for number, data in enumerate(lines(), start=1):
        if number == 6:
            with pytest.raises(RuleViolation, match="47 days"):
                service.handle(parse_command(data))
        else:
            assert not service.handle(parse_command(data)).duplicate
    worker = service.get(MigrantWorker, "m-0001")
    assert service.person(worker.person).erased
    if backend == "postgres":
        import psycopg

        from tests.conftest import PG_URL

        name = service.config.name
        with psycopg.connect(PG_URL, autocommit=True) as db:
            tables = [
                t
                for (t,) in db.execute(
                    "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (name + "\\_%",)
                )
            ]
            assert tables
            blobs = [
                repr(row).encode() + b"".join(v for v in row if isinstance(v, bytes))
                for t in tables
                for row in db.execute(f'SELECT * FROM "{t}"').fetchall()
            ]
        assert b"Panzhihua Steel contractor" in b"".join(blobs)  # the scan reads events
        assert in_clear(blobs) == []


def test_an_erased_person_stays_erased(service: Any) -> None:
    from safecomm_core import PersonErased

    data = lines()
    for number in (7, 8):  # register the worker, then erase them
        service.handle(parse_command(data[number - 1]))
    again = {**data[6], "command_id": "c-9", "worker_id": "m-0002"}
    before = list(service.log.read(0, 10**6))
    with pytest.raises(PersonErased, match="new ref"):
        service.handle(parse_command(again))
    assert list(service.log.read(0, 10**6)) == before
    assert service.person(service.get(MigrantWorker, "m-0001").person).erased
