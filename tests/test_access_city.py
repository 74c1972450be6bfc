"""The access policy in a city, cell by cell: which store serves a principal (its
subdistricts), and who reads the city's figures of which scope; the tokens' claim.

Within a subdistrict's store the principal's communities are held as everywhere
(tests/test_access.py); these tests are about the subdistricts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from safecomm_cli.main import main
from safecomm_tokens import InvalidToken, TokenVerifier, claims_of, issue_token

from safecomm_core import Forbidden, NotFound
from safecomm_core.access import ALL_COMMUNITIES, ALL_SUBDISTRICTS, CITY, POLICY, Principal
from safecomm_core.values import Role

KEY = b"k" * 48
#: Principals of a city, and of one subdistrict's own server (no subdistrict named).
CITY_OFFICE = Principal("city-1", Role.STAFF, ALL_COMMUNITIES, subdistricts=ALL_SUBDISTRICTS)
S01_OFFICE = Principal("s01-1", Role.STAFF, ALL_COMMUNITIES, subdistricts=["S01"])
S01_MEDIATOR_C1 = Principal("s01-17", Role.MEDIATOR, ["C1"], subdistricts=["S01"])
S01_S02_EVALUATOR = Principal("ev-1", Role.EVALUATOR, ALL_COMMUNITIES, subdistricts=["S01", "S02"])
CITY_UNIT = Principal("u-1", Role.UNIT, ALL_COMMUNITIES, grid_unit="U1", subdistricts=["*"])
ONE_STORE_OFFICE = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)

#: (principal, subdistrict or None for a server of one store, what the policy answers).
STORES = [
    (CITY_OFFICE, "S01", None),
    (CITY_OFFICE, "S02", None),
    (CITY_OFFICE, None, None),
    (S01_OFFICE, "S01", None),
    (S01_OFFICE, "S02", NotFound),
    (S01_OFFICE, None, Forbidden),
    (S01_MEDIATOR_C1, "S01", None),
    (S01_MEDIATOR_C1, "S02", NotFound),
    (S01_MEDIATOR_C1, None, Forbidden),
    (S01_S02_EVALUATOR, "S02", None),
    (S01_S02_EVALUATOR, "S03", NotFound),
    (S01_S02_EVALUATOR, None, Forbidden),
    (ONE_STORE_OFFICE, None, None),
    (ONE_STORE_OFFICE, "S01", Forbidden),
]


@pytest.mark.parametrize(("principal", "subdistrict", "refusal"), STORES)
def test_which_subdistrict_s_store_serves_a_principal(
    principal: Principal, subdistrict: str | None, refusal: type[Exception] | None
) -> None:
    if refusal is None:
        POLICY.check_subdistrict(principal, subdistrict)
        return
    with pytest.raises(refusal) as caught:
        POLICY.check_subdistrict(principal, subdistrict)
    assert caught.value.field == ("subdistrict" if refusal is NotFound else "subdistricts")
    if refusal is NotFound:  # nothing of what the principal serves or the city holds
        assert str(caught.value) == f"no subdistrict with id {subdistrict!r}"


#: (principal, scope of the city's figures, whether the policy lets it read them).
CITY_READS = [
    (CITY_OFFICE, CITY, True),
    (CITY_OFFICE, "S02", True),
    (S01_OFFICE, "S01", True),
    (S01_OFFICE, "S02", False),
    (S01_OFFICE, CITY, False),  # the city's figures hold every subdistrict's
    (S01_MEDIATOR_C1, "S01", False),  # the city's figures are of whole subdistricts
    (S01_MEDIATOR_C1, CITY, False),
    (S01_S02_EVALUATOR, "S01", True),
    (S01_S02_EVALUATOR, "S02", True),
    (S01_S02_EVALUATOR, CITY, False),
    (CITY_UNIT, CITY, False),  # a role that reads no report
    (ONE_STORE_OFFICE, "S01", False),  # names no subdistrict
    (ONE_STORE_OFFICE, CITY, False),
]


@pytest.mark.parametrize(("principal", "scope", "allowed"), CITY_READS)
def test_who_reads_the_city_s_figures_of_which_scope(
    principal: Principal, scope: str, allowed: bool
) -> None:
    assert POLICY.may_read_city(principal, scope) is allowed


def test_a_token_carries_the_principal_s_subdistricts() -> None:
    claims = claims_of(S01_MEDIATOR_C1, timedelta(hours=1))
    assert claims["subdistricts"] == ["S01"]
    assert "subdistricts" not in claims_of(ONE_STORE_OFFICE, timedelta(hours=1))
    city = TokenVerifier(secret=KEY, city=True)
    one_store = TokenVerifier(secret=KEY)
    assert city.principal(issue_token(S01_MEDIATOR_C1, KEY, timedelta(hours=1))) == (
        S01_MEDIATOR_C1
    )
    # Today's tokens keep working on a server of one store, and so does a city-wide one.
    assert one_store.principal(issue_token(ONE_STORE_OFFICE, KEY, timedelta(hours=1))) == (
        ONE_STORE_OFFICE
    )
    assert one_store.principal(issue_token(CITY_OFFICE, KEY, timedelta(hours=1))) == CITY_OFFICE
    with pytest.raises(Forbidden) as held:
        one_store.principal(issue_token(S01_OFFICE, KEY, timedelta(hours=1)))
    assert held.value.field == "subdistricts"
    # A city's server needs the claim.
    with pytest.raises(InvalidToken) as lacking:
        city.principal(issue_token(ONE_STORE_OFFICE, KEY, timedelta(hours=1)))
    assert lacking.value.field == "subdistricts"
    assert "lacks the 'subdistricts' claim" in str(lacking.value)
    for bad in ([], "S01", [""], [1]):
        forged = jwt.encode({**claims, "subdistricts": bad}, KEY, algorithm="HS256")
        with pytest.raises(InvalidToken) as malformed:
            city.principal(forged)
        assert malformed.value.field == "subdistricts"


def test_token_issue_names_subdistricts(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "safecomm.key"
    runner.invoke(main, ["token", "keygen", "--out", str(key)])
    base = ["token", "issue", "--sub", "s01-17", "--role", "mediator", "--community", "C1"]
    city = TokenVerifier.from_key_file(key)
    city = TokenVerifier(secret=city.secret, city=True)
    issued = runner.invoke(main, [*base, "--subdistrict", "S01", "--key", str(key)])
    assert issued.exit_code == 0, issued.output
    assert city.principal(issued.output.strip()) == S01_MEDIATOR_C1
    two = runner.invoke(
        main, [*base, "--subdistrict", "S01", "--subdistrict", "S02", "--key", str(key)]
    )
    assert city.principal(two.output.strip()).subdistricts == ("S01", "S02")
    everywhere = runner.invoke(main, [*base, "--subdistrict", "*", "--key", str(key)])
    assert city.principal(everywhere.output.strip()).subdistricts == ALL_SUBDISTRICTS
    plain = runner.invoke(main, [*base, "--key", str(key)])
    assert TokenVerifier.from_key_file(key).principal(plain.output.strip()).subdistricts is None
