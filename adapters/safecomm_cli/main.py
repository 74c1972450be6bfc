"""``safecomm``: import commands, show history, print the command schema, run the demo.

Every error a user can cause ends in one line on stderr and an exit status (see
:mod:`safecomm_cli.exit_status`); a traceback is shown only with ``SAFECOMM_DEBUG=1``.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

import attrs
import click

from safecomm_cli.exit_status import exit_status
from safecomm_core import (
    ALL_COMMUNITIES,
    FieldError,
    HistoryEntry,
    InvalidCommand,
    Principal,
    Role,
    Safecomm,
    SafecommError,
    Settled,
    open_store,
    parse_command,
)
from safecomm_core.domain.base import KINDS
from safecomm_core.private import private_umask
from safecomm_core.store import DEFAULT_STORE
from safecomm_core.validation import COMMAND_MAX_BYTES, excerpt

F = TypeVar("F", bound=Callable[..., Any])


def _given_store(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Click callback: a store URL given empty (``--store "$URL"`` with URL unset) is a usage
    error, not the default store written to instead."""
    if not value.strip():
        raise click.BadParameter("empty: give a store URL, or leave --store out for the default")
    return value


store_option = click.option(
    "--store",
    "store_url",
    envvar="SAFECOMM_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    callback=_given_store,
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
        except BrokenPipeError:
            # A reader such as `head` stopped reading: not an error. Later writes (and the
            # interpreter's flush at exit) go nowhere instead of failing again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return None
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
    private_umask()  # stores, views, keys and exports: the owner's only (SAFECOMM_UMASK)


#: The most commands ``safecomm import`` stores per transaction: a batch that keeps people's
#: keys holds the key store's write lock until it is written, and meanwhile other writers of
#: keys wait, and the store cannot be opened elsewhere (docs/architecture.md, *Batches*).
MAX_BATCH = 1000


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
@click.option("--stop-on-error", is_flag=True, help="Stop at the first line that fails.")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1, max=MAX_BATCH),
    default=100,
    show_default=True,
    help=f"Commands stored per transaction (1: each in its own; at most {MAX_BATCH}).",
)
@friendly
def import_(file: Path, store_url: str, stop_on_error: bool, batch_size: int) -> None:
    """Handle each line of FILE (JSON lines, one command each).

    Commands are decided in order and stored --batch at a time, each with its receipt. A
    failed line is reported with its number, field and reason, and skipped; the exit
    status is 1 if any line failed. A line counts as applied once it is stored: if the
    import is cut short, running it again completes it, and re-running the same file
    changes nothing. A progress bar is shown when stderr is a terminal.
    """
    counts = {"applied": 0, "repeated": 0, "failed": 0}

    def told(settled: list[Settled]) -> bool:
        for s in settled:
            if s.error is not None:
                counts["failed"] += 1
                shown = _shown(str(s.error))
                _refused(f"{file}:{s.tag}: {type(s.error).__name__}: {shown}")
            elif s.outcome is not None and s.outcome.duplicate:
                counts["repeated"] += 1
            else:
                counts["applied"] += 1
        return any(s.error is not None for s in settled)

    try:
        stream = file.open("rb")
    except OSError as exc:
        raise click.FileError(str(file), exc.strerror) from None
    lines = _Lines(stream)
    number = 0

    def summary() -> str:
        return (
            f"{counts['applied']} applied, {counts['repeated']} already applied, "
            f"{counts['failed']} failed"
        )

    try:
        with (
            stream,
            open_store(store_url) as service,
            _progress(file) as bar,
            # Left by an interruption, it drops what it decided and the keys it kept.
            service.batch(batch_size) as batch,
        ):
            for number, (raw, size) in enumerate(lines, start=1):
                bar.update(size)
                try:
                    data = _read_line(raw, first=number == 1)
                    if data is _BLANK:
                        continue
                    command = parse_command(data)
                except SafecommError as exc:
                    settled = [Settled(number, error=exc)]
                else:
                    settled = batch.add(command, number)
                if told(settled) and stop_on_error:
                    break
            # The lines decided before a stop, the end, or a failed read are stored (and
            # only then counted).
            told(batch.flush())
    except KeyboardInterrupt:
        _refused(
            f"interrupted at line {number} ({summary()}): lines not counted were not "
            "stored; run the same import again to complete it"
        )
        sys.exit(130)
    click.echo(summary())
    if lines.error is not None:
        raise click.ClickException(
            f"cannot read {file} after line {lines.count}: {lines.error.strerror}"
        )
    if counts["failed"]:
        sys.exit(1)


