"""Every script in examples/ runs, as a user who copied it would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_service_integration(tmp_path: Path) -> None:
    out = run(str(EXAMPLES / "service_integration.py"), "sqlite:///service.db", cwd=tmp_path)
    assert "repeating every command changed nothing" in out
    assert "refused: occurred_at: must be an ISO 8601 date-time" in out
    assert "the limit is 30 days" in out
    assert "applicant 王**" in out  # masked, from the sealed person
    assert "mediation success in C1, 2014-03: 2/2 = 100%" in out


def test_import_paper_records_counts_late_entries_in_their_own_month(tmp_path: Path) -> None:
    script = str(EXAMPLES / "import_paper_records.py")
    out = run(script, "sqlite:///paper.db", cwd=tmp_path)
    assert "before the import: 0/0 (n/a)" in out
    assert "entered 30 commands" in out
    # Two of the three October cases were settled in October; the third closed in November.
    assert "after the import:  2/2 (100%)" in out
    again = run(script, "sqlite:///paper.db", cwd=tmp_path)
    assert "entered 0 commands" in again


def test_every_example_is_run_by_a_test() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    scripts = sorted(EXAMPLES.glob("*.py"))
    assert scripts, f"no examples found in {EXAMPLES}"
    for script in scripts:
        assert script.name in tests, f"{script.name} has no test"
