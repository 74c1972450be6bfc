"""The staff's pages attacked as a hostile user would: markup in refs and free text,
refs that steer links and forms elsewhere, queries out of every range, a session that
outlives its token, a sign-in link where links are not offered (docs/pages.md)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import pytest
from litestar.testing import TestClient

from safecomm_core import Safecomm, open_store
from safecomm_core.commands import dispute as cd
from safecomm_core.commands import grid_alert as ca
from safecomm_core.commands import grid_network as cn
from safecomm_core.domain.dispute import DisputeKind, PartyRole
from safecomm_core.domain.grid_alert import AlertCategory, AlertChannel, AlertPriority, GridAlert
from safecomm_core.domain.grid_network import UnitKind
from tests.browsing import (
    _T0,
    ALERT,
    EVALUATOR,
    MEDIATOR_C1,
    OFFICE,
    UNIT_OFFICER,
    page_app,
    programme,
)
from tests.commanding import issue
from tests.serving import served, token

#: Markup a hostile user types wherever text is taken.
MARKUP = '<img src=x onerror="alert(1)">'
#: A case whose ref and party's ref would steer the case's links and forms elsewhere.
STEERING_CASE = "d-x?y#z"
STEERING_PARTY = "p/../../../signout"
HOSTILE_ALERT = "a-<svg onload=alert(1)>"
HOSTILE_UNIT = "U<b>99"


@pytest.fixture(scope="module")
def service() -> Iterator[Safecomm]:
    found = open_store("memory://")
    programme(found)
    at = _T0 + timedelta(days=3)
    found.handle(
        issue(cd.ReportDispute, at, dispute_id=STEERING_CASE, community="C1",
              kind=DisputeKind.NEIGHBOUR, summary=MARKUP,
              parties=(cd.PartyInput(ref=STEERING_PARTY, name=MARKUP, role=PartyRole.APPLICANT),))
    )  # fmt: skip
    found.handle(
        issue(cn.JoinNetwork, at, network_id="net-1", unit_id=HOSTILE_UNIT, name=MARKUP,
              kind=UnitKind.RESIDENTIAL_COMPOUND, community="C1")
    )  # fmt: skip
    found.handle(
        issue(ca.RaiseAlert, at, alert_id=HOSTILE_ALERT, network_id="net-1",
              raised_by=HOSTILE_UNIT, category=AlertCategory.THEFT,
              priority=AlertPriority.URGENT, area=MARKUP, message=MARKUP,
              expires_at=at + timedelta(days=60))
    )  # fmt: skip
    found.handle(
        issue(ca.SendAlert, at, alert_id=HOSTILE_ALERT, unit_id="U05",
              contact_channel=AlertChannel.SMS)
    )  # fmt: skip
    yield found
    found.close()


@pytest.fixture
def client(service: Safecomm) -> Iterator[TestClient[Any]]:
    with TestClient(page_app(service), raise_server_exceptions=False) as found:
        yield found


def sign_in(client: TestClient[Any], who: Any) -> None:
    assert client.get("/signin", params={"token": token(who)}).status_code == 200


def _targets(html: str) -> list[str]:
    """Every link, form action and script source of a page, as the browser reads them."""
    found = re.findall(r'(?:href|action|src)="([^"]*)"', html)
    found += re.findall(r'EventSource\("([^"]*)"\)', html)
    return [t.replace("&amp;", "&").replace("&#34;", '"') for t in found]


def test_markup_in_refs_and_text_is_never_markup_on_any_page(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    for path in (
        "/today",
        "/disputes",
        f"/disputes/{STEERING_CASE.replace('?', '%3F').replace('#', '%23')}",
        "/alerts",
        f"/alerts/{HOSTILE_ALERT}",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "<img" not in answer.text, path
        assert "<svg onload" not in answer.text, path
        assert "<b>99" not in answer.text, path


def test_markup_typed_in_a_refused_form_comes_back_as_text(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, MEDIATOR_C1)
    head = service.log.head()
    answer = client.post(
        "/disputes",
        data={"command_id": "web-markup", "occurred_at": MARKUP, "dispute_id": MARKUP,
              "kind": MARKUP, "summary": MARKUP, "parties.0.ref": MARKUP,
              "parties.0.phone": MARKUP, "_csrf_token": client.cookies["csrftoken"]},
    )  # fmt: skip
    assert answer.status_code == 400
    assert 'data-field="occurred_at"' in answer.text  # the rules are shown
    assert "<img" not in answer.text
    assert service.log.head() == head


@pytest.mark.parametrize("why", ["x" * 4001, "回访\x00", "回访\x1b[2J"])
def test_a_reason_for_opening_a_person_follows_the_free_text_rules(
    client: TestClient[Any], service: Safecomm, why: str
) -> None:
    sign_in(client, OFFICE)
    head = service.log.head()
    answer = client.post(
        "/disputes/d-c1-0/people/p-d-c1-0",
        data={"why": why, "_csrf_token": client.cookies["csrftoken"]},
    )
    assert answer.status_code == 400
    assert "why" in answer.text
    assert service.log.head() == head  # no opening recorded, nothing shown


def test_a_ref_cannot_steer_a_link_or_a_form_off_its_record(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    listed = client.get("/disputes").text
    links = [t for t in _targets(listed) if "d-x" in unquote(t)]
    assert links, "the case is listed"
    for link in links:
        assert unquote(urljoin("http://h/disputes", link).split("/disputes/", 1)[1]) == (
            STEERING_CASE
        )
    case = client.get(links[0])
    assert case.status_code == 200
    assert STEERING_CASE in case.text
    for target in _targets(case.text):
        if target != "/signout":  # the header's own button
            resolved = urlsplit(urljoin("http://h/disputes/x", target)).path
            assert not resolved.startswith("/signout"), target
    opening = [t for t in _targets(case.text) if "/people" in t]
    assert opening
    assert all("/../" not in t for t in opening)


def test_the_alert_board_stream_address_is_the_alerts_own(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    text = client.get(f"/alerts/{HOSTILE_ALERT}").text
    live = re.search(r'EventSource\("([^"]*)"\)', text)
    assert live is not None
    assert unquote(live[1]) == f"/alerts/{HOSTILE_ALERT}/live"
    assert "<svg" not in live[1]


@pytest.mark.parametrize(
    "path",
    [
        "/reports?period=9999-12",
        "/reports?period=0001-01",
        "/reports?name=self-assessment&as_of=9999-12-31",
        "/reports/monthly/csv?period=9999-12",
        "/reports/self-assessment/html?as_of=9999-12-31",
        "/audit/bundle?period=9999-12",
        "/disputes?month=garbage",
        "/disputes?month=2014-13",
        "/disputes?status=garbage",
        "/disputes?page_number=-1",
        "/disputes?page_number=0",
        "/disputes?page_number=99999999999999999999999",
        "/alerts?page_number=-5",
        "/alerts?page_number=4000000000",
    ],
)
def test_a_bad_query_is_a_clear_4xx_page(client: TestClient[Any], path: str) -> None:
    sign_in(client, OFFICE)
    answer = client.get(path)
    assert 400 <= answer.status_code < 500, (path, answer.status_code)
    assert answer.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in answer.text
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    "query",
    [
        {"period": "9999-12"},
        {"period": "0001-01"},
        {"as_of": "9999-12-31"},
    ],
)
def test_the_api_refuses_a_period_out_of_range_with_400(
    client: TestClient[Any], query: dict[str, str]
) -> None:
    name = "monthly" if "period" in query else "self-assessment"
    answer = client.get(
        f"/v1/reports/{name}", params=query, headers={"Authorization": f"Bearer {token(OFFICE)}"}
    )
    assert answer.status_code == 400
    assert answer.json()["field"] in ("period", "as_of")


def test_a_good_filter_still_lists(client: TestClient[Any]) -> None:
    sign_in(client, MEDIATOR_C1)
    answer = client.get("/disputes", params={"month": "2014-05", "status": "accepted"})
    assert answer.status_code == 200
    assert "d-c1-1" in answer.text


def test_the_board_stream_ends_when_the_session_expires(service: Safecomm) -> None:
    short = token(OFFICE, ttl=timedelta(seconds=2))
    app = page_app(service)
    ended = threading.Event()
    with served(app) as base:

        def follow() -> None:
            with (
                httpx.Client(base_url=base, cookies={"safecomm_session": short}) as browser,
                browser.stream("GET", f"/alerts/{ALERT}/live", timeout=60) as stream,
            ):
                for _ in stream.iter_lines():
                    pass
            ended.set()

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        assert ended.wait(45), "the stream went on after the token expired"
        thread.join(5)
        # A session that has expired opens no stream at all.
        time.sleep(0.1)
        answer = httpx.get(
            f"{base}/alerts/{ALERT}/live", cookies={"safecomm_session": short}, timeout=10
        )
        assert answer.status_code in (302, 303)


def test_one_principal_cannot_hold_open_streams_without_bound(service: Safecomm) -> None:
    from contextlib import ExitStack

    from safecomm_http.pages.board import STREAMS_EACH

    cookie = {"safecomm_session": token(OFFICE)}
    with served(page_app(service)) as base, httpx.Client(base_url=base, cookies=cookie) as b:
        with ExitStack() as held:
            following = []  # kept: a reader let go closes its connection
            for _ in range(STREAMS_EACH):
                stream = held.enter_context(b.stream("GET", f"/alerts/{ALERT}/live", timeout=30))
                assert stream.status_code == 200
                following.append(stream.iter_lines())
                next(following[-1])  # the stream has started
            refused = b.get(f"/alerts/{ALERT}/live", timeout=30)
            assert refused.status_code == 429
            assert 'role="alert"' in refused.text
        # Closed by the browser, each stream gives its place back.
        deadline = time.monotonic() + 30
        while True:
            with b.stream("GET", f"/alerts/{ALERT}/live", timeout=30) as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "closed streams kept their places"
            time.sleep(0.2)


def test_a_sign_in_link_signs_in_only_where_links_are_offered(service: Safecomm) -> None:
    with TestClient(page_app(service, sign_in_links=False)) as client:
        answer = client.get("/signin", params={"token": token(OFFICE)})
        assert answer.status_code == 400
        assert "safecomm_session" not in answer.headers.get("set-cookie", "")
        assert client.get("/today", follow_redirects=False).status_code in (302, 303)
        # Pasting the token is the way in.
        client.get("/signin")
        answer = client.post(
            "/signin", data={"token": token(OFFICE), "_csrf_token": client.cookies["csrftoken"]}
        )
        assert answer.status_code == 200
        assert client.get("/today").status_code == 200


def test_the_sign_in_answer_is_neither_kept_nor_told_to_others(client: TestClient[Any]) -> None:
    answer = client.get("/signin", params={"token": token(OFFICE)})
    assert "no-store" in answer.headers["cache-control"]
    assert answer.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/no-such-page", "/disputes/a%2Fb", "/disputes/x/people"])
def test_an_address_no_page_answers_is_a_page_too(client: TestClient[Any], path: str) -> None:
    sign_in(client, OFFICE)
    answer = client.get(path)
    assert answer.status_code in (404, 405)
    assert answer.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
    api = client.get("/v1/no-such")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/signin", "/today", f"/alerts/{ALERT}", "/disputes/no-such"])
def test_no_other_site_may_frame_a_page(client: TestClient[Any], path: str) -> None:
    sign_in(client, OFFICE)
    answer = client.get(path)
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_no_page_is_kept_by_a_cache_or_the_back_button(
    client: TestClient[Any], service: Safecomm
) -> None:
    """A community office's computer is shared: after signing out, no page (an opened
    person's name least of all) may come back from the browser's cache."""
    sign_in(client, OFFICE)
    for answer in (
        client.get("/today"),
        client.get("/disputes/d-c2-1"),
        client.post(
            "/disputes/d-c2-1/people/p-d-c2-1",
            data={"why": "回访", "_csrf_token": client.cookies["csrftoken"]},
        ),
        client.get("/reports/monthly/csv", params={"period": "2014-05"}),
    ):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"


def test_a_cross_site_sign_in_post_is_refused(service: Safecomm) -> None:
    with TestClient(page_app(service)) as client:
        # A page of another site posts its own token: it holds no CSRF cookie of ours.
        answer = client.post("/signin", data={"token": token(MEDIATOR_C1)})
        assert answer.status_code == 403
        assert "safecomm_session" not in client.cookies


def test_held_attacks_stay_held(client: TestClient[Any], service: Safecomm) -> None:
    """What the pages withstood: the cookie at the API, a tampered unit, another
    community's records, an evaluator's forms, redirects off the site."""
    sign_in(client, UNIT_OFFICER)
    assert client.get(f"/v1/records/grid_alert/{ALERT}").status_code == 401
    head = service.log.head()
    answer = client.post(
        f"/alerts/{ALERT}/acknowledge",
        data={"unit_id": "U07", "command_id": "web-other-unit", "occurred_at": "2014-05-22 10:00",
              "_csrf_token": client.cookies["csrftoken"]},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert service.log.head() > head
    alert = service.get(GridAlert, ALERT)
    assert alert.recipients["U05"].acknowledged
    assert not alert.recipients["U07"].acknowledged
    sign_in(client, MEDIATOR_C1)
    assert client.get(f"/alerts/{ALERT}/live").status_code == 404
    assert client.get("/reports/monthly/csv", params={"community": "C2"}).status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/bundle").status_code == 403
    client.cookies.set("safecomm_session", token(OFFICE, ttl=timedelta(seconds=-5)))
    assert client.get("/today", follow_redirects=False).status_code in (302, 303)
    client.cookies.clear()
    sign_in(client, EVALUATOR)
    case = client.get("/disputes/d-c1-0").text
    assert 'class="command"' not in case
    assert "/people" not in case
    assert "[sealed]" in case
    assert "噪音" not in case
    for bad in ("//evil.example", "/\\evil.example", "https://evil.example"):
        moved = client.get("/lang", params={"next": bad}, follow_redirects=False)
        assert httpx.URL("http://h/").join(moved.headers["location"]).host == "h", bad


def test_no_spelling_of_the_api_address_takes_the_cookie(service: Safecomm) -> None:
    cookie = {"safecomm_session": token(OFFICE)}
    with served(page_app(service)) as base:
        for path in (
            "//v1/records/dispute/d-c2-1",
            "/v1//records/dispute/d-c2-1",
            "/./v1/records/dispute/d-c2-1",
            "/%761/records/dispute/d-c2-1",
            "/v1/records/dispute/d-c2-1/",
        ):
            url = httpx.URL(base).copy_with(raw_path=path.encode())
            answer = httpx.get(url, cookies=cookie, timeout=30)
            assert answer.status_code in (401, 404), path
            assert '"version"' not in answer.text, path  # no record was read


def test_free_text_opens_on_the_case_page_only_for_a_reason_and_recorded(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, EVALUATOR)
    case = client.get("/disputes/d-c1-0").text
    assert "/texts" not in case  # no form to open what the evaluator may not read
    answer = client.post(
        "/disputes/d-c1-0/texts", data={"why": "检查", "_csrf_token": client.cookies["csrftoken"]}
    )
    assert answer.status_code == 403
    assert "楼上噪音" not in answer.text
    sign_in(client, MEDIATOR_C1)
    case = client.get("/disputes/d-c1-0").text
    assert 'action="/disputes/d-c1-0/texts"' in case
    assert "楼上噪音" not in case
    head = service.log.head()
    answer = client.post(
        "/disputes/d-c1-0/texts",
        data={"why": "调解准备", "_csrf_token": client.cookies["csrftoken"]},
    )
    assert answer.status_code == 200
    assert "楼上噪音" in answer.text
    assert "夜间十点后保持安静" in answer.text
    assert service.log.head() == head + 1  # the opening, recorded first
    other = client.post(
        "/disputes/d-c2-1/texts", data={"why": "x", "_csrf_token": client.cookies["csrftoken"]}
    )
    assert other.status_code == 404


def test_a_tampered_or_unoffered_command_is_the_pages_or_nothing(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, MEDIATOR_C1)
    csrf = client.cookies["csrftoken"]
    head = service.log.head()
    for verb in ("erase", "accept", "report", "no_such"):
        answer = client.post(
            f"/disputes/d-c1-2/{verb}",
            data={"command_id": f"web-t-{verb}", "occurred_at": "2014-05-20 10:00",
                  "_csrf_token": csrf},
        )  # fmt: skip
        assert answer.status_code in (400, 403, 404), verb
    assert service.log.head() == head
    answer = client.post(
        "/disputes/d-c1-2/assign_mediator",
        data={"command_id": "web-t-assign", "occurred_at": "2014-05-20 10:00",
              "mediator": MEDIATOR_C1.subject, "type": "dispute.erase", "actor.id": "admin-1",
              "actor.role": "admin", "actor": "admin-1", "dispute_id": "d-c2-1",
              "_csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    done = service.history("d-c1-2", "dispute")[-1]
    assert (done.event, done.actor, done.role) == (
        "MediatorAssigned",
        MEDIATOR_C1.subject,
        "mediator",
    )
    assert service.history("d-c2-1", "dispute")[-1].event != "MediatorAssigned"
