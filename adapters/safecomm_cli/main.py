"""``safecomm``: import commands, show history, print the command schema, run the demo.

Every error a user can cause ends in one line on stderr and an exit status (see
:mod:`safecomm_cli.exit_status`); a traceback is shown only with ``SAFECOMM_DEBUG=1``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from safecomm_cli.exit_status import exit_status
from safecomm_core import (
    InvalidCommand,
    SafecommError,
    open_store,
    parse_command,
)
from safecomm_core.store import DEFAULT_STORE

F = TypeVar("F", bound=Callable[..., Any])

store_option = click.option(
    "--store",
    "store_url",
    envvar="SAFECOMM_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    help="Store URL: sqlite:///FILE, memory:// or postgresql://USER@HOST:PORT/DB.",
)


def friendly(func: F) -> F:
    """Turn safecomm's errors into one line and an exit status; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SafecommError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exit_status(type(exc)))
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for debugging
            if os.environ.get("SAFECOMM_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set SAFECOMM_DEBUG=1 for the traceback and report it)",
                err=True,
            )
            sys.exit(70)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """safecomm: records, reports and audits of a Safe Community programme."""


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
@click.option("--stop-on-error", is_flag=True, help="Stop at the first line that fails.")
@friendly
def import_(file: Path, store_url: str, stop_on_error: bool) -> None:
    """Handle each line of FILE (JSON lines, one command each).

    A failed line is reported with its number, field and reason, and skipped; the exit
    status is 1 if any line failed. Re-running the same file changes nothing.
    """
    applied = repeated = failed = 0
    with open_store(store_url) as store, file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidCommand([_malformed(exc)]) from None
                outcome = store.handle(parse_command(data))
            except SafecommError as exc:
                failed += 1
                click.echo(f"{file}:{number}: {type(exc).__name__}: {exc}", err=True)
                if stop_on_error:
                    break
                continue
            if outcome.duplicate:
                repeated += 1
            else:
                applied += 1
    click.echo(f"{applied} applied, {repeated} already applied, {failed} failed")
    if failed:
        sys.exit(1)


def _malformed(exc: json.JSONDecodeError) -> Any:
    from safecomm_core import FieldError

    return FieldError("", f"malformed JSON: {exc.msg} at column {exc.colno}")


@main.command()
@click.argument("record_id")
@click.option("--kind", help="Only records of this kind (dispute, patrol, migrant, ...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@store_option
@friendly
def history(record_id: str, kind: str | None, as_json: bool, store_url: str) -> None:
    """The events of one record, with when they occurred, when recorded, and who."""
    from safecomm_core.converter import converter

    with open_store(store_url) as store:
        entries = store.history(record_id, kind)
    for e in entries:
        if as_json:
            click.echo(json.dumps(converter.unstructure(e), ensure_ascii=False))
            continue
        details = ", ".join(f"{k}={_short(v)}" for k, v in e.details.items() if v not in ("", None))
        click.echo(
            f"{e.kind}:{e.ref} v{e.version} {e.event}\n"
            f"    occurred {e.occurred_at.isoformat()}  recorded {e.recorded_at.isoformat()}\n"
            f"    by {e.actor} ({e.role}){' via ' + e.channel if e.channel else ''}"
            f"  command {e.command_id}" + (f"\n    {details}" if details else "")
        )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


@main.command()
@friendly
def schema() -> None:
    """Print the JSON Schema of every command."""
    from safecomm_cli.schema import command_schema

    click.echo(json.dumps(command_schema(), ensure_ascii=False, indent=2))


main.add_command(__import__("safecomm_cli.coverage", fromlist=["_"]).coverage_command)
main.add_command(__import__("safecomm_cli.audit", fromlist=["_"]).audit)
main.add_command(__import__("safecomm_cli.project", fromlist=["_"]).project)
main.add_command(__import__("safecomm_cli.report", fromlist=["_"]).report)
main.add_command(__import__("safecomm_cli.demo", fromlist=["_"]).demo)
main.add_command(__import__("safecomm_nats.cli", fromlist=["_"]).stream)
