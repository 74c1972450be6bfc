"""The base every state machine builds on sees what the machines' own models cannot."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from safecomm_core.domain.dispute import Dispute
from tests.test_dispute import DisputeMachine


def test_a_record_changed_outside_its_events_fails_replayed_equals_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flag = Dispute.flag_risk

    def flag_and_scribble(self: Dispute, *args: Any, **kwargs: Any) -> None:
        flag(self, *args, **kwargs)
        self.scribbled = True  # no event says so: a replay cannot know it

    monkeypatch.setattr(Dispute, "flag_risk", flag_and_scribble)
    # Found, not shrunk, and not kept: the machine's own runs must not start from it.
    found = settings(DisputeMachine.SETTINGS, database=None, phases=[Phase.generate])
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(DisputeMachine, settings=found)
    assert "replayed_equals_live" in [entry.name for entry in info.traceback]
