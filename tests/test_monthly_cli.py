"""``safecomm report monthly`` and ``safecomm report explain`` as a user meets them, and the
rendered outputs read back: the XLSX and the HTML hold the same figures as the JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from safecomm_cli.main import main
from safecomm_reports.labels import scope_label, text

from safecomm_core import open_store
from safecomm_core.reports.model import label
from tests.commanding import SAMPLE
from tests.test_monthly import Desk, alert_history, disputes, migrants
from tests.test_render import CONTRACT_KEYS, number, read_page


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite store with the March 2014 histories of test_monthly."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with open_store(url) as service:
        desk = Desk(service)
        disputes(desk)
        alert_history(desk)
        migrants(desk)
    return url


def invoke(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def contract(data: dict[str, Any]) -> dict[tuple[str, str, str], tuple[Any, Any, Any]]:
    return {
        (f["id"], f["period"], f["scope"]): (f["numerator"], f["denominator"], f["value"])
        for f in data["figures"]
    }


def test_sample_contract_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    service = f"sqlite:///{tmp_path / 'sample.db'}"
    invoke(runner, "import", str(SAMPLE), "--store", service)
    data = json.loads(invoke(runner, "report", "monthly", "--store", service).stdout)
    assert data["period"] == "2014-03"  # the latest month with events
    assert contract(data)["mediation_success_rate", "2014-03", "C1"] == (1, 1, 1.0)
    figure = next(f for f in data["figures"] if f["scope"] == "C1")
    assert set(figure) == CONTRACT_KEYS


def test_monthly_defaults_to_json_on_stdout_for_the_latest_month(
    runner: CliRunner, url: str
) -> None:
    data = json.loads(invoke(runner, "report", "monthly", "--store", url).stdout)
    assert data["period"] == "2014-04"  # w-2's registration is the latest fact
    assert data["lang"] == "zh"
    march = json.loads(
        invoke(runner, "report", "monthly", "--period", "2014-03", "--store", url).stdout
    )
    assert contract(march)["mediation_success_rate", "2014-03", "*"] == (3, 4, 0.75)
    one = json.loads(
        invoke(
            runner, "report", "monthly", "--period", "2014-03", "--community", "C2", "--store", url
        ).stdout
    )
    assert {f["scope"] for f in one["figures"]} == {"C2"}
    assert one["scope"] == "C2"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_and_html_hold_the_same_figures_as_the_json(
    runner: CliRunner, url: str, tmp_path: Path, lang: str
) -> None:
    base = ["report", "monthly", "--period", "2014-03", "--lang", lang, "--store", url]
    data = json.loads(invoke(runner, *base).stdout)
    expected = contract(data)
    scopes = {scope_label(s, lang): s for s in {f["scope"] for f in data["figures"]}}

    xlsx = tmp_path / "m.xlsx"
    invoke(runner, *base, "--out", str(xlsx))
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    sheet = book[text("indicators", lang)]
    header = [c.value for c in sheet[1]]
    col = {
        k: header.index(text(k, lang))
        for k in ("id", "period", "scope", "numerator", "denominator", "value")
    }
    read = {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        value = row[col["value"]]
        shown = None if value == text("not_applicable", lang) else value
        key = (row[col["id"]], row[col["period"]], scopes[row[col["scope"]]])
        read[key] = (row[col["numerator"]], row[col["denominator"]], shown)
    assert read == expected
    sheets = set(book.sheetnames)
    assert {s["zh" if lang == "zh" else "en"][:31] for s in data["sections"]} <= sheets

    html = tmp_path / "m.html"
    invoke(runner, *base, "--format", "html", "--out", str(html))
    page = read_page(html.read_text(encoding="utf-8"))
    shown_html = {
        (f["indicator"], f["period"], f["scope"]): tuple(
            number(f[k]) for k in ("numerator", "denominator", "value")
        )
        for f in page.figures
    }
    assert shown_html == expected
    assert label("mediation_success_rate", lang) in html.read_text(encoding="utf-8")
    assert page.svgs > 0  # trend and comparison charts
    assert "王某" not in html.read_text(encoding="utf-8")


def test_csv_and_suffixes(runner: CliRunner, url: str, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    result = invoke(
        runner, "report", "monthly", "--period", "2014-03", "--store", url, "--out", str(out)
    )
    assert "wrote" in result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    bad = runner.invoke(
        main, ["report", "monthly", "--store", url, "--out", str(tmp_path / "m.pdf")]
    )
    assert bad.exit_code == 2
    assert ".json, .csv" in bad.stderr


def test_bad_input_exits_2_with_one_line(runner: CliRunner, url: str) -> None:
    bad = runner.invoke(main, ["report", "monthly", "--period", "2014-3", "--store", url])
    assert bad.exit_code == 2
    assert "YYYY-MM" in bad.stderr
    unknown = runner.invoke(
        main, ["report", "explain", "happiness_rate", "--period", "2014-03", "--store", url]
    )
    assert unknown.exit_code == 2
    # populations are recorded (population.record), never typed in as an option
    population = runner.invoke(main, ["report", "monthly", "--population", "C1=1", "--store", url])
    assert population.exit_code == 2
    assert "No such option" in population.stderr


def test_explain_lists_events_as_text_and_json(runner: CliRunner, url: str) -> None:
    shown = invoke(
        runner,
        "report",
        "explain",
        "alert_ack_rate",
        "--period",
        "2014-03",
        "--scope",
        "C1",
        "--store",
        url,
    ).stdout
    lines = shown.splitlines()
    assert lines[0] == "alert_ack_rate 2014-03 scope C1: 1 / 2 = 0.5 rate (definition 1, register)"
    assert lines[1] == "警情按时确认率 / Alert acknowledged in time"
    assert lines[2] == "numerator: 3 event(s)"  # the raise, the send to u2, u2's reply
    assert "alert a-1 v2 Sent" in shown
    assert "Acknowledged  occurred 2014-03-12T10:20:00+08:00" in shown
    assert "denominator: 3 event(s)" in shown  # the raise, and a send to each unit
    data = json.loads(
        invoke(
            runner,
            "report",
            "explain",
            "mediation_success_rate",
            "--period",
            "2014-03",
            "--scope",
            "C1",
            "--json",
            "--store",
            url,
        ).stdout
    )
    assert (data["figure"]["numerator"], data["figure"]["denominator"]) == (2, 3)
    assert data["indicator"]["en"] == "Mediation success rate"
    assert (data["indicator"]["unit"], data["indicator"]["basis"]) == ("rate", "register")
    assert [e["ref"] for e in data["numerator"]] == ["d-1", "d-5"]
    assert {e["event"] for e in data["denominator"]} == {"AgreementReached", "MediationTerminated"}
    assert "Denominator" in data["definition"]
