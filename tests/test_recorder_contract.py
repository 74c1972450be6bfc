"""eventsourcing's own recorder contract, run on the recorders our store URLs configure.

The library's test cases prove that the SQLite and PostgreSQL recorders safecomm builds
from a URL keep eventsourcing's guarantees (atomic writes, unique versions, gap-free
notification reads, concurrent writers). Its timing-only cases are left out: figures
belong in benchmarks/.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from safecomm_core import Safecomm, open_store
from tests.conftest import PG_URL, drop_pg_tables


class _SafecommRecorderCase(ApplicationRecorderTestCase[ApplicationRecorder]):
    __test__ = False  # the base: only the backends below run
    url: str
    name: str

    def setUp(self) -> None:
        super().setUp()
        self.stores: list[Safecomm] = []
        self.threads_before = set(threading.enumerate())

    def tearDown(self) -> None:
        # The library's concurrency case signals its reader threads to stop but does not
        # wait for them; closing the connections under a reader that is still in a query
        # crashes SQLite's C module. Wait for those readers (other threads, such as
        # connection pools' workers, live until their store is closed).
        for thread in set(threading.enumerate()) - self.threads_before:
            if "read_continuously" in thread.name:
                thread.join(timeout=30)
        for s in self.stores:
            s.close()
        super().tearDown()

    def create_recorder(self) -> ApplicationRecorder:
        service = open_store(self.url)
        self.stores.append(service)
        return service.log.application.recorder

    # Timing-only cases: measured in benchmarks/, never asserted in tests.
    def test_performance(self) -> None:  # type: ignore[override]
        pass

    def test_concurrent_throughput(self) -> None:  # type: ignore[override]
        pass


class TestSQLiteRecorderContract(_SafecommRecorderCase):
    __test__ = True

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{Path(self.tmp.name) / 'contract.db'}"
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self.tmp.cleanup()


class TestPostgresRecorderContract(_SafecommRecorderCase):
    __test__ = True

    def setUp(self) -> None:
        self.name = "rc" + uuid.uuid4().hex[:12]
        self.url = f"{PG_URL}?name={self.name}"
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        drop_pg_tables(self.name)
