"""A city served by one process: each subdistrict's API under its prefix, and the city's
roll-up (``safecomm serve --city FILE``).

Everything a server of one store answers at ``/v1/...`` (and ``/readyz``), a city's server
answers for subdistrict ``S01`` at ``/subdistricts/S01/v1/...``, from that subdistrict's
own store: an application per subdistrict (:func:`~safecomm_http.app.create_app`, API
only), to which :class:`CityApp` passes the request. The city's own routes:

- ``GET /v1/city/reports/monthly``: the roll-up (each subdistrict's figures as a scope,
  and the city's), and ``GET /v1/city/reports/explain/{indicator}``: the events behind
  one of its figures, cut to the principal as the policy decides
  (:meth:`~safecomm_core.access.Policy.may_read_city`; :mod:`safecomm_http.city_reports`);
- ``/healthz``, ``/readyz`` (every store) and ``/schema`` (the city's routes and every
  subdistrict's under ``/subdistricts/{subdistrict}``).

A token must name its subdistricts; another subdistrict, like one the city does not
have, is not found. The staff's pages are not served (docs/pages.md).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import attrs
from litestar import Litestar, Request, get, route
from litestar.datastructures import State
from litestar.enums import HttpMethod, ParamType
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, spec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send
from safecomm_tokens import TokenVerifier

from safecomm_core.city import City, Subdistrict
from safecomm_core.errors import NotFound, SafecommError, StoreError
from safecomm_core.store import parse_store_url
from safecomm_http.app import create_app
from safecomm_http.backend import Backend
from safecomm_http.city_reports import city_explain, city_monthly, describe_city_reports
from safecomm_http.context import (
    BearerAuth,
    CityServer,
    RateLimits,
    RequestLog,
    city_server,
    principal,
    rate_limit,
)
from safecomm_http.health import Readiness, healthz
from safecomm_http.pages import unrouted
from safecomm_http.problems import handlers, responses

__all__ = ["PREFIX", "CityApp", "create_city_app", "open_backends"]

#: Where each subdistrict's routes live: ``/subdistricts/{id}`` before its own paths.
PREFIX = "/subdistricts"
#: Paths of a city's server answered without a token.
OPEN_PATHS = ("/healthz", "/readyz", "/schema")


@attrs.frozen
class CityReadiness:
    """Every subdistrict's store answers: each one's readiness, by id."""

    status: str
    subdistricts: dict[str, Readiness]


@get("/readyz", summary="Every store answers", exclude_from_auth=True, responses=responses())
async def city_readyz(request: Request[Any, Any, Any]) -> CityReadiness:
    """``ready`` when every subdistrict's store can be read (else 503), with its head and
    its views' lag."""
    found = {}
    for id, one in city_server(request).servers.items():
        head = await one.backend.read(lambda s: s.log.head())
        found[id] = Readiness("ready", head, await one.backend.lag())
    return CityReadiness("ready", found)


@route(
    PREFIX + "/{subdistrict:str}/{rest:path}",
    http_method=[
        HttpMethod.GET,
        HttpMethod.POST,
        HttpMethod.PUT,
        HttpMethod.PATCH,
        HttpMethod.DELETE,
    ],
    include_in_schema=False,
)
async def unknown_subdistrict(request: Request[Any, Any, Any], subdistrict: FromPath[str]) -> None:
    """A subdistrict the city does not have: not found, as one the principal does not
    serve (the token is checked first, as there)."""
    principal(request)
    raise NotFound("subdistrict", subdistrict, "subdistrict")


class CityApp:
    """ASGI: a request under ``/subdistricts/{id}/`` goes to that subdistrict's
    application (the prefix as its ``root_path``), any other to the city's."""

    def __init__(self, city: Litestar, subdistricts: Mapping[str, Litestar]) -> None:
        self.city = city
        self.subdistricts = subdistricts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            id, slash, _rest = scope["path"].removeprefix(PREFIX + "/").partition("/")
            found = self.subdistricts.get(id) if slash else None
            if found is not None and scope["path"].startswith(f"{PREFIX}/{id}/"):
                # In place: the request's log line reads what the application leaves here.
                scope["root_path"] = scope.get("root_path", "") + f"{PREFIX}/{id}"
                await found(scope, receive, send)
                return
        await self.city(scope, receive, send)


