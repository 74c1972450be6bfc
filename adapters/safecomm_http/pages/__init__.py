"""The staff's web pages, served by ``safecomm serve`` beside the JSON API.

Server-rendered (Jinja templates through Litestar), no front-end build; a few lines of
plain JavaScript follow the alert board's server-sent events. The pages take the same
principals as the API (a token, kept in a session cookie) and ask the same access policy;
see docs/pages.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from safecomm_tokens import TokenVerifier

from safecomm_http.context import API_PREFIX, serves_pages
from safecomm_http.pages import board, cases, reports, session
from safecomm_http.pages.session import SignInNeeded, page
from safecomm_http.pages.tables import segment
from safecomm_http.problems import problem_of, problem_response

__all__ = [
    "PAGE_HEADERS",
    "TEMPLATES",
    "PageHeaders",
    "csrf_config",
    "csrf_secret",
    "page_router",
    "template_config",
    "unrouted",
]

TEMPLATES = Path(__file__).parent / "templates"
#: What every page answer carries: no cache keeps it (an office's computer is shared,
#: and the back button must not bring an opened person back after signing out), no
#: other site frames a page (a framed page's button pressed through a decoy), no answer
#: is read as another type, forms post to this site only (see docs/pages.md,
#: *Hostile input*). A header the answer sets itself (the live board's) is kept.
PAGE_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
)

_HANDLERS = (
    session.home,
    session.sign_in_form,
    session.sign_in,
    session.sign_out,
    session.switch_language,
    cases.today,
    cases.disputes,
    cases.new_dispute,
    cases.dispute,
    cases.dispute_action,
    cases.open_party,
    cases.open_texts,
    board.alerts,
    board.board,
    board.board_events,
    board.acknowledge,
    reports.reports,
    reports.download,
    reports.migrants,
    reports.open_worker,
    reports.audit,
    reports.audit_verify,
    reports.audit_bundle,
)


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInNeeded):
        return Redirect("/signin")
    problem = problem_of(exc)
    if problem.status == 500:
        raise exc  # the app's own handler logs it and answers
    return page(request, "error.html", code=problem.status, problem=problem)


class PageHeaders:
    """ASGI middleware: :data:`PAGE_HEADERS` on every answer but the API's, error pages
    and redirects included."""

    def __init__(self, app: ASGIApp) -> None:
        self.inner = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(API_PREFIX):
            await self.inner(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                given = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in PAGE_HEADERS if h[0] not in given]
            await send(message)

        await self.inner(scope, receive, sending)


def unrouted(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """An address no route answers (404) or not with this method (405): a page, with
    the pages' headers, unless the API was asked (then a problem document)."""
    if not serves_pages(request):
        return problem_response(exc)
    problem = problem_of(exc)
    answer = page(request, "error.html", code=problem.status, problem=problem)
    answer.headers.update({k.decode(): v.decode() for k, v in PAGE_HEADERS})
    return answer


def page_router() -> Router:
    """Every page, with errors shown as pages (a 404 for another community's record)."""
    return Router(
        path="/",
        route_handlers=list(_HANDLERS),
        exception_handlers={Exception: _error_page, HTTPException: _error_page},
        include_in_schema=False,
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The pages' templates (Jinja, autoescaped; ``|seg`` makes a ref one segment of an
    address)."""

    def filters(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters["seg"] = segment

    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=filters)


def csrf_secret(verifier: TokenVerifier) -> str:
    """The secret CSRF tokens are signed with: derived from the server's HS256 key, so that
    a form opened before a restart, or served by another process of the same server, still
    posts; from ``SAFECOMM_CSRF_SECRET``, or one made at start, for a server taking JWKS
    tokens (which holds no secret of its own)."""
    if verifier.secret is not None:
        return hmac.new(verifier.secret, b"safecomm pages: csrf", hashlib.sha256).hexdigest()
    return os.environ.get("SAFECOMM_CSRF_SECRET") or secrets.token_hex(32)


def csrf_config(verifier: TokenVerifier) -> CSRFConfig:
    """CSRF protection of every form post (the API, with bearer tokens, needs none)."""
    return CSRFConfig(
        secret=csrf_secret(verifier),
        cookie_samesite="strict",
        cookie_httponly=True,
        exclude=[r"^/v1/"],
    )
