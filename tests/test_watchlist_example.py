"""examples/morning_watchlist.py, run as a service's morning job would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from safecomm_core import open_store
from tests.assessing import FULL_AS_OF, PERSONAL, full_history

EXAMPLE = Path(__file__).parents[1] / "examples" / "morning_watchlist.py"


def test_the_morning_watchlist_example_prints_every_list_and_the_gaps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        full_history(service)
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), url, "--as-of", FULL_AS_OF.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Watchlist as of 2014-06-20, *")
    assert "Disputes past the first-mediation setting: 1" in out
    assert "case=d-2014-0101" in out
    assert "worker=*-****-0042" in out
    assert "Safe Community self-assessment:" in out
    assert "deliverable_missing P1 (实施方案)" in out
    assert not [secret for secret in PERSONAL if secret in out]
