"""CSV: one file of blocks, each a one-cell heading line, its rows, then an empty line.

Layout (labels in the chosen language)::

    月度治安报告                       ← the report's title
    期间,2014-03                      ← cover: label,value (period, scope, generated at,
    ...                                  dead letters, one line per note)

    指标                              ← the indicators block
    指标,值,分子,分母,期间,范围,依据,口径版本,编号
    调解成功率,0.8,4,5,2014-03,C1,台账,v1,mediation_success_rate

    <section title>                   ← one block per section: its column names, its rows
    ...

    月度趋势                          ← the chart series, when the report has any
    指标,范围,期间,值,编号

Values are plain numbers (a rate is a fraction, 0.8, not "80%"); a value that is not
applicable, and an absent denominator or cell, is an empty field, never 0. Scopes and bases
are shown as people read them ("*" is the whole subdistrict, or the city of a city's
roll-up); the ``编号``/``ID`` column keeps
each indicator's id. :func:`safecomm_reports.render` encodes it as UTF-8 with a byte-order
mark, which spreadsheet programs need to read Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from safecomm_core.reports.model import Report
from safecomm_reports.labels import (
    FIGURE_COLUMNS,
    SERIES_COLUMNS,
    Lang,
    cover_rows,
    figure_row,
    localized,
    section_rows,
    series_rows,
    text,
)

__all__ = ["render_csv"]

Row = Sequence[object]


def render_csv(report: Report, lang: Lang = "zh") -> str:
    """The report as CSV text (see the module's docstring for the layout)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def block(heading: str, header: Row, rows: Iterable[Row]) -> None:
        writer.writerow([])
        writer.writerow([heading])
        writer.writerow(header)
        writer.writerows(rows)

    writer.writerow([localized(report, lang)])
    writer.writerows(cover_rows(report, lang))
    block(
        text("indicators", lang),
        [text(key, lang) for key in FIGURE_COLUMNS],
        (figure_row(figure, lang, report.whole) for figure in report.figures),
    )
    for section in report.sections:
        block(
            localized(section, lang),
            [localized(column, lang) for column in section.columns],
            section_rows(section, lang),
        )
    if report.series:
        block(
            text("trends", lang),
            [text(key, lang) for key in SERIES_COLUMNS],
            series_rows(report, lang),
        )
    return out.getvalue()
