"""``Dispute.actions_now()``: what a front end offers is exactly what the dispute admits.

Along a dispute's whole life, at each state, every dispute command is tried on a fresh
store holding that state: those offered are handled, those not offered are refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from safecomm_core import COMMANDS, RuleViolation, open_store
from safecomm_core.commands import dispute as cd
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from tests.commanding import issue

T0 = datetime(2014, 3, 3, 9, 0, tzinfo=SUBDISTRICT_TZ)
REF = "d-1"
#: What each command needs besides the dispute's id.
FIELDS: dict[str, dict[str, Any]] = {
    "dispute.accept": {},
    "dispute.refuse": {"reason": "a party refuses mediation"},
    "dispute.assign_mediator": {"mediator": "staff-017"},
    "dispute.hold_session": {"notes": "first session"},
    "dispute.flag_risk": {"risk": "threats were made"},
    "dispute.report_to_police": {"station": "河门口派出所"},
    "dispute.reach_agreement": {"form": AgreementForm.WRITTEN, "terms": "repair the pipe"},
    "dispute.terminate": {"reason": "no agreement", "routes_told": (Route.JUDICIAL,)},
    "dispute.record_performance": {"outcome": PerformanceOutcome.PERFORMED},
    "dispute.apply_judicial_confirmation": {"court": "区人民法院"},
    "dispute.decide_judicial_confirmation": {"confirmed": True},
    "dispute.follow_up": {"notes": "all well"},
    "dispute.archive": {},
    "dispute.refer_legal_aid": {"provider": "法律援助中心", "matter": "wage claim"},
}
#: Lives of a dispute, step by step: agreed and confirmed, ended without agreement, refused.
AGREED = (
    "dispute.accept",
    "dispute.assign_mediator",
    "dispute.flag_risk",
    "dispute.hold_session",
    "dispute.reach_agreement",
    "dispute.apply_judicial_confirmation",
    "dispute.decide_judicial_confirmation",
    "dispute.follow_up",
    "dispute.archive",
)
ENDED = (
    "dispute.accept",
    "dispute.assign_mediator",
    "dispute.flag_risk",
    "dispute.report_to_police",
    "dispute.hold_session",
    "dispute.terminate",
    "dispute.refer_legal_aid",
    "dispute.follow_up",
    "dispute.archive",
)
REFUSED = ("dispute.refuse", "dispute.archive")
STATES = sorted({life[:done] for life in (AGREED, ENDED, REFUSED) for done in range(len(life) + 1)})


def _command(type_: str, step: int) -> Any:
    return issue(COMMANDS[type_], T0 + timedelta(hours=step), dispute_id=REF, **FIELDS[type_])


def _store(steps: tuple[str, ...]) -> Any:
    service = open_store("memory://")
    service.handle(
        issue(cd.ReportDispute, T0, dispute_id=REF, community="C1", kind=DisputeKind.NEIGHBOUR,
              summary="漏水", parties=(cd.PartyInput(ref="p-1", role=PartyRole.APPLICANT),))
    )  # fmt: skip
    for step, type_ in enumerate(steps, start=1):
        service.handle(_command(type_, step))
    return service


#: Not a step of the case's work, so never offered: an erasure is the administrator's act
#: under the personal-data rules (``dispute.erase``, ``safecomm retention run``).
NOT_OFFERED = {"dispute.report", "dispute.erase"}


def test_every_dispute_command_is_tried() -> None:
    assert set(FIELDS) == {t for t in COMMANDS if t.startswith("dispute.")} - NOT_OFFERED


def test_an_erased_file_offers_nothing() -> None:
    service = _store(REFUSED)
    service.handle(issue(COMMANDS["dispute.erase"], T0 + timedelta(days=1), dispute_id=REF))
    assert service.get(Dispute, REF).actions_now() == ()


@pytest.mark.parametrize("steps", STATES, ids=lambda steps: "-".join(t[8:] for t in steps))
def test_the_actions_offered_are_those_the_dispute_admits(steps: tuple[str, ...]) -> None:
    offered = _store(steps).get(Dispute, REF).actions_now()
    for type_ in FIELDS:
        service = _store(steps)
        try:
            service.handle(_command(type_, len(steps) + 1))
        except RuleViolation:
            assert type_ not in offered, (steps, type_)
        else:
            assert type_ in offered, (steps, type_)
        finally:
            service.close()
