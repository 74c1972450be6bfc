"""``safecomm coverage``: the plan's measures, the commands serving each, and their events."""

from __future__ import annotations

import json
import sys

import click

from safecomm_core.converter import converter
from safecomm_core.coverage import CommandTrace, coverage

__all__ = ["coverage_command"]


@click.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="The matrix as one JSON document.")
@click.option("--events/--no-events", default=True, show_default=True, help="List the events.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if a measure has no command.")
def coverage_command(as_json: bool, events: bool, strict: bool) -> None:
    """Each plan measure (M…, P…, S…) with the commands that serve it and their events."""
    matrix = coverage()
    if as_json:
        data = converter.unstructure(matrix)
        data["missing"] = list(matrix.missing)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for m in matrix.measures:
            click.echo(f"{m.measure:<5} {m.title}")
            if not m.commands:
                click.echo("      (no command)")
            # Commands on the same records share their events: list those once.
            groups: dict[tuple[str, ...], list[CommandTrace]] = {}
            for c in m.commands:
                groups.setdefault(c.records, []).append(c)
            for records, traces in groups.items():
                names = ", ".join(_short(r) for r in records) or "(no record found)"
                click.echo(f"      {names}: " + " ".join(c.type for c in traces))
                if events:
                    click.echo(f"        events: {_events(traces[0])}")
        for type_, measure in matrix.unplanned:
            click.echo(f"warning: {type_} serves {measure!r}, which is not in the plan", err=True)
        covered = len(matrix.measures) - len(matrix.missing)
        summary = f"{covered} of {len(matrix.measures)} plan measures have a command"
        if matrix.missing:
            summary += "; none for " + ", ".join(matrix.missing)
        click.echo(summary)
    if strict and matrix.missing:
        sys.exit(1)


def _short(topic: str) -> str:
    return topic.removeprefix("safecomm/")


def _events(trace: CommandTrace) -> str:
    # Named by record, once each: "Survey: WaveOpened ResponseRecorded WaveClosed".
    by_record: dict[str, list[str]] = {}
    for e in trace.events:
        record, _, name = _short(e).rpartition("/")
        by_record.setdefault(record, []).append(name)
    return "; ".join(f"{r}: {' '.join(names)}" for r, names in by_record.items())
