"""The shape of every report, whatever it is rendered to (JSON, CSV, XLSX, HTML).

A :class:`Report` holds indicator :class:`Figure` s (the JSON contract of the monthly report),
titled tables (:class:`Section`) and time series for charts (:class:`Series`). Every title
and column carries its Chinese and English label, so renderers need no catalogue of their
own; :func:`label` names indicator ids from the indicator registry
(:data:`~safecomm_core.indicators.INDICATORS`).

A rate with a zero denominator has ``value=None``: "not applicable", never 0 or 100 %.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from safecomm_core.errors import SafecommError
from safecomm_core.indicators import INDICATORS

__all__ = [
    "Column",
    "ColumnSpec",
    "Figure",
    "Report",
    "Section",
    "Series",
    "UnknownFigure",
    "Whole",
    "columns",
    "label",
]

Cell = str | int | float | None

#: What a report's scope ``*`` stands for (:attr:`Report.whole`): the subdistrict of one
#: store, or the city of a city's roll-up.
Whole = Literal["subdistrict", "city"]


def label(indicator_id: str, lang: str = "zh") -> str:
    """The name of an indicator in ``lang`` ("zh" or "en"); the id itself if unknown.

    >>> label("sense_of_security_rate"), label("sense_of_security_rate", "en")
    ('群众安全感', 'Sense of security')
    """
    known = INDICATORS.get(indicator_id)
    return indicator_id if known is None else known.label(lang)


class UnknownFigure(SafecommError, LookupError):
    """The report has no figure of that indicator for that scope."""

    exit_code = 2

    def __init__(self, report: Report, indicator_id: str, scope: str) -> None:
        ids = ", ".join(dict.fromkeys(f.id for f in report.figures)) or "none"
        scopes = ", ".join(dict.fromkeys(f.scope for f in report.figures)) or "none"
        super().__init__(
            f"the {report.kind} report for {report.period} has no figure {indicator_id!r} "
            f"for scope {scope!r}; its figures: {ids}; its scopes: {scopes}",
            field="indicator",
            rule="must be a figure of the report",
        )
        self.indicator_id = indicator_id
        self.scope = scope


@attrs.frozen(kw_only=True)
class Figure:
    """One indicator for one period and scope, with what it was computed from."""

    id: str
    numerator: float
    denominator: float | None
    value: float | None
    period: str  # "2014-03", "2014" or a phase id such as "P4"
    scope: str  # a community id, or "*" for the subdistrict
    definition_version: str
    basis: str  # "register", "survey" or "police"
    #: The rule that decided how the figure read its data, with the version of the rules
    #: it came from (``fairly_safe_counts = True (* from 2015-01-01)``); empty when no one
    #: rule does.
    reading: str = ""


@attrs.frozen
class Column:
    key: str
    zh: str
    en: str
    #: The vocabulary of the codes its cells hold (see :mod:`safecomm_core.reports.codes`),
    #: which renderers show as words; None for a column of values.
    codes: str | None = None


#: A column as ``(key, zh, en)``, or ``(key, zh, en, codes)`` for a column of codes.
ColumnSpec = tuple[str, str, str] | tuple[str, str, str, str]


def columns(*specs: ColumnSpec) -> tuple[Column, ...]:
    """Columns from ``(key, zh, en)`` triples (or ``(key, zh, en, codes)``), in order."""
    return tuple(Column(*spec) for spec in specs)


@attrs.frozen(kw_only=True)
class Section:
    """A titled table: one sheet in XLSX, one table in HTML."""

    id: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


@attrs.frozen(kw_only=True)
class Series:
    """Values of one indicator over periods in one scope: a line in a chart."""

    indicator: str
    scope: str
    points: tuple[tuple[str, float | None], ...]


@attrs.frozen(kw_only=True)
class Report:
    """A whole report: its indicators, tables and chart series."""

    kind: str  # "monthly", "self-assessment" or "watchlist"
    zh: str
    en: str
    period: str
    scope: str
    generated_at: datetime
    figures: tuple[Figure, ...] = ()
    sections: tuple[Section, ...] = ()
    series: tuple[Series, ...] = ()
    dead_letters: int = 0
    notes: tuple[str, ...] = ()
    #: What scope ``*`` stands for: the subdistrict, or the city in a city's roll-up
    #: (:mod:`safecomm_core.reports.city`); renderers name it so.
    whole: Whole = "subdistrict"

    def figure(self, indicator_id: str, scope: str = "*") -> Figure:
        """The figure of ``indicator_id`` for ``scope`` (``*``: the subdistrict).

        Raises :class:`UnknownFigure` (a ``LookupError``), naming the report's figures and
        scopes, when it has no such figure.

        >>> from datetime import UTC, datetime
        >>> report = Report(
        ...     kind="monthly", zh="月报", en="Monthly", period="2014-03", scope="*",
        ...     generated_at=datetime(2014, 4, 1, tzinfo=UTC),
        ...     figures=(Figure(id="alert_ack_rate", numerator=3, denominator=4, value=0.75,
        ...                     period="2014-03", scope="*", definition_version="1",
        ...                     basis="register"),),
        ... )
        >>> report.figure("alert_ack_rate").value
        0.75
        >>> report.figure("alert_ack_rate", "C9")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        safecomm_core.reports.model.UnknownFigure: ... no figure 'alert_ack_rate' for scope 'C9'...
        """
        for figure in self.figures:
            if figure.id == indicator_id and figure.scope == scope:
                return figure
        raise UnknownFigure(self, indicator_id, scope)
