"""The staff's pages over HTTP: sign-in and its cookie, CSRF, forms generated from the
command classes, refusals next to their fields, and figures equal to the JSON API's."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from safecomm_http.pages.forms import build_form, command_of
from safecomm_http.pages.words import WORDS
from safecomm_reports.labels import value_label

from safecomm_core import COMMANDS, Safecomm, open_store
from safecomm_core.access import POLICY, Principal
from safecomm_core.domain.dispute import Dispute, DisputeKind, DisputeStatus
from safecomm_core.values import Role
from tests.browsing import (
    ALERT,
    DISPUTE_C2,
    EVALUATOR,
    MEDIATOR_C1,
    NAME_C2,
    OFFICE,
    PERIOD,
    TODAY,
    UNIT_OFFICER,
    WORKER,
    WORKER_NAME,
    page_app,
    programme,
)
from tests.serving import auth, token


@pytest.fixture(scope="module")
def service() -> Iterator[Safecomm]:
    found = open_store("memory://")
    programme(found)
    yield found
    found.close()


@pytest.fixture
def client(service: Safecomm) -> Iterator[TestClient[Any]]:
    with TestClient(page_app(service)) as found:
        yield found


def sign_in(client: TestClient[Any], who: Principal) -> None:
    assert client.get("/signin", params={"token": token(who)}).status_code == 200


def post(client: TestClient[Any], path: str, data: dict[str, Any]) -> Any:
    """A form post as the browser sends it, with the CSRF token its cookie holds."""
    return client.post(path, data={**data, "_csrf_token": client.cookies["csrftoken"]})


def test_a_page_without_a_session_asks_to_sign_in(client: TestClient[Any]) -> None:
    answer = client.get("/today", follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert answer.headers["location"].endswith("/signin")


def test_signing_in_sets_a_strict_httponly_cookie_holding_the_token(
    client: TestClient[Any],
) -> None:
    answer = client.get("/signin", params={"token": token(MEDIATOR_C1)})
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "safecomm_session" in c)
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Max-Age=" in cookie
    assert "今日待办" in client.get("/today").text


def test_a_bad_token_does_not_sign_in(client: TestClient[Any]) -> None:
    answer = client.get("/signin", params={"token": "not-a-token"})
    assert answer.status_code == 401
    assert "令牌无效" in answer.text
    assert client.get("/today", follow_redirects=False).status_code in (302, 303)


def test_a_token_of_a_city_s_subdistrict_does_not_sign_in_to_a_server_of_one_store(
    client: TestClient[Any],
) -> None:
    held = Principal("staff-017", Role.MEDIATOR, ["C1"], subdistricts=["S01"])
    answer = client.get("/signin", params={"token": token(held)})
    assert answer.status_code == 401
    assert "safecomm_session" not in answer.headers.get("set-cookie", "")
    client.cookies.set("safecomm_session", token(held))
    assert client.get("/today", follow_redirects=False).status_code in (302, 303)


def test_the_api_does_not_take_the_session_cookie(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    assert client.get(f"/v1/records/dispute/{DISPUTE_C2}").status_code == 401


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, OFFICE)
    head = service.log.head()
    answer = client.post(f"/disputes/{DISPUTE_C2}/assign_mediator", data={"mediator": "staff-9"})
    assert answer.status_code == 403
    assert service.log.head() == head


def test_a_form_opened_before_a_restart_still_posts(service: Safecomm) -> None:
    # The CSRF secret comes from the server's key, not from the process: a form opened on
    # one server process posts to the next (a restart, or another process behind a proxy).
    with TestClient(page_app(service)) as before:
        sign_in(before, OFFICE)
        assert before.get(f"/disputes/{DISPUTE_C2}").status_code == 200
        cookies = dict(before.cookies)
    with TestClient(page_app(service), cookies=cookies) as after:
        answer = post(
            after, f"/disputes/{DISPUTE_C2}/flag_risk", {"command_id": "web-restart", "risk": "x"}
        )
        assert answer.status_code != 403, answer.text
        assert "CSRF" not in answer.text


def test_the_language_switch_keeps_the_page(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    answer = client.get("/lang", params={"to": "en", "next": "/disputes"})
    assert answer.url.path == "/disputes"
    assert "Disputes" in answer.text
    assert client.get("/lang", params={"to": "en", "next": "//evil.example"}).url.path == "/today"


def test_every_form_field_comes_from_the_command_class() -> None:
    form = build_form("dispute.report", "zh", fixed={"community": "C1"})
    names = {f.name for f in form.fields}
    for field in ("dispute_id", "kind", "summary", "occurred_at", "command_id", "source"):
        assert field in names
    assert {"parties.0.ref", "parties.0.role", "parties.1.name"} <= names
    kind = next(f for f in form.fields if f.name == "kind")
    assert sorted(v for v, _ in kind.choices) == sorted(k.value for k in DisputeKind)
    assert dict(kind.choices)["neighbour"] == "邻里纠纷"
    assert next(f for f in form.fields if f.name == "community").widget == "hidden"


def test_a_posted_form_is_the_command_as_json() -> None:
    posted = {
        "command_id": ["web-1"],
        "occurred_at": ["2014-05-03 09:10"],
        "dispute_id": ["d-1"],
        "community": ["C1"],
        "kind": ["family"],
        "summary": ["争吵"],
        "parties.0.ref": ["p-1"],
        "parties.0.role": ["applicant"],
        "parties.0.name": ["张三"],
        "parties.1.ref": [""],
        "source": [""],
    }
    data = command_of("dispute.report", posted, MEDIATOR_C1)
    assert data == {
        "type": "dispute.report",
        "command_id": "web-1",
        "occurred_at": "2014-05-03T09:10:00+08:00",
        "dispute_id": "d-1",
        "community": "C1",
        "kind": "family",
        "summary": "争吵",
        "parties": [{"ref": "p-1", "role": "applicant", "name": "张三"}],
        "actor": {"id": MEDIATOR_C1.subject, "role": "mediator"},
    }
    assert data["type"] == COMMANDS["dispute.report"].TYPE


def test_a_refused_form_shows_each_rule_beside_its_field_and_writes_nothing(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, MEDIATOR_C1)
    head = service.log.head()
    answer = post(
        client,
        "/disputes",
        {
            "command_id": "web-bad",
            "occurred_at": "2014-02-30 10:00",
            "dispute_id": "d-bad",
            "kind": "neighbour",
            "summary": "噪音",
            "parties.0.ref": "p-bad",
            "parties.0.role": "applicant",
            "parties.0.phone": "12",
        },
    )
    assert answer.status_code == 400
    rules = dict(re.findall(r'data-field="([^"]+)">([^<]+)<', answer.text))
    assert set(rules) == {"occurred_at", "parties.0.phone"}
    assert "未能办理" in answer.text
    assert 'value="噪音"' not in answer.text  # a textarea keeps what was typed as its text
    assert "噪音</textarea>" in answer.text
    assert service.log.head() == head


def test_a_form_records_the_dispute_as_the_principal(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, MEDIATOR_C1)
    answer = post(
        client,
        "/disputes",
        {
            "command_id": "web-ok",
            "occurred_at": "2014-05-20 10:00",
            "dispute_id": "d-web-ok",
            "kind": "neighbour",
            "summary": "噪音",
            "parties.0.ref": "p-web-ok",
            "parties.0.role": "applicant",
        },
    )
    assert answer.status_code == 200
    assert "d-web-ok" in answer.text
    made = service.get(Dispute, "d-web-ok")
    assert made.community == "C1"
    assert service.history("d-web-ok", "dispute")[0].actor == MEDIATOR_C1.subject


def test_a_case_offers_the_actions_its_state_admits_for_my_role(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, MEDIATOR_C1)
    text = client.get("/disputes/d-c1-1").text
    offered = set(re.findall(r'data-type="(dispute\.[a-z_]+)"', text))
    case = service.get(Dispute, "d-c1-1")
    assert case.status is DisputeStatus.ACCEPTED
    assert offered == {t for t in case.actions_now() if POLICY.may_issue(MEDIATOR_C1, t)}
    assert "dispute.assign_mediator" in offered
    assert "dispute.accept" not in offered
    head = service.log.head()
    sent = {"command_id": "web-early", "occurred_at": "2014-05-20 10:00"}
    answer = post(client, "/disputes/d-c1-1/hold_session", sent)
    assert answer.status_code == 400  # not admitted now: the rule is said, nothing written
    said = re.search(r'<p class="refused" role="alert">([^<]+)</p>', answer.text)
    assert said is not None
    assert "has no mediator: assign one before a session" in said[1]
    assert service.log.head() == head


def test_another_communitys_case_is_not_found(client: TestClient[Any]) -> None:
    sign_in(client, MEDIATOR_C1)
    answer = client.get(f"/disputes/{DISPUTE_C2}")
    assert answer.status_code == 404
    assert NAME_C2 not in answer.text
    assert post(client, f"/disputes/{DISPUTE_C2}/hold_session", {}).status_code == 404


def test_the_evaluator_sees_no_forms_and_no_names(client: TestClient[Any]) -> None:
    sign_in(client, EVALUATOR)
    text = client.get(f"/disputes/{DISPUTE_C2}").text
    assert 'class="command"' not in text
    assert "/people/" not in text
    assert NAME_C2 not in text
    assert client.get("/audit").status_code == 200


def test_opening_a_party_is_recorded_first(client: TestClient[Any], service: Safecomm) -> None:
    sign_in(client, OFFICE)
    before = service.log.head()
    answer = post(client, f"/disputes/{DISPUTE_C2}/people/p-{DISPUTE_C2}", {"why": "回访"})
    assert answer.status_code == 200
    assert NAME_C2 in answer.text
    assert service.log.head() == before + 1


def test_today_is_the_watchlist_the_api_gives(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    text = client.get("/today").text
    api = client.get(
        "/v1/reports/watchlist", params={"as_of": TODAY.isoformat()}, headers=auth(OFFICE)
    ).json()
    for section in api["sections"]:
        if section["id"] == "summary":
            continue
        shown = re.search(rf'data-section="{section["id"]}">(.*?)</table>', text, re.S)
        rows = [] if shown is None else re.findall(r"<tr><td>", shown[1])
        assert len(rows) == len(section["rows"]), section["id"]
    assert "agreement_written" not in text
    assert "judicial_confirmation_days" not in text
    assert "司法确认申请期(天): 30" in text


def test_no_code_of_the_alert_board_shows_untranslated(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    text = client.get(f"/alerts/{ALERT}").text
    states = re.findall(r'data-state="([a-z]+)"><b>[^<]+</b><span>([^<]+)</span>', text)
    assert len(states) == 46
    assert {s for s, _ in states} == {"sent", "delivered", "failed", "acknowledged"}
    assert all(words == value_label(s, "zh") != s for s, words in states)


def test_only_the_units_own_officer_sees_the_acknowledge_button(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    assert 'data-type="alert.acknowledge"' not in client.get(f"/alerts/{ALERT}").text
    sign_in(client, UNIT_OFFICER)
    text = client.get(f"/alerts/{ALERT}").text
    assert text.count('data-type="alert.acknowledge"') == 1
    assert 'name="unit_id" value="U05"' in text


def test_the_monthly_page_downloads(client: TestClient[Any]) -> None:
    sign_in(client, OFFICE)
    xlsx = client.get("/reports/monthly/xlsx", params={"period": PERIOD})
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    csv = client.get("/reports/monthly/csv", params={"period": PERIOD})
    assert csv.headers["content-type"].startswith("text/csv")


def test_every_page_word_has_both_languages() -> None:
    assert all((zh and en and zh != en) or key == "title" for key, (zh, en) in WORDS.items())


def test_the_navigation_shows_only_what_my_role_may_read(client: TestClient[Any]) -> None:
    sign_in(client, UNIT_OFFICER)
    nav = re.findall(r'<li><a href="(/[a-z]+)"', client.get("/today").text)
    assert nav == ["/today", "/disputes", "/alerts"]
    sign_in(client, EVALUATOR)
    nav = re.findall(r'<li><a href="(/[a-z]+)"', client.get("/today").text)
    assert nav == ["/today", "/disputes", "/alerts", "/migrants", "/reports", "/audit"]


def test_migrant_workers_are_masked_and_opened_only_by_roles_that_may(
    client: TestClient[Any], service: Safecomm
) -> None:
    sign_in(client, EVALUATOR)
    text = client.get("/migrants").text
    assert 'data-section="registrations"' in text
    assert WORKER not in text
    assert "/migrants/open" not in text
    assert post(client, "/migrants/open", {"worker_id": WORKER, "why": "x"}).status_code == 403
    sign_in(client, OFFICE)
    before = service.log.head()
    answer = post(client, "/migrants/open", {"worker_id": WORKER, "why": "上门服务"})
    assert answer.status_code == 200
    assert WORKER_NAME in answer.text
    assert service.log.head() == before + 1


def test_serve_demo_prints_a_sign_in_link_per_role_that_signs_in(tmp_path: Path) -> None:
    from safecomm_cli.main import main  # the command's module first: it registers serve
    from safecomm_cli.serve import DEMO_ROLES

    assert "serve" in main.commands
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "from safecomm_cli.main import main; main()",
        "serve",
        "--demo",
        "--store",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "--port",
        str(port),
    ]
    served = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert served.stdout is not None
        assert served.stdout.readline().startswith("Sign in")
        links = dict(
            line.strip().rsplit(None, 1) for line in (served.stdout.readline() for _ in DEMO_ROLES)
        )
        assert [" ".join(name.split()) for name in links] == [name for name, _ in DEMO_ROLES]
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(links["office"], timeout=5)
                break
            except httpx.TransportError:
                assert served.poll() is None, "safecomm serve --demo ended"
                assert time.monotonic() < deadline, "safecomm serve --demo did not start"
                time.sleep(0.1)
        assert answer.status_code == 200
        assert "safecomm_session" in answer.headers["set-cookie"]
        assert (tmp_path / "safecomm-demo.key").stat().st_mode & 0o777 == 0o600
    finally:
        served.terminate()
        served.communicate(timeout=60)


def test_no_page_shows_an_internal_code(service: Safecomm) -> None:
    from safecomm_demo.builder import build

    demo = open_store("memory://")
    build(demo, scale=0.3)
    with TestClient(page_app(demo)) as found:
        sign_in(found, OFFICE)
        for lang in ("zh", "en"):
            found.get("/lang", params={"to": lang})
            for path in (
                "/today",
                "/disputes",
                "/alerts",
                "/migrants",
                f"/reports?period={PERIOD}",
                f"/reports?name=self-assessment&as_of={TODAY}",
                "/audit",
            ):
                body = re.sub(
                    r"<(script|style|svg)\b.*?</\1>", "", found.get(path).text, flags=re.S
                )
                shown = re.sub(r"<[^>]+>", " ", body)
                assert re.findall(r"\b[a-z]+_[a-z_]+\b", shown) == [], (lang, path)
    demo.close()
