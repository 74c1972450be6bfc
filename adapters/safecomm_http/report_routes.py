"""``/v1/reports/...``: the programme's reports, rendered, cut to the principal.

Each answer carries an ``ETag`` made of the store's position (its log head) and the
query; a repeated GET with ``If-None-Match`` is answered 304 without building the
report again (:mod:`safecomm_http.caching`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from litestar import Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery
from safecomm_reports.render import Format, render

from safecomm_core.access import Principal
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.projections import Projector
from safecomm_core.reports.provenance import report_of
from safecomm_http.caching import etag, matches, not_modified, validators
from safecomm_http.context import principal, server
from safecomm_http.problems import responses
from safecomm_http.reporting import (
    DEFAULT_CLOSING_DAYS,
    INDICATORS,
    REPORTS,
    ReportQuery,
    check_day,
    check_period,
    explained,
    scope_for,
)

__all__ = [
    "MEDIA_TYPES",
    "describe_not_modified",
    "describe_rendered",
    "explain_indicator",
    "report",
]

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}

ReportName = Literal["monthly", "self-assessment", "watchlist"]
assert set(REPORTS) == set(ReportName.__args__)  # type: ignore[attr-defined]


@get(
    "/v1/reports/{name:str}",
    summary="A report, rendered",
    responses=responses(403),
    media_type="application/octet-stream",
)
async def report(
    request: Request[Any, Any, Any],
    name: FromPath[ReportName],
    period: FromQuery[str | None] = None,
    as_of: FromQuery[date | None] = None,
    within: FromQuery[int] = DEFAULT_CLOSING_DAYS,
    community: FromQuery[str | None] = None,
    format: FromQuery[Format] = "json",
    lang: FromQuery[Literal["zh", "en"]] = "zh",
) -> Response[bytes]:
    """The monthly report, the self-assessment or the watchlist (as the CLI's
    ``safecomm report``), in JSON, CSV, XLSX or HTML, Chinese or English labels.

    Without ``community``, the report covers the principal's community (the
    subdistrict for a principal of all communities; one must be named by a principal of
    several). ``period`` is a month ``YYYY-MM``; the self-assessment and the watchlist
    are as of a day (``as_of``, else the end of ``period``, else today).
    """
    who: Principal = principal(request)
    if not 0 <= within <= 366:
        raise InvalidCommand([FieldError("within", "must be from 0 to 366 days")])
    query = ReportQuery.of(
        name,
        scope_for(who, community),
        period=period,
        as_of=as_of,
        within=within,
    )
    backend = server(request).backend
    tag = etag(await backend.read(lambda s: s.log.head()), query.key(), format, lang)
    if matches(request, tag):
        return not_modified(tag)

    def build(_service: Any, projector: Projector) -> bytes:
        return render(query.build(projector), format, lang)

    body = await backend.report(build)
    return Response(body, media_type=MEDIA_TYPES[format], headers=validators(tag))


@get(
    "/v1/reports/explain/{indicator:str}",
    summary="The events behind a figure",
    responses=responses(403),
)
async def explain_indicator(
    request: Request[Any, Any, Any],
    indicator: FromPath[str],
    period: FromQuery[str],
    community: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The stored events behind a figure of any report, for the principal's community (or
    ``community``): a monthly indicator for a month (``period`` YYYY-MM); a
    self-assessment figure or a watchlist list as of a day (``period`` YYYY-MM-DD, or a
    month for its last day), a list row by row."""
    who = principal(request)
    if indicator not in INDICATORS:
        raise InvalidCommand([FieldError("indicator", f"must be one of {', '.join(INDICATORS)}")])
    checked = _explained_period(indicator, period)
    scope = scope_for(who, community)
    found: dict[str, Any] = await server(request).backend.report(
        lambda _s, projector: dict(explained(projector, indicator, checked, scope))
    )
    return found


def _explained_period(indicator: str, period: str) -> str:
    """``period`` checked for ``indicator``: a month, or a day within the store's days for a
    figure of the self-assessment or the watchlist."""
    if len(period) != 10 or report_of(indicator) == "monthly":
        return str(check_period(period))
    try:
        day = date.fromisoformat(period)
    except ValueError:
        raise InvalidCommand(
            [FieldError("period", "must be a month YYYY-MM or a day YYYY-MM-DD")]
        ) from None
    check_day(day, field="period")
    return period


def describe_rendered(operation: Operation) -> None:
    """Say in the OpenAPI document what Litestar cannot read from a route answering a
    rendered report: its body in each format (:data:`MEDIA_TYPES`)."""
    assert operation.responses is not None
    operation.responses["200"] = OpenAPIResponse(
        description="The report, in the format asked for.",
        content={
            media: OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.OBJECT if fmt == "json" else OpenAPIType.STRING)
            )
            for fmt, media in MEDIA_TYPES.items()
        },
    )


def describe_not_modified(operation: Operation, unchanged: str) -> None:
    """Say in the OpenAPI document that the route answers 304 to a request holding its
    ETag, when ``unchanged`` ("the store has not moved") since."""
    assert operation.responses is not None
    operation.responses["304"] = OpenAPIResponse(
        description=f"Not modified: {unchanged} since the ETag given."
    )
