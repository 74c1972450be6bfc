"""``safecomm retention run``: erase the personal data of records past their retention
period (docs/personal-data.md, *Retention*).

A dry run unless ``--apply`` is given: it lists what would be erased and erases nothing.
"""

from __future__ import annotations

from datetime import datetime

import click

from safecomm_cli.main import friendly, store_option
from safecomm_core import open_store
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.retention import run_retention


@click.group()
def retention() -> None:
    """Retention periods: erase personal data kept past them by destroying keys."""


@retention.command("run")
@click.option(
    "--dry-run/--apply",
    default=True,
    help="List what is past its period and erase nothing (the default), or erase it.",
)
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to judge the periods on (default: today in the subdistrict); a day "
    "still to come only with --dry-run.",
)
@store_option
@friendly
def run(dry_run: bool, on: datetime | None, store_url: str) -> None:
    """Erase the parties and free text of mediation files, and the person of migrant
    workers' registrations, whose retention period has ended.

    Each erasure is recorded as an event (dispute.erase, migrant.erase, ground
    retention_ended); no event changes, so every figure and the audit chain stay as they
    were. Without --apply nothing is erased.
    """
    day = on.date() if on is not None else datetime.now(SUBDISTRICT_TZ).date()
    with open_store(store_url) as service:
        result = run_retention(service, day, dry_run=dry_run)
    for line in result.summary():
        click.echo(line)


__all__ = ["retention"]