def open_backends(city: City) -> dict[str, Backend]:
    """Each subdistrict's store, opened. A store that cannot be opened, or one that does
    not exist (a mistyped path or ?name= would otherwise start an empty store), is a
    :class:`~safecomm_core.errors.StoreError` naming the subdistrict; the stores opened
    before it are closed."""
    opened: dict[str, Backend] = {}
    try:
        for n, sub in enumerate(city.subdistricts, start=1):
            opened[sub.id] = _open(n, sub)
    except BaseException:
        for backend in opened.values():
            backend.close()
        raise
    return opened


def _open(n: int, sub: Subdistrict) -> Backend:
    where = f"subdistrict {sub.id} ({sub.name})"
    try:
        config = parse_store_url(sub.store)
        if not config.exists():
            raise StoreError(
                f"no store at {config.display!r}", rule="an existing store (safecomm demo, import)"
            )
        return Backend.open(sub.store)
    except SafecommError as exc:
        raise StoreError(
            f"{where}: {exc.message}", field=f"subdistrict[{n}].store", rule=exc.rule
        ) from None


def create_city_app(
    city: City,
    backends: Mapping[str, Backend],
    verifier: TokenVerifier,
    *,
    limits: RateLimits | None = None,
    seal_key: str | None = None,
    close_store: bool = True,
) -> ASGIApp:
    """The HTTP service of ``city``: each subdistrict's store (``backends``, by id) under
    ``/subdistricts/{id}``, and the city's roll-up; tokens must name their subdistricts."""
    verifier = attrs.evolve(verifier, city=True)
    limits = limits or RateLimits()
    apps = {
        sub.id: create_app(
            backends[sub.id], verifier, limits=limits, seal_key=seal_key, subdistrict=sub.id
        )
        for sub in city.subdistricts
    }
    state = CityServer(city, {i: a.state["safecomm"] for i, a in apps.items()}, verifier, limits)

    def shutdown() -> None:
        for backend in backends.values():
            backend.close(store=close_store)

    app = Litestar(
        route_handlers=[city_monthly, city_explain, city_readyz, healthz, unknown_subdistrict],
        middleware=[DefineMiddleware(BearerAuth, exclude=list(OPEN_PATHS))],
        before_request=rate_limit,
        exception_handlers={
            **handlers(),
            NotFoundException: unrouted,
            MethodNotAllowedException: unrouted,
        },
        openapi_config=OpenAPIConfig(
            title=f"safecomm: {city.name}",
            version="1",
            description="The city's roll-up, and each subdistrict's commands, records, "
            "reports, audit and events under /subdistricts/{subdistrict}, for an "
            "authenticated principal of its subdistricts (see docs/access.md).",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            components=spec.Components(
                security_schemes={
                    "bearer": spec.SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
            use_handler_docstrings=True,
        ),
        state=State({"safecomm": state}),
        on_shutdown=[shutdown],
        logging_config=None,
    )
    describe_city_reports(app.openapi_schema)
    _add_subdistrict_paths(app, next(iter(apps.values())), city)
    return RequestLog(CityApp(app, apps))


def _add_subdistrict_paths(app: Litestar, one: Litestar, city: City) -> None:
    """The city's OpenAPI document lists a subdistrict's paths under its prefix."""
    document, theirs = app.openapi_schema, one.openapi_schema
    subdistrict = spec.Parameter(
        name="subdistrict",
        param_in=ParamType.PATH,
        required=True,
        schema=spec.Schema(type=spec.OpenAPIType.STRING, enum=[s.id for s in city.subdistricts]),
        description="The subdistrict's id (the city file's); another is not found.",
    )
    for path, item in (theirs.paths or {}).items():
        if path in ("/healthz", "/schema") or path.startswith("/schema/"):
            continue
        item = copy.deepcopy(item)
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if operation is not None:
                operation.parameters = [subdistrict, *(operation.parameters or [])]
                operation.operation_id = f"Subdistrict{operation.operation_id or ''}"
        if document.paths is not None:
            document.paths[f"{PREFIX}/{{subdistrict}}{path}"] = item
    for name, schema in (theirs.components.schemas or {}).items():
        document.components.schemas.setdefault(name, schema)
