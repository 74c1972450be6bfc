"""The issue's four flows in a real browser (headless chromium through playwright), each
ending with a screenshot kept in ``tests/artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from safecomm_reports.labels import format_value, scope_label

from safecomm_core import Safecomm, open_store
from safecomm_core.domain.dispute import Dispute
from tests.browsing import (
    ALERT,
    ARTIFACTS,
    DISPUTE_C2,
    EVALUATOR,
    MEDIATOR_C1,
    NAME_C2,
    OFFICE,
    PERIOD,
    UNIT_OFFICER,
    chromium,
    page_app,
    programme,
)
from tests.serving import auth, served, token

#: How long a page may take to show what it must (a shared machine can be slow).
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Safecomm]:
    folder = tmp_path_factory.mktemp("pages")
    found = open_store(f"sqlite:///{folder / 'pages.db'}")
    programme(found)
    yield found
    found.close()


@pytest.fixture(scope="module")
def site(service: Safecomm) -> Iterator[str]:
    with served(page_app(service)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as found:
        yield found


def shot(page: Any, name: str) -> Path:
    """Keep a screenshot of the page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


def signed_in(browser: Any, site: str, who: Any, **context: Any) -> Any:
    """A fresh browser context signed in as ``who`` through the sign-in link."""
    ctx = browser.new_context(base_url=site, **context)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(f"/signin?token={token(who)}")
    page.wait_for_url("**/today")
    return page


def test_a_mediator_records_a_dispute_and_a_bad_date_is_refused_beside_its_field(
    browser: Any, site: str, service: Safecomm
) -> None:
    ctx = browser.new_context(base_url=site)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto("/today")
    page.wait_for_url("**/signin")
    page.fill("#token", token(MEDIATOR_C1))
    page.click("button[type=submit]")
    page.wait_for_url("**/today")
    page.click("nav >> text=矛盾纠纷")
    form = page.locator('form[data-type="dispute.report"]')
    form.locator('[name="dispute_id"]').fill("d-browser-1")
    form.locator('[name="kind"]').select_option("neighbour")
    form.locator('[name="summary"]').fill("楼上漏水")
    form.locator('[name="occurred_at"]').fill("2014-05-28 09:30")
    form.locator('[name="parties.0.ref"]').fill("p-browser-1")
    form.locator('[name="parties.0.role"]').select_option("applicant")
    form.locator('[name="parties.0.name"]').fill("赵敏")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/disputes?done=1")
    assert page.locator('table[data-section="disputes"] >> text=d-browser-1').count() == 1
    assert service.get(Dispute, "d-browser-1").community == "C1"

    head = service.log.head()
    form = page.locator('form[data-type="dispute.report"]')
    form.locator('[name="dispute_id"]').fill("d-browser-2")
    form.locator('[name="kind"]').select_option("family")
    form.locator('[name="summary"]').fill("家庭矛盾")
    form.locator('[name="occurred_at"]').fill("2014-02-30 09:30")
    form.locator('[name="parties.0.ref"]').fill("p-browser-2")
    form.locator('[name="parties.0.role"]').select_option("applicant")
    form.locator("button[type=submit]").click()
    rule = page.locator('.rule[data-field="occurred_at"]')
    rule.wait_for()
    assert "date-time" in rule.inner_text()
    field = page.locator('form[data-type="dispute.report"] [name="occurred_at"]')
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "2014-02-30 09:30"  # what was typed stays
    assert service.log.head() == head
    shot(page, "1-mediator-bad-date")
    ctx.close()


