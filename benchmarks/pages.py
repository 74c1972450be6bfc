"""``pages``: the staff's pages beside the JSON API's answers for the same data.

On the demo scenario at scale 5 (quick mode: scale 1), served by uvicorn on loopback,
each page is asked for by a signed-in browser's client and the same data by an API
client with its bearer token, alternately, best of several:

==================  ================================================================
page                the API's answer for the same data
==================  ================================================================
Today               ``GET /v1/reports/watchlist?as_of=`` the demo's last day
a dispute           ``GET /v1/records/dispute/{ref}`` and ``…/history`` (the case
                    with the longest timeline)
the alert board     ``GET /v1/records/alert/{ref}`` (the latest alert)
the monthly page    ``GET /v1/reports/monthly?period=`` the demo's last month (the
                    page's charts are drawn once per store position: the first load,
                    charts drawn, is in the details as ``first_s``)
==================  ================================================================

Ratio: the API's seconds ÷ the page's (1: the page costs what its data costs).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from safecomm_demo.builder import PROGRAMME_END
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app
from safecomm_http.in_thread import serve_in_thread
from safecomm_tokens import issue_token

from benchmarks.datasets import scenario
from benchmarks.harness import Context, Result, interleaved
from benchmarks.http import KEY
from safecomm_core import open_store
from safecomm_core.access import ALL_COMMUNITIES, Principal
from safecomm_core.keystore import MemoryKeyStore
from safecomm_core.projections import Projector
from safecomm_core.projections.disputes import DISPUTE_ROWS, DISPUTES
from safecomm_core.projections.grid_alerts import ALERT_ROWS, ALERTS
from safecomm_core.values import Role

__all__ = ["AT_LEAST", "pages"]

#: A page may cost at most twice what the API's answer for its data costs.
AT_LEAST = 0.5
SCALE = 5.0


def _subjects(url: str) -> tuple[str, str]:
    """The dispute with the longest timeline and the latest alert."""
    with open_store(url, keys=MemoryKeyStore()) as service, Projector(service) as projector:
        projector.catch_up(DISPUTES)
        projector.catch_up(ALERTS)
        dispute = max(
            projector.rows(DISPUTES, DISPUTE_ROWS), key=lambda r: (r["version"], r["ref"])
        )
        alert = max(projector.rows(ALERTS, ALERT_ROWS), key=lambda r: (r["raised_at"], r["ref"]))
    return dispute["ref"], alert["ref"]


def _get(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> None:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")


def pages(ctx: Context, scale: float | None = None) -> list[Result]:
    """Each page's seconds beside the API's for the same data, best of ``repeat`` (≥ 5)."""
    data = scenario(ctx.workdir, scale or (1.0 if ctx.quick else SCALE), log=True)
    dispute, alert = _subjects(data.url)
    service = open_store(data.url, keys=MemoryKeyStore())
    app = create_app(
        Backend(service),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=1e9, burst=1e9),
        today=PROGRAMME_END,
        sign_in_links=True,
    )
    office = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)
    token = issue_token(office, KEY, timedelta(hours=1))
    month = PROGRAMME_END.isoformat()[:7]
    asked: dict[str, tuple[str, list[tuple[str, dict[str, str] | None]]]] = {
        "Today": ("/today", [("/v1/reports/watchlist", {"as_of": PROGRAMME_END.isoformat()})]),
        "a dispute": (
            f"/disputes/{dispute}",
            [
                (f"/v1/records/dispute/{dispute}", None),
                (f"/v1/records/dispute/{dispute}/history", None),
            ],
        ),
        "the alert board": (f"/alerts/{alert}", [(f"/v1/records/alert/{alert}", None)]),
        "the monthly page": (
            f"/reports?period={month}",
            [("/v1/reports/monthly", {"period": month})],
        ),
    }
    results = []
    with (
        serve_in_thread(app) as base,
        httpx.Client(base_url=base, timeout=300) as browser,
        httpx.Client(
            base_url=base, timeout=300, headers={"Authorization": f"Bearer {token}"}
        ) as api,
    ):
        _get(browser, "/signin", {"token": token})
        for name, (page, answers) in asked.items():
            began = time.perf_counter()
            _get(browser, page)
            first_s = time.perf_counter() - began

            def ask_page(page: str = page) -> None:
                _get(browser, page)

            def ask_api(answers: Any = answers) -> None:
                for path, params in answers:
                    _get(api, path, params)

            ask_api()
            ours, baseline = interleaved(ask_page, ask_api, max(ctx.repeat, 5))
            ratio = baseline.wall / ours.wall
            results.append(
                Result(
                    workload="pages",
                    label=f"page {name} ÷ the API's answer for its data",
                    events=data.events,
                    unit="s",
                    ours=ours.wall,
                    baseline=baseline.wall,
                    ratio=ratio,
                    target=f"≥ {AT_LEAST} (a page ≤ 2× its data)",
                    met=ratio >= AT_LEAST,
                    details={"scale": data.scale, "page": page, "first_s": first_s},
                )
            )
    service.close()
    return results
