"""What every request needs: the server's state, the principal, its allowance, its log line.

- :class:`BearerAuth` maps the ``Authorization: Bearer`` token to a
  :class:`~safecomm_core.access.Principal` (``request.user``), or refuses with 401;
- :func:`rate_limit` gives each principal a token bucket, and answers 429 past it;
- :class:`RequestLog` writes one structured line per request: request id, principal,
  route, status and time; never a body or a query (they may carry names, phones and ID
  numbers).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from safecomm_tokens import InvalidToken, TokenVerifier

from safecomm_core.access import POLICY, Principal
from safecomm_core.city import City
from safecomm_core.errors import Forbidden
from safecomm_http.backend import Backend
from safecomm_http.problems import TooManyRequests, status_of

__all__ = [
    "API_PREFIX",
    "SESSION_COOKIE",
    "BearerAuth",
    "CityServer",
    "RateLimits",
    "RequestLog",
    "Server",
    "principal",
    "rate_limit",
    "server",
    "serves_pages",
]

log = logging.getLogger("safecomm.http")


@attrs.define
class RateLimits:
    """A token bucket per principal: ``burst`` requests at once, ``rate`` per second after."""

    rate: float = 50.0
    burst: float = 200.0
    _buckets: dict[str, tuple[float, float]] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def take(self, subject: str, now: float | None = None) -> float:
        """Take one request from ``subject``'s bucket; seconds to wait if it is empty (else 0)."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.get(subject, (self.burst, moment))
            tokens = min(self.burst, tokens + (moment - then) * self.rate)
            if tokens < 1:
                self._buckets[subject] = (tokens, moment)
                return (1 - tokens) / self.rate
            self._buckets[subject] = (tokens - 1, moment)
            return 0.0


@attrs.frozen
class Server:
    """The server's state: the store, how tokens are checked, limits and the sealing key."""

    backend: Backend
    verifier: TokenVerifier
    limits: RateLimits = attrs.field(factory=RateLimits)
    #: The Ed25519 private key file ``POST /v1/audit/seal`` signs with, if any.
    seal_key: str | None = None
    #: The day the pages take as today (None: the subdistrict's calendar day).
    today: date | None = None
    #: Whether ``/signin?token=`` signs in (the demo's links); else a token is pasted.
    sign_in_links: bool = False
    #: The report pages' charts, drawn once per (store position, report query, language).
    charts: OrderedDict[tuple[int, str, str], str] = attrs.field(factory=OrderedDict)
    #: The alert boards' live streams each principal holds open now, by subject.
    streams: dict[str, int] = attrs.field(factory=dict)
    #: The subdistrict of a city whose store this is (its API under
    #: ``/subdistricts/{id}``, no pages); None for a server of one store.
    subdistrict: str | None = None


@attrs.frozen
class CityServer:
    """A city's server: each subdistrict's :class:`Server`, and what they share."""

    city: City
    #: Each subdistrict's server, by id.
    servers: Mapping[str, Server]
    verifier: TokenVerifier
    limits: RateLimits


def _state(connection: ASGIConnection[Any, Any, Any, Any]) -> Server | CityServer:
    # The application from the scope (what ``connection.app`` reads), not the attribute:
    # the store's boundary allows no ``.app`` outside the event log (tests/test_boundary.py).
    found: Server | CityServer = connection.scope["litestar_app"].state["safecomm"]
    return found


def serves_pages(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether ``connection`` asks for a page: on a server of one store, outside the API."""
    state = _state(connection)
    one_store = isinstance(state, Server) and state.subdistrict is None
    return one_store and not connection.url.path.startswith(API_PREFIX)


def server(connection: ASGIConnection[Any, Any, Any, Any]) -> Server:
    """The server state of the app answering ``connection`` (one store's)."""
    found = _state(connection)
    assert isinstance(found, Server), "a route of one store served by a city's application"
    return found


def city_server(connection: ASGIConnection[Any, Any, Any, Any]) -> CityServer:
    """The city's server state of the app answering ``connection``."""
    found = _state(connection)
    assert isinstance(found, CityServer), "a city's route served by one store's application"
    return found


def principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated principal of ``request``."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise InvalidToken("the request carries no bearer token", field="authorization")
    return user


#: The cookie a signed-in browser carries: the token it signed in with (see docs/pages.md).
SESSION_COOKIE = "safecomm_session"
#: Where the JSON API lives; every other path is a page.
API_PREFIX = "/v1/"


class BearerAuth(AbstractAuthenticationMiddleware):
    """Authenticates every request but the health checks and the schema with its token.

    The API (``/v1/...``) takes the token from the ``Authorization`` header only; the
    pages take it from the session cookie, and let a request without one through with
    no user (a page then asks the browser to sign in). A city's server has no pages, and
    the policy decides whether the principal may reach a subdistrict's store at all.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = _state(connection)
        if serves_pages(connection):
            cookie = connection.cookies.get(SESSION_COOKIE, "")
            try:
                who = state.verifier.principal(cookie) if cookie else None
            except (InvalidToken, Forbidden):
                who = None  # an expired session: the page asks to sign in again
            return AuthenticationResult(user=who, auth=None)
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("the request carries no bearer token", field="authorization")
        who = state.verifier.principal(token.strip())
        if isinstance(state, Server):
            POLICY.check_subdistrict(who, state.subdistrict)
        return AuthenticationResult(user=who, auth=token)


async def rate_limit(request: Request[Any, Any, Any]) -> None:
    """Refuse a request past its principal's allowance (429, with ``Retry-After``)."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        return
    limits = _state(request).limits
    wait = limits.take(user.subject)
    if wait:
        raise TooManyRequests(
            f"too many requests; retry in {wait:.1f} s",
            retry_after=wait,
            rule=f"at most {limits.rate:g} requests per second",
        )


class RequestLog:
    """ASGI middleware: one JSON log line per request, and its id in ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.inner = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.inner(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.inner(scope, receive, sending)
        except Exception as exc:
            status = status_of(exc)  # answered by the handlers outside this middleware
            raise
        finally:
            user = scope.get("user")
            handler = scope.get("route_handler")
            route = next(iter(sorted(handler.paths)), "") if handler is not None else ""
            # A subdistrict's route in a city: under its prefix (safecomm_http.city).
            route = scope.get("root_path", "") + route if route else route
            line = {
                "request_id": request_id,
                "method": scope.get("method", ""),
                "route": route or "(unrouted)",
                "principal": user.subject if isinstance(user, Principal) else None,
                "role": str(user.role) if isinstance(user, Principal) else None,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
            log.info(json.dumps(line))
