"""safecomm_reports: every format renders a report, and each holds the same figures as the JSON."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from openpyxl import load_workbook
from safecomm_reports import (
    FORMATS,
    Format,
    UnsupportedOutput,
    render,
    render_html,
    render_json,
    render_xlsx,
    write,
)
from safecomm_reports.labels import LANGS, Lang, format_value, localized, scope_label, text

from safecomm_core.converter import converter
from safecomm_core.indicators import indicator
from safecomm_core.reports.model import Column, Figure, Report, Section, Series, label
from tests.test_assessment_outputs import readable_text

CST = timezone(timedelta(hours=8))
CONTRACT_KEYS = {
    "id",
    "numerator",
    "denominator",
    "value",
    "period",
    "scope",
    "definition_version",
    "basis",
    "reading",
}
MONTHS = ("2013-10", "2013-11", "2013-12", "2014-01", "2014-02", "2014-03")


def fig(
    id: str, scope: str, numerator: float, denominator: float | None, *, basis: str = "register"
) -> Figure:
    if denominator is None:  # a measure, not a rate: the numerator is the value
        value: float | None = numerator
    else:
        value = numerator / denominator if denominator else None
    return Figure(
        id=id,
        numerator=numerator,
        denominator=denominator,
        value=value,
        period="2014-03",
        scope=scope,
        definition_version="v1",
        basis=basis,
    )


def monthly_report() -> Report:
    """A month of a subdistrict with three communities, as the report builders would give it."""
    figures = (
        fig("mediation_success_rate", "*", 17, 20),
        fig("mediation_success_rate", "C1", 6, 6),
        fig("mediation_success_rate", "C2", 4, 7),
        fig("mediation_success_rate", "C3", 7, 7),
        fig("agreement_performance_rate", "*", 9, 10),
        fig("agreement_performance_rate", "C1", 5, 5),
        fig("agreement_performance_rate", "C2", 0, 0),  # nothing to perform: not applicable
        fig("agreement_performance_rate", "C3", 4, 5),
        fig("settled_on_time_rate", "*", 15, 17),
        fig("first_mediation_median_hours", "*", 26.5, None),
        fig("alert_ack_rate", "*", 38, 40),
        fig("registration_coverage", "*", 1820, 2011),
        fig("satisfaction_rate", "*", 412, 450, basis="survey"),
        fig("incidence_change", "*", -0.125, None, basis="police"),
    )
    trend = {
        "*": (0.7, 0.75, 0.78, None, 0.8, 0.85),
        "C1": (0.6, 0.8, 0.9, None, 1.0, 1.0),
        "C2": (0.5, 0.5, 0.6, 0.55, 0.5, 4 / 7),
    }
    series = (
        *tuple(
            Series(
                indicator="mediation_success_rate",
                scope=s,
                points=tuple(zip(MONTHS, v, strict=True)),
            )
            for s, v in trend.items()
        ),
        Series(
            indicator="first_mediation_median_hours",
            scope="*",
            points=tuple(zip(MONTHS, (40.0, 36.0, 31.5, 30.0, 28.0, 26.5), strict=True)),
        ),
    )
    disputes = Section(
        id="disputes_by_kind",
        zh="矛盾纠纷(按类型和结果)",
        en="Disputes by kind and outcome",
        columns=(
            Column("kind", "类型", "Kind"),
            Column("agreement", "达成协议", "Agreement"),
            Column("terminated", "终止调解", "Terminated"),
            Column("open", "在办", "Open"),
        ),
        rows=(
            ("邻里纠纷", 8, 1, 2),
            ("婚姻家庭", 5, 2, 0),
            ("劳动争议/欠薪", 4, 0, 3),
        ),
    )
    patrols = Section(
        id="patrols",
        zh="巡逻",
        en="Patrols",
        columns=(
            Column("community", "社区", "Community"),
            Column("patrols", "巡逻次数", "Patrols"),
            Column("hours", "巡逻时长(小时)", "Hours"),
            Column("note", "备注", "Note"),
        ),
        rows=(("C1", 31, 62.5, None), ("C2", 28, 49.0, "夜巡加强"), ("C3", 30, 60.0, None)),
    )
    empty = Section(
        id="campaigns",
        zh="宣传活动",
        en="Campaigns",
        columns=(Column("n", "名称", "Name"),),
        rows=(),
    )
    return Report(
        kind="monthly",
        zh="月度社会治安报告",
        en="Monthly public-order report",
        period="2014-03",
        scope="*",
        generated_at=datetime(2014, 4, 1, 8, 30, tzinfo=CST),
        figures=figures,
        sections=(disputes, patrols, empty),
        series=series,
        dead_letters=2,
        notes=("调查数据为2014年3月入户调查。", "C2 本月无协议到期，协议履行率不适用。"),
    )


REPORT = monthly_report()


@functools.cache
def rendered(fmt: Format, lang: Lang) -> bytes:
    """REPORT in one format and language, rendered once for the whole module."""
    return render(REPORT, fmt, lang)


def html_of(lang: Lang) -> str:
    return rendered("html", lang).decode()


def contract(report: Report) -> dict[tuple[str, str, str], tuple[Any, Any, Any]]:
    """(id, period, scope) → (numerator, denominator, value), from the JSON."""
    data = json.loads(render_json(report))
    return {
        (f["id"], f["period"], f["scope"]): (f["numerator"], f["denominator"], f["value"])
        for f in data["figures"]
    }


# JSON


@pytest.mark.parametrize("lang", LANGS)
def test_json_is_the_converters_shape_plus_labels(lang: Lang) -> None:
    data = json.loads(render_json(REPORT, lang))
    extra = {"lang", "title", "labels", "scopes"}
    shape = json.loads(json.dumps(converter.unstructure(REPORT)))  # tuples are JSON arrays
    assert {k: v for k, v in data.items() if k not in extra} == shape
    assert data["dead_letters"] == 2
    assert data["lang"] == lang
    assert data["title"] == (localized(REPORT, lang))
    assert data["labels"]["mediation_success_rate"] == label("mediation_success_rate", lang)
    assert data["scopes"] == {s: scope_label(s, lang) for s in ("*", "C1", "C2", "C3")}
    assert data["whole"] == "subdistrict"
    for figure, original in zip(data["figures"], REPORT.figures, strict=True):
        assert set(figure) == CONTRACT_KEYS
        assert converter.structure(figure, Figure) == original


def test_json_not_applicable_is_null_and_chinese_is_kept() -> None:
    out = render_json(REPORT)
    assert contract(REPORT)["agreement_performance_rate", "2014-03", "C2"] == (0, 0, None)
    assert "月度社会治安报告" in out  # not \u escapes


def test_json_refuses_nan() -> None:
    broken = Report(
        kind="monthly",
        zh="x",
        en="x",
        period="2014-03",
        scope="*",
        generated_at=REPORT.generated_at,
        figures=(Figure(**{**converter.unstructure(REPORT.figures[0]), "value": float("nan")}),),
    )
    with pytest.raises(ValueError, match="JSON"):
        render_json(broken)


# every format, both languages


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_in_both_languages(fmt: Format, lang: Lang) -> None:
    data = rendered(fmt, lang)
    assert data
    if fmt != "xlsx":
        shown = data.decode("utf-8-sig")
        assert (localized(REPORT, lang)) in shown
        assert label("mediation_success_rate", lang) in shown


#: REPORT as a city's roll-up would give it: its scope "*" is the city.
CITY_REPORT = attrs.evolve(REPORT, whole="city")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_city_s_whole_reads_city_wherever_a_subdistrict_s_reads_subdistrict(
    fmt: Format, lang: Lang
) -> None:
    city, subdistrict = text("city", lang), text("subdistrict", lang)
    alone = readable_text(rendered(fmt, lang), fmt)
    shown = readable_text(render(CITY_REPORT, fmt, lang), fmt)
    assert city not in alone
    assert subdistrict not in shown
    # The cover, the figures, the series, the charts' legends and axes: every place.
    assert shown.count(city) == alone.count(subdistrict) > 0
    if fmt == "json":
        data = json.loads(shown)
        assert (data["whole"], data["scopes"]["*"]) == ("city", city)
        assert data["scopes"]["C1"] == "C1"


def test_render_refuses_unknown_format_and_language() -> None:
    with pytest.raises(UnsupportedOutput, match="format"):
        render(REPORT, "pdf")
    with pytest.raises(ValueError, match="language"):
        render(REPORT, "json", "fr")


def test_write_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    named = {"r.json": "json", "r.csv": "csv", "r.xlsx": "xlsx", "r.html": "html", "R.HTM": "html"}
    for name, fmt in named.items():
        path = write(REPORT, tmp_path / name, lang="en")
        if fmt == "xlsx":  # a zip stamps the time it was written
            assert (
                load_workbook(path).sheetnames
                == load_workbook(io.BytesIO(rendered("xlsx", "en"))).sheetnames
            )
        else:
            assert path.read_bytes() == rendered(fmt, "en")
    assert write(REPORT, tmp_path / "data.txt", fmt="csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnsupportedOutput, match=r"\.json, \.csv"):
        write(REPORT, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


# CSV


def csv_blocks(report: Report, lang: Lang) -> dict[str, list[list[str]]]:
    """The CSV's blocks by their heading line; the first block is keyed by the title."""
    rows = list(csv.reader(io.StringIO(render(report, "csv", lang).decode("utf-8-sig"))))
    blocks: dict[str, list[list[str]]] = {}
    heading = None
    for row in rows:
        if not row:
            heading = None
        elif heading is None:
            heading = row[0]
            blocks[heading] = []
        else:
            blocks[heading].append(row)
    return blocks


