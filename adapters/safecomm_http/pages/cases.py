"""Today's work and the disputes: the watchlist cut to my communities, the list of
cases with filters and paging, one case's timeline and the actions it admits now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from safecomm_reports.labels import Lang, field_label, value_label

from safecomm_core import COMMANDS, Safecomm
from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.dispute import Dispute, DisputeStatus
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, InvalidCommand, NotFound, SafecommError
from safecomm_core.personal import sealed_people
from safecomm_core.projections.disputes import DISPUTE_ROWS, DISPUTES
from safecomm_core.projections.grid_alerts import ALERT_ROWS, ALERT_UNITS, ALERTS
from safecomm_core.projections.runner import Projector
from safecomm_http.context import server
from safecomm_http.pages.forms import Form, build_form, command_of, errors_by_field
from safecomm_http.pages.session import lang_of, page, today_of, viewer
from safecomm_http.pages.tables import section_table, segment
from safecomm_http.records import open_person
from safecomm_http.reporting import DEFAULT_CLOSING_DAYS, ReportQuery, check_period, scope_for

__all__ = [
    "PAGE_SIZE",
    "dispute",
    "dispute_action",
    "disputes",
    "new_dispute",
    "open_party",
    "open_texts",
    "paged",
    "today",
    "unit_alerts",
]

#: Cases on one page of the list.
PAGE_SIZE = 25


def chosen_community(who: Principal, community: str | None) -> str | None:
    """The community a page is cut to: the one asked for, else none for a principal of one
    community or of all (the report cuts it), else the principal's first."""
    if community:
        return community
    if who.serves(SUBDISTRICT) or len(who.communities) == 1:
        return None
    return who.communities[0]


def unit_alerts(projector: Projector, who: Principal) -> list[dict[str, Any]]:
    """The open alerts the principal's grid unit was sent and has not acknowledged."""
    if who.grid_unit is None:
        return []
    alerts = {r["alert_id"]: r for r in projector.rows(ALERTS, ALERT_ROWS)}
    found = []
    for row in projector.rows(ALERTS, ALERT_UNITS):
        alert = alerts.get(row["alert_id"])
        if (
            row["unit"] == who.grid_unit
            and row["acknowledged_at"] is None
            and row["attempts"]
            and alert is not None
            and alert["status"] == "open"
        ):
            found.append(alert)
    return sorted(found, key=lambda a: a["raised_at"], reverse=True)


@get("/today", include_in_schema=False)
async def today(
    request: Request[Any, Any, Any], community: FromQuery[str | None] = None
) -> Template:
    """What I must act on, in my communities (the watchlist as of today)."""
    who, lang = viewer(request), lang_of(request)
    backend = server(request).backend
    day = today_of(request)
    scope = None
    query = None
    if who.role in POLICY.reads[Read.REPORTS]:
        scope = scope_for(who, chosen_community(who, community))
        query = ReportQuery.of(
            "watchlist",
            scope,
            period=None,
            as_of=day,
            within=DEFAULT_CLOSING_DAYS,
        )

    def read(projector: Projector) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        # One visit to the report thread: its projections are caught up once.
        sections = [] if query is None else list(query.build(projector).sections)
        tables = [section_table(s, lang) for s in sections if s.id != "summary"]
        return tables, unit_alerts(projector, who)

    tables, alerts = await backend.report(lambda _s, projector: read(projector))
    return page(
        request,
        "today.html",
        day=day,
        tables=tables,
        alerts=alerts,
        scope=scope,
        communities=_communities(who),
    )


def _communities(who: Principal) -> list[str]:
    return [] if who.serves(SUBDISTRICT) else list(who.communities)


def _listed(
    projector: Projector,
    who: Principal,
    community: str | None,
    status: str | None,
    month: str | None,
) -> list[dict[str, Any]]:
    rows = [
        r
        for r in projector.rows(DISPUTES, DISPUTE_ROWS)
        if who.serves(r["community"])
        and (not community or r["community"] == community)
        and (not status or r["status"] == status)
        and (not month or r["reported_on"].isoformat()[:7] == month)
    ]
    return sorted(rows, key=lambda r: (r["reported_at"], r["ref"]), reverse=True)


def _report_form(who: Principal, lang: Lang, **kwargs: Any) -> Form | None:
    if not POLICY.may_issue(who, "dispute.report"):
        return None
    fixed = (
        {}
        if who.serves(SUBDISTRICT) or len(who.communities) > 1
        else {"community": who.communities[0]}
    )
    return build_form("dispute.report", lang, fixed=fixed, **kwargs)


