"""Make the pictures of the pages in docs/ and README: ``python -m tests.screenshots``.

Builds the demo (scale 1) in memory, serves the pages dated on the demo's last day, and
photographs Today and one alert's board for the office in headless chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

from safecomm_demo.builder import PROGRAMME_END, build
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app

from safecomm_core import open_store
from safecomm_core.projections.grid_alerts import ALERT_ROWS, ALERT_UNITS, ALERTS
from safecomm_core.projections.runner import Projector
from tests.browsing import chromium
from tests.serving import KEY, OFFICE, served, token

DOCS = Path(__file__).parents[1] / "docs"
#: The pictures, by page.
PICTURES = {"/today": DOCS / "pages-today.png", "board": DOCS / "pages-board.png"}


def busiest_alert(projector: Projector) -> str:
    """The alert whose grid shows the most different states (a telling picture)."""
    states: dict[str, set[str]] = {}
    for row in projector.rows(ALERTS, ALERT_UNITS):
        state = (
            "acknowledged"
            if row["acknowledged_at"]
            else "escalated"
            if row["escalated_at"]
            else "failed"
            if row["failures"] and not row["delivered_at"]
            else "delivered"
            if row["delivered_at"]
            else "sent"
        )
        states.setdefault(row["alert_id"], set()).add(state)
    refs = {r["alert_id"]: r["ref"] for r in projector.rows(ALERTS, ALERT_ROWS)}
    best = max(states, key=lambda a: (len(states[a]), refs[a]))
    return refs[best]


def main() -> int:
    service = open_store("memory://")
    print("building the demo in memory …", flush=True)
    build(service)
    with Projector(service) as projector:
        projector.catch_up(ALERTS)
        alert = busiest_alert(projector)
    app = create_app(
        Backend(service),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=1e6, burst=1e6),
        today=PROGRAMME_END,
        sign_in_links=True,
    )
    with served(app) as site, chromium() as browser:
        page = browser.new_page(base_url=site, viewport={"width": 1100, "height": 900})
        page.goto(f"/signin?token={token(OFFICE)}")
        page.wait_for_url("**/today")
        page.screenshot(
            path=str(PICTURES["/today"]), clip={"x": 0, "y": 0, "width": 1100, "height": 900}
        )
        page.goto(f"/alerts/{alert}")
        page.wait_for_timeout(1500)  # the live stream's first cells
        page.screenshot(path=str(PICTURES["board"]), full_page=True)
        browser.close()
    service.close()
    for path in PICTURES.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
