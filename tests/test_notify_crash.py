"""The dispatcher killed with SIGKILL at random points: no unit is lost, and what was sent
twice is at most one attempt per unit per kill, each visible in the alert's history."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from safecomm_core import AlertChannel, GridAlert, open_store
from tests.notifying import SECRET, Receiver, network_with_alert, unit_name

KILLS = 10
DISPATCH = "from safecomm_cli.main import main; main()"


def test_killed_at_random_points_the_dispatcher_loses_no_unit(tmp_path: Path) -> None:
    rng = random.Random()
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    units = [unit_name(n) for n in range(1, 48)]
    (tmp_path / "units.key").write_text(SECRET.hex())
    (tmp_path / "alerts.toml").write_text(
        "[dispatch]\n"
        'secret_file = "units.key"\n'
        "attempts = 3\nfirst_pause = 0.05\nlongest_pause = 0.2\ntimeout = 2.0\n"
        "[channels.webhook]\ntimeout = 2.0\n"
    )

    def fail(_kind: str, _unit: str) -> str | None:
        return "5xx" if rng.random() < 0.3 else None

    with Receiver(fail, delay=0.05) as receiver:
        with open_store(url) as service:
            contacts = {u: {AlertChannel.WEBHOOK: receiver.url(f"/hook/{u}")} for u in units}
            # Raised before T (30 minutes): every unit not reached is escalated at the end.
            network_with_alert(service, contacts, raised_at=_minutes_ago(40))
            start = service.log.head()

        def run() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-c", DISPATCH, "alerts", "dispatch", "--store", url,
                 "--config", str(tmp_path / "alerts.toml")],
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip

        kills = 0
        last = start
        while kills < KILLS:
            proc = run()
            # Kill it only once it is at work: the store has grown since the last kill.
            while proc.poll() is None and _head(url) <= last:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.15))
            if proc.poll() is not None:
                break  # it finished first: nothing left to interrupt
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            last = _head(url)
        assert kills >= 3, "the dispatcher finished before it could be killed three times"
        final = run()
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err
        assert out.startswith("sent ")
        assert "Traceback" not in err

        with open_store(url) as service:
            alert = service.get(GridAlert, "a-1")
            events = list(service.log.events_of(alert.id))
        accepted = Counter(unit for unit, _attempt in receiver.accepted)

    # No unit lost: each ends reached and escalated (none answers), or failed and escalated.
    assert all(r.escalated_at is not None for r in alert.recipients.values())
    assert set(alert.recipients) == set(units)
    sent = {(e.unit, e.attempt) for e in events if isinstance(e, GridAlert.Sent)}
    # Nothing reached a unit that is not on the record as an attempt.
    assert {(kind, unit, n) for kind, unit, n in receiver.received} <= {
        ("webhook", unit, n) for unit, n in sent
    }
    # A kill cuts short at most the one attempt in flight to each unit (units are reached
    # side by side): recorded failed as "interrupted", the next attempt follows.
    interrupted = Counter(
        e.unit
        for e in events
        if isinstance(e, GridAlert.Failed) and e.reason.startswith("interrupted")
    )
    assert max(interrupted.values(), default=0) <= kills
    # A unit that took the alert twice did so because a kill cut an attempt short before
    # its result was recorded: each repeat is one of those interrupted attempts.
    repeats = Counter({unit: n - 1 for unit, n in accepted.items() if n > 1})
    assert all(repeats[unit] <= interrupted[unit] for unit in repeats)
    # Every attempt has its result.
    results = [e for e in events if isinstance(e, GridAlert.Delivered | GridAlert.Failed)]
    assert len(results) == len(sent)


def _head(url: str) -> int:
    with open_store(url) as service:
        return service.log.head()


def _minutes_ago(minutes: int) -> object:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(minutes=minutes)
