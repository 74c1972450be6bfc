"""Bad input gets a typed error naming the field and the rule, and nothing is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from safecomm_core import InvalidCommand, UnknownCommandType, parse_command
from tests.commanding import sample_commands

REPORT: dict[str, Any] = sample_commands()[0]


def errors_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    return [(e.field, e.rule) for e in info.value.errors]


def changed(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORT)
    for name, value in fields.items():
        if value is ...:
            del data[name]
        else:
            data[name] = value
    return data


def test_the_sample_is_valid() -> None:
    assert parse_command(REPORT).TYPE == "dispute.report"


def test_not_an_object() -> None:
    assert errors_of([1, 2]) == [("", "a command must be a JSON object")]


def test_missing_and_unknown_type() -> None:
    assert errors_of(changed(type=...)) == [("type", "required field missing")]
    with pytest.raises(UnknownCommandType, match=r"dispute\.explode"):
        parse_command(changed(type="dispute.explode"))


def test_missing_field() -> None:
    assert ("summary", "required field missing") in errors_of(changed(summary=...))


def test_extra_field() -> None:
    assert errors_of(changed(colour="red")) == [("colour", "unknown field")]


def test_extra_field_inside_a_party() -> None:
    data = changed()
    data["parties"][1]["age"] = 40
    assert errors_of(data) == [("parties[1].age", "unknown field")]


def test_mistyped_fields_are_not_coerced() -> None:
    assert errors_of(changed(community=7)) == [("community", "must be str")]
    assert errors_of(changed(parties="p-1")) != []


def test_naive_datetime_is_refused() -> None:
    assert errors_of(changed(occurred_at="2014-03-03T09:10:00")) == [
        ("occurred_at", "must carry a UTC offset (e.g. +08:00)")
    ]


def test_bad_enum_names_the_allowed_values() -> None:
    ((field, rule),) = errors_of(changed(kind="noise"))
    assert field == "kind"
    assert "'neighbour'" in rule


def test_validator_rule_names_the_nested_attribute() -> None:
    data = changed()
    data["parties"][0]["phone"] = "call me"
    assert errors_of(data) == [("parties[0].phone", "must be a phone number")]
    assert errors_of(changed(summary="  ")) == [("summary", "must not be empty")]


def test_every_broken_field_is_named_at_once() -> None:
    fields = {f for f, _ in errors_of(changed(community=..., kind="x", actor={"id": "a"}))}
    assert fields == {"community", "kind", "actor.role"}


def test_every_broken_field_is_named_at_every_depth() -> None:
    data = changed(summary=" ", route=None)
    data["parties"][0] |= {"phone": "-----", "id_number": "x", "colour": 1}
    data["parties"][1]["name"] = "\u3000"
    data["actor"]["id"] = "staff\x00"
    assert sorted(errors_of(data)) == [
        ("actor.id", "printable characters only (no control or format characters)"),
        ("parties[0].colour", "unknown field"),
        ("parties[0].id_number", "must be a 15- or 18-digit ID number"),
        ("parties[0].phone", "must be a phone number"),
        ("parties[1].name", "must not be empty"),
        ("route", "unknown field"),
        ("summary", "must not be empty"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("parties", "p-1", "must be a list"),
        ("parties", {}, "must be a list"),
        ("dispute_id", "x" * 1_000_000, "at most 64 characters"),
        ("dispute_id", "d\x00", "printable characters only (no control or format characters)"),
        ("dispute_id", "ｄ－１", "no full-width or compatibility characters (NFKC form)"),
        ("dispute_id", " d-1", "no space at either end"),
        ("grid_unit", "\u3000", "must not be empty"),
        ("summary", "a\x1bb", "no control characters (tab and newline only)"),
        ("summary", "\ud800", "no control characters (tab and newline only)"),
        ("summary", "x" * 4001, "at most 4000 characters"),
        ("occurred_at", "9999-12-31T23:59:59-12:00", "must fall between 1990-01-01 and 2100-12-31"),
        ("occurred_at", "0001-01-01T00:00:00+00:00", "must fall between 1990-01-01 and 2100-12-31"),
    ],
)
def test_garbage_is_refused_at_the_door(field: str, value: Any, rule: str) -> None:
    assert errors_of(changed(**{field: value})) == [(field, rule)]


def test_a_phone_is_digits_with_separators() -> None:
    for phone in ["-----", "+", "12-34", "１３８００００１００１", "138 0000 1001 x"]:
        data = changed()
        data["parties"][0]["phone"] = phone
        assert errors_of(data) == [("parties[0].phone", "must be a phone number")]
    data = changed()
    data["parties"][0]["phone"] = "+86 138-0000-1001"
    assert parse_command(data).parties[0].phone == "+86 138-0000-1001"


def test_unknown_rules_are_all_named_and_quoted_safely() -> None:
    adopt = {
        "type": "rules.adopt",
        "command_id": "c-rules",
        "occurred_at": "2014-03-03T09:10:00+08:00",
        "actor": {"id": "admin-1", "role": "admin"},
        "effective_from": "2014-04-01",
        "changes": {"nope": 1, "\ud800": 2, "settle_within_days": 10},
    }
    assert sorted(errors_of(adopt)) == [
        ("changes.'\\ud800'", "unknown rule"),
        ("changes.nope", "unknown rule"),
    ]
    assert errors_of(adopt | {"changes": ["settle_within_days"]}) == [
        ("changes", "must be an object")
    ]


def test_nothing_is_written_for_bad_input(memory_service: Any) -> None:
    with pytest.raises(InvalidCommand):
        memory_service.handle_json(changed(occurred_at="yesterday"))
    assert list(memory_service.log.read(0, 1000)) == []
