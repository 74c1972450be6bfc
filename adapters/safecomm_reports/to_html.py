"""HTML: one self-contained page to look at, print or mail; no scripts, fonts or links out.

From top to bottom: a header with the title; a summary (period, scope, when generated, how
many indicators, dead letters, notes); the indicators: cards for the report's own scope
(value, a bar for rates, numerator / denominator, basis, definition version; "不适用 / not
applicable" where there is no value), then a table with a column per scope for the
indicators that other scopes have too; monthly trends, a line chart per indicator of
``report.series`` with a line per scope; communities side by side, a bar chart per indicator
for each period that has figures for several scopes; then each section as a table.

Charts are inline SVG from :mod:`safecomm_reports.charts`, their text drawn by the browser in
the page's fonts (``report.css`` beside this module is the page's style sheet). Each card
and each cell of the table by scope carries its figure as ``data-*`` attributes (indicator,
scope, period, numerator, denominator, value; empty when absent), so a script can read the
page back without parsing the text meant for people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from importlib import resources

from safecomm_core.reports.model import Figure, Report, Section, Series, Whole, label
from safecomm_reports.charts import comparison_chart, scope_colours, trend_chart
from safecomm_reports.labels import (
    Lang,
    basis_label,
    format_number,
    format_value,
    is_rate,
    is_signed,
    localized,
    scope_label,
    section_rows,
    text,
    when,
)

__all__ = ["comparisons_html", "render_html", "trends_html"]

_CSS = resources.files("safecomm_reports").joinpath("report.css").read_text(encoding="utf-8")


def render_html(report: Report, lang: Lang = "zh") -> str:
    """The report as one self-contained HTML page (see the module's docstring)."""
    scopes = [f.scope for f in report.figures] + [s.scope for s in report.series]
    colours = scope_colours(scopes)
    parts = [
        _summary(report, lang),
        _indicators(report, lang),
        trends_html(report, colours, lang),
        comparisons_html(report, colours, lang),
        *(_table(section, lang) for section in report.sections),
    ]
    body = "\n".join(part for part in parts if part)
    name = escape(localized(report, lang))
    subtitle = " · ".join(
        escape(s)
        for s in (
            report.period,
            scope_label(report.scope, lang, report.whole),
            when(report.generated_at),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="safecomm">
<title>{name} · {escape(report.period)}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<h1>{name}</h1>
<p class="subtitle">{subtitle}</p>
</div></header>
<main class="wrap">
{body}
</main>
<footer class="wrap">{escape(text("footer", lang))} · {escape(when(report.generated_at))}</footer>
</body>
</html>
"""


def _summary(report: Report, lang: Lang) -> str:
    tiles = [
        (text("period", lang), report.period, ""),
        (text("scope", lang), scope_label(report.scope, lang, report.whole), ""),
        (text("generated_at", lang), when(report.generated_at), ""),
        (text("figure_count", lang), str(len(report.figures)), ""),
        (
            text("dead_letters", lang),
            str(report.dead_letters),
            " warn" if report.dead_letters else "",
        ),
    ]
    html = [f'<section id="summary"><h2>{escape(text("summary", lang))}</h2><div class="tiles">']
    html += [
        f'<div class="tile{extra}"><div class="k">{escape(k)}</div>'
        f'<div class="v">{escape(v)}</div></div>'
        for k, v, extra in tiles
    ]
    html.append("</div>")
    if report.dead_letters:
        warning = text("dead_letters_warn", lang).format(n=report.dead_letters)
        html.append(f'<p class="callout warn">{escape(warning)}</p>')
    else:
        html.append(f'<p class="callout ok">{escape(text("dead_letters_none", lang))}</p>')
    if report.notes:
        html.append(f'<h3>{escape(text("notes", lang))}</h3><ul class="notes">')
        html += [f"<li>{escape(note)}</li>" for note in report.notes]
        html.append("</ul>")
    html.append("</section>")
    return "\n".join(html)


def _indicators(report: Report, lang: Lang) -> str:
    """Cards for the report's own scope, then a table of every scope, period by period."""
    if not report.figures:
        return ""
    html = [f'<section id="indicators"><h2>{escape(text("indicators", lang))}</h2>']
    own: dict[str, list[Figure]] = {}
    everyone: dict[str, list[Figure]] = {}
    for figure in report.figures:
        everyone.setdefault(figure.period, []).append(figure)
        if figure.scope == report.scope:
            own.setdefault(figure.period, []).append(figure)
    for period in _report_period_first(own, report):
        heading = f"{scope_label(report.scope, lang, report.whole)} · {period}"
        html.append(f'<h3>{escape(heading)}</h3><div class="cards">')
        html += [_card(figure, lang) for figure in own[period]]
        html.append("</div>")
    for period in _report_period_first(everyone, report):
        # the indicators of this period that other scopes have: the cards hold the rest
        shared = {f.id for f in everyone[period] if f.scope != report.scope}
        if shared:
            heading = f"{text('by_scope', lang)} · {period}"
            figures = [f for f in everyone[period] if f.id in shared]
            html.append(f"<h3>{escape(heading)}</h3>{_matrix(figures, lang, report.whole)}")
    html.append("</section>")
    return "\n".join(html)


def _report_period_first(periods: Iterable[str], report: Report) -> list[str]:
    return sorted(periods, key=lambda p: (p != report.period, p))


def _subdistrict_last(scope: str) -> tuple[bool, str]:
    return (scope == "*", scope)


def _card(figure: Figure, lang: Lang) -> str:
    shown = escape(format_value(figure.id, figure.value, lang))
    bar = ""
    if figure.value is not None and is_rate(figure.id) and not is_signed(figure.id):
        width = min(max(figure.value, 0.0), 1.0) * 100
        bar = f'<div class="bar"><span style="width:{width:.1f}%"></span></div>'
    na = " na" if figure.value is None else ""
    return (
        f'<article class="card{na}" {_data(figure)}>'
        f'<div class="name">{escape(label(figure.id, lang))}</div>'
        f'<div class="value">{shown}</div>{bar}'
        f'<div class="fraction">{escape(_fraction(figure, lang))}</div>'
        f'<div class="meta">{_provenance(figure, lang)}</div></article>'
    )


def _matrix(figures: Sequence[Figure], lang: Lang, whole: Whole) -> str:
    """Indicators down, scopes across (communities, then the subdistrict; subdistricts,
    then the city)."""
    scopes = sorted({f.scope for f in figures}, key=_subdistrict_last)
    rows: dict[str, dict[str, Figure]] = {}
    for figure in figures:
        rows.setdefault(figure.id, {})[figure.scope] = figure
    head = "".join(f'<th class="num">{escape(scope_label(s, lang, whole))}</th>' for s in scopes)
    body = []
    for indicator, cells in rows.items():
        some = next(iter(cells.values()))
        tds = []
        for scope in scopes:
            cell = cells.get(scope)
            if cell is None:
                tds.append('<td class="num">—</td>')
                continue
            na = " na" if cell.value is None else ""
            tds.append(
                f'<td class="num{na}" {_data(cell)}>'
                f'<div class="v">{escape(format_value(indicator, cell.value, lang))}</div>'
                f'<div class="f">{escape(_fraction(cell, lang))}</div></td>'
            )
        body.append(
            f'<tr><th scope="row">{escape(label(indicator, lang))}'
            f'<div class="f">{_provenance(some, lang)}</div></th>{"".join(tds)}</tr>'
        )
    return (
        f'<div class="scroll"><table class="matrix"><thead><tr>'
        f"<th>{escape(text('indicator', lang))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _data(figure: Figure) -> str:
    """The figure as data-* attributes: what a script reads back; empty when absent."""
    data = {
        "indicator": figure.id,
        "scope": figure.scope,
        "period": figure.period,
        "numerator": _number(figure.numerator),
        "denominator": _number(figure.denominator),
        "value": _number(figure.value),
    }
    return " ".join(f'data-{k}="{escape(v)}"' for k, v in data.items())


def _fraction(figure: Figure, lang: Lang) -> str:
    if figure.denominator is not None:
        return f"{format_number(figure.numerator)} / {format_number(figure.denominator)}"
    if figure.numerator != figure.value:  # a measure: its numerator is often the value itself
        return f"{text('numerator', lang)} {format_number(figure.numerator)}"
    return ""


def _provenance(figure: Figure, lang: Lang) -> str:
    version = f"{text('version', lang)} {figure.definition_version}"
    shown = (
        f"<span>{escape(basis_label(figure.basis, lang))} ·</span> <span>{escape(version)}</span>"
    )
    if figure.reading:
        shown += f" <span>· {escape(text('reading', lang))}: {escape(figure.reading)}</span>"
    return shown


def trends_html(report: Report, colours: dict[str, str], lang: Lang) -> str:
    """The report's trend charts (a line per scope, one chart per indicator) as a section."""
    if not report.series:
        return ""
    by_indicator: dict[str, list[Series]] = {}
    for series in report.series:
        by_indicator.setdefault(series.indicator, []).append(series)
    charts = [
        _figure(
            label(indicator, lang),
            trend_chart(indicator, group, colours, lang, f"t{i}", whole=report.whole),
        )
        for i, (indicator, group) in enumerate(by_indicator.items())
    ]
    return _chart_section("trends", charts, "trends", lang)


def comparisons_html(report: Report, colours: dict[str, str], lang: Lang) -> str:
    """The report's communities side by side (a bar per scope, one chart per indicator)."""
    by_period: dict[str, dict[str, list[Figure]]] = {}
    for figure in report.figures:
        by_period.setdefault(figure.period, {}).setdefault(figure.id, []).append(figure)
    charts: list[str] = []
    for period in _report_period_first(by_period, report):
        for indicator, figures in by_period[period].items():
            if len({f.scope for f in figures}) < 2:
                continue
            ordered = sorted(figures, key=lambda f: _subdistrict_last(f.scope))
            svg = comparison_chart(
                indicator, ordered, colours, lang, f"c{len(charts)}", whole=report.whole
            )
            caption = label(indicator, lang)
            if len(by_period) > 1:
                caption += f" · {period}"
            charts.append(_figure(caption, svg))
    return _chart_section("communities", charts, "compare", lang)


def _chart_section(key: str, charts: Sequence[str], kind: str, lang: Lang) -> str:
    if not charts:
        return ""
    return (
        f'<section id="{key}"><h2>{escape(text(key, lang))}</h2>'
        f'<div class="charts {kind}">' + "\n".join(charts) + "</div></section>"
    )


def _figure(caption: str, svg: str) -> str:
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(caption)}" ', 1)
    return f'<figure class="chart"><figcaption>{escape(caption)}</figcaption>{svg}</figure>'


def _table(section: Section, lang: Lang) -> str:
    shown = section_rows(section, lang)
    numeric = [_all_numbers(row[i] for row in shown) for i in range(len(section.columns))]
    head = "".join(
        f"<th{' class=num' if numeric[i] else ''}>{escape(localized(column, lang))}</th>"
        for i, column in enumerate(section.columns)
    )
    rows = [
        "<tr>"
        + "".join(
            f"<td{' class=num' if numeric[i] else ''}>{escape(_cell(cell))}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in shown
    ]
    if not rows:
        empty = escape(text("no_rows", lang))
        rows = [f'<tr><td class="empty" colspan="{len(section.columns)}">{empty}</td></tr>']
    return (
        f'<section class="table" id="section-{escape(section.id)}">'
        f"<h2>{escape(localized(section, lang))}</h2>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _all_numbers(cells: Iterable[object]) -> bool:
    present = [c for c in cells if c is not None]
    return bool(present) and all(isinstance(c, int | float) for c in present)


def _cell(cell: str | float | None) -> str:
    if cell is None:
        return "—"
    return cell if isinstance(cell, str) else format_number(cell)


def _number(number: float | None) -> str:
    return "" if number is None else repr(number)
