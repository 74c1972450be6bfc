"""Bulk import in batches: ``safecomm import --batch N`` and ``Safecomm.batch``.

What a batch stores must be what handling the same commands one by one stores, in the same
order; a refused line writes nothing and is reported; repeats are repeats; erasures and
new people's keys keep their order; a kill mid-import loses only lines never reported, and
a re-run completes the import.
"""

from __future__ import annotations

import gc
import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from conftest import store_url
from safecomm_cli.main import MAX_BATCH, main
from safecomm_demo import scenario_commands

from safecomm_core import (
    AcceptDispute,
    AlreadyExists,
    Command,
    CommandIdReused,
    FieldError,
    InvalidCommand,
    MigrantWorker,
    Principal,
    Role,
    Safecomm,
    command_to_json,
    open_store,
    parse_command,
)
from safecomm_core.domain.receipt import CommandReceipt
from tests.commanding import sample_commands

SAFECOMM = Path(sys.executable).with_name("safecomm")


def scenario(count: int) -> list[Command]:
    """The demo scenario's first ``count`` commands (every kind of record, people too)."""
    return scenario_commands(2014, 0.01)[:count]


def write_lines(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8"
    )
    return path


def stored(service: Safecomm) -> list[tuple[str, int, str]]:
    """The log as (record, version, topic), in position order.

    An ID number's record is named by a token the key store made at random, so two stores
    name it differently: it is shown by its topic alone.
    """
    rows = []
    for n in service.log.read(0, 10**9):
        record = "" if "IdNumber" in n.topic else str(n.originator_id)
        rows.append((record, n.originator_version, n.topic))
    return rows


def receipts(service: Safecomm) -> list[str]:
    return [
        service.log.decode(n).originator_id.hex
        for n in service.log.read(0, 10**9, topics=[CommandReceipt.Handled.TOPIC])
    ]


def one_by_one(commands: list[Command]) -> list[tuple[str, int, str]]:
    with open_store("memory://") as reference:
        for command in commands:
            reference.handle(command)
        return stored(reference)


def test_a_batch_stores_what_one_by_one_stores(backend: str, tmp_path: Path) -> None:
    commands = scenario(700)
    url, name = store_url(backend, tmp_path)
    try:
        with open_store(url) as service:
            settled = []
            with service.batch(40) as batch:
                for i, command in enumerate(commands):
                    settled.extend(batch.add(command, i))
                settled.extend(batch.flush())
            assert [s.tag for s in sorted(settled, key=lambda s: s.tag)] == list(range(700))
            assert all(s.error is None and s.outcome is not None for s in settled)
            assert stored(service) == one_by_one(commands)
            # Records came back as stored: a second pass finds every command a repeat.
            with service.batch(40) as batch:
                again = [s for c in commands for s in batch.add(c)] + batch.flush()
            assert len(again) == len(commands)
            assert all(s.outcome and s.outcome.duplicate for s in again)
            assert len(stored(service)) == len(one_by_one(commands))
    finally:
        if backend == "postgres":
            from conftest import drop_pg_tables

            drop_pg_tables(name)


def test_import_in_batches_equals_one_by_one(tmp_path: Path) -> None:
    lines = write_lines(tmp_path / "archive.jsonl", [command_to_json(c) for c in scenario(500)])
    runner = CliRunner()
    results = {}
    for size in (1, 64):
        url = f"sqlite:///{tmp_path / f'b{size}.db'}"
        result = runner.invoke(main, ["import", str(lines), "--store", url, "--batch", str(size)])
        assert result.exit_code == 0, result.output
        assert "500 applied, 0 already applied, 0 failed" in result.stdout
        with open_store(url) as service:
            results[size] = (stored(service), sorted(receipts(service)))
    assert results[1] == results[64]


