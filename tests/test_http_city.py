"""A city served by one process over a real socket, on SQLite and PostgreSQL (one
application name per subdistrict): each subdistrict's API under its prefix and store,
isolation between subdistricts both ways, the roll-up's access, its explanations and
ETags, the tokens' claim, and the server's start-up errors."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from safecomm_cli.main import main
from safecomm_http import TokenVerifier
from safecomm_http.city import create_city_app, open_backends

from safecomm_core import open_store
from safecomm_core.access import ALL_COMMUNITIES, ALL_SUBDISTRICTS, Principal
from safecomm_core.city import City, Subdistrict
from safecomm_core.converter import converter
from safecomm_core.errors import StoreError
from safecomm_core.reports.city import explain_city
from safecomm_core.values import Role
from tests.commanding import sample_commands
from tests.conftest import PG_URL, drop_pg_tables, pg_tables
from tests.serving import KEY, as_, auth, served

CITY_OFFICE = Principal("city-1", Role.STAFF, ALL_COMMUNITIES, subdistricts=ALL_SUBDISTRICTS)
S01_OFFICE = Principal("s01-1", Role.STAFF, ALL_COMMUNITIES, subdistricts=["S01"])
S02_OFFICE = Principal("s02-1", Role.STAFF, ALL_COMMUNITIES, subdistricts=["S02"])
S01_MEDIATOR_C1 = Principal("staff-017", Role.MEDIATOR, ["C1"], subdistricts=["S01"])
S02_MEDIATOR_C1 = Principal("staff-017", Role.MEDIATOR, ["C1"], subdistricts=["S02"])
EVALUATOR = Principal("ev-1", Role.EVALUATOR, ALL_COMMUNITIES, subdistricts=["S01", "S02"])
DISPUTE = "/v1/records/dispute/d-2014-0001"
MONTHLY = "/v1/city/reports/monthly?period=2014-03"
EXPLAIN = "/v1/city/reports/explain/mediation_success_rate?period=2014-03"


def in_(subdistrict: str, path: str) -> str:
    return f"/subdistricts/{subdistrict}{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[City]:
    """A city of two subdistricts: two SQLite files, or two applications in one
    PostgreSQL database."""
    names = {s: f"t{uuid.uuid4().hex[:10]}_{s.lower()}" for s in ("S01", "S02")}
    stores = {
        s: f"sqlite:///{tmp_path / name}.db"
        if request.param == "sqlite"
        else f"{PG_URL}?name={name}"
        for s, name in names.items()
    }
    for url in stores.values():
        open_store(url).close()  # a city's server opens existing stores only
    yield City("Test city", tuple(Subdistrict(s, f"subdistrict {s}", u) for s, u in stores.items()))
    if request.param == "postgres":
        for name in names.values():
            drop_pg_tables(name)


@pytest.fixture
def live(city: City) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    """The city's server on a free port, a client of it, and each subdistrict's backend."""
    backends = open_backends(city)
    app = create_city_app(city, backends, TokenVerifier(secret=KEY))
    with served(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, backends


def heads(backends: dict[str, Any]) -> dict[str, int]:
    return {s: b.service.log.head() for s, b in backends.items()}


def stock(city: City) -> None:
    """Each subdistrict's store holds the CLI's sample dispute, mediated to an agreement in
    March 2014, under ids of its own (``d-S01-1``)."""
    for sub in city.subdistricts:
        with open_store(sub.store) as service:
            for data in sample_commands():
                ids = {
                    "command_id": f"{sub.id}-{data['command_id']}",
                    "dispute_id": f"d-{sub.id}-1",
                }
                service.handle_json({**data, **ids})


def report(principal: Principal, dispute: str = "d-2014-0001", **fields: Any) -> dict[str, Any]:
    data = {**sample_commands()[0], "dispute_id": dispute, **fields}
    return as_(principal, {**data, "command_id": f"c-{dispute}-{data['community']}"})


def test_each_subdistrict_s_principal_reaches_its_own_subdistrict_only(
    live: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, backends = live
    # The same dispute id in both subdistricts: two records in two stores.
    for sub, who in (("S01", S01_MEDIATOR_C1), ("S02", S02_MEDIATOR_C1)):
        posted = client.post(in_(sub, "/v1/commands"), json=report(who), headers=auth(who))
        assert posted.status_code == 201, posted.text
    c2 = report(S01_OFFICE, "d-c2", community="C2")
    assert client.post(in_("S01", "/v1/commands"), json=c2, headers=auth(S01_OFFICE)).is_success
    before = heads(backends)
    for who, own, other in (("S01", S01_MEDIATOR_C1, "S02"), ("S02", S02_MEDIATOR_C1, "S01")):
        assert client.get(in_(who, DISPUTE), headers=auth(own)).status_code == 200
        for path in (DISPUTE, f"{DISPUTE}/history", "/v1/reports/monthly", "/v1/events"):
            refused = client.get(in_(other, path), headers=auth(own))
            assert refused.status_code == 404, (path, refused.text)
            # The same answer as a subdistrict the city does not have: nothing disclosed.
            unknown = client.get(in_("S99", path), headers=auth(own))
            assert refused.json() == {**unknown.json(), "detail": refused.json()["detail"]}
            assert refused.json()["detail"] == f"no subdistrict with id {other!r}"
        sent = client.post(in_(other, "/v1/commands"), json=report(own, "d-x"), headers=auth(own))
        assert sent.status_code == 404, sent.text
    # Nor C2 of the principal's own subdistrict.
    assert (
        client.get(in_("S01", "/v1/records/dispute/d-c2"), headers=auth(S01_MEDIATOR_C1)).json()[
            "field"
        ]
        == "dispute_id"
    )
    assert heads(backends) == before, "a refused request wrote something"
    # A principal of the whole city reaches each.
    for sub in ("S01", "S02"):
        assert client.get(in_(sub, DISPUTE), headers=auth(CITY_OFFICE)).status_code == 200


def test_a_command_lands_only_in_its_subdistrict_s_store_as_the_principal(
    live: tuple[httpx.Client, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    client, backends = live
    caplog.set_level(logging.INFO, logger="safecomm.http")
    before = heads(backends)
    posted = client.post(
        in_("S02", "/v1/commands"), json=report(CITY_OFFICE), headers=auth(CITY_OFFICE)
    )
    assert posted.status_code == 201, posted.text
    after = heads(backends)
    assert after["S01"] == before["S01"]
    assert after["S02"] > before["S02"]
    history = client.get(in_("S02", f"{DISPUTE}/history"), headers=auth(CITY_OFFICE)).json()
    assert (history[0]["actor"], history[0]["role"]) == ("city-1", "staff")
    # Nothing is written unless every rule passed: another actor, or a bad field.
    for bad in (
        as_(S01_OFFICE, report(CITY_OFFICE, "d-2")),
        report(CITY_OFFICE, "d-3", community=""),
    ):
        refused = client.post(in_("S02", "/v1/commands"), json=bad, headers=auth(CITY_OFFICE))
        assert refused.status_code in (400, 403), refused.text
    assert heads(backends) == after
    # One log line per request, its route under the subdistrict's prefix.
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "safecomm.http"]
    assert {(line["route"], line["status"]) for line in logged} >= {
        ("/subdistricts/S02/v1/commands", 201),
        ("/subdistricts/S02/v1/records/{kind:str}/{ref:str}/history", 200),
    }


def test_the_roll_up_is_read_as_the_policy_decides(
    live: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, _backends = live
    for sub, who in (("S01", S01_OFFICE), ("S02", S02_OFFICE)):
        for n in range(1 if sub == "S01" else 2):
            data = report(who, f"d-{n}")
            assert client.post(in_(sub, "/v1/commands"), json=data, headers=auth(who)).is_success
    path = "/v1/city/reports/monthly?period=2014-03"

    def scopes(who: Principal, query: str = "") -> set[str]:
        """The report's scopes, a subdistrict's communities (``S01/C1``) as the subdistrict."""
        answer = client.get(path + query, headers=auth(who))
        assert answer.status_code == 200, answer.text
        return {f["scope"].partition("/")[0] for f in answer.json()["figures"]}

    assert scopes(CITY_OFFICE) == {"*", "S01", "S02"}
    assert scopes(CITY_OFFICE, "&scope=S02") == {"S02"}
    assert scopes(S01_OFFICE) == {"S01"}
    assert scopes(EVALUATOR, "&scope=S02") == {"S02"}
    # The roll-up's subdistrict figure is the subdistrict's own.
    city = client.get(path, headers=auth(CITY_OFFICE)).json()["figures"]
    own = client.get(in_("S02", "/v1/reports/monthly?period=2014-03"), headers=auth(S02_OFFICE))
    for figure in own.json()["figures"]:
        if figure["scope"] == "*":
            rolled = next(f for f in city if f["id"] == figure["id"] and f["scope"] == "S02")
            assert rolled == {**figure, "scope": "S02"}
    assert {f["id"] for f in city if f["scope"] == "*"} == {f["id"] for f in own.json()["figures"]}
    for who, query, status, field in (
        (S01_OFFICE, "&scope=*", 403, "scope"),  # the city's figures hold every subdistrict's
        (S01_OFFICE, "&scope=S02", 403, "scope"),
        (S01_MEDIATOR_C1, "", 403, "scope"),  # a city's figures are of whole subdistricts
        (EVALUATOR, "", 400, "scope"),  # serves two: names one
        (CITY_OFFICE, "&scope=S99", 400, "scope"),  # the city's subdistricts are no secret to it
        (S01_OFFICE, "&scope=S99", 403, "scope"),  # nor disclosed to another
        (Principal("u", Role.UNIT, ["*"], grid_unit="U1", subdistricts=["*"]), "", 403, ""),
    ):
        refused = client.get(path + query, headers=auth(who))
        assert (refused.status_code, refused.json()["field"]) == (status, field), refused.text
    assert client.get(path + "&format=html&lang=en", headers=auth(CITY_OFFICE)).is_success


def test_the_city_explains_its_figures_as_the_core_does(
    city: City, live: tuple[httpx.Client, dict[str, Any]]
) -> None:
    client, _backends = live
    stock(city)
    for scope in ("*", "S01", "S02"):
        answer = client.get(f"{EXPLAIN}&scope={scope}", headers=auth(CITY_OFFICE))
        assert answer.status_code == 200, answer.text
        found = explain_city(city, "mediation_success_rate", "2014-03", scope)
        data = answer.json()
        assert data["figure"] == converter.unstructure(found.figure)
        for side in ("numerator", "denominator"):
            assert data[side] == [converter.unstructure(e) for e in getattr(found, side)]
        assert {e["subdistrict"] for e in data["denominator"]} == (
            {"S01", "S02"} if scope == "*" else {scope}
        )
        assert {e["ref"] for e in data["numerator"]} >= (
            {"d-S01-1", "d-S02-1"} if scope == "*" else {f"d-{scope}-1"}
        )
    # The figure is the roll-up's, and S01's events are those of S01's own explanation,
    # in the same shape, each naming its subdistrict.
    city_s = client.get(EXPLAIN, headers=auth(CITY_OFFICE)).json()
    rolled = client.get(MONTHLY, headers=auth(CITY_OFFICE)).json()["figures"]
    assert city_s["figure"] == next(
        f for f in rolled if (f["id"], f["scope"]) == ("mediation_success_rate", "*")
    )
    own = client.get(in_("S01", EXPLAIN.replace("/city", "")), headers=auth(S01_OFFICE)).json()
    s01 = client.get(f"{EXPLAIN}&scope=S01", headers=auth(S01_OFFICE)).json()
    assert set(s01) == set(own)
    assert s01["denominator"] == [{**e, "subdistrict": "S01"} for e in own["denominator"]]
    assert s01["figure"] == {**own["figure"], "scope": "S01"}
    # Its labels: the city's "*" reads as the city.
    for lang, word in (("zh", "全市"), ("en", "City")):
        data = client.get(f"{MONTHLY}&lang={lang}", headers=auth(CITY_OFFICE)).json()
        assert (data["whole"], data["scopes"]["*"], data["scopes"]["S01"]) == ("city", word, "S01")


def test_the_city_s_explanations_are_refused_as_one_store_s_are(
    live: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, _backends = live
    unit = Principal("u", Role.UNIT, ["*"], grid_unit="U1", subdistricts=["*"])
    for who, query, status, field in (
        (S01_OFFICE, "&scope=*", 403, "scope"),  # the city's figure holds S02's events
        (S01_OFFICE, "&scope=S02", 403, "scope"),
        (S01_MEDIATOR_C1, "", 403, "scope"),  # a city's figures are of whole subdistricts
        (S01_MEDIATOR_C1, "&scope=S01", 403, "scope"),
        (unit, "", 403, ""),
        (EVALUATOR, "", 400, "scope"),  # serves two: names one
        (CITY_OFFICE, "&scope=S99", 400, "scope"),
        (S01_OFFICE, "&scope=S99", 403, "scope"),  # not disclosed to another
        (CITY_OFFICE, "&scope=S01/C1", 400, "scope"),
    ):
        refused = client.get(EXPLAIN + query, headers=auth(who))
        assert (refused.status_code, refused.json()["field"]) == (status, field), refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "etag" not in refused.headers
    assert client.get(f"{EXPLAIN}&scope=S01", headers=auth(S01_OFFICE)).status_code == 200
    assert client.get(EXPLAIN, headers=auth(S01_OFFICE)).json()["figure"]["scope"] == "S01"
    # Bad input is refused as one store's route refuses it.
    one = "/subdistricts/S01/v1/reports/explain/"
    for path, field in (
        ("no_such_rate?period=2014-03", "indicator"),
        ("mediation_success_rate?period=2014-13", "period"),
        ("mediation_success_rate?period=March", "period"),
        ("mediation_success_rate?period=1989-12", "period"),
        ("mediation_success_rate", ""),  # no period: the framework's refusal, unnamed
    ):
        refused = client.get("/v1/city/reports/explain/" + path, headers=auth(CITY_OFFICE))
        theirs = client.get(one + path, headers=auth(CITY_OFFICE))
        assert (refused.status_code, refused.json()["field"]) == (400, field), refused.text
        same = ("status", "title", "type", "field")
        assert [refused.json()[k] for k in same] == [theirs.json()[k] for k in same]
    # A figure of the self-assessment is not a city's.
    assessed = client.get(
        "/v1/city/reports/explain/action_on_time_rate?period=2014-03", headers=auth(CITY_OFFICE)
    )
    assert (assessed.status_code, assessed.json()["field"]) == (400, "indicator")


def test_the_roll_up_s_etag_moves_when_any_subdistrict_s_store_does(
    city: City, live: tuple[httpx.Client, dict[str, Any]]
) -> None:
    client, backends = live
    stock(city)
    paths = (MONTHLY, f"{MONTHLY}&format=csv", EXPLAIN)

    def tags() -> dict[str, str]:
        found = {}
        for path in paths:
            answer = client.get(path, headers=auth(CITY_OFFICE))
            assert answer.status_code == 200, answer.text
            assert answer.headers["cache-control"] == "private, no-cache"
            found[path] = answer.headers["etag"]
        return found

    def unchanged(tags: dict[str, str]) -> None:
        for path, tag in tags.items():
            again = client.get(path, headers={**auth(CITY_OFFICE), "If-None-Match": tag})
            assert again.status_code == 304, (path, again.text)
            assert (again.content, again.headers["etag"]) == (b"", tag)

    before = tags()
    assert len(set(before.values())) == len(paths)  # the query is in the tag
    unchanged(before)
    assert tags() == before
    other = client.get(f"{MONTHLY}&scope=S01", headers=auth(CITY_OFFICE)).headers["etag"]
    assert other not in before.values()
    for sub in ("S01", "S02"):
        moved = heads(backends)
        data = report(CITY_OFFICE, f"d-new-{sub}")
        posted = client.post(in_(sub, "/v1/commands"), json=data, headers=auth(CITY_OFFICE))
        assert posted.status_code == 201, posted.text
        assert heads(backends) != moved
        for path, tag in before.items():
            fresh = client.get(path, headers={**auth(CITY_OFFICE), "If-None-Match": tag})
            assert fresh.status_code == 200, (sub, path)
            assert fresh.headers["etag"] != tag
        before = tags()
        unchanged(before)


def test_tokens_without_the_subdistricts_claim_are_refused_plainly(
    live: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, _backends = live
    today_s = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)
    for path in (in_("S01", DISPUTE), "/v1/city/reports/monthly", in_("S99", DISPUTE)):
        refused = client.get(path, headers=auth(today_s))
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["field"] == "subdistricts"
        assert "lacks the 'subdistricts' claim" in refused.json()["detail"]
    assert client.get(in_("S01", "/readyz")).json()["status"] == "ready"
    assert set(client.get("/readyz").json()["subdistricts"]) == {"S01", "S02"}


def test_the_openapi_document_covers_the_city_s_routes(
    live: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, _backends = live
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/v1/city/reports/monthly" in paths
    explain = paths["/v1/city/reports/explain/{indicator}"]["get"]
    assert {p["name"] for p in explain["parameters"]} == {"indicator", "period", "scope"}
    assert "304" in explain["responses"]
    assert "304" in paths["/v1/city/reports/monthly"]["get"]["responses"]
    commands = paths["/subdistricts/{subdistrict}/v1/commands"]["post"]
    assert commands["parameters"][0]["name"] == "subdistrict"
    assert commands["parameters"][0]["schema"]["enum"] == ["S01", "S02"]
    assert "/subdistricts/{subdistrict}/v1/records/{kind}/{ref}" in paths
    assert not any(p.startswith("/today") for p in paths)


def test_a_server_of_one_store_refuses_a_principal_held_to_named_subdistricts(
    tmp_path: Path,
) -> None:
    from safecomm_http import Backend, create_app

    app = create_app(Backend.open(f"sqlite:///{tmp_path / 'one.db'}"), TokenVerifier(secret=KEY))
    with served(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        refused = client.get(DISPUTE, headers=auth(S01_MEDIATOR_C1))
        assert (refused.status_code, refused.json()["field"]) == (403, "subdistricts")
        today_s = Principal("staff-017", Role.MEDIATOR, ["C1"])
        assert client.get(DISPUTE, headers=auth(today_s)).status_code == 404
        assert client.get(DISPUTE, headers=auth(CITY_OFFICE)).status_code == 404


def test_a_city_file_with_a_bad_store_is_a_clear_start_up_error(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "k"
    runner.invoke(main, ["token", "keygen", "--out", str(key)])
    city = tmp_path / "city.toml"

    def serve(stores: list[str]) -> Any:
        city.write_text(
            'name = "Test city"\n'
            + "".join(
                f'[[subdistrict]]\nid = "S0{n}"\nname = "s{n}"\nstore = "{url}"\n'
                for n, url in enumerate(stores, start=1)
            ),
            encoding="utf-8",
        )
        return runner.invoke(
            main, ["serve", "--city", str(city), "--auth-key", str(key), "--port", "0"]
        )

    good = f"sqlite:///{tmp_path / 'good.db'}"
    open_store(good).close()
    mistyped = serve([good, f"sqlite:///{tmp_path / 'goood.db'}"])
    assert mistyped.exit_code != 0, mistyped.output
    assert "subdistrict S02 (s2): no store at" in mistyped.output
    assert not (tmp_path / "goood.db").exists()
    # On PostgreSQL too: a mistyped ?name= starts no empty store (and makes no tables).
    name = "t" + uuid.uuid4().hex[:12]
    try:
        town = City(
            "T", (Subdistrict("S01", "s1", good), Subdistrict("S02", "s2", f"{PG_URL}?name={name}"))
        )
        with pytest.raises(StoreError) as absent:
            open_backends(town)  # (not served: a server that started would not return)
        assert str(absent.value) == f"subdistrict S02 (s2): no store at '{PG_URL}?name={name}'"
        assert pg_tables(name) == []
    finally:
        drop_pg_tables(name)
    unreachable = serve([good, "postgresql://postgres@127.0.0.1:1/nowhere?name=s02"])
    assert unreachable.exit_code not in (0, 70), unreachable.output
    assert "subdistrict S02 (s2)" in unreachable.output
    assert "Traceback" not in unreachable.output
    unknown = serve([good, "mysql://db/x"])
    assert unknown.exit_code == 2, unknown.output
    assert "subdistrict[2].store" in unknown.output
    city.write_text('name = "no subdistricts"\n', encoding="utf-8")
    empty = runner.invoke(main, ["serve", "--city", str(city), "--auth-key", str(key)])
    assert empty.exit_code == 2
    assert "at least one subdistrict" in empty.output
