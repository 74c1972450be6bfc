"""Errors as RFC 9457 problem details (``application/problem+json``).

Every refusal says which ``field`` and which ``rule``; the status says what kind of
refusal it is. Nothing a client sends ends in a 500: safecomm's own errors, the web
framework's (bad query, body too large, unknown route) and the token's all map here.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import attrs
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from safecomm_tokens import InvalidToken

from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    Forbidden,
    InvalidCommand,
    NotFound,
    PersonErased,
    RuleViolation,
    SafecommError,
    StoreError,
)

__all__ = [
    "PROBLEM",
    "Problem",
    "ProblemField",
    "TooManyRequests",
    "handlers",
    "problem_response",
    "responses",
    "status_of",
]

PROBLEM = "application/problem+json"

log = logging.getLogger("safecomm.http")


@attrs.frozen
class ProblemField:
    """One field a request broke, and the rule."""

    field: str
    rule: str


@attrs.frozen
class Problem:
    """An RFC 9457 problem: what went wrong, and which field broke which rule."""

    type: str
    title: str
    status: int
    detail: str
    field: str = ""
    rule: str = ""
    errors: tuple[ProblemField, ...] = ()


class TooManyRequests(SafecommError, RuntimeError):
    """The principal sent more requests than its allowance."""

    def __init__(self, message: str, *, retry_after: float, rule: str) -> None:
        super().__init__(message, rule=rule)
        #: Seconds until the next request would be accepted.
        self.retry_after = retry_after


#: safecomm's errors by the status they answer with; the first class that matches wins.
_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (InvalidCommand, 400),
    (InvalidToken, 401),
    (NotFound, 404),
    (PersonErased, 410),
    (CommandIdReused, 409),
    (AlreadyExists, 409),
    (ConcurrencyConflict, 409),
    (RuleViolation, 422),
    (TooManyRequests, 429),
    (StoreError, 503),
)


def status_of(exc: Exception) -> int:
    """The HTTP status of a refusal."""
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, HTTPException):
        return exc.status_code
    for cls, status in _STATUSES:
        if isinstance(exc, cls):
            return status
    if isinstance(exc, SafecommError):
        # ValueError-like errors (a key file, an output format) are the caller's input;
        # the rest (an audit that could not be done) are the server's to fix.
        return 400 if isinstance(exc, ValueError) else 503
    return 500


_TITLES = {
    400: "bad request",
    401: "not authenticated",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    410: "gone",
    413: "request body too large",
    415: "unsupported media type",
    422: "refused by a rule",
    429: "too many requests",
    500: "internal error",
    503: "store unavailable",
}


def problem_of(exc: Exception) -> Problem:
    """The problem document of ``exc``."""
    status = status_of(exc)
    field = rule = ""
    errors: tuple[ProblemField, ...] = ()
    if isinstance(exc, SafecommError):
        detail, field, rule = exc.message, exc.field, exc.rule
        if isinstance(exc, InvalidCommand):
            errors = tuple(ProblemField(e.field, e.rule) for e in exc.errors)
    elif isinstance(exc, ValidationException):
        detail = str(exc.detail)
        found = exc.extra if isinstance(exc.extra, list) else []
        errors = tuple(
            ProblemField(str(e.get("key", "")), str(e.get("message", "")))
            for e in found
            if isinstance(e, dict)
        )
        if errors:
            field, rule = errors[0].field, errors[0].rule
    elif isinstance(exc, HTTPException):
        detail = str(exc.detail)
    else:
        detail = "the server failed; the request id in its log says where"
    title = _TITLES.get(status, "error")
    return Problem(
        type=f"https://safecomm.invalid/problems/{status}",
        title=title,
        status=status,
        detail=detail,
        field=field,
        rule=rule,
        errors=errors,
    )


def problem_response(exc: Exception) -> Response[Problem]:
    """The response carrying the problem of ``exc``."""
    problem = problem_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(math.ceil(exc.retry_after))}
    if isinstance(exc, HTTPException) and exc.headers:
        headers = {**(headers or {}), **exc.headers}
    return Response(problem, status_code=problem.status, media_type=PROBLEM, headers=headers)


def _handle(_request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if status_of(exc) == 500:
        log.exception("unexpected error", exc_info=exc)
    return problem_response(exc)


def handlers() -> dict[type[Exception] | int, Any]:
    """Litestar's exception handlers: every error becomes a problem document."""
    return {Exception: _handle, HTTPException: _handle}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI description of the problems a route may answer with."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_TITLES.get(status, "error"),
            media_type=PROBLEM,
            generate_examples=False,
        )
        for status in sorted({400, 401, 429, 503, *statuses})
    }
