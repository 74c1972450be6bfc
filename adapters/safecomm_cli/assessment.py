"""``safecomm report self-assessment`` and ``safecomm report watchlist``.

Both read the views "as of" a day: ``--as-of YYYY-MM-DD``, or ``--period YYYY-MM`` for the
last day of that month, or today (in the subdistrict) when neither is given. Like every
report command they catch all projections up first (:func:`safecomm_cli.report.produce`).

Exit statuses: 0 when written; 2 for bad input (a date, both ``--period`` and
``--as-of``, a format, a language); the others as every command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from safecomm_cli.report import check_day, friendly, produce, report, report_options
from safecomm_core.dates import SUBDISTRICT_TZ, Month
from safecomm_core.reports import self_assessment, watchlist
from safecomm_core.reports.watch import DEFAULT_CLOSING_DAYS

__all__ = ["as_of_day", "self_assessment_command", "watchlist_command"]

F = TypeVar("F", bound=Callable[..., Any])


def _as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        metavar="YYYY-MM-DD",
        callback=check_day,
        help="The day reported on (default: the end of --period, else today).",
    )(func)


def as_of_day(period: str | None, as_of: date | None, today: date | None = None) -> date:
    """The day a report is as of: ``as_of``, else the last day of ``period``, else today.

    Raises :class:`click.UsageError` (exit status 2) when both are given.
    """
    if period is not None and as_of is not None:
        raise click.UsageError("give --period or --as-of, not both")
    if as_of is not None:
        return as_of
    if period is not None:
        return Month.parse(period).last
    return today or datetime.now(SUBDISTRICT_TZ).date()


@report.command("self-assessment")
@report_options
@_as_of_option
@friendly
def self_assessment_command(
    period: str | None,
    as_of: date | None,
    community: str | None,
    fmt: str | None,
    lang: str,
    out: Path | None,
    store_url: str,
) -> None:
    """The self-assessment: AQ/T 9001-2006's elements and the plan's measures against the
    evidence recorded, phase progress P1-P7, and the gaps, named."""
    day = as_of_day(period, as_of)
    produce(
        store_url,
        lambda _service, projector: self_assessment(projector, as_of=day, community=community),
        fmt,
        lang,
        out,
    )


@report.command("watchlist")
@report_options
@_as_of_option
@click.option(
    "--within",
    type=click.IntRange(0, 366),
    default=DEFAULT_CLOSING_DAYS,
    show_default=True,
    metavar="DAYS",
    help="List judicial-confirmation windows ending within DAYS of the day.",
)
@friendly
def watchlist_command(
    period: str | None,
    as_of: date | None,
    within: int,
    community: str | None,
    fmt: str | None,
    lang: str,
    out: Path | None,
    store_url: str,
) -> None:
    """What staff must act on, as of a day: overdue disputes, closing judicial windows,
    unacknowledged alerts, permits to endorse, overdue actions, M3.3 eligibility."""
    day = as_of_day(period, as_of)
    produce(
        store_url,
        lambda _service, projector: watchlist(
            projector, as_of=day, community=community, closing_within_days=within
        ),
        fmt,
        lang,
        out,
    )


# The shared --period's default (the latest month with events) is the monthly report's;
# these two are as of a day, and default to today.
for _command in (self_assessment_command, watchlist_command):
    for _param in _command.params:
        if isinstance(_param, click.Option) and _param.name == "period":
            _param.help = "Report as of the last day of this month (default: --as-of, else today)."
