"""Dispatchers killed with SIGKILL at random points: no unit is lost, and what was sent
twice is at most the attempt in flight to each unit per kill, each visible in the alert's
history. On PostgreSQL two dispatchers run side by side and the survivor (or the next one
started) takes over the alerts of the one killed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safecomm_core import AlertChannel, GridAlert, open_store
from tests.conftest import drop_pg_tables, store_url
from tests.notifying import SECRET, Receiver, network_with_alert, unit_name

KILLS = 10
DISPATCH = "from safecomm_cli.main import main; main()"


@pytest.mark.parametrize(
    ("backend", "dispatchers", "alerts"),
    [("sqlite", 1, 1), pytest.param("postgres", 2, 2, marks=pytest.mark.postgres)],
)
def test_killed_at_random_points_dispatchers_lose_no_unit(
    tmp_path: Path, backend: str, dispatchers: int, alerts: int
) -> None:
    rng = random.Random()
    url, name = store_url(backend, tmp_path)
    units = [unit_name(n) for n in range(1, 48)]
    refs = [f"a-{n}" for n in range(1, alerts + 1)]
    (tmp_path / "units.key").write_text(SECRET.hex())
    (tmp_path / "alerts.toml").write_text(
        "[dispatch]\n"
        'secret_file = "units.key"\n'
        "attempts = 3\nfirst_pause = 0.05\nlongest_pause = 0.2\ntimeout = 2.0\n"
        "[channels.webhook]\ntimeout = 2.0\n"
    )

    def fail(_kind: str, _unit: str) -> str | None:
        return "5xx" if rng.random() < 0.3 else None

    try:
        with Receiver(fail, delay=0.05) as receiver:
            with open_store(url) as service:
                contacts = {u: {AlertChannel.WEBHOOK: receiver.url(f"/hook/{u}")} for u in units}
                # Raised before T (30 minutes): a unit that does not answer is escalated.
                for ref in refs:
                    network_with_alert(
                        service,
                        contacts,
                        alert=ref,
                        raised_at=datetime.now(UTC) - timedelta(minutes=40),
                    )
                last = service.log.head()

            def run() -> subprocess.Popen[str]:
                return subprocess.Popen(
                    [sys.executable, "-c", DISPATCH, "alerts", "dispatch", "--store", url,
                     "--config", str(tmp_path / "alerts.toml")],
                    cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )  # fmt: skip

            kills = 0
            running: list[subprocess.Popen[str]] = []
            while kills < KILLS:
                running = [p for p in running if p.poll() is None]
                running += [run() for _ in range(dispatchers - len(running))]
                # Kill one only once they are at work: the store has grown since the last kill.
                while all(p.poll() is None for p in running) and _head(url) <= last:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.15))
                alive = [p for p in running if p.poll() is None]
                if len(alive) < len(running):
                    break  # one finished first: nothing left to interrupt
                victim = rng.choice(alive)
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                kills += 1
                last = _head(url)
            assert kills >= 3, "the dispatchers finished before they could be killed 3 times"
            for proc in [*running, run()]:
                out, err = proc.communicate(timeout=180)
                if proc.returncode == -signal.SIGKILL:
                    continue
                assert proc.returncode == 0, err
                assert out.startswith("sent ")
                assert "Traceback" not in err

            with open_store(url) as service:
                records = {ref: service.get(GridAlert, ref) for ref in refs}
                events = {ref: list(service.log.events_of(r.id)) for ref, r in records.items()}
        hooks = Counter(receiver.hooks)
        accepted = set(receiver.accepted)
    finally:
        if backend == "postgres":
            drop_pg_tables(name)

    # Every attempt reached its unit at most once, whichever dispatcher made it.
    assert max(hooks.values()) == 1
    for ref in refs:
        alert, history = records[ref], events[ref]
        # No unit lost: each ends escalated (none answers), reached or not.
        assert set(alert.recipients) == set(units)
        assert all(r.escalated_at is not None for r in alert.recipients.values())
        sent = {(ref, e.unit, e.attempt) for e in history if isinstance(e, GridAlert.Sent)}
        # Nothing reached a unit that is not on the record as an attempt.
        assert {h for h in hooks if h[0] == ref} <= sent
        # A kill cuts short at most the one attempt in flight to each unit (units are
        # reached side by side): recorded failed as "interrupted", the next one follows.
        interrupted = Counter(
            e.unit
            for e in history
            if isinstance(e, GridAlert.Failed) and e.reason.startswith("interrupted")
        )
        assert max(interrupted.values(), default=0) <= kills
        # A unit that took the alert more than once did so because an attempt it took was
        # cut short by a kill before its result was recorded, or its answer came after
        # the timeout: the history shows each such attempt failed, and why.
        outcomes = _outcomes(history)
        for alert_ref, unit, attempt in accepted:
            if alert_ref == ref:
                outcome = outcomes[unit, attempt]
                assert outcome == "delivered" or outcome.startswith(
                    ("interrupted", "no answer within", "the unit's system did not answer in time")
                ), outcome
        delivered = [unit for (unit, _n), outcome in outcomes.items() if outcome == "delivered"]
        assert len(delivered) == len(set(delivered))  # one delivery on the record per unit
        # Every attempt has its result.
        results = [e for e in history if isinstance(e, GridAlert.Delivered | GridAlert.Failed)]
        assert len(results) == len(sent)


def _outcomes(history: list[object]) -> dict[tuple[str, int], str]:
    """Each attempt's result by (unit, attempt): "delivered", or the failure's reason."""
    latest: dict[str, int] = {}
    found: dict[tuple[str, int], str] = {}
    for e in history:
        if isinstance(e, GridAlert.Sent):
            latest[e.unit] = e.attempt or 0
        elif isinstance(e, GridAlert.Delivered):
            found[e.unit, latest[e.unit]] = "delivered"
        elif isinstance(e, GridAlert.Failed):
            found[e.unit, latest[e.unit]] = e.reason
    return found


def _head(url: str) -> int:
    with open_store(url) as service:
        return service.log.head()
