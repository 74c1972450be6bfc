"""The Litestar application: routes, authentication, limits, problems, OpenAPI 3.1.

Build one with :func:`create_app` (``safecomm serve`` does, and serves it with uvicorn)::

    app = create_app(Backend.open("sqlite:///safecomm.db"),
                     TokenVerifier.from_key_file(Path("safecomm.key")))
"""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    RequestBody,
    Schema,
    SecurityScheme,
)
from safecomm_tokens import TokenVerifier

from safecomm_core import COMMANDS
from safecomm_http import audit_routes, commands, events, health, records, report_routes
from safecomm_http.backend import Backend
from safecomm_http.context import BearerAuth, RateLimits, RequestLog, Server, rate_limit
from safecomm_http.pages import PageHeaders, csrf_config, page_router, template_config, unrouted
from safecomm_http.problems import handlers

__all__ = ["OPEN_PATHS", "create_app"]

#: Paths answered without a token.
OPEN_PATHS = ("/healthz", "/readyz", "/schema")

ROUTES = (
    commands.command,
    commands.batch,
    records.record,
    records.history,
    records.person,
    records.texts,
    report_routes.report,
    report_routes.explain_indicator,
    audit_routes.verify_record,
    audit_routes.seals,
    audit_routes.seal,
    audit_routes.bundle,
    events.events,
    health.healthz,
    health.readyz,
)


def create_app(
    backend: Backend,
    verifier: TokenVerifier,
    *,
    limits: RateLimits | None = None,
    seal_key: str | None = None,
    close_store: bool = True,
    today: date | None = None,
    sign_in_links: bool = False,
    subdistrict: str | None = None,
) -> Litestar:
    """The HTTP service over ``backend``, accepting tokens ``verifier`` trusts.

    ``seal_key``: the Ed25519 private key file ``POST /v1/audit/seal`` signs with.
    ``close_store``: close the store when the application shuts down (the backend's
    report thread is always stopped).
    ``today``: the day the pages take as today (``serve --demo``: the demo's last day).
    ``sign_in_links``: let ``/signin?token=`` sign in (``serve --demo``'s links); a token
    in an address stays in the browser's history, and a link from elsewhere would sign
    the browser in as whoever made it, so a real server takes pasted tokens only.
    ``subdistrict``: the city's subdistrict whose store this is, served by a city's
    application (:func:`safecomm_http.city.create_city_app`) under its prefix: the API
    only, no pages, its requests logged and its store closed by the city's.
    """
    state = Server(
        backend,
        verifier,
        limits or RateLimits(),
        seal_key,
        today,
        sign_in_links,
        subdistrict=subdistrict,
    )

    def shutdown() -> None:
        backend.close(store=close_store)

    pages = subdistrict is None
    app = Litestar(
        route_handlers=[*ROUTES, page_router()] if pages else list(ROUTES),
        template_config=template_config() if pages else None,
        csrf_config=csrf_config(verifier) if pages else None,
        middleware=[
            *((RequestLog, PageHeaders) if pages else ()),
            DefineMiddleware(BearerAuth, exclude=list(OPEN_PATHS)),
        ],
        before_request=rate_limit,
        exception_handlers={
            **handlers(),
            # The same in every application: Litestar keeps each route's handlers once found.
            NotFoundException: unrouted,
            MethodNotAllowedException: unrouted,
        },
        openapi_config=OpenAPIConfig(
            title="safecomm",
            version="1",
            description="Commands, records, reports, audit and events of a Safe Community "
            "programme, for an authenticated principal (see docs/access.md).",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
            use_handler_docstrings=True,
        ),
        state=State({"safecomm": state}),
        on_shutdown=[shutdown] if pages else [],
        logging_config=None,
    )
    _refine_schema(app)
    return app


def _refine_schema(app: Litestar) -> None:
    """Say what Litestar cannot read from the handlers: each command's ``type`` (the
    field a body is told apart by), the batch's body (command lines, read raw) and the
    report's formats."""
    document = app.openapi_schema
    batch = document.paths["/v1/commands/batch"].post if document.paths else None
    if batch is not None:
        batch.request_body = RequestBody(
            content={commands.NDJSON: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            description="One command (a JSON object) per line.",
            required=True,
        )
    report = document.paths["/v1/reports/{name}"].get if document.paths else None
    if report is not None:
        report_routes.describe_rendered(report)
        report_routes.describe_not_modified(report, "the store has not moved")
    schemas = document.components.schemas
    for type_, cls in COMMANDS.items():
        schema = schemas.get(cls.__name__)
        if not isinstance(schema, Schema):
            continue
        schema.properties = {"type": Schema(const=type_), **(schema.properties or {})}
        schema.required = ["type", *(schema.required or [])]
