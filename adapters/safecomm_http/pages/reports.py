"""Reports, migrant workers and the audit as pages.

The monthly report and the self-assessment are built exactly as ``GET /v1/reports/{name}``
builds them (:class:`~safecomm_http.reporting.ReportQuery`), so their figures are the
API's; the page adds charts (the HTML report's own), downloads, and words for codes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Stream, Template
from safecomm_reports.charts import scope_colours
from safecomm_reports.labels import Lang
from safecomm_reports.render import render
from safecomm_reports.to_html import comparisons_html, trends_html

from safecomm_core import Safecomm
from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.audit import Ledger, verify
from safecomm_core.dates import Month
from safecomm_core.domain.migrant import MigrantWorker
from safecomm_core.projections.runner import Projector
from safecomm_core.reports.model import Report, Section
from safecomm_http.audit_routes import stream_bundle
from safecomm_http.context import server
from safecomm_http.pages.cases import chosen_community
from safecomm_http.pages.session import lang_of, page, today_of, viewer
from safecomm_http.pages.tables import figure_rows, section_table
from safecomm_http.records import open_person
from safecomm_http.report_routes import MEDIA_TYPES
from safecomm_http.reporting import DEFAULT_CLOSING_DAYS, ReportQuery, check_period, scope_for

__all__ = [
    "audit",
    "audit_bundle",
    "audit_verify",
    "download",
    "migrants",
    "open_worker",
    "reports",
]

PageReport = Literal["monthly", "self-assessment"]
#: Rendered charts kept (by store head, query, language; the server holds them): drawing
#: them is the page's dearest part, and the same report is asked for again and again
#: between commands.
_CHARTS_KEPT = 16
#: The watchlist's lists of migrant workers.
MIGRANT_LISTS = ("permits_to_endorse", "eligible_not_offered")


def _query(
    request: Request[Any, Any, Any],
    who: Principal,
    name: str,
    period: str | None,
    as_of: date | None,
    community: str | None,
) -> ReportQuery:
    scope = scope_for(who, chosen_community(who, community))
    check_period(period)
    if name == "monthly" and period is None and as_of is None:
        period = today_of(request).isoformat()[:7]
    if name != "monthly" and period is None and as_of is None:
        as_of = today_of(request)
    return ReportQuery.of(
        name,
        scope,
        period=period,
        as_of=as_of,
        within=DEFAULT_CLOSING_DAYS,
    )


def _charts(report: Report, lang: Lang) -> str:
    colours = scope_colours([f.scope for f in report.figures] + [s.scope for s in report.series])
    return trends_html(report, colours, lang) + comparisons_html(report, colours, lang)


@get("/reports", include_in_schema=False)
async def reports(
    request: Request[Any, Any, Any],
    name: FromQuery[PageReport] = "monthly",
    period: FromQuery[str | None] = None,
    as_of: FromQuery[date | None] = None,
    community: FromQuery[str | None] = None,
) -> Template:
    """The monthly report (charts, communities side by side, trends) or the self-assessment."""
    who, lang = viewer(request), lang_of(request)
    query = _query(request, who, name, period, as_of, community)
    backend = server(request).backend
    head = await backend.read(lambda s: s.log.head())
    report: Report = await backend.report(lambda _s, projector: query.build(projector))
    key = (head, query.key(), lang)
    kept = server(request).charts
    charts = kept.get(key)
    if charts is None:
        charts = await backend.serial(lambda _s: _charts(report, lang))
        kept[key] = charts
        while len(kept) > _CHARTS_KEPT:
            kept.popitem(last=False)
    links = {
        fmt: f"/reports/{name}/{fmt}?{request.url.query}"
        if request.url.query
        else f"/reports/{name}/{fmt}"
        for fmt in ("xlsx", "csv", "html")
    }
    return page(
        request,
        "reports.html",
        name=name,
        report=report,
        period=query.period or "",
        as_of=query.as_of,
        figures=figure_rows(report, lang),
        tables=[section_table(s, lang) for s in report.sections],
        charts=charts,
        links=links,
    )


@get("/reports/{name:str}/{fmt:str}", include_in_schema=False)
async def download(
    request: Request[Any, Any, Any],
    name: FromPath[PageReport],
    fmt: FromPath[Literal["xlsx", "csv", "html"]],
    period: FromQuery[str | None] = None,
    as_of: FromQuery[date | None] = None,
    community: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The report as a file: XLSX, CSV or the self-contained HTML report."""
    who, lang = viewer(request), lang_of(request)
    query = _query(request, who, name, period, as_of, community)
    body = await server(request).backend.report(
        lambda _s, projector: render(query.build(projector), fmt, lang)
    )
    stem = f"{name}-{query.period or query.as_of}"
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


