"""Signing in and out, the language switch, and what every page is rendered with.

A browser signs in with a token (the same JWT the API takes) and keeps it in a cookie
that is HttpOnly, SameSite=Strict and signed (the token's own signature; it expires with
the token). Every form carries Litestar's CSRF token as well (docs/pages.md, *Sign-in*).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from safecomm_reports.labels import Lang, value_label
from safecomm_tokens import InvalidToken

from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.errors import Forbidden, SafecommError
from safecomm_http.context import SESSION_COOKIE, server
from safecomm_http.pages.words import words

__all__ = [
    "LANG_COOKIE",
    "NAV",
    "SignInNeeded",
    "home",
    "lang_of",
    "page",
    "session_ends",
    "sign_in",
    "sign_in_form",
    "sign_out",
    "switch_language",
    "today_of",
    "viewer",
]

LANG_COOKIE = "safecomm_lang"
#: The navigation: each page, its word, and the reading a role needs to be shown it.
NAV: tuple[tuple[str, str, Read | None], ...] = (
    ("/today", "nav_today", None),
    ("/disputes", "nav_disputes", Read.RECORDS),
    ("/alerts", "nav_alerts", Read.RECORDS),
    ("/migrants", "nav_migrants", Read.REPORTS),
    ("/reports", "nav_reports", Read.REPORTS),
    ("/audit", "nav_audit", Read.AUDIT),
)
_SIGN_IN = "/signin"


class SignInNeeded(SafecommError, PermissionError):
    """A page was asked for without a valid session: the browser is sent to sign in."""


def lang_of(request: Request[Any, Any, Any]) -> Lang:
    """The page language: the switch's cookie, else Chinese."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def viewer(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in principal (set from the session cookie by the app's authentication)."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise SignInNeeded("sign in first", field="session")
    return user


def session_ends(request: Request[Any, Any, Any]) -> float:
    """When the signed-in session's token expires (seconds since the epoch): what stays
    open past a request (the board's stream) ends then, as the session does."""
    viewer(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    return float(server(request).verifier.claims(token)["exp"])


def today_of(request: Request[Any, Any, Any]) -> date:
    """The day the pages take as today: the server's (``serve --demo`` sets the demo's
    last day), else the subdistrict's calendar day."""
    return server(request).today or datetime.now(SUBDISTRICT_TZ).date()


def page(
    request: Request[Any, Any, Any], template: str, code: int = 200, **context: Any
) -> Template:
    """The page ``template`` with what every page shows: who, the words, the navigation."""
    lang = lang_of(request)
    user = request.scope.get("user")
    who = user if isinstance(user, Principal) else None
    return Template(
        template_name=template,
        status_code=code,
        context={
            "w": words(lang),
            "lang": lang,
            "who": who,
            "role": value_label(who.role, lang) if who else "",
            "nav": [
                (href, key)
                for href, key, read in NAV
                if who and (read is None or who.role in POLICY.reads.get(read, ()))
            ],
            "label": lambda code: value_label(code, lang),
            "path": request.url.path,
            # Where the language switch comes back to (never with a sign-in link's token).
            "here": quote(
                str(request.url.path)
                + (
                    f"?{request.url.query}"
                    if request.url.query and request.url.path != _SIGN_IN
                    else ""
                )
            ),
            **context,
        },
    )


@get("/", include_in_schema=False)
async def home() -> Redirect:
    """The start page is Today."""
    return Redirect("/today")


#: What every sign-in answer carries: it may hold a token, so no cache keeps it and no
#: page it leads to is told its address.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _sign_in_page(request: Request[Any, Any, Any], code: int = 200, error: str = "") -> Template:
    response = page(request, "signin.html", code=code, error=error)
    response.headers.update(_PRIVATE)
    return response


def _session(request: Request[Any, Any, Any], token: str) -> Template:
    verifier = server(request).verifier
    try:
        claims = verifier.claims(token)
        who = verifier.admitted(claims)
    except (InvalidToken, Forbidden):
        return _sign_in_page(request, 401, words(lang_of(request))["bad_token"])
    max_age = max(0, int(claims["exp"]) - int(datetime.now(UTC).timestamp()))
    request.scope["user"] = who
    # A page, not a redirect: a navigation from this site's own page counts as same-site,
    # so the SameSite=Strict cookie is sent with it even when the link came from elsewhere.
    response = page(request, "signed_in.html")
    response.headers.update(_PRIVATE)
    response.cookies.append(
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    )
    return response


@get(_SIGN_IN, include_in_schema=False)
async def sign_in_form(
    request: Request[Any, Any, Any], token: FromQuery[str | None] = None
) -> Template:
    """The sign-in page; with ``?token=`` (the demo's links), signs in at once where the
    server offers links (``serve --demo``), and is refused elsewhere."""
    if token and not server(request).sign_in_links:
        return _sign_in_page(request, 400, words(lang_of(request))["no_links"])
    if token:
        return _session(request, token.strip())
    return _sign_in_page(request)


@post(_SIGN_IN, include_in_schema=False, status_code=200)
async def sign_in(request: Request[Any, Any, Any]) -> Template:
    """Sign in with the token typed in the form."""
    form = await request.form()
    return _session(request, str(form.get("token", "")).strip())


@post("/signout", include_in_schema=False, status_code=303)
async def sign_out() -> Redirect:
    """Forget the session."""
    response = Redirect(_SIGN_IN, status_code=303)
    response.cookies.append(
        Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, samesite="strict", path="/")
    )
    return response


@get("/lang", include_in_schema=False)
async def switch_language(to: FromQuery[str] = "zh", next: FromQuery[str] = "/today") -> Redirect:
    """Switch the pages' language (a cookie), then go back where the switch was pressed."""
    back = next if next.startswith("/") and not next.startswith("//") else "/today"
    response = Redirect(back)
    response.cookies.append(
        Cookie(
            key=LANG_COOKIE,
            value="en" if to == "en" else "zh",
            max_age=365 * 86400,
            samesite="strict",
            path="/",
        )
    )
    return response
