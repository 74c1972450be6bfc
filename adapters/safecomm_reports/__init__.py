"""Render safecomm reports to JSON, CSV, XLSX and self-contained HTML, in Chinese or English.

Every renderer works only from :class:`safecomm_core.reports.model.Report`::

    from safecomm_reports import render, write

    data = render(report, "html", lang="en")   # bytes
    write(report, "monthly-2014-03.xlsx")      # format from the suffix, Chinese labels

- JSON (:func:`render_json`): the converter's shape of the report, figures exactly as the
  monthly contract, plus ``lang``, ``title`` and indicator ``labels``.
- CSV (:func:`render_csv`): one file of blocks (cover, indicators, each section, trends).
- XLSX (:func:`render_xlsx`): a cover sheet, an indicators sheet, a sheet per section.
- HTML (:func:`render_html`): one page with cards, SVG charts and tables; no links out.

openpyxl and matplotlib are imported here, never by :mod:`safecomm_core`.
"""

from safecomm_reports.render import FORMATS, Format, UnsupportedOutput, render, write
from safecomm_reports.to_csv import render_csv
from safecomm_reports.to_html import render_html
from safecomm_reports.to_json import render_json
from safecomm_reports.to_xlsx import render_xlsx

__all__ = [
    "FORMATS",
    "Format",
    "UnsupportedOutput",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_xlsx",
    "write",
]