async def _migrants_page(
    request: Request[Any, Any, Any],
    community: str | None,
    *,
    opened: dict[str, Any] | None = None,
) -> Template:
    who, lang = viewer(request), lang_of(request)
    watch = _query(request, who, "watchlist", None, None, community)
    month = _query(request, who, "monthly", None, None, community)

    def read(projector: Projector) -> list[Section]:
        lists = [s for s in watch.build(projector).sections if s.id in MIGRANT_LISTS]
        counts = [s for s in month.build(projector).sections if s.id == "registrations"]
        return counts + lists

    sections = await server(request).backend.report(lambda _s, projector: read(projector))
    return page(
        request,
        "migrants.html",
        tables=[section_table(s, lang) for s in sections],
        day=watch.as_of,
        month=month.period,
        may_open=who.role in POLICY.reads[Read.PERSONAL],
        opened=opened,
    )


@get("/migrants", include_in_schema=False)
async def migrants(
    request: Request[Any, Any, Any], community: FromQuery[str | None] = None
) -> Template:
    """This month's registrations by community, residence permits to endorse and workers
    eligible for M3.3 services not yet offered (by masked reference); roles that may open
    people open a worker's details by the worker's reference, each opening recorded."""
    return await _migrants_page(request, community)


def _open_worker(service: Safecomm, ref: str, who: Principal, why: str) -> dict[str, Any]:
    worker = service.get(MigrantWorker, ref, who)
    found: dict[str, Any] = open_person(service, "migrant", ref, worker.person.ref, who, why)
    return {"ref": ref, **found}


@post("/migrants/open", include_in_schema=False, status_code=200)
async def open_worker(request: Request[Any, Any, Any]) -> Template:
    """Open a worker's details for a reason; the opening is recorded before it is shown."""
    who = viewer(request)
    form = await request.form()
    ref, why = str(form.get("worker_id", "")).strip(), str(form.get("why", "")).strip()
    opened = await server(request).backend.write(lambda s: _open_worker(s, ref, who, why))
    return await _migrants_page(request, None, opened=opened)


def _status(service: Safecomm) -> dict[str, Any]:
    with Ledger(service) as ledger:
        head = ledger.head()
        return {
            "position": head.position,
            "hash": head.hex,
            "store_head": service.log.head(),
            "seals": [s.to_dict() for s in ledger.seals()],
        }


async def _audit_page(request: Request[Any, Any, Any], verified: dict[str, Any] | None) -> Template:
    who = viewer(request)
    POLICY.check_read(who, Read.AUDIT)
    status = await server(request).backend.serial(_status)
    return page(
        request,
        "audit.html",
        status=status,
        verified=verified,
        whole=POLICY.may_read(who, Read.EVIDENCE),
        months=_months(request),
    )


def _months(request: Request[Any, Any, Any]) -> list[str]:
    month = Month.parse(today_of(request).isoformat()[:7])
    return [str(month.shift(-i)) for i in range(12)]


@get("/audit", include_in_schema=False)
async def audit(request: Request[Any, Any, Any]) -> Template:
    """The chain's status (how far the ledger has chained), the seals, verify, bundle."""
    return await _audit_page(request, None)


@post("/audit/verify", include_in_schema=False, status_code=200)
async def audit_verify(request: Request[Any, Any, Any]) -> Template:
    """Recompute the chain from the stored rows now and check every seal."""
    POLICY.check_read(viewer(request), Read.AUDIT)
    found = await server(request).backend.serial(lambda s: verify(s, parallel_from=None))
    return await _audit_page(
        request,
        {
            "intact": found.intact,
            "records": found.records,
            "last_position": found.last_position,
            "seals": found.seals,
            "seals_holding": found.seals_holding,
            "first": str(found.first) if found.first is not None else "",
        },
    )


@get("/audit/bundle", include_in_schema=False, media_type="application/zip")
async def audit_bundle(
    request: Request[Any, Any, Any], period: FromQuery[str | None] = None
) -> Stream:
    """The evidence bundle (zip), as ``GET /v1/audit/bundle`` gives it."""
    return await stream_bundle(request, viewer(request), period or None)
