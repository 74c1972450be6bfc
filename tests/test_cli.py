"""The ``safecomm`` command as a user meets it: import, history, schema, errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from safecomm_cli.main import friendly, main
from safecomm_reports import UnsupportedOutput

from safecomm_core import errors, open_store
from safecomm_core.audit import AuditError, KeyFileError, TamperDetected
from safecomm_core.indicators import UnknownIndicator
from safecomm_core.masterkey import MasterKeyError
from safecomm_core.projections.errors import ProjectionError, ViewDatabaseError
from safecomm_core.validation import COMMAND_MAX_BYTES
from tests.commanding import SAMPLE


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_import_then_reimport_changes_nothing(runner: CliRunner, url: str) -> None:
    first = runner.invoke(main, ["import", str(SAMPLE), "--store", url])
    assert first.exit_code == 0, first.output
    assert "5 applied, 0 already applied, 0 failed" in first.output
    again = runner.invoke(main, ["import", str(SAMPLE), "--store", url])
    assert "0 applied, 5 already applied, 0 failed" in again.output


def test_bad_lines_are_reported_with_number_field_and_reason(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["dispute_id"] = ""
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join([lines[0], "{not json", json.dumps(broken), *lines[1:]]) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["import", str(bad), "--store", url])
    assert result.exit_code == 1
    assert f"{bad}:2: InvalidCommand: malformed JSON" in result.stderr
    assert f"{bad}:3: InvalidCommand: dispute_id: must not be empty" in result.stderr
    assert "5 applied, 0 already applied, 2 failed" in result.stdout


def test_import_reports_each_unreadable_line_and_goes_on(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    lines = SAMPLE.read_bytes().splitlines()
    first = json.loads(lines[0])
    bad = [
        json.dumps({**first, "summary": "\ud800"}).encode(),  # a lone surrogate
        json.dumps({**first, "occurred_at": "9999-12-31T23:59:59-12:00"}).encode(),
        b"[" * 5000 + b"]" * 5000,  # nested too deeply for the JSON reader
        b'{"type": "dispute.report", "summary": "\xff"}',  # not UTF-8
        json.dumps({**first, "dispute_id": "d" * 1_000_000}).encode(),
    ]
    # A byte-order mark at the start of the file is skipped, not a failed line.
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join([*bad, *lines]) + b"\n")
    result = runner.invoke(main, ["import", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}:1: InvalidCommand: summary: no control characters (tab and newline only)",
        f"{path}:2: InvalidCommand: occurred_at: must fall between 1990-01-01 and 2100-12-31",
        f"{path}:3: InvalidCommand: malformed JSON: nested too deeply",
        f"{path}:4: InvalidCommand: not UTF-8: byte 0xff at column 40",
        f"{path}:5: InvalidCommand: dispute_id: at most 64 characters",
    ]
    assert "5 applied, 0 already applied, 5 failed" in result.stdout


def test_a_number_too_long_to_read_is_a_refused_line_not_the_end_of_the_import(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    # Python refuses to read integers of more than 4,300 digits (a guard against slow
    # conversions): one such line is reported like any malformed line, and the rest is read.
    path = tmp_path / "long.jsonl"
    path.write_text(
        '{"count": ' + "1" * 5000 + "}\n" + SAMPLE.read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = runner.invoke(main, ["import", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}:1: InvalidCommand: malformed JSON: a number of more than 4300 digits"
    ]
    assert "5 applied, 0 already applied, 1 failed" in result.stdout


def test_a_line_of_json_null_is_refused_not_skipped_as_blank(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    path = tmp_path / "null.jsonl"
    path.write_text("null\n \n" + SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}:1: InvalidCommand: a command must be a JSON object"
    ]
    assert "5 applied, 0 already applied, 1 failed" in result.stdout


def test_a_line_longer_than_a_command_may_be_is_refused_unread(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    # A file with no line breaks (a dump, a JSON array on one line) is not read whole into
    # memory: a line is read up to the largest command (1 MiB, as the HTTP API takes).
    first = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    huge = json.dumps({**first, "summary": "x" * (2 << 20)})
    just = json.dumps({**first, "command_id": "c-just", "summary": "y"})
    just = just.replace('"y"', '"y' + " " * (COMMAND_MAX_BYTES - len(just)) + '"')
    assert len(just.encode()) == COMMAND_MAX_BYTES
    path = tmp_path / "huge.jsonl"
    path.write_text(f"{huge}\r\n{just}\n" + SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}:1: InvalidCommand: longer than a command may be: at most 1,048,576 bytes",
        f"{path}:2: InvalidCommand: summary: at most 4000 characters",
    ]
    assert "5 applied, 0 already applied, 2 failed" in result.stdout


def test_an_empty_store_url_is_refused_not_taken_for_the_default(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --store "$URL" with URL unset: nothing is written to ./safecomm.db instead.
    monkeypatch.chdir(tmp_path)
    for given in ("", "  "):
        result = runner.invoke(main, ["import", str(SAMPLE), "--store", given])
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--store': empty: give a store URL" in result.stderr
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_fails_as_it_is_read_ends_the_import_in_one_line(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    result = runner.invoke(main, ["import", "/proc/self/mem", "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Error: cannot read /proc/self/mem after line 0: Input/output error"
    ]
    assert "0 applied, 0 already applied, 0 failed" in result.stdout
    # A file that cannot be opened (a socket) is named, and no store is made.
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    other = tmp_path / "other.db"
    result = runner.invoke(
        main, ["import", str(tmp_path / "sock"), "--store", f"sqlite:///{other}"]
    )
    sock.close()
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"Error: Could not open file '{tmp_path / 'sock'}': No such device or address"
    ]
    assert not other.exists()


def test_a_line_naming_a_field_twice_is_refused_not_read_as_its_last(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    # {"dispute_id": "d-1", ..., "dispute_id": "d-2"} reads as d-1 to a reviewer and as d-2
    # to json.loads: which one was meant is not for the import to guess.
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    twice = lines[1][:-1] + ', "dispute_id": "d-other"}'
    nested = lines[0].replace('"role":"applicant"', '"role":"applicant","role":"respondent"')
    assert nested != lines[0]
    path = tmp_path / "twice.jsonl"
    path.write_text("\n".join([nested, lines[0], twice, *lines[1:]]) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{path}:1: InvalidCommand: malformed JSON: the key 'role' appears twice in an object",
        f"{path}:3: InvalidCommand: malformed JSON: the key 'dispute_id' appears twice in an "
        "object",
    ]
    assert "5 applied, 0 already applied, 2 failed" in result.stdout


def test_stop_on_error(runner: CliRunner, url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n" + SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(main, ["import", str(bad), "--store", url, "--stop-on-error"])
    assert result.exit_code == 1
    assert "0 applied, 0 already applied, 1 failed" in result.stdout


def test_history_shows_both_times_and_the_actor(runner: CliRunner, url: str) -> None:
    runner.invoke(main, ["import", str(SAMPLE), "--store", url])
    result = runner.invoke(main, ["history", "d-2014-0001", "--store", url])
    assert result.exit_code == 0
    assert "dispute:d-2014-0001 v1 Reported" in result.stdout
    assert "occurred 2014-03-03T09:10:00+08:00  recorded 20" in result.stdout
    assert "by staff-002 (committee)" in result.stdout
    assert "王建国" not in result.stdout  # people appear by ref only
    as_json = runner.invoke(main, ["history", "d-2014-0001", "--json", "--store", url])
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [e["event"] for e in events][-1] == "AgreementReached"


def test_history_escapes_what_could_forge_an_entry(runner: CliRunner, url: str) -> None:
    runner.invoke(main, ["import", str(SAMPLE), "--store", url])
    follow_up = {
        "type": "dispute.follow_up",
        "command_id": "c-forge",
        "occurred_at": "2014-03-05T09:00:00+08:00",
        "actor": {"id": "staff-017", "role": "mediator"},
        "dispute_id": "d-2014-0001",
        "notes": "met\ndispute:d-2014-0001 v9 Archived\n    by admin (admin)\tok",
    }
    with open_store(url) as service:
        service.handle_json(follow_up)
    sealed = runner.invoke(main, ["history", "d-2014-0001", "--store", url])
    assert "notes=[sealed]" in sealed.stdout
    assert "met" not in sealed.stdout
    result = runner.invoke(
        main, ["history", "d-2014-0001", "--open-text", "--why", "to check", "--store", url]
    )
    assert result.exit_code == 0
    assert "notes=met\\ndispute:d-2014-0001 v9 Archived\\n    by admin (admin)\\tok" in (
        result.stdout
    )
    assert not any(line.startswith("dispute:d-2014-0001 v9") for line in result.stdout.splitlines())


def test_opening_free_text_says_why_and_is_recorded(runner: CliRunner, url: str) -> None:
    """The operator opens free text as anyone does: for a stated reason, the opening stored
    first (docs/personal-data.md, *Free text*)."""
    runner.invoke(main, ["import", str(SAMPLE), "--store", url])
    with open_store(url) as service:
        head = service.log.head()
    refused = runner.invoke(main, ["history", "d-2014-0001", "--open-text", "--store", url])
    assert refused.exit_code == 2
    assert "--why" in refused.stderr
    blank = runner.invoke(
        main, ["history", "d-2014-0001", "--open-text", "--why", " ", "--store", url]
    )
    assert blank.exit_code != 0
    assert "why" in blank.stderr
    with open_store(url) as service:
        assert service.log.head() == head
    result = runner.invoke(
        main,
        ["history", "d-2014-0001", "--open-text", "--why", "a court asked", "--store", url],
    )
    assert result.exit_code == 0
    assert "summary=Water leaking from the flat above" in result.stdout
    with open_store(url) as service:
        (notification,) = service.log.read(head, 10)
        opening = service.log.decode(notification)
    assert type(opening).__name__ == "Opened"
    assert (opening.person, opening.record, opening.why) == (
        "record:dispute:d-2014-0001",
        "dispute:d-2014-0001",
        "a court asked",
    )
    assert opening.meta.actor.id == "safecomm-operator"


def test_unknown_record_is_one_line_and_exit_4(runner: CliRunner, url: str) -> None:
    result = runner.invoke(main, ["history", "d-nope", "--store", url])
    assert result.exit_code == 4
    assert result.stderr.strip() == "error: no record with id 'd-nope'"


def test_bad_store_url_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["history", "x", "--store", "mysql://db"])
    assert result.exit_code == 5
    assert result.stderr.startswith("error: unknown store URL 'mysql://db'")


class Unforeseen(errors.SafecommError):
    """An error the exit-status table does not name, nor any of its bases but the root."""


BAD = [errors.FieldError("period", "must be YYYY-MM")]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unforeseen("odd"), 1),
        (errors.InvalidCommand(BAD), 2),
        (errors.UnknownCommandType(BAD), 2),
        (KeyFileError("no key file"), 2),  # an audit error, but its own entry wins: bad input
        (MasterKeyError("no master key"), 2),  # a store error, but a setting to fix
        (UnknownIndicator("no indicator"), 2),
        (UnsupportedOutput("no such format"), 2),
        (errors.RuleViolation("refused"), 3),
        (errors.InvalidTransition("closed"), 3),
        (errors.AlreadyExists("taken"), 3),
        (errors.CommandIdReused("other content"), 3),
        (errors.NotFound("dispute", "d-nope"), 4),
        (errors.PersonErased("erased"), 4),
        (errors.StoreError("unreachable"), 5),
        (ProjectionError("views disagree"), 5),
        (ViewDatabaseError("locked"), 5),
        (errors.ConcurrencyConflict("lost the race"), 6),
        (AuditError("no ledger"), 7),
        (TamperDetected("altered"), 8),
        (errors.Forbidden("not for this role"), 9),
    ],
    ids=lambda p: type(p).__name__ if isinstance(p, Exception) else str(p),
)
def test_each_error_ends_in_its_exit_status(
    runner: CliRunner, error: errors.SafecommError, status: int
) -> None:
    @click.command()
    @friendly
    def failing() -> None:
        raise error

    result = runner.invoke(failing)
    assert result.exit_code == status
    assert result.stderr == f"error: {error}\n"


def test_a_reader_that_stops_reading_is_not_an_error(runner: CliRunner, url: str) -> None:
    # `safecomm report explain … | head`: the reader closes the pipe before the answer is
    # written. The command ends quietly, as without the pipe, never with "internal error".
    import subprocess
    import sys

    assert runner.invoke(main, ["import", str(SAMPLE), "--store", url]).exit_code == 0
    command = "from safecomm_cli.main import main; main()"
    args = ["report", "explain", "mediation_success_rate", "--store", url, "--period", "2014-03"]
    proc = subprocess.Popen(
        [sys.executable, "-c", command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # before the command has started: its first write finds no reader
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, stderr
    assert "error" not in stderr
    assert "Traceback" not in stderr


def test_schema_is_generated_for_every_command(runner: CliRunner) -> None:
    from safecomm_core import COMMANDS

    result = runner.invoke(main, ["schema"])
    schema = json.loads(result.stdout)
    consts = {
        body["properties"]["type"]["const"]
        for body in schema["$defs"].values()
        if "type" in body.get("properties", {}) and "const" in body["properties"]["type"]
    }
    assert consts == set(COMMANDS)
    report = next(
        b
        for b in schema["$defs"].values()
        if b.get("properties", {}).get("type", {}).get("const") == "dispute.report"
    )
    assert report["properties"]["occurred_at"]["format"] == "date-time"
    assert {"type", "command_id", "occurred_at", "actor", "parties"} <= set(report["required"])


def test_demo_records_reports_seals_and_is_idempotent(
    runner: CliRunner, url: str, tmp_path: Path
) -> None:
    out, key = tmp_path / "reports", tmp_path / "seal.key"
    args = ["demo", "--store", url, "--scale", "0.03", "--out", str(out), "--key", str(key)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "Recorded " in first.stdout
    assert "INTACT" in first.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "monthly-2014-12.html",
        "monthly-2014-12.xlsx",
        "self-assessment.html",
        "self-assessment.xlsx",
        "watchlist.html",
        "watchlist.xlsx",
    ]
    assert key.exists()
    assert key.with_name("seal.key.pub").exists()
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "Nothing new: all" in second.stdout
    assert "the store is unchanged" in second.stdout


def test_the_command_works_without_the_optional_extras() -> None:
    # The main job installs the core and the CLI only (no http, no nats extra): every
    # command loads, and those of a missing extra say which extra to install.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('nats', 'litestar', 'uvicorn', 'jwt', 'aiomqtt', 'httpx'):\n"
        "    sys.modules[name] = None\n"
        "from safecomm_cli.main import main\n"
        "main()\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
        )

    assert run("schema").returncode == 0
    stream = run("stream", "publish", "--store", "memory://")
    assert stream.returncode == 1
    assert (
        stream.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "Error: the event stream needs the nats extra: pip install 'safecomm[nats]' (nats"
        )
    )
    alerts = run("alerts", "dispatch", "--store", "memory://")
    assert alerts.returncode == 1
    assert (
        alerts.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "Error: alert delivery needs the notify extra: pip install 'safecomm[notify]' ("
        )
    )
    served = run("serve", "--store", "memory://", "--auth-key", __file__)
    assert served.returncode != 0
    assert "pip install 'safecomm[http]'" in served.stderr
    assert "Traceback" not in stream.stderr + served.stderr + alerts.stderr
