"""XLSX (openpyxl): a cover sheet, an indicators sheet, one sheet per section, the trends.

- Cover (封面 / Cover): the title, then period, scope, generated at, dead letters and notes.
- Indicators (指标 / Indicators): one row per figure in the columns of the CSV; values are
  numbers, a rate formatted as a percentage (the cell holds 0.8 and shows 80.0%), durations
  and incidences as plain numbers; a value that is not applicable is the text 不适用 /
  "not applicable", never 0; an absent denominator is an empty cell.
- One sheet per section, named by its title, with its columns and rows as they are.
- Trends (月度趋势 / Monthly trends): every chart point, when the report has series.

Sheet names are cut to Excel's 31 characters, without the characters Excel forbids, and
made unique. Header rows are frozen and filterable; column widths follow their contents
(a Chinese character counts twice).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from safecomm_core.reports.model import Report
from safecomm_reports.labels import (
    FIGURE_COLUMNS,
    SERIES_COLUMNS,
    Lang,
    cover_rows,
    figure_row,
    is_rate,
    is_signed,
    localized,
    section_rows,
    series_rows,
    text,
)

__all__ = ["render_xlsx"]

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_MUTED = Font(italic=True, color="7F7F7F")
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


def render_xlsx(report: Report, lang: Lang = "zh") -> bytes:
    """The report as an XLSX workbook (see the module's docstring for its sheets)."""
    book = Workbook()
    book.properties.title = localized(report, lang)
    book.properties.creator = "safecomm"
    taken: set[str] = set()

    def sheet(name: str) -> Worksheet:
        ws: Worksheet = book.create_sheet(_sheet_name(name, taken))
        taken.add(ws.title.casefold())
        return ws

    book.remove(book.worksheets[0])  # the default empty sheet
    _cover(sheet(text("cover", lang)), report, lang)

    figures = sheet(text("indicators", lang))
    _table(
        figures,
        [text(key, lang) for key in FIGURE_COLUMNS],
        (figure_row(figure, lang, report.whole) for figure in report.figures),
    )
    value_column = FIGURE_COLUMNS.index("value") + 1
    for row, figure in enumerate(report.figures, start=2):
        _value_cell(figures.cell(row, value_column), figure.id, figure.value, lang)

    for section in report.sections:
        _table(
            sheet(localized(section, lang)),
            [localized(column, lang) for column in section.columns],
            section_rows(section, lang),
        )

    if report.series:
        trends = sheet(text("trends", lang))
        rows = series_rows(report, lang)
        _table(trends, [text(key, lang) for key in SERIES_COLUMNS], rows)
        value_column = SERIES_COLUMNS.index("value") + 1
        for row, point in enumerate(rows, start=2):
            _value_cell(trends.cell(row, value_column), point[-1], point[3], lang)

    for ws in book.worksheets[1:]:
        _fit_columns(ws, first_row=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cover(ws: Worksheet, report: Report, lang: Lang) -> None:
    ws["A1"] = localized(report, lang)
    ws["A1"].font = Font(bold=True, size=16)
    for row, (name, value) in enumerate(cover_rows(report, lang), start=3):
        ws.cell(row, 1, name).font = Font(bold=True)
        ws.cell(row, 2, value).alignment = Alignment(horizontal="left", wrap_text=True)
    _fit_columns(ws, first_row=3)  # the title stands alone: it may overflow its column


def _table(ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _value_cell(
    cell: Cell | MergedCell, indicator_id: str, value: float | None, lang: Lang
) -> None:
    if value is None:
        cell.value = text("not_applicable", lang)
        cell.font = _MUTED
        cell.alignment = Alignment(horizontal="right")
    elif is_signed(indicator_id):
        cell.number_format = "+0.0%;-0.0%;0.0%"
    elif is_rate(indicator_id):
        cell.number_format = "0.0%"
    else:
        cell.number_format = "#,##0.0"


def _sheet_name(name: str, taken: set[str]) -> str:
    """A legal, unused sheet name: no []:*?/\\, not quoted, at most 31 characters."""
    base = _FORBIDDEN.sub("_", name).strip("'").strip() or "Sheet"
    candidate, n = base[:31], 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    return candidate


def _width(value: object) -> int:
    if isinstance(value, float):
        return 10
    shown = str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)


def _fit_columns(ws: Worksheet, first_row: int) -> None:
    widths: dict[str, int] = {}
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            if cell.value is not None:
                letter = cell.column_letter
                widths[letter] = max(widths.get(letter, 0), _width(cell.value))
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = min(max(width + 2, 8), _MAX_WIDTH)
