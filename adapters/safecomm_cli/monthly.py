"""``safecomm report monthly`` and ``safecomm report explain``.

``monthly`` writes the monthly public-order report (:mod:`safecomm_core.reports.monthly`):
the subdistrict with every community beside it, or one community with ``--community``;
``--period`` defaults to the latest month with events. ``explain`` lists the stored events
counted in an indicator's numerator and denominator, to open with ``safecomm history``.

Both catch every projection up first. Exit statuses: 0 when done; 2 for bad input (a
period, an unknown indicator, a format, a population); the others as every command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from safecomm_cli.report import (
    caught_up,
    check_period,
    friendly,
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
from safecomm_core.reports.counting import EventRef
from safecomm_core.reports.indicators import DEFINITIONS, Settings
from safecomm_core.reports.model import Report
from safecomm_core.reports.provenance import explain
from safecomm_core.service import Safecomm

__all__ = ["explain_command", "monthly_command"]

F = TypeVar("F", bound=Callable[..., Any])


def _population(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for value in values:
        community, _, count = value.partition("=")
        if not community or not count.isdigit() or int(count) <= 0:
            raise click.BadParameter(f"{value!r}: write COMMUNITY=RESIDENTS, e.g. C1=7200")
        found[community] = int(count)
    return found or None


def _settings_options(func: F) -> F:
    """``--population``: the report's settings."""
    return click.option(
        "--population",
        multiple=True,
        metavar="C=N",
        callback=_population,
        help="Residents of a community, for incidence per 10,000 (repeatable).",
    )(func)


@report.command("monthly")
@report_options
@_settings_options
@friendly
def monthly_command(
    period: str | None,
    community: str | None,
    fmt: str | None,
    lang: str,
    out: Path | None,
    store_url: str,
    population: dict[str, int] | None,
) -> None:
    """The monthly public-order report: indicators, tables and trends (JSON by default)."""
    settings = Settings(population=population)

    def build(_service: Safecomm, projector: Projector) -> Report:
        return monthly_report(projector, period, community or "*", settings=settings)

    produce(store_url, build, fmt, lang, out)


def _shown(event: EventRef) -> str:
    when = event.occurred_at.astimezone(SUBDISTRICT_TZ).isoformat()
    return (
        f"  {event.kind} {event.ref} v{event.version} {event.event}  occurred {when}"
        f"  (notification {event.notification_id})"
    )


def _data(event: EventRef) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "ref": event.ref,
        "version": event.version,
        "event": event.event,
        "topic": event.topic,
        "occurred_at": event.occurred_at.astimezone(SUBDISTRICT_TZ).isoformat(),
        "notification_id": event.notification_id,
    }


@report.command("explain")
@click.argument("indicator", type=click.Choice(list(DEFINITIONS)), metavar="INDICATOR")
@click.option(
    "--period",
    required=True,
    metavar="YYYY-MM",
    callback=check_period,
    help="The month of the figure.",
)
@click.option("--scope", default="*", show_default=True, help="A community, or * (subdistrict).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@_settings_options
@store_option
@friendly
def explain_command(
    indicator: str,
    period: str,
    scope: str,
    as_json: bool,
    population: dict[str, int] | None,
    store_url: str,
) -> None:
    """The events counted in INDICATOR's numerator and denominator for a month.

    INDICATOR is one of the monthly report's ids (mediation_success_rate, alert_ack_rate,
    ...). Open any listed record with: safecomm history REF --kind KIND.
    """
    settings = Settings(population=population)
    with caught_up(store_url) as (_service, projector):
        found = explain(projector, indicator, period, scope, settings=settings)
    figure = found.figure
    named = indicators.indicator(figure.id)
    if as_json:
        data = {
            "indicator": converter.unstructure(named),
            "figure": converter.unstructure(figure),
            "definition": found.definition,
            "numerator": [_data(e) for e in found.numerator],
            "denominator": [_data(e) for e in found.denominator],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    value = "not applicable" if figure.value is None else f"{figure.value:.4g}"
    shown = (
        f"{figure.numerator:g} / {figure.denominator:g}"
        if figure.denominator is not None
        else f"{figure.numerator:g}"
    )
    click.echo(
        f"{figure.id} {figure.period} scope {figure.scope}: {shown} = {value} {named.unit} "
        f"(definition {figure.definition_version}, {figure.basis})"
    )
    click.echo(f"{named.zh} / {named.en}")
    for side, events in (("numerator", found.numerator), ("denominator", found.denominator)):
        click.echo(f"{side}: {len(events)} event(s)")
        for event in events:
            click.echo(_shown(event))