def test_a_refused_line_mid_batch_is_reported_and_writes_nothing(tmp_path: Path) -> None:
    sample = sample_commands()
    again = dict(sample[1], command_id="again-accept")  # the dispute is accepted by now
    unknown = dict(sample[1], command_id="no-such", dispute_id="d-none")
    path = write_lines(tmp_path / "f.jsonl", [*sample[:3], again, unknown, *sample[3:]])
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(main, ["import", str(path), "--store", url, "--batch", "50"])
    assert result.exit_code == 1
    assert f"{path}:4: InvalidTransition:" in result.stderr
    assert f"{path}:5: NotFound: no dispute with id 'd-none'" in result.stderr
    assert "5 applied, 0 already applied, 2 failed" in result.stdout
    with open_store(url) as service:
        events = [e.event for e in service.history("d-2014-0001", "dispute")]
        assert stored(service) == one_by_one([parse_command(c) for c in sample])
    assert len(events) == 5
    # The same lines, --stop-on-error: the lines before the refused one are stored.
    url2 = f"sqlite:///{tmp_path / 's2.db'}"
    stop = CliRunner().invoke(
        main, ["import", str(path), "--store", url2, "--batch", "50", "--stop-on-error"]
    )
    assert "3 applied, 0 already applied, 1 failed" in stop.stdout
    with open_store(url2) as service:
        assert len(service.history("d-2014-0001", "dispute")) == 3


def test_repeats_within_a_batch(tmp_path: Path) -> None:
    sample = sample_commands()
    reused = dict(sample[2], actor={"id": "staff-099", "role": "mediator"})
    path = write_lines(tmp_path / "f.jsonl", [sample[0], sample[1], sample[1], reused, sample[2]])
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(main, ["import", str(path), "--store", url])
    assert f"{path}:5: CommandIdReused:" in result.stderr  # line 4 took c-3 first
    assert "3 applied, 1 already applied, 1 failed" in result.stdout
    with open_store(url) as service:
        assert len(service.history("d-2014-0001", "dispute")) == 3


def _register(n: int, ref: str, id_number: str) -> dict[str, Any]:
    return {
        "type": "migrant.register",
        "command_id": f"reg-{n}",
        "occurred_at": "2014-03-03T10:00:00+08:00",
        "actor": {"id": "staff-113", "role": "coordinator"},
        "channel": "employer",
        "worker_id": f"mw-{n}",
        "community": "C2",
        "person": {"ref": ref, "name": f"工人{n}", "id_number": id_number, "phone": None},
        "arrived_on": "2014-03-02",
        "dwelling": "滨江花园11栋2单元476",
    }


def test_keys_and_erasures_in_a_batch(tmp_path: Path) -> None:
    erase = {
        "type": "migrant.erase",
        "command_id": "erase-1",
        "occurred_at": "2014-04-01T10:00:00+08:00",
        "actor": {"id": "staff-113", "role": "coordinator"},
        "worker_id": "mw-1",
    }
    lines = [
        _register(1, "p-1", "530102199308160864"),
        _register(2, "p-2", "530102199001010016"),
        _register(3, "p-3", "530102199308160864"),  # the first worker's ID number: refused
        erase,
        _register(4, "p-4", "530102199308160864"),  # free again once erased
    ]
    path = write_lines(tmp_path / "f.jsonl", lines)
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(main, ["import", str(path), "--store", url, "--batch", "100"])
    assert f"{path}:3: AlreadyExists:" in result.stderr
    assert "4 applied, 0 already applied, 1 failed" in result.stdout
    with open_store(url) as service:
        assert stored(service) == one_by_one(
            [parse_command(line) for i, line in enumerate(lines) if i != 2]
        )
        assert service.keys.person_key("p-3", create=False) is None  # refused: no key kept
        assert service.keys.person_key("p-1", create=False) is None  # erased
        second = service.get(MigrantWorker, "mw-2")
        assert service.person(second.person).name == "工人2"
        fourth = service.get(MigrantWorker, "mw-4")
        assert service.person(fourth.person).name == "工人4"