def paged(rows: list[dict[str, Any]], number: int) -> tuple[list[dict[str, Any]], int]:
    """Page ``number`` of ``rows`` and how many pages there are; a page that is not there
    is refused (400 naming ``page_number``), as any bad query is."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    if not 1 <= number <= pages:
        raise InvalidCommand([FieldError("page_number", f"must be from 1 to {pages}")])
    return rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], pages


def _check_filters(status: str | None, month: str | None) -> None:
    check_period(month or None, field="month")
    if status and status not in {s.value for s in DisputeStatus}:
        raise InvalidCommand([FieldError("status", "must be one of the statuses offered")])


async def _list_page(
    request: Request[Any, Any, Any],
    *,
    community: str | None = None,
    status: str | None = None,
    month: str | None = None,
    number: int = 1,
    form: Form | None = None,
    code: int = 200,
) -> Template:
    who, lang = viewer(request), lang_of(request)
    POLICY.check_read(who, Read.RECORDS)
    _check_filters(status, month)
    found = await server(request).backend.report(
        lambda _s, projector: _listed(projector, who, community, status, month)
    )
    shown, pages = paged(found, number)
    return page(
        request,
        "disputes.html",
        code=code,
        rows=shown,
        count=len(found),
        number=number,
        pages=pages,
        filters={"community": community or "", "status": status or "", "month": month or ""},
        statuses=[(s.value, value_label(s.value, lang)) for s in DisputeStatus],
        communities=_communities(who),
        form=form or _report_form(who, lang),
    )


@get("/disputes", include_in_schema=False)
async def disputes(
    request: Request[Any, Any, Any],
    community: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    month: FromQuery[str | None] = None,
    page_number: FromQuery[int] = 1,
) -> Template:
    """The disputes of my communities, newest first, filtered by community, status, month."""
    return await _list_page(
        request, community=community, status=status, month=month, number=page_number
    )


async def _posted(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    form = await request.form()
    return {key: [str(v) for v in form.getall(key)] for key in form}


def _given(posted: Mapping[str, list[str]]) -> dict[str, Any]:
    return {k: (v if len(v) > 1 else v[0]) for k, v in posted.items() if not k.startswith("_")}


async def handle_form(
    request: Request[Any, Any, Any], type_: str, fixed: Mapping[str, str]
) -> tuple[bool, Form]:
    """Handle the posted form of ``type_`` as the signed-in principal.

    Returns whether it was done, and the form to show again (with the rule each refused
    field broke next to it, and what was typed); a refused command writes nothing.
    """
    who, lang = viewer(request), lang_of(request)
    posted = await _posted(request)
    for name, value in fixed.items():
        posted[name] = [value]
    data = command_of(type_, posted, who)
    try:
        await server(request).backend.write(lambda s: s.handle_json(data, who))
    except SafecommError as exc:
        errors = errors_by_field(exc.errors) if isinstance(exc, InvalidCommand) else {}
        if not isinstance(exc, InvalidCommand) and exc.field:
            errors[exc.field] = exc.rule or exc.message
        shown = {
            f.name for f in build_form(type_, lang, fixed=fixed).fields if f.widget != "hidden"
        }
        if isinstance(exc, InvalidCommand):
            loose = [
                f"{field_label(k, lang)}: {v}" if k else v
                for k, v in errors.items()
                if k not in shown
            ]
            message = "; ".join(loose)
        else:
            # A rule of the record (not of one typed field) is said in full above the form.
            message = "" if exc.field in shown else exc.message
        return False, build_form(
            type_,
            lang,
            fixed=fixed,
            given=_given(posted),
            errors={k: v for k, v in errors.items() if k in shown},
            error=message,
        )
    return True, build_form(type_, lang, fixed=fixed)


@post("/disputes", include_in_schema=False, status_code=303)
async def new_dispute(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Record a dispute through the form; refused, the list again with the rules shown."""
    who = viewer(request)
    fixed = (
        {}
        if who.serves(SUBDISTRICT) or len(who.communities) > 1
        else {"community": who.communities[0]}
    )
    done, form = await handle_form(request, "dispute.report", fixed)
    if done:
        return Redirect("/disputes?done=1", status_code=303)
    return await _list_page(request, form=form, code=400)


def _case(service: Safecomm, ref: str, who: Principal) -> tuple[Dispute, list[Any]]:
    found = service.get(Dispute, ref, who)
    return found, service.history(ref, "dispute", who)