def _refused(message: str) -> None:
    """A refused line's message on stderr; on a terminal, in place of the progress bar's
    line (which is drawn again below it), not appended to it."""
    click.echo(("\r\x1b[2K" if sys.stderr.isatty() else "") + message, err=True)


class _Bar(Protocol):
    def update(self, n_steps: int) -> None: ...


class _Quiet:
    """No progress bar (stderr is not a terminal)."""

    def update(self, n_steps: int) -> None:
        """Nothing to draw."""


@contextlib.contextmanager
def _progress(file: Path) -> Iterator[_Bar]:
    """A bar of the bytes of ``file`` read, on stderr, only if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield _Quiet()
        return
    with click.progressbar(
        length=file.stat().st_size, label=f"importing {file.name}", file=sys.stderr
    ) as bar:
        yield bar


class _Lines:
    """Each line of ``stream`` and its size in bytes, until the end or a failed read.

    A line longer than a command may be is given cut short (its first
    ``COMMAND_MAX_BYTES + 1`` bytes): the rest is read past, never held, so a file without
    line breaks does not fill the memory. A read that fails (a disk's or a network file
    system's error) ends the lines, and is kept in ``error``.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        #: Lines read whole.
        self.count = 0
        self.error: OSError | None = None

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        try:
            while raw := self.stream.readline(COMMAND_MAX_BYTES + 1):
                size = len(raw)
                cut = len(raw) > COMMAND_MAX_BYTES and not raw.endswith(b"\n")
                while cut:
                    rest = self.stream.readline(1 << 16)
                    size += len(rest)
                    cut = rest != b"" and not rest.endswith(b"\n")
                self.count += 1
                yield raw, size
        except OSError as exc:
            self.error = exc


#: What :func:`_read_line` gives for a blank line (a line ``null`` is a value, refused).
_BLANK: Any = object()


def _read_line(raw: bytes, *, first: bool) -> Any:
    """One line's JSON value, :data:`_BLANK` for a blank line, or :class:`InvalidCommand`
    saying why.

    Each line is decoded on its own, so that one bad line is reported and skipped rather
    than ending the import. A byte-order mark at the start of the file is skipped.
    """
    if first and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if len(raw.rstrip(b"\r\n")) > COMMAND_MAX_BYTES:
        raise InvalidCommand(
            [FieldError("", f"longer than a command may be: at most {COMMAND_MAX_BYTES:,} bytes")]
        )
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCommand(
            [FieldError("", f"not UTF-8: byte {raw[exc.start]:#04x} at column {exc.start + 1}")]
        ) from None
    if not line.strip():
        return _BLANK
    try:
        return json.loads(line, object_pairs_hook=_one_each)
    except InvalidCommand:
        raise
    except json.JSONDecodeError as exc:
        raise InvalidCommand(
            [FieldError("", f"malformed JSON: {exc.msg} at column {exc.colno}")]
        ) from None
    except RecursionError:
        raise InvalidCommand([FieldError("", "malformed JSON: nested too deeply")]) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        limit = sys.get_int_max_str_digits()
        raise InvalidCommand(
            [FieldError("", f"malformed JSON: a number of more than {limit} digits")]
        ) from None


def _one_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once: one named twice (which json.loads
    would read as its last value) is refused, not guessed."""
    found = dict(pairs)
    if len(found) == len(pairs):  # every object of a good line: no set built
        return found
    twice = next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
    raise InvalidCommand(
        [FieldError("", f"malformed JSON: the key {excerpt(twice)} appears twice in an object")]
    )


@main.command()
@click.argument("record_id")
@click.option("--kind", help="Only records of this kind (dispute, patrol, migrant, ...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@click.option(
    "--open-text",
    is_flag=True,
    help="Show free text (summaries, notes, terms...) opened instead of [sealed].",
)
@click.option("--why", default=None, help="What the text is opened for (with --open-text).")
@store_option
@friendly
def history(
    record_id: str,
    kind: str | None,
    as_json: bool,
    open_text: bool,
    why: str | None,
    store_url: str,
) -> None:
    """The events of one record, with when they occurred, when recorded, and who.

    Free text is sealed with the record's key and shows as [sealed]; --open-text --why
    REASON opens it (this command runs with the master key, as the store's operator), and
    the opening is recorded first, as every opening of personal data is.
    """
    from safecomm_core.converter import converter

    if open_text and why is None:
        raise click.UsageError("--open-text needs --why: what the text is opened for")
    with open_store(store_url) as service:
        entries = service.history(record_id, kind)
        if open_text:
            entries = _with_texts(service, entries, why or "")
    for e in entries:
        if as_json:
            click.echo(json.dumps(converter.unstructure(e), ensure_ascii=False))
            continue
        details = ", ".join(f"{k}={_short(v)}" for k, v in e.details.items() if v not in ("", None))
        via = f" via {_shown(e.channel)}" if e.channel else ""
        click.echo(
            f"{_shown(e.kind)}:{_shown(e.ref)} v{e.version} {_shown(e.event)}\n"
            f"    occurred {e.occurred_at.isoformat()}  recorded {e.recorded_at.isoformat()}\n"
            f"    by {_shown(e.actor)} ({_shown(e.role)}){via}"
            f"  command {_shown(e.command_id)}" + (f"\n    {details}" if details else "")
        )


#: Who opens free text at the command line: whoever runs it holds the master key, so the
#: store's operator (an admin over every community); the opening is recorded in that name.
# (Any: the attrs converter leaves mypy a type variable it cannot solve.)
_EVERY_COMMUNITY: Any = ALL_COMMUNITIES
OPERATOR = Principal("safecomm-operator", Role.ADMIN, _EVERY_COMMUNITY)


def _with_texts(service: Safecomm, entries: list[HistoryEntry], why: str) -> list[HistoryEntry]:
    """The entries with each free-text field opened, each opening recorded as the
    operator's (see docs/personal-data.md, *Free text*)."""
    opened: dict[tuple[str, int, str], str] = {}
    for kind in sorted({e.kind for e in entries}):
        for t in service.texts(KINDS[kind], entries[0].ref, OPERATOR, why=why):
            opened[kind, t.version, t.field] = t.text
    return [
        attrs.evolve(
            e,
            details={k: opened.get((e.kind, e.version, k), v) for k, v in e.details.items()},
        )
        for e in entries
    ]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return _shown(text if len(text) <= 120 else text[:117] + "...")


def _shown(text: str) -> str:
    """Text fit for a terminal: control and format characters escaped (``\\n``, ``\\x1b``).

    A newline in a note would otherwise forge an entry, and an escape sequence would drive
    the terminal.
    """
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in str(text)
    )


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
main.add_command(__import__("safecomm_cli.keys", fromlist=["_"]).keys)
main.add_command(__import__("safecomm_cli.retention", fromlist=["_"]).retention)
main.add_command(__import__("safecomm_cli.serve", fromlist=["_"]).serve)
main.add_command(__import__("safecomm_cli.serve", fromlist=["_"]).token)


def _from_extra(name: str, module: str, extra: str, what: str) -> click.Command:
    """The command ``name`` of an extra's ``module``; without the extra, a command that
    says which extra to install instead of breaking every other command."""
    try:
        return getattr(__import__(module, fromlist=["_"]), name)  # type: ignore[no-any-return]
    except ImportError as exc:  # the extra is not installed
        missing = exc.name

    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help=f"{what[0].upper()}{what[1:]} (needs the {extra} extra).",
    )
    def fallback() -> None:
        raise click.ClickException(
            f"{what} needs the {extra} extra: pip install 'safecomm[{extra}]' ({missing})"
        )

    return fallback


main.add_command(_from_extra("stream", "safecomm_nats.cli", "nats", "the event stream"))
main.add_command(_from_extra("alerts", "safecomm_notify.cli", "notify", "alert delivery"))
