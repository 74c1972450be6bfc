"""``safecomm report``: the programme's reports, rendered, from views that are caught up first.

Every report command shares the same steps, kept here once:

1. open the store and its views (:func:`caught_up`), and catch **every** projection up, so
   that nobody reads a stale report by accident;
2. build a :class:`~safecomm_core.reports.model.Report` from the caught-up projector (the
   command's own function, from :mod:`safecomm_core.reports`);
3. render it (JSON by default, or the format of ``--format`` or of ``--out``'s suffix) in
   Chinese or English, and write it to ``--out`` or to standard output (:func:`emit`).

Adding a report command::

    @report.command("watchlist")
    @report_options
    @friendly
    def watchlist(period, community, fmt, lang, out, store_url):
        produce(store_url, lambda _service, projector: build(projector, ...), fmt, lang, out)

Exit statuses: 0 when written; 2 for bad input (a period, a format, a language); the others
as every command (:mod:`safecomm_cli.exit_status`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "caught_up",
    "check_day",
    "check_period",
    "emit",
    "friendly",
    "output_format",
    "produce",
    "report",
    "report_options",
    "store_option",
]

F = TypeVar("F", bound=Callable[..., Any])

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@click.group("report")
def report() -> None:
    """The programme's reports: monthly figures, self-assessment, watchlist, provenance."""


# Imported after the group exists: main.py registers this group on its last line, so
# whichever of the two modules is imported first, the other finds what it needs.
from safecomm_reports.labels import LANGS  # noqa: E402
from safecomm_reports.render import FORMATS, Format, UnsupportedOutput, render  # noqa: E402

from safecomm_cli.main import friendly, store_option  # noqa: E402
from safecomm_core import open_store  # noqa: E402
from safecomm_core.projections import Projection, Projector, builtin_projections  # noqa: E402
from safecomm_core.reports.model import Report  # noqa: E402
from safecomm_core.service import Safecomm  # noqa: E402


def check_period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Click callback: ``value`` if it is a month ``YYYY-MM`` (or None), else a usage error."""
    if value is not None and not _PERIOD.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a month: write YYYY-MM, e.g. 2014-03")
    return value


def check_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Click callback: ``value`` as a date ``YYYY-MM-DD`` (or None), else a usage error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: write YYYY-MM-DD") from None


def report_options(func: F) -> F:
    """The options every report takes: period, community, format, language, out, store.

    The command receives ``period`` (``"YYYY-MM"`` or None), ``community`` (or None for the
    whole subdistrict), ``fmt`` (or None: from ``out``'s suffix, else JSON), ``lang``,
    ``out`` (a path, or None for standard output) and ``store_url``.
    """
    decorators = (
        click.option(
            "--period",
            metavar="YYYY-MM",
            callback=check_period,
            help="The month reported (default: the latest month with events).",
        ),
        click.option("--community", metavar="C", help="One community (default: the subdistrict)."),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            help="Output format (default: from --out's suffix, else json).",
        ),
        click.option(
            "--lang", type=click.Choice(LANGS), default="zh", show_default=True, help="Labels."
        ),
        click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File to write (default: standard output).",
        ),
        store_option,
    )
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


@contextmanager
def caught_up(
    store_url: str, projections: tuple[Projection, ...] | None = None
) -> Iterator[tuple[Safecomm, Projector]]:
    """The store and a projector whose projections (default: all built in) are caught up."""
    with open_store(store_url) as service, Projector(service) as projector:
        projector.catch_up_all(
            list(projections if projections is not None else builtin_projections())
        )
        yield service, projector


def output_format(fmt: str | None, out: Path | None) -> Format:
    """The format asked for, else the one ``out``'s suffix names, else JSON."""
    if fmt is not None:
        return fmt  # type: ignore[return-value]  # click.Choice(FORMATS) checked it
    if out is None:
        return "json"
    suffix = out.suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if suffix not in FORMATS:
        raise UnsupportedOutput(
            f"cannot tell the format from {out.name!r}: pass --format or name it "
            ".json, .csv, .xlsx or .html"
        )
    return suffix


def emit(report_: Report, fmt: str | None, lang: str, out: Path | None) -> None:
    """Render ``report_`` and write it to ``out``, or to standard output."""
    chosen = output_format(fmt, out)
    data = render(report_, chosen, lang)  # type: ignore[arg-type]  # click.Choice(LANGS)
    if out is None:
        stream = sys.stdout.buffer
        stream.write(data)
        if chosen != "xlsx" and not data.endswith(b"\n"):
            stream.write(b"\n")
        stream.flush()  # a closed pipe (a reader such as `head`) ends quietly: see friendly
        return
    out.write_bytes(data)
    click.echo(f"wrote {out} ({chosen}, {len(data):,} bytes)", err=True)


def produce(
    store_url: str,
    build: Callable[[Safecomm, Projector], Report],
    fmt: str | None,
    lang: str,
    out: Path | None,
) -> Report:
    """Open the store, catch every projection up, build the report, render and write it."""
    output_format(fmt, out)  # refuse a bad --out before the work
    with caught_up(store_url) as (service, projector):
        built = build(service, projector)
    emit(built, fmt, lang, out)
    return built


# Report commands defined in modules of their own register themselves on the group.
from safecomm_cli import assessment as _assessment  # noqa: E402, F401
from safecomm_cli import monthly as _monthly  # noqa: E402, F401
