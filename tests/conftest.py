"""Fixtures shared by every test: the service on each backend, and the PostgreSQL check.

``service`` is parametrised over memory://, SQLite and PostgreSQL: a test that takes it is
part of the contract suite and runs three times. PostgreSQL is never skipped: when the
server does not answer, the tests fail (CI starts it in .ci/run).

Hypothesis runs with the ``safecomm`` profile, in CI as on a desk: every run draws fresh
examples (a bug found once is pinned with ``@example``), and a failure prints the seed and
the blob that reproduce it (``--hypothesis-seed=N``, ``@reproduce_failure``). Hypothesis
would otherwise load its derandomised ``ci`` profile wherever a CI variable is set, so that
CI ran the same few examples for ever and other ones than a desk. Examples found failing
are kept in ``.hypothesis/`` and tried first on the next run, where there is one. Another
profile is loaded only when asked for (``--hypothesis-profile``).
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from safecomm_core import Safecomm, open_store

# Every store the tests open wraps its keys with this master key; set before any test (and
# any command-line run a test starts) looks for one, so the user's own key is never used.
# setdefault: processes a test spawns import this module again and must keep the key.
os.environ.setdefault("SAFECOMM_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
os.environ.pop("SAFECOMM_MASTER_KEY_FILE", None)

settings.register_profile(
    "safecomm",
    derandomize=False,
    # What these tests assert is behaviour, never speed (benchmarks/ measures that): on a
    # machine shared by several runs, a deadline or a "too slow" check fails at random.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# Loaded on import, before hypothesis' pytest plugin reads its options: a profile asked for
# with --hypothesis-profile is loaded after this one, and wins.
settings.load_profile("safecomm")

PG_URL = os.environ.get("SAFECOMM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pg_tables(name: str) -> list[str]:
    """The tables of a test application called ``name``."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        rows = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            (name + "\\_%",),
        ).fetchall()
    return [table for (table,) in rows]


def drop_pg_tables(name: str) -> None:
    """Drop every table of a test application called ``name``."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        for table in pg_tables(name):
            db.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


def store_url(backend: str, tmp_path: Path) -> tuple[str, str]:
    """A fresh store URL on ``backend`` and its application name."""
    name = "t" + uuid.uuid4().hex[:12]
    if backend == "memory":
        return "memory://", name
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'safecomm.db'}", name
    return f"{PG_URL}?name={name}", name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def service_factory(backend: str, tmp_path: Path) -> Iterator[object]:
    """Open (and re-open) the same fresh store on the parametrised backend."""
    url, name = store_url(backend, tmp_path)
    opened: list[Safecomm] = []

    def factory() -> Safecomm:
        # memory:// lives in its process object: "re-opening" it means the same one.
        if backend == "memory" and opened:
            return opened[0]
        opened.append(open_store(url))
        return opened[-1]

    yield factory
    for s in opened:
        s.close()
    if backend == "postgres":
        drop_pg_tables(name)


@pytest.fixture
def service(service_factory: object) -> Safecomm:
    """The service on a fresh store on each backend (memory, SQLite, PostgreSQL)."""
    return service_factory()  # type: ignore[operator,no-any-return]


@pytest.fixture
def memory_service() -> Iterator[Safecomm]:
    """The service on a fresh in-memory store, for tests about logic rather than backends."""
    service = open_store("memory://")
    yield service
    service.close()
