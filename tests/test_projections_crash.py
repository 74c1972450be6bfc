"""Crash: ``safecomm project`` killed with SIGKILL at random points, then run again.

Whatever the kills interrupted (a batch half-written, a rebuild half-built, a swap, the
dropping of an old generation), the run that finally completes must leave the views equal
to a rebuild from zero, on SQLite and on PostgreSQL. The seed of the kill times is in the
failure message.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import PG_URL, drop_pg_tables
from test_projections import ACTIONS, command, open_retrying, report, script

from safecomm_core import Safecomm, parse_command
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.projections import DISPUTES, Projector, SQLiteViews

DISPUTE_COUNT = 150
RUNS = 9  # at least; more until NEEDED kills have landed mid-work (at most MAX_RUNS)
NEEDED = 3
MAX_RUNS = 30
REBUILD_RUNS = (5, 6)  # these runs start a blue/green rebuild before they are killed


def fill(service: Safecomm, rng: random.Random) -> None:
    """Disputes along every path of the workflow, a few hundred events in all."""
    for i in range(DISPUTE_COUNT):
        service.handle(parse_command(report(i, i, rng.choice(["walk-in", "patrol", "grid"]))))
        names = script(
            rng.choice(["agreed", "terminated", "refused"]),
            police=rng.random() < 0.3,
            judicial=rng.random() < 0.3,
            extra=rng.randrange(3),
        )
        for step, name in enumerate(names[: rng.randrange(len(names) + 1)]):
            service.handle(parse_command(command(name, i, i + step, **ACTIONS[name])))


def fresh_digest(service: Safecomm) -> str:
    with Projector(service, SQLiteViews(":memory:")) as scratch:
        scratch.catch_up(DISPUTES)
        value = scratch.digest(DISPUTES).value
        scratch.views.close()
    return value


def where(look: Projector) -> tuple[int, int, tuple[tuple[int, int], ...]]:
    """(live generation, its position, generations being built) as the views say now."""
    status = look.status(DISPUTES)
    return status.live_generation, status.position, status.building


def project(url: str, *extra: str) -> subprocess.Popen[bytes]:
    """``safecomm project`` of the disputes view, in a process of its own, one notification
    per transaction. Only that view: with every view, a kill often lands while the runner
    works on another one, and this test judges the disputes view's resumption.
    """
    code = "from safecomm_cli.main import main; main()"
    args = ["project", "--store", url, "--batch", "1", "--only", "disputes", *extra]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "SAFECOMM_DEBUG": "1"},
    )


def progress(look: Projector) -> int:
    """The position of the generation being built, else of the live one."""
    _, position, building = where(look)
    return building[-1][1] if building else position


def time_left(look: Projector, head: int) -> float:
    """Seconds the runner should need to reach ``head``, from its pace over a moment."""
    began, at = time.monotonic(), progress(look)
    time.sleep(0.02)
    pace = max(progress(look) - at, 1) / (time.monotonic() - began)
    return min(max(head - progress(look), 0) / pace, 1.0)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_killed_runner_resumes_and_ends_equal_to_a_rebuild(backend: str, tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    name = "t" + uuid.uuid4().hex[:12]
    url = f"sqlite:///{tmp_path / 'crash.db'}" if backend == "sqlite" else f"{PG_URL}?name={name}"
    try:
        with open_retrying(url) as service:
            service.keys.close()
            service.keys = MemoryKeyStore()  # the projection never reads personal data
            fill(service, rng)
            head = service.log.head()
            expected = fresh_digest(service)
            interrupted = 0
            look = Projector(service)  # watches the views, as an operator would
            run = 0
            while run < RUNS or (interrupted < NEEDED and run < MAX_RUNS):
                before = where(look)
                # A view already at the head has nothing left to do: rebuild it instead, so
                # that every run has work to be killed in, however fast the last one went.
                idle = not before[2] and before[1] >= head
                rebuild = run in REBUILD_RUNS or idle
                run += 1
                process = project(url, *(["--rebuild"] if rebuild else []))
                # Wait for the first committed batch (start-up time varies a lot with the
                # machine's load), then kill at a random moment of the work.
                began = time.monotonic()
                while process.poll() is None and where(look) == before:
                    assert time.monotonic() - began < 120, "the runner never started"
                    time.sleep(0.01)
                # Kill at a random moment before the work is expected to end, judged by the
                # runner's own pace (the machine's load changes it many times over): a kill
                # after the end would test nothing.
                time.sleep(rng.uniform(0.0, 0.8 * time_left(look, head)))
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    after = where(look)
                    if after[2] or after[1] < head:
                        interrupted += 1  # killed after some batches, before the end
                _, err = process.communicate()
                assert process.returncode in (0, -signal.SIGKILL), (seed, err.decode())
            look.close()
            # Run to completion (again if a concurrent store opening collided at start-up).
            for _attempt in range(3):
                final = project(url)
                _, err = final.communicate(timeout=300)
                if final.returncode == 0:
                    break
            assert final.returncode == 0, (seed, err.decode())
            assert interrupted >= NEEDED, f"seed {seed}: only {interrupted} kills landed mid-work"
            with Projector(service) as projector:
                status = projector.status(DISPUTES)
                assert status.position == head, seed
                assert status.building == (), seed
                assert projector.digest(DISPUTES).value == expected, f"seed {seed}"
                assert projector.rebuild_check(DISPUTES) == [], f"seed {seed}"
                assert len(projector.rows(DISPUTES, "disputes")) == DISPUTE_COUNT
    finally:
        if backend == "postgres":
            drop_pg_tables(name)
