"""Serving a store over HTTP in tests: the app, tokens for principals, their requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app
from safecomm_http.in_thread import serve_in_thread
from safecomm_tokens import issue_token

from safecomm_core import Safecomm
from safecomm_core.access import ALL_COMMUNITIES, Principal
from safecomm_core.values import Role

KEY = b"test-key-" + b"k" * 40

MEDIATOR_C1 = Principal("staff-017", Role.MEDIATOR, ["C1"])
MEDIATOR_C2 = Principal("staff-027", Role.MEDIATOR, ["C2"])
OFFICE = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)
ADMIN = Principal("admin-1", Role.ADMIN, ALL_COMMUNITIES)
EVALUATOR = Principal("eval-1", Role.EVALUATOR, ALL_COMMUNITIES)


def token(principal: Principal, ttl: timedelta = timedelta(hours=1)) -> str:
    """A token for ``principal`` signed with the tests' key."""
    return issue_token(principal, KEY, ttl)


def auth(principal: Principal) -> dict[str, str]:
    """The headers of a request by ``principal``."""
    return {"Authorization": f"Bearer {token(principal)}"}


def as_(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a command) as ``principal`` sends it: the actor is the principal."""
    return {**data, "actor": {"id": principal.subject, "role": str(principal.role)}}


@contextmanager
def serving(
    service: Safecomm, *, seal_key: str | None = None, rate: float = 10_000.0
) -> Iterator[TestClient[Any]]:
    """A client of the HTTP service over ``service`` (left open: the caller owns it)."""
    app = create_app(
        Backend(service),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=rate, burst=rate),
        seal_key=seal_key,
        close_store=False,
    )
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


#: ``app`` served by uvicorn in a thread on a free port; yields its base URL.
served = serve_in_thread
