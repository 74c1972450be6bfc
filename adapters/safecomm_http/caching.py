"""Reports asked for again: an ``ETag`` made of where the stores stand and what was asked,
and ``304 Not Modified`` for a request that already holds it (``If-None-Match``).

A report is a function of its stores' events and its query, so the same positions and the
same query give the same answer: a client (or a cache it trusts) keeps the body and asks
again with the tag, and the server answers without building the report. ``private,
no-cache``: kept by the client only (it is cut to the principal), and always asked again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request, Response

__all__ = ["CACHE_CONTROL", "etag", "matches", "not_modified", "validators"]

CACHE_CONTROL = "private, no-cache"


def etag(*parts: object) -> str:
    """A strong entity tag of ``parts`` (the stores' positions, then the query), in order:
    the same parts, the same tag."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return f'"{digest[:32]}"'


def matches(request: Request[Any, Any, Any], tag: str) -> bool:
    """Whether ``request`` already holds ``tag`` (``If-None-Match``: it, a weak form of it
    among others, or ``*``)."""
    given = request.headers.get("if-none-match", "")
    return tag in (t.strip().removeprefix("W/") for t in given.split(",")) or given.strip() == "*"


def validators(tag: str) -> dict[str, str]:
    """The headers an answer tagged ``tag`` carries, a 304 as well."""
    return {"ETag": tag, "Cache-Control": CACHE_CONTROL}


def not_modified(tag: str) -> Response[Any]:
    """The answer to a request that holds ``tag``: no body (whatever the route's 200 holds)."""
    return Response(b"", status_code=304, headers=validators(tag))
