"""The HTTP service served by uvicorn in a thread of the caller's process.

For a service's own tests and for the benchmarks: a real socket on loopback, a port the
system chooses, and a clean stop when the block ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from litestar import Litestar

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(app: Litestar, *, start_within: float = 60.0) -> Iterator[str]:
    """``app`` served on ``127.0.0.1`` on a free port in a daemon thread; yields its base
    URL (``http://127.0.0.1:PORT``) and stops the server when the block ends.

    Raises :class:`RuntimeError` if uvicorn stops, or has not started within
    ``start_within`` seconds.
    """
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="safecomm-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_within
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it started serving")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start within {start_within:g} s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
