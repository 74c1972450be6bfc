"""The HTTP service's endpoints on every backend, its problems, and its log lines.

Each test that touches the store runs on memory, SQLite and PostgreSQL (the ``backend``
fixture); the rest on memory. Commands come from the CLI's sample: one dispute of C1,
reported by its mediator, with two parties whose names and phone must never be logged.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from safecomm_http import reporting

from safecomm_core import Safecomm, open_store
from safecomm_core.access import Principal
from safecomm_core.audit import generate_key
from safecomm_core.errors import StoreError
from safecomm_core.values import Role
from tests.commanding import sample_commands
from tests.conftest import drop_pg_tables, store_url
from tests.serving import (
    ADMIN,
    EVALUATOR,
    MEDIATOR_C1,
    MEDIATOR_C2,
    OFFICE,
    as_,
    auth,
    serving,
)

DISPUTE = "/v1/records/dispute/d-2014-0001"
COMMITTEE_C2 = Principal("cm-2", Role.COMMITTEE, ["C2"])
COMMITTEE_C1 = Principal("cm-1", Role.COMMITTEE, ["C1"])
#: What the sample says of its parties that no log line may hold.
PERSONAL = ("王建国", "李秀英", "13800001001")


@pytest.fixture
def opened(backend: str, tmp_path: Path) -> Iterator[Safecomm]:
    """A fresh store on each backend."""
    url, name = store_url(backend, tmp_path)
    service = open_store(url)
    yield service
    service.close()
    if backend == "postgres":
        drop_pg_tables(name)


@pytest.fixture
def client(opened: Safecomm) -> Iterator[TestClient[Any]]:
    with serving(opened) as found:
        yield found


def sender(data: dict[str, Any]) -> Principal:
    """The principal of C1 that the command's actor is."""
    return Principal(data["actor"]["id"], Role(data["actor"]["role"]), ["C1"])


def post_sample(client: TestClient[Any], count: int = 5) -> list[Any]:
    found = [
        client.post("/v1/commands", json=data, headers=auth(sender(data)))
        for data in sample_commands()[:count]
    ]
    assert [r.status_code for r in found] == [201] * count
    return found


def _last_opening(service: Safecomm) -> str:
    """The ref of the latest recorded opening of personal data."""
    (last,) = service.log.read(service.log.head() - 1, 1)
    return str(service.log.decode(last).ref)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    found: dict[str, Any] = response.json()
    assert found["status"] == status
    return found


def sse(text: str) -> list[dict[str, Any]]:
    """The data of each server-sent event in ``text``."""
    return [
        json.loads(line.removeprefix("data:").strip())
        for line in text.splitlines()
        if line.startswith("data:")
    ]


# -- commands -------------------------------------------------------------------------


def test_a_command_is_created_once_and_a_repeat_says_so(client: TestClient[Any]) -> None:
    first, *_ = post_sample(client)
    assert first.status_code == 201
    assert first.json() == {
        "command_id": "c-1",
        "type": "dispute.report",
        "records": ["dispute:d-2014-0001"],
        "duplicate": False,
    }
    again = client.post("/v1/commands", json=sample_commands()[0], headers=auth(MEDIATOR_C1))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True


def test_refusals_are_problems_with_field_and_rule(client: TestClient[Any]) -> None:
    post_sample(client, 2)
    bad = problem(
        client.post("/v1/commands", json={"type": "dispute.accept"}, headers=auth(MEDIATOR_C1)),
        400,
    )
    assert bad["field"]
    assert {e["field"] for e in bad["errors"]} >= {"command_id", "dispute_id"}
    naive = as_(
        MEDIATOR_C1,
        {**sample_commands()[1], "command_id": "n", "occurred_at": "2014-03-03T09:30:00"},
    )
    assert (
        problem(client.post("/v1/commands", json=naive, headers=auth(MEDIATOR_C1)), 400)["field"]
        == "occurred_at"
    )
    again = {**sample_commands()[1], "command_id": "c-2b"}
    refused = problem(client.post("/v1/commands", json=again, headers=auth(MEDIATOR_C1)), 422)
    assert refused["detail"]
    reused = {**sample_commands()[3], "command_id": "c-1"}
    assert (
        problem(client.post("/v1/commands", json=reused, headers=auth(MEDIATOR_C1)), 409)["field"]
        == "command_id"
    )
    other = as_(MEDIATOR_C1, sample_commands()[0])
    actor = problem(client.post("/v1/commands", json=other, headers=auth(OFFICE)), 403)
    assert (actor["field"], actor["rule"]) == ("actor", "must be the authenticated principal")
    hidden = as_(MEDIATOR_C2, {**sample_commands()[2], "command_id": "x-3"})
    assert (
        problem(client.post("/v1/commands", json=hidden, headers=auth(MEDIATOR_C2)), 404)["field"]
        == "dispute_id"
    )
    for body in (b"{not json", b"[1, 2]", b'"a string"'):
        problem(
            client.post(
                "/v1/commands",
                content=body,
                headers={**auth(MEDIATOR_C1), "content-type": "application/json"},
            ),
            400,
        )


