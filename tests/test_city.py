"""The city's roll-up: subdistricts in stores of their own, reported together.

Two subdistricts are written by hand with the histories of tests/test_monthly.py, every id
and community prefixed so that one store can also hold both (the union): the city's
figures must be the union's, each subdistrict's those of its own report, on SQLite files
and on PostgreSQL applications (``?name=``) alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit import Cut
from safecomm_core.audit.report_replay import replay_city
from safecomm_core.city import City, CityError, Subdistrict
from safecomm_core.dates import Month
from safecomm_core.errors import StoreError
from safecomm_core.reports import monthly_report
from safecomm_core.reports.city import city_report, combined, explain_city
from safecomm_core.reports.counting import Counted, Tally, measure
from safecomm_core.reports.disclosure import SUPPRESSED, WITHHELD
from safecomm_core.reports.model import Report
from safecomm_core.store import parse_store_url
from tests.conftest import PG_URL, drop_pg_tables, pg_tables
from tests.test_monthly import BASELINE, Desk, alert_history, disputes, migrants, police, survey

#: Keys whose values name records, units or communities: prefixed per subdistrict.
_NAMES = ("community", "raised_by", "ref", "network_id")


class Prefixed(Desk):
    """A desk whose every id and community is prefixed (``a`` + ``C1``): one subdistrict."""

    def __init__(self, service: Safecomm, prefix: str) -> None:
        super().__init__(service)
        self.prefix = prefix

    def named(self, key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.named(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.named(key, v) for v in value]
        if key == "statistic_id":  # <month>/<community>/<category>
            month, community, category = value.split("/")
            return f"{month}/{self.prefix}{community}/{category}"
        if isinstance(value, str) and value != "*" and (key.endswith("_id") or key in _NAMES):
            return self.prefix + value
        return value

    def __call__(self, type_: str, when: str, **fields: Any) -> None:
        super().__call__(type_, when, **{k: self.named(k, v) for k, v in fields.items()})


def first(desk: Desk) -> None:
    """Disputes, alerts, migrant workers, a survey wave."""
    disputes(desk)
    alert_history(desk)
    migrants(desk)
    survey(desk, "s-1", "baseline", "2014-03-05", BASELINE)


def second(desk: Desk) -> None:
    """Disputes, a smaller survey wave, police figures."""
    disputes(desk)
    survey(desk, "s-1", "baseline", "2014-03-06", BASELINE[:2])
    police(desk, Month.parse("2014-02"), 4)
    police(desk, Month.parse("2014-03"), 2)


HISTORIES = {"S01": ("a", first), "S02": ("b", second)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[City, str]]:
    """A city of two subdistricts, each in a store of its own, and a store of the union."""
    names = {sid: "t" + uuid.uuid4().hex[:12] for sid in [*HISTORIES, "union"]}
    if request.param == "sqlite":
        urls = {sid: f"sqlite:///{tmp_path / f'{sid}.db'}" for sid in names}
    else:
        urls = {sid: f"{PG_URL}?name={name}" for sid, name in names.items()}
    for sid, (prefix, history) in HISTORIES.items():
        for url in (urls[sid], urls["union"]):
            with open_store(url) as service:
                history(Prefixed(service, prefix))
    found = City(
        "Hemenkou city",
        tuple(Subdistrict(sid, f"Subdistrict {sid}", urls[sid]) for sid in HISTORIES),
    )
    yield found, urls["union"]
    if request.param == "postgres":
        for name in names.values():
            drop_pg_tables(name)


def by_scope(report: Report) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (f.id, f.scope): (f.numerator, f.denominator, f.value, f.definition_version, f.reading)
        for f in report.figures
    }


def series_of(report: Report, scope: str) -> dict[str, tuple[tuple[str, float | None], ...]]:
    return {s.indicator: s.points for s in report.series if s.scope == scope}


def test_city_figures_are_the_union_and_each_subdistrict_its_own(city: tuple[City, str]) -> None:
    town, union = city
    report = city_report(town, "2014-03")
    got = by_scope(report)
    with open_store(union) as service:
        whole = by_scope(monthly_report(service, "2014-03", scope="*"))
    city_figures = {i: v for (i, s), v in got.items() if s == "*"}
    assert city_figures == {i: v for (i, s), v in whole.items() if s == "*"}
    with open_store(union) as service:
        assert series_of(report, "*") == series_of(monthly_report(service, "2014-03"), "*")
    assert len(series_of(report, "*")["mediation_success_rate"]) >= 2  # months, not one
    # mediation success: 3 agreements (d-1, d-3, d-5) of 4 mediations ended in March in each
    assert got["mediation_success_rate", "*"][:3] == (6, 8, 0.75)
    for sub in town.subdistricts:
        with open_store(sub.store) as service:
            own = by_scope(monthly_report(service, "2014-03"))
        assert {i: v for (i, s), v in got.items() if s == sub.id} == {
            i: v for (i, s), v in own.items() if s == "*"
        }
        with open_store(sub.store) as service:
            own_series = series_of(monthly_report(service, "2014-03"), "*")
        assert series_of(report, sub.id) == own_series
    assert {s.scope for s in report.series} == {"*", "S01", "S02"}
    assert (report.scope, report.whole) == ("*", "city")  # renderers call its "*" the city
    assert report.kind == "monthly"
    one = city_report(town, "2014-03", scope="S02")
    assert one.whole == "subdistrict"  # no "*": its scopes read S02, S02/bC1
    assert {f.scope for f in one.figures} >= {"S02", "S02/bC1"}
    assert by_scope(one)["mediation_success_rate", "S02"] == got["mediation_success_rate", "S02"]


def test_sections_sum_the_subdistricts_and_suppress_the_sums(city: tuple[City, str]) -> None:
    town, _union = city
    report = city_report(town, "2014-03")
    sections = {s.id: s for s in report.sections}
    rows = {row[0]: row for row in sections["disputes_by_subdistrict"].rows}
    # each subdistrict alone: 4 reported in March (d-1, d-2, d-4, d-5) → shown as counted
    assert rows["S01"][1] == 4
    assert rows["S02"][1] == 4
    kinds = {row[0]: row for row in sections["disputes_by_kind"].rows}
    # one family dispute (d-2) in each: 2 in the city, suppressed on the sum
    assert kinds["family"][1] == SUPPRESSED
    # neighbour: 3 in each, 6 in the city, withheld: the column's total would give the 2 away
    assert kinds["neighbour"][1] == WITHHELD
    police_rows = {row[0]: row for row in sections["police_cases"].rows}
    assert police_rows["theft"][1] == 2  # March: S02's 2 cases
    letters = sections["dead_letters"]
    assert letters.columns[0].key == "subdistrict"
    assert any("S01 " in n for n in report.notes) or any(n.startswith("S01:") for n in report.notes)


def test_explain_names_the_subdistrict_of_every_event(city: tuple[City, str]) -> None:
    town, _union = city
    found = explain_city(town, "mediation_success_rate", "2014-03")
    report = city_report(town, "2014-03")
    assert found.figure == report.figure("mediation_success_rate")
    assert {e.subdistrict for e in found.denominator} == {"S01", "S02"}
    assert len(found.denominator) == 8
    assert len(found.numerator) == 6
    refs = {(e.subdistrict, e.ref) for e in found.numerator}
    assert ("S01", "ad-1") in refs
    assert ("S02", "bd-1") in refs
    one = explain_city(town, "mediation_success_rate", "2014-03", "S02")
    assert {e.subdistrict for e in one.denominator} == {"S02"}


def test_a_subdistrict_counting_with_no_denominator_leaves_the_city_not_applicable() -> None:
    counted = Tally((Counted("S01", ()),), (Counted("S01", ()), Counted("S01", ())))
    named = Tally((Counted("S02", ()),), ())
    assert measure("rate", combined("rate", [counted]))[2] == 0.5
    assert measure("rate", combined("rate", [counted, named]))[2] is None


weights = st.lists(st.integers(min_value=0, max_value=50), max_size=6)


@given(st.lists(st.tuples(weights, weights), min_size=1, max_size=5))
def test_rates_roll_up_as_sums_never_averages(parts: list[tuple[list[int], list[int]]]) -> None:
    tallies = []
    for n, (num, den) in enumerate(parts):
        sub = f"S{n}"
        den_items = tuple(Counted(sub, (), float(w)) for w in [*num, *den])
        tallies.append(Tally(tuple(Counted(sub, (), float(w)) for w in num), den_items))
    numerator, denominator, value = measure("rate", combined("rate", tallies))
    total_num = sum(sum(num) for num, _ in parts)
    total_den = sum(sum(num) + sum(den) for num, den in parts)
    assert (numerator, denominator) == (total_num, total_den)
    assert value == (total_num / total_den if total_den else None)
    values = [float(v) for num, den in parts for v in [*num, *den]]
    medians = [
        Tally((), tuple(Counted(f"S{n}", (), value=float(v)) for v in [*a, *b]))
        for n, (a, b) in enumerate(parts)
    ]
    assert (
        measure("median", combined("median", medians))[2]
        == measure("median", Tally((), tuple(Counted("*", (), value=v) for v in values)))[2]
    )


# -- the city file -----------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_city_file_reads_and_bad_ones_are_refused_naming_the_field(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        'name = "Town"\n[[subdistrict]]\nid = "S01"\nname = "One"\nstore = "sqlite:///one.db"\n'
        '[[subdistrict]]\nid = "S02"\nname = "Two"\n'
        'store = "postgresql://u:secret@h/db?name=s02"\n',
    )
    town = City.from_file(good)
    assert town.ids == ("S01", "S02")
    assert town.subdistrict("S02").display == "postgresql://u:***@h/db?name=s02"
    with pytest.raises(CityError) as unknown:
        town.subdistrict("S09")
    assert unknown.value.field == "scope"
    cases = {
        "name = 'Town'\n[[subdistrict]]\nid = 'S01'\nname = 'One'\n": "subdistrict[1].store",
        "name = 'Town'\n": "subdistrict",
        "[[subdistrict]]\nid='S01'\nname='x'\nstore='sqlite:///a.db'\n": "name",
        "name = 'T'\n[[subdistrict]]\nid='S01'\nname='x'\nstore='sqlite:///a.db'\n"
        "[[subdistrict]]\nid='S01'\nname='y'\nstore='sqlite:///b.db'\n": "subdistrict[2].id",
        "name = 'T'\n[[subdistrict]]\nid='S01'\nname='x'\nstore='ftp://a'\n": (
            "subdistrict[1].store"
        ),
        "name = 'T'\n[[subdistrict]]\nid='S01'\nname='x'\nstore='sqlite:///a.db'\n"
        "[[subdistrict]]\nid='S02'\nname='y'\nstore='sqlite:///a.db'\n": "subdistrict[2].store",
        "name = [": "city",
        "name = 'T'\n[[subdistrict]]\nid='S01'\nname='x'\nstore='sqlite:///a.db'\n"
        "[[subdistrict]]\nid='s01'\nname='y'\nstore='sqlite:///b.db'\n": "subdistrict[2].id",
        "name = 'T'\n[[subdistrict]]\nid='S01'\nname='North'\nstore='sqlite:///a.db'\n"
        "[[subdistrict]]\nid='S02'\nname=' North '\nstore='sqlite:///b.db'\n": (
            "subdistrict[2].name"
        ),
    }
    for text, field in cases.items():
        with pytest.raises(CityError) as refused:
            City.from_file(write(tmp_path, text))
        assert refused.value.field == field, text
    with pytest.raises(CityError):
        City.from_file(tmp_path / "missing.toml")


def test_one_sqlite_file_under_two_spellings_is_one_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listed twice, its figures would be counted twice in the city's.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.db").symlink_to(tmp_path / "one.db")
    for other in (
        "sqlite:///./one.db",
        f"sqlite:///{tmp_path / 'one.db'}",
        "sqlite:///sub/../one.db",
        "sqlite:///link.db",
        "sqlite:///%6Fne.db",
    ):
        with pytest.raises(CityError) as twice:
            City.from_urls(["sqlite:///one.db", other])
        assert str(twice.value) == "subdistrict[2].store: is also subdistrict[1]'s store", other
    assert City.from_urls(["sqlite:///one.db", "sqlite:///sub/one.db"]).ids == ("S01", "S02")


def test_a_city_file_s_relative_sqlite_paths_are_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same file read from anywhere (a server's, a cron job's working folder) names the
    # same stores; --stores URLs, typed at a prompt, stay relative to the working folder.
    folder = tmp_path / "city"
    folder.mkdir()
    open_store(f"sqlite:///{folder / 'one.db'}").close()
    path = folder / "city.toml"
    path.write_text(
        'name = "T"\n[[subdistrict]]\nid = "S01"\nname = "One"\nstore = "sqlite:///one.db"\n'
        '[[subdistrict]]\nid = "S02"\nname = "Two"\nstore = "sqlite:///../two%20%23%3F.db?name=x"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    town = City.from_file(Path("city") / "city.toml")
    assert parse_store_url(town.subdistrict("S01").store).env["SQLITE_DBNAME"] == str(
        folder / "one.db"
    )
    assert parse_store_url(town.subdistrict("S02").store).env["SQLITE_DBNAME"] == str(
        folder / ".." / "two #?.db"
    )
    done = CliRunner().invoke(
        main, ["report", "monthly", "--city", "city/city.toml", "--subdistrict", "S01"]
    )
    assert done.exit_code == 0, done.output
    assert City.from_urls(["sqlite:///one.db"]).subdistricts[0].store == "sqlite:///one.db"


def test_a_city_of_urls_is_named_by_their_store_names() -> None:
    town = City.from_urls([f"{PG_URL}?name=north", "sqlite:///south.db"])
    assert town.ids == ("NORTH", "S02")


def test_a_missing_store_is_named_not_created(tmp_path: Path) -> None:
    town = City("T", (Subdistrict("S01", "One", f"sqlite:///{tmp_path / 'none.db'}"),))
    with pytest.raises(StoreError) as missing:
        city_report(town, "2014-03")
    assert "S01" in str(missing.value)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.postgres
def test_a_missing_postgresql_store_is_named_not_created() -> None:
    # A subdistrict's ?name= mistyped: the city is refused, no empty store is made for it.
    name = "t" + uuid.uuid4().hex[:12]
    town = City("T", (Subdistrict("S01", "One", f"{PG_URL}?name={name}"),))
    try:
        with pytest.raises(StoreError) as missing:
            city_report(town, "2014-03")
        assert str(missing.value) == f"subdistrict S01: no store at '{PG_URL}?name={name}'"
        assert pg_tables(name) == []
    finally:
        drop_pg_tables(name)


# -- the command line --------------------------------------------------------------------


def city_file(tmp_path: Path, town: City) -> Path:
    lines = [f'name = "{town.name}"']
    for sub in town.subdistricts:
        lines += ["[[subdistrict]]", f'id = "{sub.id}"', f'name = "{sub.name}"']
        lines.append(f'store = "{sub.store}"')
    return write(tmp_path, "\n".join(lines) + "\n")


def test_the_command_line_writes_the_city_in_every_format(
    city: tuple[City, str], tmp_path: Path
) -> None:
    town, _union = city
    path = city_file(tmp_path, town)
    runner = CliRunner()
    done = runner.invoke(main, ["report", "monthly", "--city", str(path), "--period", "2014-03"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    shown = {(f["id"], f["scope"]): f for f in data["figures"]}
    assert shown["mediation_success_rate", "*"]["numerator"] == 6
    stores = ",".join(s.store for s in town.subdistricts)
    for fmt in ("csv", "xlsx", "html"):
        out = tmp_path / f"city.{fmt}"
        done = runner.invoke(
            main,
            ["report", "monthly", "--stores", stores, "--period", "2014-03", "--out", str(out)],
        )
        assert done.exit_code == 0, done.output
        assert out.stat().st_size > 0
    done = runner.invoke(
        main,
        ["report", "explain", "mediation_success_rate", "--period", "2014-03", "--city", str(path)],
    )
    assert done.exit_code == 0, done.output
    assert "S01 dispute ad-1" in done.stdout
    assert "S02 dispute bd-1" in done.stdout


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write(tmp_path, "name = 'T'\n")
    done = runner.invoke(main, ["report", "monthly", "--city", str(bad)])
    assert done.exit_code == 2
    assert "subdistrict" in done.stderr
    assert "Traceback" not in done.output
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    done = runner.invoke(main, ["report", "monthly", "--stores", missing, "--period", "2014-03"])
    assert done.exit_code == 5
    assert "S01" in done.stderr
    down = "postgresql://postgres@127.0.0.1:1/test?name=s01"
    done = runner.invoke(main, ["report", "monthly", "--stores", down, "--period", "2014-03"])
    assert done.exit_code == 5
    assert "S01" in done.stderr
    assert "Traceback" not in done.output
    done = runner.invoke(main, ["report", "monthly", "--stores", missing, "--city", str(bad)])
    assert done.exit_code == 2


def test_a_month_outside_the_programme_s_days_is_bad_input_for_city_and_store(
    tmp_path: Path,
) -> None:
    stores = []
    for sid in ("S01", "S02"):
        open_store(f"sqlite:///{tmp_path / f'{sid}.db'}").close()
        stores.append(f"sqlite:///{tmp_path / f'{sid}.db'}")
    path = city_file(
        tmp_path,
        City("T", tuple(Subdistrict(s, s, u) for s, u in zip(("S01", "S02"), stores, strict=True))),
    )
    replay = ["audit", "replay", "--known-at", "2099-01-01", "--report", "monthly"]
    explain = ["report", "explain", "mediation_success_rate"]
    runner = CliRunner()
    for period in ("0000-01", "1989-12", "2101-01", "9999-12"):
        for args in (
            ["report", "monthly", "--city", str(path), "--period", period],
            ["report", "monthly", "--city", str(path), "--subdistrict", "S02", "--period", period],
            ["report", "monthly", "--store", stores[0], "--period", period],
            [*explain, "--city", str(path), "--period", period],
            [*explain, "--store", stores[0], "--period", period],
            [*replay, "--city", str(path), "--period", period],
            [*replay, "--store", stores[0], "--period", period],
        ):
            done = runner.invoke(main, args)
            assert done.exit_code == 2, (args, done.output)
            assert done.stderr == (
                "error: period: must fall between 1990-01-01 and 2100-12-31\n"
            ), args
    done = runner.invoke(main, [*replay, "--city", str(path), "--period", "2014-3"])
    assert done.exit_code == 2, done.output
    assert done.stderr == "error: period: must be a month YYYY-MM, e.g. 2014-03\n"


def test_an_empty_subdistrict_is_refused_not_taken_for_the_city(tmp_path: Path) -> None:
    # --subdistrict "$S" with S unset: not the whole city's report instead.
    store = tmp_path / "one.db"
    open_store(f"sqlite:///{store}").close()
    done = CliRunner().invoke(
        main, ["report", "monthly", "--stores", f"sqlite:///{store}", "--subdistrict", ""]
    )
    assert done.exit_code == 2, done.output
    assert done.stderr == "error: scope: must be * or a subdistrict of the city: S01\n"


# -- audit replay ------------------------------------------------------------------------


def test_the_city_replayed_from_the_logs_is_the_city_of_the_views(
    city: tuple[City, str], tmp_path: Path
) -> None:
    town, _union = city
    when = datetime(2030, 1, 1, tzinfo=UTC)
    live = city_report(town, "2014-03", generated_at=when)
    for cut in (Cut.known_at(datetime.now(UTC)), Cut.as_of(datetime(2014, 12, 31, tzinfo=UTC))):
        assert replay_city(town, cut, "2014-03", generated_at=when) == live
    one = replay_city(town, Cut.known_at(datetime.now(UTC)), "2014-03", "S01", generated_at=when)
    assert one == city_report(town, "2014-03", "S01", generated_at=when)
    # as known before anything was recorded: nothing counted
    nothing = replay_city(town, Cut.known_at(datetime(2000, 1, 1, tzinfo=UTC)), "2014-03")
    assert nothing.figure("mediation_success_rate").denominator == 0
    path = str(city_file(tmp_path, town))
    replay = ["audit", "replay", "--known-at", "2099-01-01", "--report", "monthly"]
    done = CliRunner().invoke(main, [*replay, "--period", "2014-03", "--city", path])
    assert done.exit_code == 0, done.output
    shown = {(f["id"], f["scope"]): f for f in json.loads(done.stdout)["figures"]}
    assert shown["mediation_success_rate", "*"]["denominator"] == 8


def test_the_default_month_is_the_latest_of_any_subdistrict_and_an_empty_one_adds_nothing(
    city: tuple[City, str], tmp_path: Path
) -> None:
    town, _union = city
    latest = []
    for sub in town.subdistricts:
        with open_store(sub.store) as service:
            latest.append(monthly_report(service).period)
    empty = tmp_path / "empty.db"
    open_store(f"sqlite:///{empty}").close()
    bigger = City(
        town.name, (*town.subdistricts, Subdistrict("S03", "Empty", f"sqlite:///{empty}"))
    )
    report = city_report(bigger)
    assert report.period == max(latest)
    assert report.figure("mediation_success_rate", "S03").denominator == 0
    before = city_report(town, report.period)
    assert [f.value for f in report.figures if f.scope == "*"] == [
        f.value for f in before.figures if f.scope == "*"
    ]
