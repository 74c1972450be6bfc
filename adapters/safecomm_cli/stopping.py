"""Running a long command (a publisher, a dispatcher) until it ends or is asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["GRACE", "pause", "until_stopped"]

#: Seconds a stopped command has to finish what it is doing before it is cancelled.
GRACE = 10.0


def until_stopped(
    main: Callable[[asyncio.Event], Awaitable[Any]],
    overdue: Callable[[], Exception] | None = None,
) -> Any:
    """Run ``main`` until it returns, or until SIGINT or SIGTERM asks it to finish.

    Asked, it has :data:`GRACE` seconds to finish; one still at work then is cancelled,
    and ``overdue()`` (if given) is raised to say what that means.
    """

    async def guarded() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        work = asyncio.ensure_future(main(stop))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        try:
            return await asyncio.wait_for(work, GRACE)
        except TimeoutError:
            if overdue is None:
                return None
            raise overdue() from None

    return asyncio.run(guarded())


async def pause(stop: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
