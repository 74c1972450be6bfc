"""The self-assessment and the watchlist as users get them: rendered in every format and
language with no personal data, through ``safecomm report``, and end to end on every
backend (PostgreSQL included)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from safecomm_cli.assessment import as_of_day
from safecomm_cli.main import main
from safecomm_reports import FORMATS, render
from safecomm_reports.labels import LANGS, section_rows

from safecomm_core import Safecomm, open_store
from safecomm_core.reports.model import Report
from tests.assessing import (
    FULL_AS_OF,
    PERSONAL,
    full_history,
    rows,
    self_assessment_of,
    watchlist_of,
)
from tests.conftest import drop_pg_tables, store_url


def readable_text(data: bytes, fmt: str) -> str:
    """Everything a reader of the output could see, as text (XLSX: every part unzipped)."""
    if fmt != "xlsx":
        return data.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def test_no_personal_data_given_in_commands_appears_in_any_rendered_output(
    memory_service: Safecomm,
) -> None:
    full_history(memory_service)
    reports = [
        watchlist_of(memory_service, FULL_AS_OF),
        self_assessment_of(memory_service, FULL_AS_OF),
        watchlist_of(memory_service, FULL_AS_OF, community="C2"),
    ]
    assert all(s.rows for s in reports[0].sections)  # every list has a row to leak from
    for report in reports:
        for fmt in FORMATS:
            for lang in LANGS:
                text = readable_text(render(report, fmt, lang), fmt)
                for secret in PERSONAL:
                    assert secret not in text, (report.kind, fmt, lang, secret)
                # and the migrant workers' references are masked
                assert "w-2011-0042" not in text
                assert "2013-0007" not in text


def test_masked_workers_still_show_their_last_four_characters(memory_service: Safecomm) -> None:
    full_history(memory_service)
    report = watchlist_of(memory_service, FULL_AS_OF)
    assert [r["worker"] for r in rows(report, "eligible_not_offered")] == ["*-****-0042"]
    assert [r["worker"] for r in rows(report, "permits_to_endorse")] == ["*-****-0007"]


def test_the_xlsx_has_a_sheet_per_list_holding_the_same_rows_as_the_json(
    memory_service: Safecomm,
) -> None:
    full_history(memory_service)
    report = watchlist_of(memory_service, FULL_AS_OF)
    data = json.loads(render(report, "json", "en"))
    book = load_workbook(io.BytesIO(render(report, "xlsx", "en")), read_only=True)
    sheets = list(book.worksheets)
    assert [s["id"] for s in data["sections"]] == [s.id for s in report.sections]
    for section in report.sections:
        # The same rows as the JSON's, with codes in words (agreement_written: written
        # agreement).
        for row in section_rows(section, "en"):
            cells = [c for c in row if c is not None]
            found = any(
                all(
                    c in [v for line in ws.iter_rows(values_only=True) for v in line] for c in cells
                )
                for ws in sheets
            )
            assert found, (section.id, row)


# -- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        full_history(service)
    return url


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)


def test_cli_watchlist_as_json_on_standard_output(sqlite_url: str) -> None:
    result = invoke("watchlist", "--as-of", FULL_AS_OF.isoformat(), "--store", sqlite_url)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["kind"], data["period"], data["scope"], data["lang"]) == (
        "watchlist",
        "2014-06-20",
        "*",
        "zh",
    )
    by_id = {s["id"]: s for s in data["sections"]}
    assert by_id["first_mediation_overdue"]["rows"][0][0] == "d-2014-0101"
    assert data["dead_letters"] == 0


def test_cli_watchlist_options_community_within_and_period(sqlite_url: str) -> None:
    result = invoke(
        "watchlist", "--period", "2014-06", "--community", "C2", "--within", "0",
        "--lang", "en", "--store", sqlite_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["period"], data["scope"], data["title"]) == ("2014-06-30", "C2", "Watchlist")
    lists = {s["id"]: s["rows"] for s in data["sections"]}
    assert [r[0] for r in lists["settlement_overdue"]] == ["d-2014-0102"]
    assert lists["first_mediation_overdue"] == []  # d-2014-0101 is C1's
    assert lists["judicial_window_closing"] == []


def test_cli_self_assessment_writes_each_format_to_a_file(sqlite_url: str, tmp_path: Path) -> None:
    for fmt in FORMATS:
        out = tmp_path / f"self-assessment.{fmt}"
        result = invoke(
            "self-assessment", "--as-of", "2014-06-20", "--out", str(out), "--store", sqlite_url
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
        assert f"wrote {out}" in result.stderr
    data = json.loads((tmp_path / "self-assessment.json").read_text(encoding="utf-8"))
    assert data["kind"] == "self-assessment"
    assert "measure_evidence_coverage" in data["labels"]
    html = (tmp_path / "self-assessment.html").read_text(encoding="utf-8")
    assert "安全社区创建机构与职责" in html


def test_cli_refuses_bad_days_and_both_period_and_as_of(sqlite_url: str) -> None:
    both = invoke(
        "watchlist", "--period", "2014-06", "--as-of", "2014-06-01", "--store", sqlite_url
    )
    assert both.exit_code == 2
    assert "not both" in both.output
    bad = invoke("self-assessment", "--as-of", "2014-13-01", "--store", sqlite_url)
    assert bad.exit_code == 2
    assert "YYYY-MM-DD" in bad.output
    negative = invoke("watchlist", "--within", "-1", "--store", sqlite_url)
    assert negative.exit_code == 2


def test_the_day_a_report_is_as_of() -> None:
    assert as_of_day(None, date(2014, 3, 5)) == date(2014, 3, 5)
    assert as_of_day("2014-02", None) == date(2014, 2, 28)
    assert as_of_day("2016-02", None) == date(2016, 2, 29)
    assert as_of_day(None, None, today=date(2014, 7, 1)) == date(2014, 7, 1)


# -- end to end on every backend ---------------------------------------------------------


def _lists(report: Report) -> dict[str, list[dict[str, Any]]]:
    return {s.id: rows(report, s.id) for s in report.sections}


def test_both_reports_end_to_end_on_every_backend(service: Safecomm) -> None:
    full_history(service)
    watch = _lists(watchlist_of(service, FULL_AS_OF))
    assert [r["case"] for r in watch["first_mediation_overdue"]] == ["d-2014-0101"]
    assert watch["first_mediation_overdue"][0]["rule_version"] == "C1 from 2014-01-01"
    assert [r["case"] for r in watch["settlement_overdue"]] == ["d-2014-0102"]
    assert [r["days_left"] for r in watch["judicial_window_closing"]] == [4]
    assert [r["units"] for r in watch["alerts_unacknowledged"]] == ["u2, u3"]
    assert [r["status"] for r in watch["permits_to_endorse"]] == ["due"]
    assert [r["overdue_days"] for r in watch["actions_overdue"]] == [10]
    assert [r["eligible_since"] for r in watch["eligible_not_offered"]] == ["2014-01-03"]

    assessment = self_assessment_of(service, FULL_AS_OF)
    gaps = {(g["gap"], g["subject"]) for g in rows(assessment, "gaps")}
    assert ("deliverable_missing", "P1") in gaps
    assert ("action_overdue", "S1") in gaps
    assert ("no_evidence", "M1.2") not in gaps
    measures = {m["measure"]: m for m in rows(assessment, "measures")}
    assert measures["M2.3"]["facts"] > 0
    assert measures["P1"]["deliverables"] == 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_cli_end_to_end_on_the_stores_it_opens_by_url(backend: str, tmp_path: Path) -> None:
    url, name = store_url(backend, tmp_path)
    try:
        with open_store(url) as service:
            full_history(service)
        result = invoke("watchlist", "--as-of", FULL_AS_OF.isoformat(), "--store", url)
        assert result.exit_code == 0, result.output
        lists = {s["id"]: s["rows"] for s in json.loads(result.stdout)["sections"]}
        assert [r[0] for r in lists["settlement_overdue"]] == ["d-2014-0102"]
        result = invoke("self-assessment", "--as-of", FULL_AS_OF.isoformat(), "--store", url)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["kind"] == "self-assessment"
    finally:
        if backend == "postgres":
            drop_pg_tables(name)
