"""The alert board: one live grid per alert, every unit of the linkage network and where
the alert stands with it (sent, delivered, failed, acknowledged, escalated), updated by
server-sent events; a grid unit's duty officer acknowledges for their own unit only."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage, Template
from safecomm_reports.labels import Lang, value_label

from safecomm_core import Safecomm
from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.domain.grid_alert import GridAlert, Recipient
from safecomm_core.projections.grid_alerts import ALERT_ROWS, ALERT_UNITS, ALERTS
from safecomm_core.projections.runner import Projector
from safecomm_http.context import server
from safecomm_http.pages.cases import handle_form, paged
from safecomm_http.pages.forms import Form, build_form
from safecomm_http.pages.session import lang_of, page, session_ends, viewer
from safecomm_http.pages.tables import segment
from safecomm_http.problems import TooManyRequests

__all__ = ["STATES", "STREAMS_EACH", "acknowledge", "alerts", "board", "board_events", "unit_state"]

#: A unit's states on the board, in the order the legend shows them.
STATES = ("queued", "sent", "delivered", "failed", "escalated", "acknowledged")
#: How often a live board looks at its alert again, in seconds.
POLL = 0.5
#: Live boards one principal may hold open at once: a board in a few tabs, not a
#: thousand streams each looking at the store twice a second.
STREAMS_EACH = 6


def unit_state(recipient: Recipient) -> str:
    """Where the alert stands with one unit: its reply first, then escalation, then delivery."""
    if recipient.acknowledged:
        return "acknowledged"
    if recipient.escalated_at is not None:
        return "escalated"
    return str(recipient.delivery)


def _grid(alert: GridAlert, lang: Lang) -> list[dict[str, str]]:
    return [
        {"unit": unit, "state": unit_state(r), "words": value_label(unit_state(r), lang)}
        for unit, r in sorted(alert.recipients.items())
    ]


def _listed(projector: Projector, who: Principal) -> list[dict[str, Any]]:
    mine = {
        r["alert_id"]
        for r in projector.rows(ALERTS, ALERT_UNITS)
        if who.grid_unit is not None and r["unit"] == who.grid_unit
    }
    rows = [
        r
        for r in projector.rows(ALERTS, ALERT_ROWS)
        if who.serves(r["community"]) or r["alert_id"] in mine
    ]
    return sorted(rows, key=lambda r: (r["raised_at"], r["ref"]), reverse=True)


@get("/alerts", include_in_schema=False)
async def alerts(request: Request[Any, Any, Any], page_number: FromQuery[int] = 1) -> Template:
    """The alerts of my communities, newest first."""
    who = viewer(request)
    POLICY.check_read(who, Read.RECORDS)
    found = await server(request).backend.report(lambda _s, projector: _listed(projector, who))
    shown, pages = paged(found, page_number)
    return page(
        request,
        "alerts.html",
        rows=shown,
        count=len(found),
        number=page_number,
        pages=pages,
    )


def _ack_form(alert: GridAlert, who: Principal, lang: Lang, form: Form | None) -> Form | None:
    unit = who.grid_unit
    if unit is None or not POLICY.may_issue(who, "alert.acknowledge"):
        return None
    mine = alert.recipients.get(unit)
    if mine is None or mine.acknowledged:
        return None
    fixed = {"alert_id": alert.ref, "unit_id": unit}
    return form or build_form("alert.acknowledge", lang, fixed=fixed)


async def _board_page(
    request: Request[Any, Any, Any], ref: str, *, form: Form | None = None, code: int = 200
) -> Template:
    who, lang = viewer(request), lang_of(request)
    found: GridAlert = await server(request).backend.read(lambda s: s.get(GridAlert, ref, who))
    return page(
        request,
        "board.html",
        code=code,
        alert=found,
        grid=_grid(found, lang),
        legend=[(s, value_label(s, lang)) for s in STATES],
        ack=_ack_form(found, who, lang, form),
        mine=who.grid_unit,
    )


@get("/alerts/{ref:str}", include_in_schema=False)
async def board(request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
    """One alert's grid: every recipient unit and its state."""
    return await _board_page(request, ref)


@get("/alerts/{ref:str}/live", include_in_schema=False, media_type="text/event-stream")
async def board_events(request: Request[Any, Any, Any], ref: FromPath[str]) -> ServerSentEvent:
    """The grid's cells as server-sent events: all of them first, then each change,
    until the session's token expires (a browser's EventSource then asks again, and is
    sent to sign in)."""
    who, lang = viewer(request), lang_of(request)
    ends = session_ends(request)
    backend, held = server(request).backend, server(request).streams
    if held.get(who.subject, 0) >= STREAMS_EACH:
        raise TooManyRequests(
            f"{who.subject!r} holds {STREAMS_EACH} live boards open already",
            retry_after=POLL,
            rule=f"at most {STREAMS_EACH} live boards at once",
        )

    def read(service: Safecomm) -> GridAlert:
        return service.get(GridAlert, ref, who)

    await backend.read(read)  # not found before the stream starts, as the page

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        shown: dict[str, str] = {}
        version = -1
        held[who.subject] = held.get(who.subject, 0) + 1
        try:
            while time.time() < ends:
                found = await backend.read(read)
                if found.version != version:
                    version = found.version
                    cells = {c["unit"]: c for c in _grid(found, lang)}
                    changed = {u: c for u, c in cells.items() if shown.get(u) != c["state"]}
                    shown.update({u: c["state"] for u, c in changed.items()})
                    if changed:
                        yield ServerSentEventMessage(
                            data=json.dumps(list(changed.values()), ensure_ascii=False),
                            event="units",
                            id=version,
                        )
                await anyio.sleep(POLL)
        finally:
            held[who.subject] -= 1
            if not held[who.subject]:
                del held[who.subject]

    return ServerSentEvent(stream())


@post("/alerts/{ref:str}/acknowledge", include_in_schema=False, status_code=303)
async def acknowledge(request: Request[Any, Any, Any], ref: FromPath[str]) -> Redirect | Template:
    """The duty officer acknowledges the alert for their own unit."""
    who = viewer(request)
    await server(request).backend.read(lambda s: s.get(GridAlert, ref, who))
    fixed = {"alert_id": ref, "unit_id": who.grid_unit or ""}
    done, form = await handle_form(request, "alert.acknowledge", fixed)
    if done:
        return Redirect(f"/alerts/{segment(ref)}", status_code=303)
    return await _board_page(request, ref, form=form, code=400)
