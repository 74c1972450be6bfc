"""examples/audit_replay.py, run as an evaluator would run it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safecomm_core import open_store
from safecomm_core.audit import Ledger, generate_key, load_private_key
from tests.auditing import write_disputes

EXAMPLE = Path(__file__).parents[1] / "examples" / "audit_replay.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, check=False
    )


def test_the_audit_example_verifies_and_replays(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    private, public = generate_key(tmp_path / "seal.key")
    with open_store(url) as service, Ledger(service) as ledger:
        write_disputes(service, 2)
        seal = ledger.seal(load_private_key(private))
    published = tmp_path / "seals.jsonl"
    published.write_text(seal.to_json() + "\n")

    done = _run(
        url,
        str(public),
        "--seals",
        str(published),
        "--on",
        "2014-03-03",
        "d-2014-0001",
        "d-2014-0002",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("INTACT")
    assert "dispute:d-2014-0001 on 2014-03-03T23:59:59.999999+08:00" in out
    assert "known then: version 0, not yet on record" in out  # entered years later
    assert "as of then: version 3, status accepted" in out
    assert out.count("late entry:") == 6  # three per dispute, all entered late

    db = sqlite3.connect(tmp_path / "safecomm.db")
    db.execute("UPDATE stored_events SET topic = 'x' WHERE rowid = 12")
    db.commit()
    db.close()
    caught = _run(url, str(public))
    assert caught.returncode == 1
    assert "first: updated: position 12:" in caught.stdout


def test_the_example_refuses_another_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service, Ledger(service) as ledger:
        write_disputes(service, 1)
        ledger.seal(Ed25519PrivateKey.generate())
    _private, public = generate_key(tmp_path / "other.key")
    assert _run(url, str(public)).returncode == 1
