"""JSON: the report as the converter of record writes it, plus labels for readers.

The shape is ``converter.unstructure(report)`` (every field of :class:`Report`, figures as
objects with exactly the keys of the monthly contract: id, numerator, denominator, value,
period, scope, definition_version, basis, reading; ``dead_letters`` at the top level;
``whole``, what scope ``*`` stands for), to which four top-level keys are added, so the
figure objects stay the contract:

- ``"lang"``: the language of the labels;
- ``"title"``: the report's title in that language;
- ``"labels"``: indicator id → name in that language, for every indicator in figures or series;
- ``"scopes"``: scope → how it reads in that language (``*``: "全街道" / "Subdistrict", or
  "全市" / "City" in a city's roll-up), for the report's scope and every scope in figures or
  series.
"""

from __future__ import annotations

import json
from typing import Any

from safecomm_core.converter import converter
from safecomm_core.reports.model import Report, label
from safecomm_reports.labels import Lang, localized, scope_label

__all__ = ["render_json", "report_data"]


def report_data(report: Report, lang: Lang = "zh") -> dict[str, Any]:
    """The report as JSON-ready data: the converter's shape plus ``lang``, ``title``,
    ``labels`` and ``scopes``."""
    data: dict[str, Any] = converter.unstructure(report)
    ids = [f.id for f in report.figures] + [s.indicator for s in report.series]
    scopes = [report.scope, *(f.scope for f in report.figures), *(s.scope for s in report.series)]
    data["lang"] = lang
    data["title"] = localized(report, lang)
    data["labels"] = {indicator: label(indicator, lang) for indicator in dict.fromkeys(ids)}
    data["scopes"] = {s: scope_label(s, lang, report.whole) for s in dict.fromkeys(scopes)}
    return data


def render_json(report: Report, lang: Lang = "zh") -> str:
    """The report as JSON text (UTF-8 characters kept as they are, two-space indent).

    NaN or infinite values are refused with ``ValueError``: they are not JSON, and a
    rate that cannot be computed is ``None`` in the model.
    """
    return json.dumps(report_data(report, lang), ensure_ascii=False, indent=2, allow_nan=False)
