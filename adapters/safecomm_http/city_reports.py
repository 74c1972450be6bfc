"""``/v1/city/reports/...``: a city's roll-up, and the events behind its figures.

- ``GET /v1/city/reports/monthly``: the city's monthly report
  (:func:`~safecomm_core.reports.city.rollup`), each subdistrict's figures as a scope and,
  with ``scope`` ``*``, the city's;
- ``GET /v1/city/reports/explain/{indicator}``: the events behind one of its figures
  (:func:`~safecomm_core.reports.city.explain_city`), each naming the subdistrict whose
  store holds it, in the shape of one store's ``/v1/reports/explain/{indicator}``.

Both are read as the policy decides (:func:`city_scope_for`,
:meth:`~safecomm_core.access.Policy.may_read_city`) and carry an ``ETag`` made of every
subdistrict's log head, in the city file's order, and the query: a request holding it is
answered 304 without reading a view (:mod:`safecomm_http.caching`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from litestar import Request, Response, get
from litestar.openapi.spec import OpenAPI
from litestar.params import FromPath, FromQuery, QueryParameter
from safecomm_reports.render import Format, render

from safecomm_core.access import CITY, POLICY, Principal, Read
from safecomm_core.city import Subdistrict
from safecomm_core.errors import FieldError, Forbidden, InvalidCommand
from safecomm_core.projections import Projector
from safecomm_core.reports.city import Views, explain_city, rollup
from safecomm_http.caching import etag, matches, not_modified, validators
from safecomm_http.context import CityServer, city_server, principal
from safecomm_http.problems import responses
from safecomm_http.report_routes import MEDIA_TYPES, describe_not_modified, describe_rendered
from safecomm_http.reporting import CITY_INDICATORS, check_period, explanation_data

__all__ = ["city_explain", "city_monthly", "city_scope_for", "describe_city_reports"]

T = TypeVar("T")

MONTHLY = "/v1/city/reports/monthly"
#: The explanations' path in the OpenAPI document (routed with its parameter's type).
EXPLAIN = "/v1/city/reports/explain/{indicator}"

#: The query parameter ``scope`` (a subdistrict's id, or ``*``): "scope" names the ASGI
#: scope for Litestar, so the handlers read it under another name.
Scope = Annotated[str | None, QueryParameter(name="scope")]


def city_scope_for(principal: Principal, scope: str | None) -> str:
    """The scope of the roll-up ``principal`` reads (``*``: the city and every subdistrict).

    Without ``scope``: the city for a principal of all of it, the subdistrict of a
    principal of one; one must be named by a principal of several. The policy refuses a
    scope the principal may not read.
    """
    POLICY.check_read(principal, Read.REPORTS)
    if scope is None:
        named = principal.subdistricts or ()
        if principal.serves_subdistrict(CITY):
            scope = CITY
        elif len(named) == 1:
            scope = named[0]
        else:
            choices = ", ".join(sorted(named))
            raise InvalidCommand([FieldError("scope", f"must be given: one of {choices}")])
    if not POLICY.may_read_city(principal, scope):
        raise Forbidden(
            f"{principal.subject!r} may not read the city's figures of scope {scope!r}",
            field="scope",
            rule="a principal of the reports' roles serving the whole of each subdistrict "
            "of the scope",
        )
    return scope


def _scope(request: Request[Any, Any, Any], scope: str | None) -> str:
    """The scope the request reads, allowed by the policy and one the city has."""
    chosen = city_scope_for(principal(request), scope)
    if chosen != CITY:
        city_server(request).city.subdistrict(chosen)  # refused, naming the city's ids
    return chosen


async def _heads(state: CityServer) -> str:
    """Where the city stands: every subdistrict's log head, in the city file's order."""
    heads = []
    for sub in state.city.subdistricts:
        head = await state.servers[sub.id].backend.read(lambda s: s.log.head())
        heads.append(f"{sub.id}={head}")
    return ",".join(heads)


def _views(state: CityServer) -> Views:
    """How the roll-up reads a subdistrict here: its server's caught-up views."""

    def views(sub: Subdistrict, build: Callable[[Projector], T]) -> T:
        return state.servers[sub.id].backend.views(build)

    return views


@get(
    MONTHLY,
    summary="The city's monthly roll-up",
    responses=responses(403, 404),
    media_type="application/octet-stream",
)
async def city_monthly(
    request: Request[Any, Any, Any],
    period: FromQuery[str | None] = None,
    of: Scope = None,
    format: FromQuery[Format] = "json",
    lang: FromQuery[Literal["zh", "en"]] = "zh",
) -> Response[bytes]:
    """The city's monthly figures: each subdistrict's as a scope (its id), and with
    ``scope`` ``*`` the city's own. Without ``scope``: the city for a principal of the
    whole city, else the principal's subdistrict (one must be named by a principal of
    several). Only principals of whole subdistricts read them (docs/access.md).
    ``period`` is a month ``YYYY-MM`` (default: the latest month of any subdistrict)."""
    chosen = _scope(request, of)
    check_period(period)
    state = city_server(request)
    tag = etag(await _heads(state), "monthly", period, chosen, format, lang)
    if matches(request, tag):
        return not_modified(tag)
    views = _views(state)
    report = await anyio.to_thread.run_sync(lambda: rollup(state.city, views, period, chosen))
    body = render(report, format, lang)
    return Response(body, media_type=MEDIA_TYPES[format], headers=validators(tag))


@get(
    "/v1/city/reports/explain/{indicator:str}",
    summary="The events behind a figure of the city",
    responses=responses(403, 404),
)
async def city_explain(
    request: Request[Any, Any, Any],
    indicator: FromPath[str],
    period: FromQuery[str],
    of: Scope = None,
) -> Response[dict[str, Any]]:
    """The stored events behind a figure of the city's monthly report, for the month
    ``period`` (YYYY-MM) and ``scope`` (``*``: the city; a subdistrict's id), each naming
    its subdistrict; ``scope`` defaults as for the roll-up. The shape of
    ``/v1/reports/explain/{indicator}``."""
    if indicator not in CITY_INDICATORS:
        raise InvalidCommand(
            [FieldError("indicator", f"must be one of {', '.join(CITY_INDICATORS)}")]
        )
    check_period(period)
    chosen = _scope(request, of)
    state = city_server(request)
    tag = etag(await _heads(state), "explain", indicator, period, chosen)
    if matches(request, tag):
        return not_modified(tag)
    views = _views(state)
    found = await anyio.to_thread.run_sync(
        lambda: explain_city(state.city, indicator, period, chosen, views=views)
    )
    return Response(explanation_data(found), headers=validators(tag))


def describe_city_reports(document: OpenAPI) -> None:
    """Say in the city's OpenAPI document what Litestar cannot read from the handlers: the
    roll-up's formats, and both routes' 304."""
    paths = document.paths or {}
    monthly, explain = paths[MONTHLY].get, paths[EXPLAIN].get
    assert monthly is not None
    assert explain is not None
    describe_rendered(monthly)
    for operation in (monthly, explain):
        describe_not_modified(operation, "no subdistrict's store has moved")