def test_a_unit_officer_acknowledges_and_the_office_board_turns_live(
    browser: Any, site: str
) -> None:
    office = signed_in(browser, site, OFFICE)
    office.goto(f"/alerts/{ALERT}")
    cell = office.locator("#unit-U05")
    assert cell.get_attribute("data-state") in ("sent", "delivered")
    office.evaluate("window.notReloaded = true")

    officer = signed_in(
        browser, site, UNIT_OFFICER, viewport={"width": 360, "height": 780}, is_mobile=True
    )
    officer.click(f'a[href="/alerts/{ALERT}"]')  # from Today's list of alerts to answer
    assert officer.evaluate("document.documentElement.scrollWidth") <= 360
    buttons = officer.locator('form[data-type="alert.acknowledge"] button[type=submit]')
    assert buttons.count() == 1
    # By keyboard alone: Tab to the button, Enter to send it.
    for _ in range(40):
        officer.keyboard.press("Tab")
        if officer.evaluate(
            "document.activeElement.matches('form[data-type=\"alert.acknowledge\"] button')"
        ):
            break
    else:
        pytest.fail("the Acknowledge button cannot be reached with Tab")
    officer.keyboard.press("Enter")
    officer.wait_for_url(f"**/alerts/{ALERT}")
    officer.locator('#unit-U05[data-state="acknowledged"]').wait_for()
    assert officer.locator('form[data-type="alert.acknowledge"]').count() == 0
    shot(officer, "2-unit-officer-360px")

    office.locator('#unit-U05[data-state="acknowledged"]').wait_for()
    assert office.evaluate("window.notReloaded") is True
    assert "已确认收到" in office.locator("#unit-U05").inner_text()
    shot(office, "2-office-board-live")
    office.context.close()
    officer.context.close()


def test_an_evaluator_sees_reports_and_audit_and_a_mediator_cannot_reach_another_community(
    browser: Any, site: str
) -> None:
    page = signed_in(browser, site, EVALUATOR)
    page.goto(f"/reports?period={PERIOD}")
    assert page.locator('table[data-section="figures"] tbody tr').count() > 0
    assert page.locator("form.command").count() == 0
    page.goto(f"/disputes/{DISPUTE_C2}")
    assert page.locator("form.command").count() == 0
    assert NAME_C2 not in page.content()
    page.goto("/audit")
    page.click("text=立即核验")
    page.locator("#verdict").wait_for()
    assert page.locator("#verdict").inner_text() == "完好"
    shot(page, "3-evaluator-audit")
    page.context.close()

    mediator = signed_in(browser, site, MEDIATOR_C1)
    answer = mediator.goto(f"/disputes/{DISPUTE_C2}")
    assert answer is not None
    assert answer.status == 404
    assert "未找到" in mediator.locator("h1").inner_text()
    assert NAME_C2 not in mediator.content()
    shot(mediator, "3-mediator-other-community")
    mediator.context.close()


def test_the_monthly_page_shows_the_apis_figures(browser: Any, site: str) -> None:
    page = signed_in(browser, site, OFFICE)
    page.goto(f"/reports?period={PERIOD}")
    rows = page.locator('table[data-section="figures"] tbody tr')
    shown = {
        (row.get_attribute("data-id"), row.get_attribute("data-scope")): [
            cell.inner_text() for cell in row.locator("td").all()
        ]
        for row in rows.all()
    }
    api = httpx.get(
        f"{site}/v1/reports/monthly", params={"period": PERIOD}, headers=auth(OFFICE), timeout=60
    ).json()
    assert len(shown) == len(api["figures"]) > 0
    for figure in api["figures"]:
        _, _, value, numerator, denominator = shown[
            (figure["id"], scope_label(figure["scope"], "zh"))
        ]
        assert value == format_value(figure["id"], figure["value"], "zh")
        assert float(numerator) == figure["numerator"]
        expected = "" if figure["denominator"] is None else float(figure["denominator"])
        assert (float(denominator) if denominator else "") == expected
    assert page.locator("figure.chart svg").count() > 0
    shot(page, "4-monthly")
    page.context.close()


def test_every_page_fits_a_360_px_phone(browser: Any, site: str) -> None:
    page = signed_in(browser, site, OFFICE, viewport={"width": 360, "height": 780})
    for path in (
        "/today",
        "/disputes",
        "/disputes/d-c1-0",
        f"/alerts/{ALERT}",
        "/migrants",
        f"/reports?period={PERIOD}",
        "/audit",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    shot(page, "360px-audit")
    page.context.close()
