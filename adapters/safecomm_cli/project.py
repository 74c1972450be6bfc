"""``safecomm project``: catch projections up, follow the store, rebuild, check, dead letters.

Exit statuses: 0 when done; 1 when ``--check`` finds the live view differing from a
rebuild; 2 for bad input (an unknown projection); the others as every command
(:mod:`safecomm_cli.exit_status`).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from safecomm_core import open_store
from safecomm_core.projections import (
    Progress,
    Projection,
    Projector,
    builtin_projections,
)
from safecomm_core.projections.runner import FOLLOW_POLL


@click.command("project")
@click.option("--follow", is_flag=True, help="Keep following the store until interrupted.")
@click.option(
    "--poll",
    type=click.FloatRange(0.05),
    default=FOLLOW_POLL,
    show_default=True,
    help="Seconds between polls when following.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Notifications per transaction.",
)
@click.option("--only", multiple=True, metavar="NAME", help="Only this projection (repeatable).")
@click.option("--rebuild", is_flag=True, help="Rebuild from zero beside the live view, then swap.")
@click.option("--check", is_flag=True, help="Compare the live view with a rebuild from zero.")
@click.option("--dead-letters", is_flag=True, help="List the events handlers failed on.")
def project(
    follow: bool,
    poll: float,
    batch: int,
    only: tuple[str, ...],
    rebuild: bool,
    check: bool,
    dead_letters: bool,
    store_url: str,
) -> None:
    """Bring the report views up to date with the store (every projection, or --only).

    Safe to run in several processes at once and to kill at any point: each batch of
    rows commits with its position, and the next run goes on from there.
    """
    chosen = _chosen(only)
    differ = False
    # Installed before the first catch-up: a signal during it must end the run cleanly too.
    stop = _stop_on_signals() if follow else None
    with open_store(store_url) as service, Projector(service, batch_size=batch) as projector:
        done = [projector.rebuild(p) for p in chosen] if rebuild else projector.catch_up_all(chosen)
        for progress in done:
            _report(progress)
        if check:
            for p in chosen:
                differences = projector.rebuild_check(p)
                differ = differ or bool(differences)
                if not differences:
                    click.echo(f"{p.name}: a rebuild equals the live view")
                    continue
                click.echo(f"{p.name}: {len(differences)} row(s) differ from a rebuild")
                for d in differences[:20]:
                    click.echo(f"  {d.table} {list(d.key)}: live {d.live} rebuilt {d.rebuilt}")
        if dead_letters:
            for p in chosen:
                for letter in projector.dead_letters(p):
                    click.echo(
                        f"{letter.projection}: notification {letter.notification_id} "
                        f"{letter.topic} ({letter.originator_id} v{letter.originator_version}): "
                        f"{letter.error}"
                    )
        if follow:
            projector.follow(chosen, poll=poll, stop=stop, on_progress=_report)
    if differ:
        sys.exit(1)


def _chosen(only: tuple[str, ...]) -> list[Projection]:
    known = {p.name: p for p in builtin_projections()}
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise click.BadParameter(
            f"no projection {', '.join(unknown)} (known: {', '.join(known)})", param_hint="--only"
        )
    return [p for name, p in known.items() if not only or name in only]


def _report(progress: Progress) -> None:
    state = "" if progress.caught_up else " (not caught up)"
    click.echo(
        f"{progress.projection}: generation {progress.generation} at {progress.position} "
        f"of {progress.head}{state}; {progress.handled} events handled, "
        f"{progress.dead_letters} dead letters{'; swapped in' if progress.swapped else ''}"
    )


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so that following ends between batches."""
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


# Imported after the command exists: main.py registers it on its last line, so whichever of
# the two modules is imported first, the other finds what it needs.
from safecomm_cli.main import friendly, store_option  # noqa: E402

store_option(project)
assert project.callback is not None
project.callback = friendly(project.callback)
