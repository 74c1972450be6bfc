"""Fuzzing the door: bad commands of every type, through Python, JSON and ``safecomm import``.

Valid commands of every type (``tests.strategies``) are bent one way at a time: a field
missing, added, of the wrong JSON type, swapped between list, string and object; dates naive,
outside the programme's window, of huge years; strings with control characters, NUL, lone
surrogates, huge, blank, full-width; numbers negative, huge, floats for ints, booleans; deep
nesting; bad ids; duplicates. Every one must end in a :class:`SafecommError` (never another
exception), write nothing (no notification, no data key), and leave the import going on.
Whatever was accepted must project without a dead letter.

Each test counts what it tried; run with ``-s`` to see the figures.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import math
import typing
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safecomm_cli.main import main

from safecomm_core import (
    COMMANDS,
    InvalidCommand,
    Safecomm,
    SafecommError,
    command_to_json,
    open_store,
    parse_command,
)
from safecomm_core.projections import Projector, SQLiteViews, builtin_projections
from tests.strategies import every_command_by_type

#: Examples per test: enough to meet every command type several times, in seconds.
EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

any_command = st.sampled_from(sorted(every_command_by_type)).flatmap(
    lambda t: every_command_by_type[t]
)

# -- bad values, by kind of mutation --------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


#: Replacement values for one leaf, by the kind of mutation they stand for.
BAD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "shape": st.sampled_from([None, [], {}, ["U", "0", "3"], "U03", {"a": 1}, [{}], [[]]]),
    "dates": st.sampled_from(
        [
            "2014-03-03T09:10:00",
            "2014-03-03",
            "1989-12-31T23:59:00+08:00",
            "2101-01-01T00:00:00+08:00",
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
            "0001-01-01",
            "9999-12-31",
            "1989-12-31",
            "2014-02-30",
            "yesterday",
            "+10000-01-01",
        ]
    ),
    "strings": st.sampled_from(
        [
            "",
            " ",
            "\u3000\u3000",
            "\t\n",
            "a\x00b",
            "\x00",
            "\ud800",
            "ok\udfff",
            "\x1b[31mred",
            "line\rreturn",
            "\u202eevil",
            "ＣＯＭＭＵＮＩＴＹ",
            "x" * 100_000,
            " padded ",
            "\x7f",
        ]
    ),
    "numbers": st.sampled_from(
        [-1, -(10**30), 10**30, 2**63, 1.5, -0.5, math.inf, math.nan, True, False, 0, 10**7]
    ),
    "nesting": st.integers(50, 400).map(_nested),
    "ids": st.sampled_from(
        [
            "a" * 65,
            "a" * 1_000_000,
            " x",
            "x ",
            "a\nb",
            "\x00",
            "\ud800",
            "ｄ－１",
            "\u200bzero-width",
            "\ue000private",
            "\U000e0001tag",
            "a\u3000b",
        ]
    ),
}
#: Leaves each kind applies to: any leaf, or those that look like its kind.
ID_KEYS = ("_id", "id", "ref", "community", "grid_unit", "mediator", "owner", "raised_by")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if path or key != "type":
                yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    if path:
        yield path, value


def _looks_like(kind: str, path: tuple[Any, ...], value: Any) -> bool:
    last = path[-1]
    if kind == "dates":
        return isinstance(value, str) and value[:1].isdigit() and len(value) >= 10
    if kind == "ids":
        return isinstance(last, str) and isinstance(value, str) and last.endswith(ID_KEYS)
    if kind == "strings":
        return isinstance(value, str)
    if kind == "numbers":
        return isinstance(value, (int, float)) or (isinstance(last, str) and "id" not in last)
    return True


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def _delete(data: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        data = data[step]
    del data[path[-1]]


@st.composite
def bad_commands(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A valid command's JSON, bent by one mutation of ``kind``."""
    return bend(draw, kind, command_to_json(draw(any_command)))


