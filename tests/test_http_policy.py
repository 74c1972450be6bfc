"""The access policy through HTTP, cell by cell: role × command family × own/other community.

The demo's scenario is replayed in process; at the first command of each row of
:data:`~safecomm_core.access.POLICY` the command is sent over HTTP by a principal of every
role, first of another community, then of the record's own, and the status is compared
with what the table says: 403 for a role without the grant (or a new record outside the
principal's communities), 404 for an existing record of another community, 201 for the
first granted role of the record's community, and 409 for the granted roles after it
(the policy let them through to the repeat check: the command id was taken).

A shadow store runs the same scenario one command ahead, without a principal, to tell
which records each command changes, of which communities, and whether it creates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from safecomm_demo import scenario_commands

from safecomm_core import Command, Safecomm, command_to_json, open_store
from safecomm_core.access import ALL_COMMUNITIES, POLICY, Principal, Scope
from safecomm_core.domain.base import KINDS, aggregate_id
from safecomm_core.values import Role
from tests.serving import as_, auth, serving

ELSEWHERE = "C-elsewhere"
ROWS = [name for name, _scope, _roles in POLICY.table()]
ROOT = Path(__file__).resolve().parent.parent


def row_of(command_type: str) -> str:
    """The policy row that decides ``command_type``: its own, else its family's."""
    return command_type if command_type in POLICY.commands else command_type.partition(".")[0]


def changed(shadow: Safecomm, command: Command) -> list[tuple[str, bool]]:
    """(community, created) of each record ``command`` changed in the shadow store."""
    outcome = shadow.handle(command)
    found = []
    for record in outcome.records:
        kind, _, ref = record.partition(":")
        first = shadow.log.events_of(aggregate_id(kind, ref), upto=1)[0]
        assert KINDS[kind]
        found.append((first.community, first.meta.command_id == command.command_id))
    return found


def own_principal(role: Role, command: Command, communities: list[str]) -> Principal:
    served = ALL_COMMUNITIES if "*" in communities else sorted(set(communities))
    unit = getattr(command, "unit_id", None) or getattr(command, "raised_by", None)
    return Principal(f"{role}-own", role, served, grid_unit=unit if role is Role.UNIT else None)


def other_principal(role: Role) -> Principal:
    unit = "U-elsewhere" if role is Role.UNIT else None
    return Principal(f"{role}-other", role, [ELSEWHERE], grid_unit=unit)


def expected(role: Role, command: Command, records: list[tuple[str, bool]], own: bool) -> int:
    """The status the policy table calls for (201 meaning: allowed, and first)."""
    grant = POLICY.grant(command.TYPE)
    if role not in grant.roles:
        return 403
    if grant.scope is Scope.UNIT and role is Role.UNIT:
        return 201 if own else 403
    if own or not records:
        return 201
    _community, created = records[0]
    return 403 if created else 404


def observe(client: Any, principal: Principal, command: Command) -> int:
    response = client.post(
        "/v1/commands", json=as_(principal, command_to_json(command)), headers=auth(principal)
    )
    return int(response.status_code)


@pytest.fixture(scope="module")
def cells() -> dict[str, list[tuple[str, str, int, int]]]:
    """Per policy row: (role, own/other, expected, observed) for every role."""
    found: dict[str, list[tuple[str, str, int, int]]] = {}
    main, shadow = open_store("memory://"), open_store("memory://")
    try:
        with serving(main) as client:
            for command in scenario_commands():
                row = row_of(command.TYPE)
                if row in found:
                    main.handle(command)
                    shadow.handle(command)
                    continue
                records = changed(shadow, command)
                communities = [c for c, _ in records]
                cells_ = found.setdefault(row, [])
                for role in Role:
                    want = expected(role, command, records, own=False)
                    cells_.append(
                        (role, "other", want, observe(client, other_principal(role), command))
                    )
                applied = False
                for role in Role:
                    want = expected(role, command, records, own=True)
                    if want == 201 and applied:
                        want = 409  # allowed; the command id was taken by the first
                    got = observe(client, own_principal(role, command, communities), command)
                    applied = applied or got == 201
                    cells_.append((role, "own", want, got))
                if not applied:
                    main.handle(command)
                if len(found) == len(ROWS):
                    break
    finally:
        main.close()
        shadow.close()
    return found


@pytest.mark.parametrize("row", ROWS)
def test_each_cell_of_the_policy_answers_as_the_table_says(
    cells: dict[str, list[tuple[str, str, int, int]]], row: str
) -> None:
    assert row in cells, f"the scenario has no command of {row}"
    wrong = [(role, where, want, got) for role, where, want, got in cells[row] if want != got]
    assert not wrong, f"{row}: (role, community, expected, observed): {wrong}"
    statuses = {got for *_rest, got in cells[row]}
    assert 201 in statuses  # every row has an allowed cell
    assert 403 in statuses  # and a refused one


def test_the_cells_cover_every_kind_of_answer(
    cells: dict[str, list[tuple[str, str, int, int]]],
) -> None:
    assert {got for row in cells.values() for *_rest, got in row} == {201, 403, 404, 409}


def test_the_access_doc_shows_the_policy_table() -> None:
    from safecomm_http.policy_doc import policy_table

    doc = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    assert policy_table() in doc
