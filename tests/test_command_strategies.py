"""Every command type has a strategy of its own, and every command it draws round-trips.

One test for all aggregates: a new command type (or a new aggregate) without a strategy
fails here, whichever module it belongs to.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecomm_core import COMMANDS
from tests.commanding import round_trips
from tests.strategies import commands_by_type

#: Types tested elsewhere: disputes, phases and meetings by one mixed strategy each
#: (``dispute_commands`` and the like); rules by test_dispute and test_grid.
MIXED = ("dispute.", "phase.", "meeting.", "rules.")


def test_every_command_type_has_a_strategy() -> None:
    assert set(commands_by_type) == {t for t in COMMANDS if not t.startswith(MIXED)}


@pytest.mark.parametrize("type_", sorted(commands_by_type))
@settings(max_examples=25)
@given(data=st.data())
def test_every_command_round_trips_through_json(type_: str, data: st.DataObject) -> None:
    command = data.draw(commands_by_type[type_])
    assert type_ == command.TYPE
    assert round_trips(command)
