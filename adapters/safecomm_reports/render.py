"""Render a report to bytes in any format, or write it to a file named for its format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

from safecomm_core.errors import SafecommError
from safecomm_core.reports.model import Report
from safecomm_reports.labels import LANGS, Lang
from safecomm_reports.to_csv import render_csv
from safecomm_reports.to_html import render_html
from safecomm_reports.to_json import render_json
from safecomm_reports.to_xlsx import render_xlsx

__all__ = ["FORMATS", "Format", "UnsupportedOutput", "render", "write"]

Format = Literal["json", "csv", "xlsx", "html"]
FORMATS: tuple[Format, ...] = get_args(Format)

_RENDERERS: dict[str, Callable[[Report, Lang], bytes]] = {
    "json": lambda report, lang: render_json(report, lang).encode(),
    # a byte-order mark: spreadsheet programs otherwise read UTF-8 CSV as a legacy code page
    "csv": lambda report, lang: render_csv(report, lang).encode("utf-8-sig"),
    "xlsx": render_xlsx,
    "html": lambda report, lang: render_html(report, lang).encode(),
}


class UnsupportedOutput(SafecommError, ValueError):
    """A format or language the renderer does not produce."""


def render(report: Report, fmt: Format, lang: Lang = "zh") -> bytes:
    """The report rendered as ``fmt`` with labels in ``lang`` ("zh" or "en"), as bytes.

    Text formats are UTF-8; CSV begins with a byte-order mark. Raises
    :class:`UnsupportedOutput` for any other format or language.
    """
    if fmt not in _RENDERERS:
        raise UnsupportedOutput(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise UnsupportedOutput(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return _RENDERERS[fmt](report, lang)


def write(report: Report, path: str | Path, fmt: Format | None = None, lang: Lang = "zh") -> Path:
    """Render the report into ``path``; the format is ``fmt`` or else the file's suffix.

    Returns the path written. Raises :class:`UnsupportedOutput` when no format is given
    and the suffix names none (".htm" counts as HTML).
    """
    path = Path(path)
    if fmt is None:
        suffix = path.suffix.lower().lstrip(".")
        suffix = "html" if suffix == "htm" else suffix
        if suffix not in FORMATS:
            raise UnsupportedOutput(
                f"cannot tell the format from {path.name!r}; "
                f"name it .json, .csv, .xlsx or .html, or pass fmt"
            )
        fmt = suffix
    path.write_bytes(render(report, fmt, lang))
    return path
