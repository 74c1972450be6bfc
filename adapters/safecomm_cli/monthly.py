"""``safecomm report monthly`` and ``safecomm report explain``.

``monthly`` writes the monthly public-order report (:mod:`safecomm_core.reports.monthly`):
the subdistrict with every community beside it, or one community with ``--community``;
``--period`` defaults to the latest month with events. With ``--city FILE`` or ``--stores
URL,URL`` it writes the city's report instead, every subdistrict's store read in turn
(:mod:`safecomm_core.reports.city`), or one subdistrict's with ``--subdistrict``.
``explain`` lists the stored events behind any figure of a report (a monthly indicator, a
self-assessment figure, a watchlist list's count), to open with ``safecomm history``.

Both catch every projection up first. Exit statuses: 0 when done; 2 for bad input (a
period, an unknown indicator, a format); the others as every command.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from safecomm_cli.city import CITY_OPTION, STORES_OPTION, city_of
from safecomm_cli.report import (
    caught_up,
    check_day,
    check_period,
    emit,
    friendly,
    output_format,
    produce,
    report,
    report_options,
    store_option,
)
from safecomm_core import indicators
from safecomm_core.converter import converter
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.projections import Projector
from safecomm_core.reports import monthly_report
from safecomm_core.reports.city import city_report, explain_city
from safecomm_core.reports.counting import EventRef
from safecomm_core.reports.model import Report
from safecomm_core.reports.provenance import EXPLAINED, explain, report_of
from safecomm_core.reports.watch import LISTS
from safecomm_core.service import Safecomm

__all__ = ["explain_command", "monthly_command"]


@report.command("monthly")
@report_options
@CITY_OPTION
@STORES_OPTION
@click.option("--subdistrict", metavar="ID", help="With --city or --stores: one subdistrict.")
@friendly
def monthly_command(
    period: str | None,
    community: str | None,
    fmt: str | None,
    lang: str,
    out: Path | None,
    store_url: str,
    city_file: Path | None,
    stores: str | None,
    subdistrict: str | None,
) -> None:
    """The monthly public-order report: indicators, tables and trends (JSON by default).

    With --city FILE or --stores URL,URL: the city's report, each subdistrict's figures
    summed (numerators and denominators, never rates averaged) beside its own.
    """
    town = city_of(city_file, stores)
    if town is None:
        if subdistrict is not None:
            raise click.UsageError("--subdistrict needs --city or --stores")

        def build(_service: Safecomm, projector: Projector) -> Report:
            return monthly_report(projector, period, community or "*")

        produce(store_url, build, fmt, lang, out)
        return
    if community is not None:
        raise click.UsageError("a city's report is by subdistrict: use --subdistrict")
    output_format(fmt, out)  # refuse a bad --out before the work
    emit(city_report(town, period, "*" if subdistrict is None else subdistrict), fmt, lang, out)


def _shown(event: EventRef) -> str:
    when = event.occurred_at.astimezone(SUBDISTRICT_TZ).isoformat()
    where = f"{event.subdistrict} " if event.subdistrict else ""
    return (
        f"  {where}{event.kind} {event.ref} v{event.version} {event.event}  occurred {when}"
        f"  (notification {event.notification_id})"
    )


def _data(event: EventRef) -> dict[str, Any]:
    where = {"subdistrict": event.subdistrict} if event.subdistrict else {}
    return {
        **where,
        "kind": event.kind,
        "ref": event.ref,
        "version": event.version,
        "event": event.event,
        "topic": event.topic,
        "occurred_at": event.occurred_at.astimezone(SUBDISTRICT_TZ).isoformat(),
        "notification_id": event.notification_id,
    }


@report.command("explain")
@click.argument("indicator", type=click.Choice(list(EXPLAINED)), metavar="ID")
@click.option(
    "--period",
    metavar="YYYY-MM",
    callback=check_period,
    help="The month of a monthly figure; for the others, the month's last day.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    callback=check_day,
    help="The day of a self-assessment figure or a watchlist list.",
)
@click.option(
    "--scope",
    default="*",
    show_default=True,
    help="A community, or * (subdistrict); with a city, a subdistrict or * (the city).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@store_option
@CITY_OPTION
@STORES_OPTION
@friendly
def explain_command(
    indicator: str,
    period: str | None,
    as_of: date | None,
    scope: str,
    as_json: bool,
    store_url: str,
    city_file: Path | None,
    stores: str | None,
) -> None:
    """The events behind a figure: its numerator's and its denominator's.

    ID is any figure of a report: a monthly indicator (mediation_success_rate, ...; with
    --period), a self-assessment figure (action_on_time_rate, ...) or a watchlist list
    (settlement_overdue, ...; its count, row by row), as of --as-of or the end of
    --period. Open any listed record with: safecomm history REF --kind KIND.

    With --city or --stores, a monthly figure of the city (or of one subdistrict, --scope):
    each event is listed with the subdistrict whose store holds it.
    """
    monthly = report_of(indicator) == "monthly"
    if (period is None) == (as_of is None) or (monthly and as_of is not None):
        wanted = "--period" if monthly else "--period or --as-of"
        raise click.UsageError(f"{indicator} is explained for {wanted} (one of them)")
    when = period if as_of is None else as_of.isoformat()
    assert when is not None
    town = city_of(city_file, stores)
    if town is not None:
        if not monthly:
            raise click.UsageError("a city explains monthly figures only")
        found = explain_city(town, indicator, when, scope)
    else:
        with caught_up(store_url) as (_service, projector):
            found = explain(projector, indicator, when, scope)
    figure = found.figure
    zh, en, unit = _names(figure.id)
    if as_json:
        data = {
            "report": found.report,
            "indicator": (
                {"id": figure.id, "zh": zh, "en": en, "unit": unit, "basis": figure.basis}
                if figure.id in LISTS
                else converter.unstructure(indicators.indicator(figure.id))
            ),
            "figure": converter.unstructure(figure),
            "definition": found.definition,
            "numerator": [_data(e) for e in found.numerator],
            "denominator": [_data(e) for e in found.denominator],
        }
        if found.rows:
            data["rows"] = [
                {"cells": list(cells), "events": [_data(e) for e in events]}
                for cells, events in found.rows
            ]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    value = "not applicable" if figure.value is None else f"{figure.value:.4g}"
    shown = (
        f"{figure.numerator:g} / {figure.denominator:g}"
        if figure.denominator is not None
        else f"{figure.numerator:g}"
    )
    click.echo(
        f"{figure.id} {figure.period} scope {figure.scope}: {shown} = {value} {unit} "
        f"(definition {figure.definition_version}, {figure.basis})"
    )
    click.echo(f"{zh} / {en}")
    if figure.reading:
        click.echo(f"reading: {figure.reading}")
    if found.rows:
        click.echo(f"rows: {len(found.rows)}")
        for cells, events in found.rows:
            click.echo("  " + " | ".join("" if c is None else str(c) for c in cells))
            for event in events:
                click.echo("  " + _shown(event))
        return
    for side, events in (("numerator", found.numerator), ("denominator", found.denominator)):
        click.echo(f"{side}: {len(events)} event(s)")
        for event in events:
            click.echo(_shown(event))


def _names(figure_id: str) -> tuple[str, str, str]:
    """(Chinese name, English name, unit) of an indicator, or of a watchlist list."""
    if figure_id in LISTS:
        zh, en, _columns = LISTS[figure_id]
        return zh, en, "rows"
    named = indicators.indicator(figure_id)
    return named.zh, named.en, named.unit.value
