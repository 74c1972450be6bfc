"""``/healthz`` (the process answers) and ``/readyz`` (the store answers; views' lag)."""

from __future__ import annotations

from typing import Any

import attrs
from litestar import Request, get

from safecomm_http.context import server
from safecomm_http.problems import responses

__all__ = ["Health", "Readiness", "healthz", "readyz"]


@attrs.frozen
class Health:
    """The process is up."""

    status: str


@attrs.frozen
class Readiness:
    """The store answers: its head, and how far behind it each report view is."""

    status: str
    head: int
    #: Notifications each projection has yet to read (caught up before every report).
    lag: dict[str, int]


@get("/healthz", summary="The process answers", exclude_from_auth=True)
async def healthz() -> Health:
    """Always ``ok`` while the process serves."""
    return Health("ok")


@get("/readyz", summary="The store answers", exclude_from_auth=True, responses=responses())
async def readyz(request: Request[Any, Any, Any]) -> Readiness:
    """``ready`` when the store can be read (else 503), with the views' lag."""
    backend = server(request).backend
    head = await backend.read(lambda s: s.log.head())
    return Readiness("ready", head, await backend.lag())
