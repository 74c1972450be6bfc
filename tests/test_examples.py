"""Every script in examples/ runs, as a user who copied it would run it."""

from __future__ import annotations

import subprocess
import sys
import uuid
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


def test_duty_apps_answer_the_alert_the_dispatcher_delivers(tmp_path: Path) -> None:
    """README's *Alerts*: raise an alert, start the units' duty apps, run the dispatcher
    against the local Mosquitto, watch every unit acknowledge."""
    script = str(EXAMPLES / "duty_app.py")
    store = "sqlite:///alerts.db"
    prefix = f"example-{uuid.uuid4().hex[:8]}"  # other runs on the same broker stay apart
    (tmp_path / "alerts.toml").write_text(f'[channels.mqtt]\nprefix = "{prefix}"\n')
    raised = run(script, store, "raise", cwd=tmp_path)
    assert raised.startswith("raised alert-")
    apps = subprocess.Popen(
        [sys.executable, script, store, "answer", "--seconds", "120", "--prefix", prefix],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert apps.stdout is not None
        assert apps.stdout.readline().strip() == "duty apps listening"
        dispatched = subprocess.run(
            [sys.executable, "-c", "from safecomm_cli.main import main; main()",
             "alerts", "dispatch", "--store", store, "--config", "alerts.toml"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert dispatched.returncode == 0, dispatched.stderr
        assert dispatched.stdout.startswith("sent 5 attempts, 5 acknowledgements recorded")
        out, err = apps.communicate(timeout=120)
    finally:
        apps.kill()
    assert apps.returncode == 0, err
    assert out.count("acknowledged alert-") == 5
    assert out.strip().endswith("every unit answered")
