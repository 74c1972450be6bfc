"""``safecomm audit`` as an operator and an auditor meet it."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core.audit import Seal, load_public_key
from tests.commanding import SAMPLE


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def url(tmp_path: Path, runner: CliRunner) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    assert runner.invoke(main, ["import", str(SAMPLE), "--store", url]).exit_code == 0
    return url  # 5 commands: 10 records with their receipts


@pytest.fixture
def key(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "keys" / "seal.key"
    path.parent.mkdir()
    result = runner.invoke(main, ["audit", "keygen", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_keygen_writes_a_private_key_only_its_owner_reads(key: Path, runner: CliRunner) -> None:
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pub = key.with_name("seal.key.pub")
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = runner.invoke(main, ["audit", "keygen", "--out", str(key)])
    assert again.exit_code == 2
    assert "not overwriting" in again.output


def test_seal_prints_a_signed_json_line_and_verify_passes(
    url: str, key: Path, runner: CliRunner, tmp_path: Path
) -> None:
    sealed = runner.invoke(main, ["audit", "seal", "--key", str(key), "--store", url])
    assert sealed.exit_code == 0, sealed.output
    seal = Seal.from_json(sealed.stdout.strip())
    pub = key.with_name("seal.key.pub")
    assert seal.signed_by(load_public_key(pub))
    assert seal.position == 10
    published = tmp_path / "published.jsonl"
    published.write_text(sealed.stdout)
    ok = runner.invoke(
        main,
        ["audit", "verify", "--store", url, "--public-key", str(pub), "--seals", str(published)],
    )
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("INTACT")
    assert "1 of 1 hold" in ok.stdout  # the published seal is the stored one
    as_json = runner.invoke(main, ["audit", "verify", "--store", url, "--json"])
    assert json.loads(as_json.stdout)["intact"] is True
    assert "no --public-key given" in as_json.stderr


def test_verify_names_the_first_changed_record_and_exits_8(
    url: str, key: Path, runner: CliRunner
) -> None:
    assert runner.invoke(main, ["audit", "seal", "--key", str(key), "--store", url]).exit_code == 0
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    db.execute("DELETE FROM stored_events WHERE rowid = 6")
    db.commit()
    db.close()
    pub = key.with_name("seal.key.pub")
    result = runner.invoke(main, ["audit", "verify", "--store", url, "--public-key", str(pub)])
    assert result.exit_code == 8
    assert result.stdout.startswith("TAMPERED")
    first = next(line for line in result.stdout.splitlines() if line.startswith("first:"))
    assert "deleted: position 6:" in first
    assert "ba328bb3-ab19-52cc-aecb-050fc9953bc6 v3" in first  # d-2014-0001's third event
    assert "[dispute:d-2014-0001]" in first
    data = json.loads(runner.invoke(main, ["audit", "verify", "--store", url, "--json"]).stdout)
    assert data["first"]["kind"] == "deleted"
    assert (data["first"]["position"], data["first"]["version"]) == (6, 3)


def test_a_wrong_public_key_exits_8(url: str, key: Path, runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["audit", "seal", "--key", str(key), "--store", url]).exit_code == 0
    other = tmp_path / "other.key"
    assert runner.invoke(main, ["audit", "keygen", "--out", str(other)]).exit_code == 0
    result = runner.invoke(
        main, ["audit", "verify", "--store", url, "--public-key", f"{other}.pub"]
    )
    assert result.exit_code == 8
    assert "does not hold for the public key given" in result.stdout


def test_bad_key_files_are_one_line_errors(url: str, runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(
        main, ["audit", "seal", "--key", str(tmp_path / "no.key"), "--store", url]
    )
    assert missing.exit_code == 2
    assert missing.output.startswith("error: cannot read the key file")
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key")
    bad = runner.invoke(main, ["audit", "verify", "--store", url, "--public-key", str(junk)])
    assert bad.exit_code == 2
    assert "not an Ed25519 public key" in bad.output


def test_catch_up_prints_the_head(url: str, runner: CliRunner) -> None:
    result = runner.invoke(main, ["audit", "catch-up", "--store", url])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["position"] == 10


def test_replay_prints_the_record_at_the_cut(url: str, runner: CliRunner) -> None:
    def replay(*args: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(
            main, ["audit", "replay", "--store", url, "--aggregate", "d-2014-0001", *args]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    as_of = replay("--as-of", "2014-03-03")
    assert (as_of["version"], as_of["state"]["status"]) == (3, "accepted")
    assert as_of["cut"] == {"as_of": "2014-03-03T23:59:59.999999+08:00"}
    assert replay("--known-at", "2014-03-04")["exists"] is False  # entered years later
    assert replay("--as-of", "2014-03-05", "--kind", "dispute")["state"]["status"] == "agreed"


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        ([], 2, "exactly one of --known-at, --as-of"),
        (["--as-of", "2014-03-03", "--known-at", "2014-03-03"], 2, "exactly one"),
        (["--as-of", "soon"], 2, "as_of: must be an ISO 8601 date"),
        (["--as-of", "2014-03-03", "--kind", "patrol"], 4, "no patrol"),
    ],
)
def test_replay_refuses_bad_requests(
    url: str, runner: CliRunner, args: list[str], status: int, says: str
) -> None:
    result = runner.invoke(
        main, ["audit", "replay", "--store", url, "--aggregate", "d-2014-0001", *args]
    )
    assert result.exit_code == status, result.output
    assert says in result.output
