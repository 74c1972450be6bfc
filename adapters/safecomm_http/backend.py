"""The store behind the server, used off the event loop.

The service's handle is synchronous, so every call runs in a worker thread: reads in
any of them; commands one at a time in this process (SQLite and the in-memory store have
one writer; on PostgreSQL, serialising this process's writers also spares the retries of
their write races); reports in one thread of their own, because a projector belongs to
the thread that opened it (see :class:`~safecomm_core.projections.Projector`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio.to_thread

from safecomm_core import Safecomm, open_store
from safecomm_core.projections import Projector, builtin_projections

__all__ = ["Backend"]

T = TypeVar("T")


class Backend:
    """One open store, its writer lock and its report thread."""

    def __init__(self, service: Safecomm) -> None:
        self.service = service
        self._writer = threading.Lock()
        self._started = threading.Lock()
        self._reports: ThreadPoolExecutor | None = None
        self._projector: Projector | None = None

    @classmethod
    def open(cls, store_url: str) -> Backend:
        """Open the store at ``store_url``."""
        return cls(open_store(store_url))

    async def read(self, func: Callable[[Safecomm], T]) -> T:
        """``func(service)`` in a worker thread."""
        return await anyio.to_thread.run_sync(func, self.service)

    async def write(self, func: Callable[[Safecomm], T]) -> T:
        """``func(service)`` in a worker thread, one writer at a time."""

        def locked(service: Safecomm) -> T:
            with self._writer:
                return func(service)

        return await anyio.to_thread.run_sync(locked, self.service)

    async def report(self, func: Callable[[Safecomm, Projector], T]) -> T:
        """``func(service, projector)`` in the report thread, every projection caught up."""
        return await self.serial(lambda service: func(service, self._caught_up()))

    def views(self, build: Callable[[Projector], T]) -> T:
        """``build(projector)`` in the report thread, every projection caught up, waited
        for: from a worker thread (a city's roll-up reads each subdistrict's), never from
        the event loop."""
        return self._thread().submit(lambda: build(self._caught_up())).result()

    async def serial(self, func: Callable[[Safecomm], T]) -> T:
        """``func(service)`` in the report thread: long reads and the audit's own writes
        (ledger, seals) run there one after another, never holding up commands."""
        return await asyncio.wrap_future(self._thread().submit(func, self.service))

    def _thread(self) -> ThreadPoolExecutor:
        with self._started:
            if self._reports is None:
                self._reports = ThreadPoolExecutor(1, thread_name_prefix="safecomm-reports")
            return self._reports

    async def lag(self) -> dict[str, int]:
        """How many notifications each projection is behind the store's head."""

        def lags() -> dict[str, int]:
            projector = self._open_projector()
            found = {}
            for projection in builtin_projections():
                status = projector.status(projection)
                found[projection.name] = max(0, status.head - status.position)
            return found

        return await self.serial(lambda _service: lags())

    def _open_projector(self) -> Projector:
        if self._projector is None:
            self._projector = Projector(self.service)
        return self._projector

    def _caught_up(self) -> Projector:
        projector = self._open_projector()
        projector.catch_up_all(list(builtin_projections()))
        return projector

    def close(self, *, store: bool = True) -> None:
        """Stop the report thread (closing its projector there) and, unless told not to,
        close the store. Without the store closed, the backend may be used again."""

        def close_projector() -> None:
            if self._projector is not None:
                self._projector.close()
                self._projector = None

        with self._started:
            reports, self._reports = self._reports, None
        if reports is not None:
            reports.submit(close_projector).result()
            reports.shutdown()
        if store:
            self.service.close()
