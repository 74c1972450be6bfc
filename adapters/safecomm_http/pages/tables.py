"""Reports' sections as the pages show them: words for codes, links to records.

A page shows a report's rows exactly as the JSON API gives them (tests compare the two);
only codes become words (``agreement_written`` reads "written agreement") and the
references of cases and alerts become links to their pages.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from safecomm_reports.labels import (
    Lang,
    format_value,
    localized,
    rule_label,
    rule_version_label,
    scope_label,
    value_label,
)

from safecomm_core.reports.assessment import GAP_KINDS
from safecomm_core.reports.model import Report, Section, label

__all__ = ["CODED", "LINKS", "figure_rows", "section_table", "segment"]

#: Columns holding a reference, and the page it links to.
LINKS = {"case": "/disputes/{}", "alert": "/alerts/{}"}


def segment(ref: Any) -> str:
    """``ref`` as one segment of a page's address: a ``/``, ``?``, ``#`` or ``..`` in a
    ref (ids may hold them) cannot steer a link or a form to another page."""
    return quote(str(ref), safe="")


#: Columns holding a code, shown in words.
CODED = frozenset({"kind", "agreement", "status", "category", "priority", "outcome", "source"})


#: A code inside a cell (``phase_completed_late×1``, ``no_evidence:P5``).
_CODE = re.compile(r"[a-z]+(?:_[a-z]+)+")


def _code_words(code: str, lang: Lang) -> str:
    gap = GAP_KINDS.get(code)
    return gap[1 if lang == "en" else 0] if gap is not None else value_label(code, lang)


def _cell(key: str, value: Any, lang: Lang) -> dict[str, Any]:
    if key in CODED or key in ("gap", "gaps"):
        text = _CODE.sub(lambda m: _code_words(m[0], lang), value_label(value, lang))
    elif key == "indicator" and isinstance(value, str):
        text = label(value, lang)
    elif key == "rule" and isinstance(value, str):
        text = rule_label(value, lang)
    elif key == "rule_version" and isinstance(value, str):
        text = rule_version_label(value, lang)
    else:
        text = "" if value is None else str(value)
    link = LINKS.get(key)
    return {"text": text, "href": link.format(segment(value)) if link and value else None}


def section_table(section: Section, lang: Lang) -> dict[str, Any]:
    """A section as a table: its title, column names, and rows of cells (text, link)."""
    keys = [c.key for c in section.columns]
    return {
        "id": section.id,
        "title": localized(section, lang),
        "columns": [localized(c, lang) for c in section.columns],
        "rows": [
            [_cell(k, v, lang) for k, v in zip(keys, row, strict=True)] for row in section.rows
        ],
    }


def figure_rows(report: Report, lang: Lang) -> list[dict[str, Any]]:
    """The report's figures as rows: indicator, scope, value as read, numerator, denominator."""
    return [
        {
            "id": f.id,
            "indicator": label(f.id, lang),
            "scope": scope_label(f.scope, lang, report.whole),
            "value": format_value(f.id, f.value, lang),
            "numerator": f.numerator,
            "denominator": f.denominator,
        }
        for f in report.figures
    ]