@pytest.mark.parametrize("lang", LANGS)
def test_csv_holds_the_cover_the_figures_and_every_section(lang: Lang) -> None:
    blocks = csv_blocks(REPORT, lang)
    cover = dict(blocks[localized(REPORT, lang)])
    assert cover[text("dead_letters", lang)] == "2"
    assert cover[text("scope", lang)] == scope_label("*", lang)
    header, *rows = blocks[text("indicators", lang)]
    assert header[0] == text("indicator", lang)
    at = {
        key: header.index(text(key, lang))
        for key in ("id", "period", "scope", "numerator", "denominator", "value")
    }
    scopes = {scope_label(s, lang): s for s in ("*", "C1", "C2", "C3")}
    read = {
        (r[at["id"]], r[at["period"]], scopes[r[at["scope"]]]): tuple(
            float(r[at[k]]) if r[at[k]] else None for k in ("numerator", "denominator", "value")
        )
        for r in rows
    }
    assert read == contract(REPORT)
    assert rows[0][0] == label(REPORT.figures[0].id, lang)
    for section in REPORT.sections:
        columns, *cells = blocks[localized(section, lang)]
        assert columns == [localized(c, lang) for c in section.columns]
        assert len(cells) == len(section.rows)
    assert ["邻里纠纷", "8", "1", "2"] in blocks[localized(REPORT.sections[0], lang)]
    assert len(blocks[text("trends", lang)]) == 1 + sum(len(s.points) for s in REPORT.series)