@st.composite
def valid_and_bent(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid command's JSON, and a copy of it bent by one mutation of ``kind``."""
    valid = command_to_json(draw(any_command))
    return valid, bend(draw, kind, valid)


def bend(draw: st.DrawFn, kind: str, valid: dict[str, Any]) -> dict[str, Any]:
    """``valid``, bent by one mutation of ``kind``."""
    data = json.loads(json.dumps(valid))  # a copy; tuples become lists, as JSON gives them
    if kind == "missing":
        path = draw(st.sampled_from([p for p, _ in _leaves(data)]))
        _delete(data, path)
        return data
    if kind == "extra":
        objects = [p for p, v in _leaves(data) if isinstance(v, dict)] + [()]
        where = draw(st.sampled_from(objects))
        target = data
        for step in where:
            target = target[step]
        target[draw(st.sampled_from(["colour", "\ud800", "x" * 300, "type2", ""]))] = 1
        return data
    if kind == "duplicates":
        lists = [p for p, v in _leaves(data) if isinstance(v, list) and v]
        if lists:
            path = draw(st.sampled_from(lists))
            target = data
            for step in path:
                target = target[step]
            target.append(copy.deepcopy(target[0]))
        return data
    candidates = [p for p, v in _leaves(data) if _looks_like(kind, p, v)]
    if not candidates:
        candidates = [p for p, _ in _leaves(data)]
    path = draw(st.sampled_from(candidates))
    _set(data, path, draw(BAD_VALUES[kind]))
    return data


KINDS = ("missing", "extra", "shape", "dates", "strings", "numbers", "nesting", "ids", "duplicates")

# -- measuring a store ------------------------------------------------------------------------


def written(service: Safecomm) -> tuple[int, int]:
    """(notifications, key-store rows) in the store: what a refused command must not change.

    The key store's rows are its wrapped person keys and its ID-number index.
    """
    keys: Any = service.keys
    tables = ("wrapped_keys", "id_index", "id_holders")
    rows = sum(keys._one(f"SELECT count(*) FROM {keys._t[t]}")[0] for t in tables)
    return service.log.head(), rows


def project_everything(service: Safecomm) -> None:
    """Build every shipped projection over the store: no exception, no dead letter."""
    with Projector(service, SQLiteViews(":memory:")) as projector:
        for projection in builtin_projections():
            projector.catch_up(projection)
        assert projector.dead_letters() == []


@pytest.fixture(scope="module")
def figures() -> Iterator[dict[str, Counter[str]]]:
    table: dict[str, Counter[str]] = {}
    yield table
    print(
        "\nkind of mutation | commands tried | refused cleanly (as InvalidCommand) | tracebacks"
        " | rows written on refusal | valid commands applied before them"
    )
    for kind, c in table.items():
        print(
            f"{kind} | {c['tried']} | {c['refused']} ({c['invalid']}) | {c['tracebacks']}"
            f" | {c['rows']} | {c['history']}"
        )


# -- Python and JSON refuse alike ---------------------------------------------------------------


def _pythonic(value: Any, hint: Any) -> Any:
    """The value a Python caller would pass where JSON gave ``value``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    target = args[0] if typing.get_origin(hint) is not tuple and args else hint
    if isinstance(value, list):
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else Any
        return tuple(_pythonic(v, item) for v in value)
    if isinstance(value, str) and target in (date, datetime):
        try:
            return target.fromisoformat(value)
        except ValueError:
            return value
    return value


@FUZZ
@given(
    cmd=any_command,
    data=st.data(),
    kind=st.sampled_from(["shape", "dates", "strings", "numbers", "ids"]),
)
def test_every_rule_of_the_converter_binds_a_command_built_in_python(
    cmd: Any, data: st.DataObject, kind: str
) -> None:
    cls = type(cmd)
    hints = typing.get_type_hints(cls)
    name = data.draw(st.sampled_from([a.name for a in attrs.fields(cls)]))
    bad = data.draw(BAD_VALUES[kind])
    as_json = {**command_to_json(cmd), name: bad}
    try:
        parse_command(as_json)
    except InvalidCommand as exc:
        json_fields = {e.field.split(".")[0].split("[")[0] for e in exc.errors}
    else:
        return  # a value JSON accepts here (e.g. blank notes): nothing to compare
    assert json_fields == {name}
    _python_figures["tried"] += 1
    with pytest.raises(InvalidCommand) as info:
        attrs.evolve(cmd, **{name: _pythonic(bad, hints[name])})
    assert {e.field.split(".")[0].split("[")[0] for e in info.value.errors} == {name}
    _python_figures.update(refused=1, invalid=1)


_python_figures: Counter[str] = Counter()


def test_a_naive_datetime_in_python_is_refused_and_nothing_poisons_the_store(
    memory_service: Safecomm,
) -> None:
    from safecomm_core.commands.dispute import PartyInput, ReportDispute
    from safecomm_core.values import Actor, Role

    with pytest.raises(InvalidCommand) as info:
        ReportDispute(
            command_id="c-1",
            occurred_at=datetime(2014, 3, 3, 9),
            actor=Actor("staff-1", Role.MEDIATOR),
            dispute_id="d-1",
            community="C1",
            kind="neighbour",  # type: ignore[arg-type]  # a StrEnum's value is accepted
            summary="noise",
            parties=(PartyInput(ref="p-1", role="applicant"),),  # type: ignore[arg-type]
        )
    assert (info.value.field, info.value.rule) == (
        "occurred_at",
        "must carry a UTC offset (e.g. +08:00)",
    )


# -- through handle_json ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_bad_commands_through_handle_json(kind: str, figures: dict[str, Counter[str]]) -> None:
    counts = figures.setdefault(kind, Counter())
    service = open_store("memory://")
    serial = itertools.count()

    @FUZZ
    @given(pair=valid_and_bent(kind))
    def one(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
        valid, data = pair
        # Fresh command ids (drawn ones repeat): the valid command goes first, so that
        # records exist for the bent one to meet and the projections have a history.
        n = next(serial)
        if data.get("command_id") == valid["command_id"]:
            data = {**data, "command_id": f"c-bent-{n}"}
        with contextlib.suppress(SafecommError):
            service.handle_json({**valid, "command_id": f"c-valid-{n}"})
            counts["history"] += 1
        counts["tried"] += 1
        before = written(service)
        try:
            service.handle_json(data)
        except SafecommError as exc:
            counts["refused"] += 1
            counts["invalid"] += isinstance(exc, InvalidCommand)
            if written(service) != before:
                counts["rows"] += 1
        except Exception:
            counts["tracebacks"] += 1
            raise
        else:
            counts["accepted"] += 1

    with service:
        one()
        project_everything(service)
    assert counts["tracebacks"] == 0
    assert counts["rows"] == 0
    assert counts["refused"] > 0


def test_a_command_id_used_again_or_a_record_made_twice_writes_nothing(
    memory_service: Safecomm,
) -> None:
    from safecomm_core import AlreadyExists, CommandIdReused
    from tests.commanding import sample_commands

    first = sample_commands()[0]
    memory_service.handle_json(first)
    before = written(memory_service)
    with pytest.raises(CommandIdReused):
        memory_service.handle_json({**first, "summary": "another"})
    with pytest.raises(AlreadyExists):
        memory_service.handle_json({**first, "command_id": "c-other"})
    assert written(memory_service) == before


def test_every_command_type_is_fuzzed() -> None:
    assert set(every_command_by_type) == set(COMMANDS)


# -- through safecomm import ---------------------------------------------------------------------


#: Lines no generator makes: raw bytes as a file may hold them.
RAW_LINES: list[bytes] = [
    b"\xff\xfe not utf-8",
    b'{"type": "dispute.report", "summary": "\xc3\x28"}',
    b"\xef\xbb\xbf{}",  # a BOM that is not at the start of the file
    b'{"type": "dispute.accept", "command_id": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    b"not json",
    b"[1, 2]",
    b'"a string"',
    b"null",
    b'{"type": "' + b"x" * 100_000 + b'"}',
    b'{"type": "\\u0000\\u001b[2J"}',
    b"NaN",
]


@settings(
    FUZZ,
    max_examples=10,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)
@given(lines=st.lists(st.sampled_from(KINDS).flatmap(bad_commands), min_size=10, max_size=25))
def test_bad_lines_through_safecomm_import(
    lines: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.commanding import sample_commands

    folder = tmp_path_factory.mktemp("import")
    good = [json.dumps(c, ensure_ascii=False).encode() for c in sample_commands()]
    bad = [json.dumps(c).encode() for c in lines] + RAW_LINES
    # A BOM at the very start is skipped; the good lines come after every bad one.
    body = b"\xef\xbb\xbf" + b"\n".join([*bad, *good]) + b"\n"
    path = folder / "in.jsonl"
    path.write_bytes(body)
    result = _import(path, folder / "store.db")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.output
    prefix = f"{path}:"
    reported = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    failed = int(result.stdout.rsplit(",", 1)[1].split()[0])
    assert len(reported) == failed
    assert all(len(line) < 1_000 for line in reported)  # messages quote bounded excerpts
    # Refused lines wrote nothing: importing only the lines that were not refused gives
    # the same store, the sample's dispute (after every bad line) included.
    numbers = {int(line.removeprefix(prefix).split(":", 1)[0]) for line in reported}
    kept = [
        raw.removeprefix(b"\xef\xbb\xbf")
        for number, raw in enumerate(body.split(b"\n"), start=1)
        if number not in numbers and raw.strip()
    ]
    alone = folder / "alone.jsonl"
    alone.write_bytes(b"\n".join(kept) + b"\n")
    assert _import(alone, folder / "alone.db").exit_code == 0
    with _store(folder / "store.db") as service, _store(folder / "alone.db") as expected:
        assert len(service.history("d-2014-0001")) == 5
        assert written(service) == written(expected)
    invalid = sum(": InvalidCommand: " in line for line in reported)
    _import_figures.update(tried=len(bad), refused=failed, invalid=invalid)


def _import(path: Path, store: Path) -> Any:
    return CliRunner().invoke(main, ["import", str(path), "--store", f"sqlite:///{store}"])


def _store(path: Path) -> Safecomm:
    return open_store(f"sqlite:///{path}")


_import_figures: Counter[str] = Counter()


def test_import_figures(figures: dict[str, Counter[str]]) -> None:
    figures["safecomm import (lines)"] = _import_figures
    figures["built in Python (JSON refused it)"] = _python_figures