def _receipt_count(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute(
                "SELECT count(*) FROM stored_events WHERE topic = ?",
                (CommandReceipt.Handled.TOPIC,),
            ).fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return int(row[0])


def test_a_killed_import_loses_nothing_reported_and_a_rerun_completes_it(tmp_path: Path) -> None:
    commands = scenario(1500)
    path = write_lines(tmp_path / "archive.jsonl", [command_to_json(c) for c in commands])
    expected = one_by_one(commands)
    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    proc = subprocess.Popen(
        [str(SAFECOMM), "import", str(path), "--store", url, "--batch", "25"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _receipt_count(db) < 100 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    with open_store(url) as service:
        cut = stored(service)
        landed = len(receipts(service))
    assert 100 <= landed < len(commands)
    # Whole commands only: the log is the one-by-one log cut at a command's end.
    assert cut == expected[: len(cut)]
    assert len(cut) == len(expected) or expected[len(cut)][2] == CommandReceipt.Handled.TOPIC
    rerun = subprocess.run(
        [str(SAFECOMM), "import", str(path), "--store", url, "--batch", "25"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{len(commands) - landed} applied, {landed} already applied, 0 failed" in rerun.stdout
    with open_store(url) as service:
        assert stored(service) == expected


def test_the_progress_bar_is_drawn_on_a_terminal_only(tmp_path: Path) -> None:
    lines = [command_to_json(c) for c in scenario(50)]
    lines.insert(25, {"type": "dispute.report", "command_id": "refused"})  # line 26
    path = write_lines(tmp_path / "f.jsonl", lines)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(SAFECOMM), "import", str(path), "--store", f"sqlite:///{tmp_path / 'a.db'}"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert b"importing f.jsonl" in drawn
    assert b"100%" in drawn
    # A refused line takes the bar's place on the terminal instead of trailing after it.
    assert b"\r\x1b[2K" + f"{path}:26: InvalidCommand:".encode() in drawn
    assert b"50 applied" in out
    piped = subprocess.run(
        [str(SAFECOMM), "import", str(path), "--store", f"sqlite:///{tmp_path / 'b.db'}"],
        capture_output=True,
    )
    assert piped.stderr.startswith(f"{path}:26: InvalidCommand:".encode())
    assert piped.stderr.count(b"\n") == 1  # that line alone: no bar


@pytest.mark.parametrize("size", [0, -3, MAX_BATCH + 1, 10**22])
def test_a_batch_holds_at_least_one_command(size: int, tmp_path: Path) -> None:
    # ... and at most MAX_BATCH: a batch keeps the key store's write lock while it is decided,
    # and a store cannot even be opened elsewhere meanwhile (after 10 s: "database is locked").
    path = write_lines(tmp_path / "f.jsonl", sample_commands())
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(main, ["import", str(path), "--store", url, "--batch", str(size)])
    assert result.exit_code == 2
    assert f"Invalid value for '--batch': {size} is not in the range 1<=x<=1000." in result.output
    assert not (tmp_path / "s.db").exists()


def test_an_import_interrupted_says_what_was_stored_and_leaves_no_key_transaction_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C as line 3 is read: lines 1 and 2 were decided, their batch holds the key
    # store's transaction open (line 1 keeps people's keys), and nothing of it is stored.
    import safecomm_cli.main as cli

    read = cli._read_line

    def interrupted(raw: bytes, *, first: bool) -> Any:
        if b'"c-3"' in raw:
            raise KeyboardInterrupt
        return read(raw, first=first)

    unraisable: list[Any] = []
    monkeypatch.setattr(cli, "_read_line", interrupted)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    path = write_lines(tmp_path / "f.jsonl", sample_commands())
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(main, ["import", str(path), "--store", url])
    gc.collect()
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines() == [
        "interrupted at line 3 (0 applied, 0 already applied, 0 failed): lines not counted "
        "were not stored; run the same import again to complete it"
    ]
    assert unraisable == []  # the key store's transaction was ended before the store closed
    with open_store(url) as service:
        assert receipts(service) == []
    monkeypatch.setattr(cli, "_read_line", read)
    again = CliRunner().invoke(main, ["import", str(path), "--store", url])
    assert "5 applied, 0 already applied, 0 failed" in again.stdout


@attrs.frozen
class AcceptThenRefuse(AcceptDispute):
    """An acceptance refused after its event was applied (no shipped command does this:
    each checks before it applies; the batch must not rely on it)."""

    def run(self, ctx: Any) -> None:
        super().run(ctx)
        raise InvalidCommand([FieldError("dispute_id", "refused after deciding")])


def test_a_record_changed_by_a_refused_command_is_stored_as_before_it() -> None:
    report, accept = (parse_command(c) for c in sample_commands()[:2])
    spoiler = AcceptThenRefuse(**{f: getattr(accept, f) for f in attrs.fields_dict(AcceptDispute)})
    spoiler = attrs.evolve(spoiler, command_id="spoiler")
    with open_store("memory://") as service, service.batch(10) as batch:
        settled = batch.add(report, "report")
        assert settled == []  # held, not yet stored
        settled = batch.add(spoiler, "spoiler")
        assert [s.tag for s in settled] == ["report", "spoiler"]
        assert settled[1].error is not None
        assert "refused after deciding" in str(settled[1].error)
        assert batch.add(accept, "accept") == []
        assert [s.tag for s in batch.flush()] == ["accept"]
        events = [e.event for e in service.history("d-2014-0001", "dispute")]
        assert len(events) == 2
        assert service.receipt("spoiler") is None


def test_a_batch_that_meets_another_writer_is_decided_again_command_by_command(
    tmp_path: Path,
) -> None:
    report, accept, assign = (parse_command(c) for c in sample_commands()[:3])
    other_accept = attrs.evolve(accept, command_id="other-writer")
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as ours, open_store(url) as other:
        ours.handle(report)
        with ours.batch(10) as batch:
            assert batch.add(accept, "accept") == []
            assert batch.add(assign, "assign") == []
            other.handle(other_accept)  # stored while ours is held
            settled = batch.flush()
        assert [s.tag for s in settled] == ["accept", "assign"]
        assert settled[0].error is not None
        assert "accept" in str(settled[0].error)
        assert settled[1].outcome is not None
        assert not settled[1].outcome.duplicate
        history = ours.history("d-2014-0001", "dispute")
        assert [e.command_id for e in history] == ["c-1", "other-writer", "c-3"]


def test_a_batch_applies_the_access_policy_to_each_command() -> None:
    sample = [parse_command(c) for c in sample_commands()[:2]]  # staff-017's own
    other_community = Principal("staff-017", Role.MEDIATOR, ["C2"])
    own = Principal("staff-017", Role.MEDIATOR, ["C1"])
    with open_store("memory://") as service:
        with service.batch(10, principal=other_community) as batch:
            refused = batch.add(sample[0], "report") + batch.flush()
        assert [type(s.error).__name__ for s in refused] == ["Forbidden"]
        assert service.receipt(sample[0].command_id) is None
        with service.batch(10, principal=own) as batch:
            settled = [s for c in sample for s in batch.add(c, c.command_id)] + batch.flush()
        assert [s.error for s in settled] == [None] * len(sample)
        assert len(service.history("d-2014-0001", "dispute")) == len(sample)


def test_a_receipt_made_as_its_event_is_the_receipt_eventsourcing_would_make() -> None:
    command = parse_command(sample_commands()[0])
    fields: dict[str, Any] = {
        "meta": command.meta,
        "ref": command.command_id,
        "community": "c-1",
        "command_type": command.TYPE,
        "fingerprint": "f" * 64,
        "records": ("dispute:d-1",),
    }
    made = CommandReceipt.handled(**fields)
    [expected] = CommandReceipt(**fields).collect_events()
    assert type(made) is type(expected)
    assert vars(made) == {**vars(expected), "timestamp": made.timestamp}
    receipt = made.mutate(None)
    assert (receipt.id, receipt.version, receipt.fingerprint, receipt.records) == (
        expected.originator_id,
        1,
        "f" * 64,
        ("dispute:d-1",),
    )


def test_a_handled_command_reads_back_its_receipt() -> None:
    with open_store("memory://") as service:
        command = parse_command(sample_commands()[0])
        outcome = service.handle(command)
        receipt = service.receipt(command.command_id)
        assert receipt is not None
        assert receipt.fingerprint == service.fingerprint(command)
        assert receipt.records == outcome.records
        assert service.handle(command).duplicate


def test_any_stored_after_asks_every_record_at_once(backend: str, tmp_path: Path) -> None:
    from safecomm_core.domain.base import aggregate_id

    url, name = store_url(backend, tmp_path)
    try:
        with open_store(url) as service:
            for command in sample_commands()[:2]:  # d-2014-0001 reported, then accepted
                service.handle_json(command)
            dispute = aggregate_id("dispute", "d-2014-0001")
            absent = aggregate_id("dispute", "d-2099-0001")
            receipt = aggregate_id(CommandReceipt.KIND, "c-1")
            log = service.log
            assert not log.any_stored_after({})
            assert not log.any_stored_after({absent: 0})
            assert not log.any_stored_after({absent: 0, dispute: 2})
            assert log.any_stored_after({absent: 0, dispute: 1})
            assert log.any_stored_after({dispute: 2, receipt: 0})
            many = {aggregate_id("dispute", f"d-2099-{n:04}"): 0 for n in range(1200)}
            assert not log.any_stored_after(many)
            assert log.any_stored_after({**many, dispute: 1})
    finally:
        if backend == "postgres":
            from conftest import drop_pg_tables

            drop_pg_tables(name)


def test_a_command_keeping_keys_that_the_store_refuses_is_refused_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as service:
        service.handle_json(_register(1, "p-1", "530102199308160864"))
    # A new service: nothing lent from its recent records, so only the store can tell that
    # mw-1 exists and that reg-1 was handled.
    reused = dict(_register(2, "p-2", "530102199001010016"), command_id="reg-1")
    taken = dict(_register(3, "p-3", "530102199001010024"), worker_id="mw-1")
    fine = _register(4, "p-4", "530102199001010032")
    with open_store(url) as service:
        with service.batch(10) as batch:
            settled = [
                s
                for i, c in enumerate([reused, taken, fine])
                for s in batch.add(parse_command(c), i)
            ]
            assert settled == []  # decided, held: the store is asked once, as it is written
            settled = batch.flush()
        assert [s.tag for s in settled] == [0, 1, 2]
        errors = [s.error for s in settled]
        assert isinstance(errors[0], CommandIdReused)
        assert isinstance(errors[1], AlreadyExists)
        assert (errors[1].field, errors[1].rule) == ("worker_id", "must not exist yet")
        assert errors[2] is None
        for ref in ("p-2", "p-3"):  # refused: no key kept
            assert service.keys.person_key(ref, create=False) is None
        assert service.person(service.get(MigrantWorker, "mw-4").person).name == "工人4"
        assert service.person(service.get(MigrantWorker, "mw-1").person).name == "工人1"


def test_a_batch_reads_each_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = scenario(400)

    def key_reads(run: Any) -> list[str]:
        with open_store("memory://") as service:
            reads: list[str] = []
            real = service.keys.person_key

            def counted(ref: str, *, create: bool) -> Any:
                reads.append(ref)
                return real(ref, create=create)

            monkeypatch.setattr(service.keys, "person_key", counted)
            run(service)
            assert stored(service) == one_by_one(commands)
            return reads

    def in_one_batch(service: Safecomm) -> None:
        with service.batch(len(commands)) as batch:
            for command in commands:
                assert all(s.error is None for s in batch.add(command))

    alone = key_reads(lambda service: [service.handle(c) for c in commands])
    assert len(alone) > len(set(alone))  # commands read the same keys again
    batched = key_reads(in_one_batch)
    assert len(batched) == len(set(batched))