def test_a_batch_answers_each_line_and_goes_on_past_a_bad_one(client: TestClient[Any]) -> None:
    lines = [json.dumps(d, ensure_ascii=False) for d in sample_commands()]
    body = "\n".join([lines[0], "{oops", lines[1], "", lines[0]]).encode()
    response = client.post(
        "/v1/commands/batch",
        content=body,
        headers={**auth(MEDIATOR_C1), "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    results = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["line"], r["status"]) for r in results] == [(1, 201), (2, 400), (3, 201), (5, 200)]
    assert results[1]["problem"]["field"] == ""
    assert results[3]["result"]["duplicate"] is True


def test_a_body_too_large_is_413(memory_service: Safecomm) -> None:
    with serving(memory_service) as client:
        big = as_(MEDIATOR_C1, {**sample_commands()[0], "summary": "x" * (2 << 20)})
        problem(client.post("/v1/commands", json=big, headers=auth(MEDIATOR_C1)), 413)


def test_past_its_allowance_a_principal_is_told_to_wait(memory_service: Safecomm) -> None:
    with serving(memory_service, rate=2.0) as client:
        statuses = [client.get(DISPUTE, headers=auth(MEDIATOR_C1)).status_code for _ in range(5)]
        assert statuses[:2] == [404, 404]
        assert 429 in statuses
        limited = client.get(DISPUTE, headers=auth(MEDIATOR_C1))
        assert int(problem(limited, 429) and limited.headers["retry-after"]) >= 1
        # Another principal has its own allowance.
        assert client.get(DISPUTE, headers=auth(MEDIATOR_C2)).status_code == 404


def test_a_store_that_fails_is_503(
    memory_service: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> int:
        raise StoreError("the database does not answer")

    with serving(memory_service) as client:
        monkeypatch.setattr(memory_service.log, "head", down)
        problem(client.get("/readyz"), 503)
        problem(client.get("/v1/reports/monthly", headers=auth(MEDIATOR_C1)), 503)


# -- records --------------------------------------------------------------------------


def test_a_record_and_its_history_at_either_time(client: TestClient[Any]) -> None:
    post_sample(client)
    found = client.get(DISPUTE, headers=auth(MEDIATOR_C1))
    assert found.status_code == 200
    body = found.json()
    assert (body["kind"], body["ref"], body["version"]) == ("dispute", "d-2014-0001", 5)
    assert body["state"]["community"] == "C1"
    assert "王建国" not in found.text  # people appear by their ref only
    history = client.get(f"{DISPUTE}/history", headers=auth(EVALUATOR)).json()
    assert [e["version"] for e in history] == [1, 2, 3, 4, 5]
    early = client.get(
        f"{DISPUTE}/history?as_of=2014-03-03T09:20:00%2B08:00", headers=auth(MEDIATOR_C1)
    )
    assert [e["event"] for e in early.json()] == ["Reported"]
    then = client.get(
        f"{DISPUTE}?as_of=2014-03-03T09:20:00%2B08:00", headers=auth(MEDIATOR_C1)
    ).json()
    assert (then["version"], then["versions_today"]) == (1, 5)
    before = client.get(f"{DISPUTE}?known_at=2000-01-01", headers=auth(MEDIATOR_C1)).json()
    assert (before["exists"], before["version"]) == (False, 0)
    problem(client.get(f"{DISPUTE}?known_at=yesterday", headers=auth(MEDIATOR_C1)), 400)
    problem(
        client.get(f"{DISPUTE}?known_at=2014-01-01&as_of=2014-01-01", headers=auth(MEDIATOR_C1)),
        400,
    )


def test_another_community_s_record_is_not_found(client: TestClient[Any]) -> None:
    post_sample(client, 1)
    for path in (DISPUTE, f"{DISPUTE}/history", f"{DISPUTE}?as_of=2015-01-01"):
        assert problem(client.get(path, headers=auth(MEDIATOR_C2)), 404)
        assert client.get(path, headers=auth(MEDIATOR_C1)).status_code == 200
    problem(client.get("/v1/records/command/c-1", headers=auth(OFFICE)), 404)
    problem(client.get("/v1/records/nothing/x", headers=auth(OFFICE)), 404)


def test_a_person_is_opened_for_a_reason_and_the_opening_recorded(
    client: TestClient[Any], opened: Safecomm
) -> None:
    post_sample(client, 1)
    path = f"{DISPUTE}/people/p-1001"
    before = opened.log.head()
    problem(client.get(f"{path}?why=curious", headers=auth(EVALUATOR)), 403)
    problem(client.get(f"{path}?why=to%20call", headers=auth(MEDIATOR_C2)), 404)
    problem(client.get(f"{path}?why=%20", headers=auth(MEDIATOR_C1)), 400)
    problem(client.get(f"{DISPUTE}/people/p-9?why=x", headers=auth(MEDIATOR_C1)), 404)
    assert opened.log.head() == before
    person = client.get(f"{path}?why=to%20call%20about%20a%20session", headers=auth(MEDIATOR_C1))
    assert person.status_code == 200
    assert person.json()["name"] == "王建国"
    assert opened.log.head() == before + 1


def test_free_text_is_sealed_in_records_and_opened_only_by_roles_that_may(
    client: TestClient[Any], opened: Safecomm
) -> None:
    post_sample(client)
    summary = "Water leaking from the flat above"  # the sample's summary
    for path in (DISPUTE, f"{DISPUTE}/history"):
        shown = client.get(path, headers=auth(MEDIATOR_C1))
        assert shown.status_code == 200
        assert summary not in shown.text
        assert "[sealed]" in shown.text
    texts = f"{DISPUTE}/texts"
    before = opened.log.head()
    problem(client.get(f"{texts}?why=curious", headers=auth(EVALUATOR)), 403)
    problem(client.get(f"{texts}?why=curious", headers=auth(COMMITTEE_C1)), 403)
    problem(client.get(f"{texts}?why=to%20read", headers=auth(MEDIATOR_C2)), 404)
    problem(client.get(f"{texts}?why=%20", headers=auth(MEDIATOR_C1)), 400)
    assert opened.log.head() == before  # refused openings record nothing
    found = client.get(f"{texts}?why=to%20prepare%20the%20session", headers=auth(MEDIATOR_C1))
    assert found.status_code == 200
    assert {"version": 1, "event": "Reported", "field": "summary", "text": summary} in found.json()
    assert opened.log.head() == before + 1  # the opening, recorded
    (entry,) = opened.history(_last_opening(opened), "opening")
    assert entry.details["person"] == "record:dispute:d-2014-0001"
    assert entry.details["why"] == "to prepare the session"


# -- reports --------------------------------------------------------------------------


def test_reports_in_every_format_and_a_repeat_answers_304(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    post_sample(client)
    built: list[str] = []
    build = reporting.ReportQuery.build

    def counted(self: reporting.ReportQuery, projector: Any) -> Any:
        built.append(self.name)
        return build(self, projector)

    monkeypatch.setattr(reporting.ReportQuery, "build", counted)
    first = client.get("/v1/reports/monthly?lang=en", headers=auth(MEDIATOR_C1))
    assert first.status_code == 200
    report = first.json()
    assert (report["scope"], report["period"]) == ("C1", "2014-03")
    etag = first.headers["etag"]
    again = client.get(
        "/v1/reports/monthly?lang=en", headers={**auth(MEDIATOR_C1), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert built == ["monthly"]  # not built again
    other = client.get(
        "/v1/reports/monthly?lang=zh", headers={**auth(MEDIATOR_C1), "If-None-Match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    client.post(
        "/v1/commands",
        json={**sample_commands()[0], "command_id": "c-9", "dispute_id": "d-9"},
        headers=auth(MEDIATOR_C1),
    )
    moved = client.get(
        "/v1/reports/monthly?lang=en", headers={**auth(MEDIATOR_C1), "If-None-Match": etag}
    )
    assert moved.status_code == 200  # the store moved on: a new report
    kinds = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats",
        "html": "text/html",
        "json": "application/json",
    }
    for name in ("monthly", "self-assessment", "watchlist"):
        for fmt, media in kinds.items():
            found = client.get(
                f"/v1/reports/{name}?format={fmt}&period=2014-03", headers=auth(OFFICE)
            )
            assert found.status_code == 200, found.text
            assert found.headers["content-type"].startswith(media)
    watch = client.get("/v1/reports/watchlist?as_of=2014-03-31&within=30", headers=auth(OFFICE))
    assert watch.status_code == 200
    assert (watch.json()["kind"], watch.json()["scope"]) == ("watchlist", "*")


def test_a_report_is_cut_to_the_principal_s_communities(client: TestClient[Any]) -> None:
    post_sample(client)
    assert client.get("/v1/reports/monthly", headers=auth(OFFICE)).json()["scope"] == "*"
    assert client.get("/v1/reports/monthly", headers=auth(MEDIATOR_C2)).json()["scope"] == "C2"
    several = Principal("cm-12", Role.COMMITTEE, ["C1", "C2"])
    choose = problem(client.get("/v1/reports/monthly", headers=auth(several)), 400)
    assert (choose["field"], choose["rule"]) == ("community", "must be given: one of C1, C2")
    assert (
        client.get("/v1/reports/monthly?community=C2", headers=auth(several)).json()["scope"]
        == "C2"
    )
    assert (
        problem(client.get("/v1/reports/monthly?community=C1", headers=auth(MEDIATOR_C2)), 403)[
            "field"
        ]
        == "community"
    )
    problem(client.get("/v1/reports/monthly?community=*", headers=auth(MEDIATOR_C2)), 403)
    unit = Principal("duty-u1", Role.UNIT, ["C1"], grid_unit="U1")
    problem(client.get("/v1/reports/monthly", headers=auth(unit)), 403)
    for query in (
        "period=2014-13",
        "format=pdf",
        "lang=fr",
        "within=400",
        "period=2014-03&as_of=2014-03-31",
    ):
        name = "watchlist" if "as_of" in query or "within" in query else "monthly"
        problem(client.get(f"/v1/reports/{name}?{query}", headers=auth(OFFICE)), 400)


def test_an_indicator_is_explained_for_the_principal_s_community(client: TestClient[Any]) -> None:
    post_sample(client)
    found = client.get(
        "/v1/reports/explain/mediation_success_rate?period=2014-03", headers=auth(MEDIATOR_C1)
    )
    assert found.status_code == 200
    body = found.json()
    assert body["figure"]["scope"] == "C1"
    assert [e["ref"] for e in body["numerator"]] == ["d-2014-0001"]
    elsewhere = client.get(
        "/v1/reports/explain/mediation_success_rate?period=2014-03", headers=auth(MEDIATOR_C2)
    )
    assert elsewhere.json()["numerator"] == []
    problem(
        client.get("/v1/reports/explain/no_such?period=2014-03", headers=auth(MEDIATOR_C1)), 400
    )
    problem(
        client.get("/v1/reports/explain/mediation_success_rate", headers=auth(MEDIATOR_C1)), 400
    )
    # the self-assessment's figures and the watchlist's counts, as of a day (or a month's end)
    assessed = client.get(
        "/v1/reports/explain/action_on_time_rate?period=2014-03-31", headers=auth(MEDIATOR_C1)
    ).json()
    assert (assessed["report"], assessed["figure"]["period"]) == ("self-assessment", "2014-03-31")
    listed = client.get(
        "/v1/reports/explain/settlement_overdue?period=2014-06", headers=auth(MEDIATOR_C1)
    ).json()
    assert (listed["report"], listed["figure"]["period"]) == ("watchlist", "2014-06-30")
    assert listed["figure"]["value"] == len(listed["rows"])
    problem(
        client.get(
            "/v1/reports/explain/mediation_success_rate?period=2014-03-31",
            headers=auth(MEDIATOR_C1),
        ),
        400,
    )
    for bad in (
        "9999-99-99",
        "2014-02-30",
        "9999-12-31",
        "0001-01-01",
    ):  # not a day, or out of range
        refused = problem(
            client.get(
                f"/v1/reports/explain/action_on_time_rate?period={bad}", headers=auth(MEDIATOR_C1)
            ),
            400,
        )
        assert refused["field"] == "period"


# -- audit ----------------------------------------------------------------------------


def test_verify_seal_and_bundle(
    opened: Safecomm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scratch files go to this test's own folder: other runs share the system's.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    private, _public = generate_key(tmp_path / "seal.key")
    with serving(opened, seal_key=str(private)) as client:
        post_sample(client)
        verified = client.get("/v1/audit/verify", headers=auth(EVALUATOR))
        assert verified.status_code == 200
        assert verified.json()["intact"] is True
        problem(client.get("/v1/audit/verify", headers=auth(MEDIATOR_C1)), 403)
        problem(client.post("/v1/audit/seal", headers=auth(OFFICE)), 403)
        sealed = client.post("/v1/audit/seal", headers=auth(ADMIN))
        assert sealed.status_code == 201
        seals = client.get("/v1/audit/seals", headers=auth(COMMITTEE_C1)).json()
        assert [s["position"] for s in seals] == [sealed.json()["position"]]
        problem(client.get("/v1/audit/bundle", headers=auth(COMMITTEE_C1)), 403)
        problem(client.get("/v1/audit/bundle?period=March", headers=auth(OFFICE)), 400)
        bundle = client.get("/v1/audit/bundle?period=2014-03", headers=auth(OFFICE))
        assert bundle.status_code == 200
        assert bundle.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
        assert any(n.startswith("reports/") for n in names)
    # The bundle was written to a scratch file, streamed, and the file removed.
    assert not list(scratch.glob("safecomm-bundle-*"))


def test_a_server_without_a_sealing_key_says_so(memory_service: Safecomm) -> None:
    with serving(memory_service) as client:
        assert (
            problem(client.post("/v1/audit/seal", headers=auth(ADMIN)), 503)["field"] == "seal_key"
        )


# -- events and health ----------------------------------------------------------------


def test_events_are_envelopes_of_the_principal_s_communities(client: TestClient[Any]) -> None:
    post_sample(client)
    everything = client.get("/v1/events", headers=auth(EVALUATOR))
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/event-stream")
    events = sse(everything.text)
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert {e["kind"] for e in events} == {"command", "dispute"}
    assert set(events[0]) == {
        "position",
        "kind",
        "ref",
        "event",
        "occurred_at",
        "recorded_at",
        "community",
    }
    assert not any(p in everything.text for p in PERSONAL)
    assert sse(client.get("/v1/events", headers=auth(COMMITTEE_C2)).text) == []
    assert sse(client.get("/v1/events", headers=auth(COMMITTEE_C1)).text) == events
    later = sse(
        client.get(f"/v1/events?after={events[3]['position']}", headers=auth(EVALUATOR)).text
    )
    assert later == events[4:]
    resumed = client.get(
        "/v1/events", headers={**auth(EVALUATOR), "Last-Event-ID": str(events[3]["position"])}
    )
    assert sse(resumed.text) == events[4:]
    problem(client.get("/v1/events", headers=auth(MEDIATOR_C1)), 403)


def test_health_and_readiness(client: TestClient[Any]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    post_sample(client, 2)
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["head"] == 4
    assert ready["lag"]["disputes"] == 4
    client.get("/v1/reports/monthly", headers=auth(OFFICE))
    assert client.get("/readyz").json()["lag"]["disputes"] == 0
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    raise_alert = schema["components"]["schemas"]["RaiseAlert"]
    assert raise_alert["properties"]["type"] == {"const": "alert.raise"}


# -- logs -----------------------------------------------------------------------------


def test_logs_hold_one_line_per_request_and_no_personal_data(
    memory_service: Safecomm, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(memory_service) as client:
        post_sample(client)
        client.post(
            "/v1/commands",
            json={**sample_commands()[0], "command_id": "bad", "occurred_at": "x"},
            headers=auth(MEDIATOR_C1),
        )
        client.get(f"{DISPUTE}/people/p-1001?why=call", headers=auth(MEDIATOR_C1))
        client.get(f"{DISPUTE}/history", headers=auth(MEDIATOR_C1))
        client.get("/v1/events", headers=auth(OFFICE))
        client.post("/v1/commands", json=sample_commands()[0])
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for value in PERSONAL:
        assert value not in text
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "safecomm.http"]
    assert len(lines) == 10
    assert {tuple(sorted(line)) for line in lines} == {
        ("method", "ms", "principal", "request_id", "role", "route", "status")
    }
    assert [line["status"] for line in lines] == [201] * 5 + [400, 200, 200, 200, 401]
    assert lines[6]["route"] == "/v1/records/{kind:str}/{ref:str}/people/{person:str}"