# XLSX


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_holds_the_same_figures_as_the_json(lang: Lang) -> None:
    book = load_workbook(io.BytesIO(rendered("xlsx", lang)))
    t = functools.partial(text, lang=lang)
    sections = [localized(s, lang) for s in REPORT.sections]
    assert book.sheetnames == [t("cover"), t("indicators"), *sections, t("trends")]

    cover = {row[0]: row[1] for row in book[t("cover")].iter_rows(min_row=3, values_only=True)}
    assert cover[t("dead_letters")] == 2
    assert cover[t("period")] == "2014-03"
    assert book[t("cover")]["A1"].value == (localized(REPORT, lang))

    sheet = book[t("indicators")]
    header = [c.value for c in sheet[1]]
    at = {
        key: header.index(t(key))
        for key in ("id", "period", "scope", "numerator", "denominator", "value")
    }
    scopes = {scope_label(s, lang): s for s in ("*", "C1", "C2", "C3")}
    read = {}
    for row in sheet.iter_rows(min_row=2):
        value = row[at["value"]]
        key = (row[at["id"]].value, row[at["period"]].value, scopes[row[at["scope"]].value])
        if value.value == t("not_applicable"):
            shown = None  # never 0
        else:
            assert isinstance(value.value, int | float)  # a number, not text
            shown = value.value
            assert ("%" in value.number_format) == indicator(key[0]).unit.is_fraction, key
        read[key] = (row[at["numerator"]].value, row[at["denominator"]].value, shown)
    assert read == contract(REPORT)


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_sections_keep_numbers_as_numbers_and_columns_are_sized(lang: Lang) -> None:
    book = load_workbook(io.BytesIO(rendered("xlsx", lang)))
    patrols = book[localized(REPORT.sections[1], lang)]
    assert [c.value for c in patrols[3]] == ["C2", 28, 49, "夜巡加强"]
    assert patrols.freeze_panes == "A2"
    for sheet in book.worksheets:
        assert len(sheet.title) <= 31
        widths = [d.width for d in sheet.column_dimensions.values()]
        assert widths, sheet.title
        assert all(8 <= w <= 60 for w in widths), sheet.title
    # a Chinese label counts twice: the label column is wider than its character count
    figures = book[text("indicators", lang)]
    longest = max(len(str(c.value)) for c in figures["A"])
    assert figures.column_dimensions["A"].width >= longest