def _details(details: Mapping[str, Any], lang: Lang) -> list[tuple[str, str]]:
    shown = []
    for key, value in details.items():
        if key in ("ref", "community"):
            continue  # the case's own, shown above the timeline
        if isinstance(value, (list, tuple)):
            text = ", ".join(
                str(v.get("ref", "")) if isinstance(v, dict) else value_label(v, lang)
                for v in value
            )
        elif isinstance(value, dict):
            text = str(value.get("ref", ""))
        else:
            text = value_label(value, lang)
        shown.append((field_label(key, lang), text))
    return shown


async def _case_page(
    request: Request[Any, Any, Any],
    ref: str,
    *,
    refused: Form | None = None,
    opened: Mapping[str, Any] | None = None,
    texts: Mapping[tuple[int, str], str] | None = None,
    code: int = 200,
) -> Template:
    who, lang = viewer(request), lang_of(request)
    found, entries = await server(request).backend.read(lambda s: _case(s, ref, who))
    offered = [t for t in found.actions_now() if POLICY.may_issue(who, t)]
    if refused is not None and refused.type not in offered:
        offered.insert(0, refused.type)  # sent from a page the case has moved on from
    forms = [
        refused
        if refused is not None and refused.type == t
        else build_form(t, lang, fixed={"dispute_id": ref})
        for t in offered
    ]
    timeline = [
        {
            "what": value_label(e.event, lang),
            "occurred": e.occurred_at.astimezone(SUBDISTRICT_TZ),
            "recorded": e.recorded_at.astimezone(SUBDISTRICT_TZ),
            "by": e.actor,
            "role": value_label(e.role, lang),
            # Free text shows sealed, unless it was opened for this answer.
            "details": _details(
                {k: (texts or {}).get((e.version, k), v) for k, v in e.details.items()}, lang
            ),
        }
        for e in entries
    ]
    parties = [
        {"ref": p.ref, "role": value_label(getattr(party, "role", ""), lang)}
        for party in found.parties
        for p in sealed_people(party)
    ]
    return page(
        request,
        "dispute.html",
        code=code,
        case=found,
        status_words=value_label(found.status, lang),
        kind_words=value_label(found.kind, lang),
        timeline=timeline,
        forms=forms,
        parties=parties,
        may_open=who.role in POLICY.reads[Read.PERSONAL],
        opened=opened,
        texts_opened=texts is not None,
    )


@get("/disputes/{ref:str}", include_in_schema=False)
async def dispute(request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
    """One case: its state, its timeline (both times, who) and the actions it admits now."""
    return await _case_page(request, ref)


@post("/disputes/{ref:str}/{verb:str}", include_in_schema=False, status_code=303)
async def dispute_action(
    request: Request[Any, Any, Any], ref: FromPath[str], verb: FromPath[str]
) -> Redirect | Template:
    """Handle one of the case's forms (``dispute.<verb>``)."""
    type_ = f"dispute.{verb}"
    who = viewer(request)
    # The case is read first: another community's case is not found, whatever is posted.
    await server(request).backend.read(lambda s: s.get(Dispute, ref, who))
    if type_ == "dispute.report" or type_ not in COMMANDS:
        raise NotFound("action", verb, "verb")
    done, form = await handle_form(request, type_, {"dispute_id": ref})
    if done:
        return Redirect(f"/disputes/{segment(ref)}", status_code=303)
    return await _case_page(request, ref, refused=form, code=400)


@post("/disputes/{ref:str}/texts", include_in_schema=False, status_code=200)
async def open_texts(request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
    """Open the case's free text (summaries, notes, terms...) for a reason, shown in its
    timeline; the opening is recorded before anything is shown (docs/pages.md)."""
    who = viewer(request)
    why = str((await request.form()).get("why", "")).strip()
    opened = await server(request).backend.write(lambda s: s.texts(Dispute, ref, who, why=why))
    return await _case_page(request, ref, texts={(t.version, t.field): t.text for t in opened})


@post("/disputes/{ref:str}/people/{person:str}", include_in_schema=False, status_code=200)
async def open_party(
    request: Request[Any, Any, Any], ref: FromPath[str], person: FromPath[str]
) -> Template:
    """Open a party's details, for a reason; the opening is recorded before it is shown."""
    who = viewer(request)
    why = str((await request.form()).get("why", "")).strip()
    opened = await server(request).backend.write(
        lambda s: open_person(s, "dispute", ref, person, who, why)
    )
    return await _case_page(request, ref, opened={"ref": person, **opened})
