"""Charts for the HTML report, drawn with matplotlib as inline SVG.

Text is written as SVG ``<text>`` (``svg.fonttype = 'none'``), so the browser draws Chinese
labels with its own fonts and the page needs no font files. matplotlib still measures text
to lay a chart out: with a CJK font when the machine has one, and otherwise with its own
last-resort glyphs, about as wide (the warnings about missing glyphs are silenced). Titles
live in the HTML around the charts; inside them are scopes, periods and values. Only
:class:`matplotlib.figure.Figure` is used, never pyplot: no global state.

A scope keeps its colour in every chart of a report; the whole (``*``: the subdistrict, or
the city of a city's roll-up) is drawn dark and bold. A value that is not applicable is a
gap in a line and the words "not applicable" in place of a bar, never 0.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure as Chart
from matplotlib.ticker import FuncFormatter, MaxNLocator

from safecomm_core.reports.model import Figure, Series, Whole
from safecomm_reports.labels import Lang, format_value, is_rate, scope_label, text

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["comparison_chart", "scope_colours", "trend_chart"]

# Okabe–Ito: told apart by colour-blind readers too
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
_SUBDISTRICT = "#243B53"
_MUTED = "#7B8794"
_GRID = "#D9E2EC"
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "safecomm",  # fixed: the same report gives the same SVG
    "font.family": "sans-serif",
    # measured with the first that has the glyph; the page's CSS picks the fonts drawn
    "font.sans-serif": [
        "DejaVu Sans",
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "WenQuanYi Micro Hei",
    ],
    "font.size": 9,
    "axes.edgecolor": "#9AA5B1",
    "axes.labelcolor": "#3E4C59",
    "xtick.color": "#52606D",
    "ytick.color": "#52606D",
}
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.S)
# matplotlib names groups "figure_1", "axes_1"… in every chart and refers to ids in these ways
_REFERENCE = re.compile(r'(\bid="|xlink:href="#|url\(#)')


def scope_colours(scopes: Iterable[str]) -> dict[str, str]:
    """One colour per scope, the same in every chart: communities in order, "*" dark."""
    communities = sorted({s for s in scopes if s != "*"})
    colours = {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(communities)}
    colours["*"] = _SUBDISTRICT
    return colours


def trend_chart(
    indicator: str,
    series: Sequence[Series],
    colours: dict[str, str],
    lang: Lang,
    prefix: str,
    *,
    whole: Whole,
) -> str:
    """One indicator over periods: a line per scope, as an ``<svg>`` element (scope ``*``
    named as ``whole``, the report's)."""
    periods = sorted({period for s in series for period, _ in s.points})
    at = {period: i for i, period in enumerate(periods)}

    def draw(ax: Axes) -> None:
        for s in sorted(series, key=lambda s: s.scope != "*"):
            xs = [at[period] for period, _ in s.points]
            ys = [math.nan if v is None else v for _, v in s.points]
            bold = s.scope == "*"
            ax.plot(
                xs,
                ys,
                color=colours[s.scope],
                linewidth=2.4 if bold else 1.4,
                alpha=1 if bold else 0.85,
                marker="o",
                markersize=4 if bold else 3.5,
                label=scope_label(s.scope, lang, whole),
                zorder=3 if bold else 2,
            )
        step = max(1, math.ceil(len(periods) / 7))  # "2014-03" needs room: seven fit
        ax.set_xticks(range(0, len(periods), step), periods[::step])
        ax.set_xlim(-0.4, len(periods) - 0.6)
        _value_axis(ax, indicator, [v for s in series for _, v in s.points], lang)
        ax.legend(  # even for one line: it names the scope
            loc="lower left",
            bbox_to_anchor=(0, 1.02, 1, 0.1),
            mode="expand",  # never wider than the plot, so the chart keeps its size
            ncol=min(len(series), 4),
            frameon=False,
            handlelength=1.6,
        )

    return _render(5.6, 2.6, prefix, draw)


def comparison_chart(
    indicator: str,
    figures: Sequence[Figure],
    colours: dict[str, str],
    lang: Lang,
    prefix: str,
    *,
    whole: Whole,
) -> str:
    """One indicator in one period across scopes: a bar per scope, as an ``<svg>`` element
    (scope ``*`` named as ``whole``, the report's).

    Up to four scopes stand side by side; more lie one under another, so that long
    community names stay readable.
    """
    lying = len(figures) > 4

    def draw(ax: Axes) -> None:
        places = range(len(figures))
        lengths = [0.0 if f.value is None else f.value for f in figures]
        names = [scope_label(f.scope, lang, whole) for f in figures]
        colour = [colours[f.scope] for f in figures]
        if lying:
            bars = ax.barh(places, lengths, height=0.62, color=colour, zorder=2)
            ax.set_yticks(places, names)
            ax.invert_yaxis()  # the first community on top, the subdistrict at the bottom
        else:
            bars = ax.bar(places, lengths, width=0.62, color=colour, zorder=2)
            ax.set_xticks(places, names)
        _value_axis(ax, indicator, [f.value for f in figures], lang, lying=lying)
        for bar, f in zip(bars, figures, strict=True):
            if lying:
                end = (max(bar.get_width(), 0), bar.get_y() + bar.get_height() / 2)
            else:
                end = (bar.get_x() + bar.get_width() / 2, max(bar.get_height(), 0))
            ax.annotate(
                format_value(indicator, f.value, lang),
                end,
                xytext=(3, 0) if lying else (0, 3),
                textcoords="offset points",
                ha="left" if lying else "center",
                va="center" if lying else "bottom",
                fontsize=8,
                color=_MUTED if f.value is None else "#1F2933",
                fontstyle="italic" if f.value is None else "normal",
            )

    return _render(3.5, 0.8 + 0.3 * len(figures) if lying else 2.4, prefix, draw)


def _render(width: float, height: float, prefix: str, draw: Callable[[Axes], None]) -> str:
    """Draw on fresh axes in the house style; the chart as an ``<svg>`` element."""
    out = io.StringIO()
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        chart = Chart(figsize=(width, height))
        ax = chart.add_subplot()
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_axisbelow(True)
        ax.tick_params(length=0, pad=4)
        draw(ax)
        chart.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return _own_ids(_PROLOGUE.sub("", out.getvalue()), prefix)


def _own_ids(svg: str, prefix: str) -> str:
    """Prefix every id and reference, so several charts can share one HTML document."""
    return _REFERENCE.sub(lambda m: f"{m[1]}{prefix}-", svg)


def _value_axis(
    ax: Axes, indicator: str, values: Sequence[float | None], lang: Lang, lying: bool = False
) -> None:
    """Grid, limits and tick labels of the axis that carries values, in the indicator's unit."""
    axis = ax.xaxis if lying else ax.yaxis
    ax.grid(axis="x" if lying else "y", color=_GRID, linewidth=0.8, zorder=0)
    known = [v for v in values if v is not None]
    low, high = min(known, default=0.0), max(known, default=0.0)
    room = 1.22 if lying else 1.08  # above the highest value, for its label
    set_limits = ax.set_xlim if lying else ax.set_ylim
    if is_rate(indicator) and low >= 0:
        set_limits(0, max(1.0, high) * room)  # a rate from 0 to 100 %: no exaggerated slopes
    elif low >= 0:
        set_limits(0, (high or 1.0) * (room + 0.07))
    else:
        (ax.axvline if lying else ax.axhline)(0, color="#9AA5B1", linewidth=0.8)
    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(
        FuncFormatter(lambda v, _pos: format_value(indicator, v, lang).replace(".0%", "%"))
    )
    if not known:
        ax.text(0.5, 0.5, text("not_applicable", lang), transform=ax.transAxes, ha="center")