def test_xlsx_sheet_names_are_legal_and_unique() -> None:
    long = "各社区矛盾纠纷排查调处情况统计表（按类型、结果、来源和办理期限）"
    twins = tuple(
        Section(id=f"s{i}", zh=name, en=name, columns=(Column("a", "甲", "A"),), rows=(("x",),))
        for i, name in enumerate((long, long, "a/b: [c]?", "指标"))
    )
    report = Report(
        kind="watchlist",
        zh="工作清单",
        en="Watchlist",
        period="2014-03",
        scope="C1",
        generated_at=REPORT.generated_at,
        sections=twins,
    )
    names = load_workbook(io.BytesIO(render_xlsx(report))).sheetnames
    assert len(names) == len({n.casefold() for n in names}) == 6
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert names[2] == long[:31]
    assert names[3].endswith(" (2)")
    assert names[5] == "指标 (2)"  # the indicators sheet was there first


# HTML


class Page(HTMLParser):
    """What a reader of the HTML gets: the figures (cards and table cells with data-*) and
    their text, resource links, charts, and the sections' tables."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, str]] = []  # data-* of each, and "tag" and "text"
        self.links: list[str] = []
        self.svgs = 0
        self.tables: list[list[list[str]]] = []
        self._in_figure = ""  # the tag that holds the figure being read
        self._in_matrix = False  # the table of figures by scope: read as figures only
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        self.links += [v for k, v in named.items() if k in {"src", "href", "xlink:href", "srcset"}]
        self.svgs += tag == "svg"
        if "data-indicator" in named:
            data = {k[5:]: v for k, v in named.items() if k.startswith("data-")}
            self.figures.append({**data, "tag": tag, "text": ""})
            self._in_figure = tag
        if tag == "table":
            self._in_matrix = named.get("class") == "matrix"
            if not self._in_matrix:
                self.tables.append([])
        elif self._in_matrix:
            return
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in_figure:
            self._in_figure = ""
        if tag == "table":
            self._in_matrix = False
        if tag in {"td", "th"} and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_figure:
            self.figures[-1]["text"] += data + " "
        if self._cell is not None:
            self._cell.append(data)

    @property
    def cards(self) -> list[dict[str, str]]:
        return [f for f in self.figures if f["tag"] == "article"]


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def number(shown: str) -> float | None:
    return float(shown) if shown else None


@pytest.mark.parametrize("lang", LANGS)
def test_html_holds_the_same_figures_as_the_json(lang: Lang) -> None:
    page = read_page(html_of(lang))
    read: dict[tuple[str, str, str], tuple[float | None, ...]] = {}
    figures = {(f.id, f.period, f.scope): f for f in REPORT.figures}
    for shown in page.figures:
        key = (shown["indicator"], shown["period"], shown["scope"])
        got = tuple(number(shown[k]) for k in ("numerator", "denominator", "value"))
        assert read.setdefault(key, got) == got, key  # shown twice, the same both times
        figure = figures[key]
        assert format_value(figure.id, figure.value, lang) in shown["text"]
        if figure.denominator:
            assert f"{figure.numerator:,.0f} / {figure.denominator:,.0f}" in shown["text"]
    assert read == contract(REPORT)
    # cards for the report's own scope, with their names; a table of every scope beside
    assert {(c["indicator"], c["scope"]) for c in page.cards} == {
        (f.id, f.scope) for f in REPORT.figures if f.scope == "*"
    }
    for card in page.cards:
        assert label(card["indicator"], lang) in card["text"]
        assert f"{text('version', lang)} v1" in card["text"]


@pytest.mark.parametrize("lang", LANGS)
def test_html_says_not_applicable_never_zero_percent(lang: Lang) -> None:
    page = read_page(html_of(lang))
    (shown,) = [f for f in page.figures if f["value"] == ""]
    assert (shown["indicator"], shown["scope"]) == ("agreement_performance_rate", "C2")
    assert text("not_applicable", lang) in shown["text"]
    assert "%" not in shown["text"]
    assert "0 / 0" in shown["text"]
    hours = next(c for c in page.cards if c["indicator"] == "first_mediation_median_hours")
    assert "26.5" in hours["text"]
    assert "%" not in hours["text"]
    change = next(c for c in page.cards if c["indicator"] == "incidence_change")
    assert "-12.5%" in change["text"]


@pytest.mark.parametrize("lang", LANGS)
def test_html_is_self_contained_with_charts_and_tables(lang: Lang) -> None:
    html = html_of(lang)
    page = read_page(html_of(lang))
    assert "<svg" in html
    assert not [link for link in page.links if not link.startswith("#")]
    assert "<script" not in html
    assert "@import" not in html
    assert html.count("url(") == html.count("url(#")  # only the charts' own clip paths
    # two trend charts (two indicators in series) and two comparisons (two indicators
    # with figures for several scopes)
    assert page.svgs == 4
    assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in html
    assert "全街道" in html if lang == "zh" else "Subdistrict" in html
    assert "font-family" in html
    assert "svg text { font-family: inherit !important; }" in html
    disputes, patrols, campaigns = page.tables
    assert disputes[0] == [localized(c, lang) for c in REPORT.sections[0].columns]
    assert disputes[3] == ["劳动争议/欠薪", "4", "0", "3"]
    assert patrols[1] == ["C1", "31", "62.5", "—"]
    assert campaigns[1] == [text("no_rows", lang)]
    assert text("dead_letters_warn", lang).format(n=2) in html


def test_html_charts_keep_chinese_as_text_and_ids_unique() -> None:
    html = html_of("zh")
    assert ">全街道</text>" in html  # the legend: text the browser draws, not glyph outlines
    assert "<image" not in html
    ids = [part.split('"', 1)[0] for part in html.split(' id="')[1:]]
    assert len(ids) == len(set(ids))


def test_html_of_a_report_without_figures_or_series() -> None:
    bare = Report(
        kind="watchlist",
        zh="工作清单",
        en="Watchlist",
        period="2014-03",
        scope="C1",
        generated_at=REPORT.generated_at,
        sections=REPORT.sections[:1],
    )
    page = read_page(render_html(bare))
    assert page.cards == []
    assert page.svgs == 0
    assert len(page.tables) == 1
    assert text("dead_letters_none", "zh") in render_html(bare)
