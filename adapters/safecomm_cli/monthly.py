"""``safecomm report monthly`` and ``safecomm report explain``.

``monthly`` writes the monthly public-order report (:mod:`safecomm_core.reports.monthly`):
the subdistrict with every community beside it, or one community with ``--community``;
``--period`` defaults to the latest month with events. ``explain`` lists the stored events
counted in an indicator's numerator and denominator, to open with ``safecomm history``.

Both catch every projection up first. Exit statuses: 0 when done; 2 for bad input (a
period, an unknown indicator, a format); the others as every command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Report
from safecomm_core.reports.provenance import explain
from safecomm_core.service import Safecomm

__all__ = ["explain_command", "monthly_command"]


@report.command("monthly")
@report_options
@friendly
def monthly_command(
    period: str | None,
    community: str | None,
    fmt: str | None,
    lang: str,
    out: Path | None,
    store_url: str,
) -> None:
    """The monthly public-order report: indicators, tables and trends (JSON by default)."""

    def build(_service: Safecomm, projector: Projector) -> Report:
        return monthly_report(projector, period, community or "*")

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
@store_option
@friendly
def explain_command(
    indicator: str,
    period: str,
    scope: str,
    as_json: bool,
    store_url: str,
) -> None:
    """The events counted in INDICATOR's numerator and denominator for a month.

    INDICATOR is one of the monthly report's ids (mediation_success_rate, alert_ack_rate,
    ...). Open any listed record with: safecomm history REF --kind KIND.
    """
    with caught_up(store_url) as (_service, projector):
        found = explain(projector, indicator, period, scope)
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
