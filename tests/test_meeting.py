"""Meeting: monthly meetings and corrective actions; round-trips, contract, stateful model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, rule

from safecomm_core import (
    AlreadyExists,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    RuleViolation,
    command_to_json,
    parse_command,
)
from safecomm_core.commands import meeting as cmds
from safecomm_core.domain.meeting import Meeting
from safecomm_core.freetext import open_text
from safecomm_core.validation import BrokenRule
from safecomm_core.values import Actor, Role
from tests.commanding import command_id
from tests.machines import CommandMachine, refused_unless
from tests.refusals import refused
from tests.strategies import CST, meeting_commands, refs

CHAIR = Actor("staff-001", Role.STAFF)
T0 = datetime(2014, 3, 5, 9, 0, tzinfo=CST)


def hold(ref: str = "m-2014-03", at: datetime = T0, **extra: Any) -> cmds.HoldMeeting:
    fields: dict[str, Any] = {
        "command_id": command_id(),
        "occurred_at": at,
        "actor": CHAIR,
        "meeting_id": ref,
        "month": "2014-03",
        "attendees": ("staff-001", "staff-002", "police-01"),
        "minutes": "parking lots in compound 3 unstaffed; gatehouse register incomplete",
    }
    return cmds.HoldMeeting(**(fields | extra))


def on(cls: type[Any], ref: str = "m-2014-03", at: datetime = T0, **fields: Any) -> Any:
    return cls(command_id=command_id(), occurred_at=at, actor=CHAIR, meeting_id=ref, **fields)


def problem(problem_id: str = "p1", at: datetime = T0) -> Any:
    return on(
        cmds.RaiseProblem, at=at, problem_id=problem_id, text="lots unstaffed", measure="M2.2"
    )


def action(action_id: str = "a1", problem_id: str = "p1", at: datetime = T0, **extra: Any) -> Any:
    fields: dict[str, Any] = {"owner": "staff-002", "due": date(2014, 3, 31)} | extra
    return on(cmds.AssignAction, at=at, action_id=action_id, problem_id=problem_id, **fields)


def close(action_id: str = "a1", at: datetime = T0) -> Any:
    return on(cmds.CloseAction, at=at, action_id=action_id, result="custodian appointed")


def with_action(service: Any) -> None:
    service.handle(hold())
    service.handle(problem())
    service.handle(action())


# -- rules ------------------------------------------------------------------------------


def test_problem_action_closed_on_time(memory_service: Any) -> None:
    with_action(memory_service)
    m = memory_service.get(Meeting, "m-2014-03")
    assert [p.problem_id for p in m.open_problems] == ["p1"]
    memory_service.handle(close(at=datetime(2014, 3, 31, 23, 59, tzinfo=CST)))
    m = memory_service.get(Meeting, "m-2014-03")
    a = m.actions["a1"]
    assert (a.closed, a.late) == (True, False)
    assert a.result is not None
    assert open_text(a.result, memory_service.keys) == "custodian appointed"
    assert (m.open_actions, m.open_problems) == ((), ())
    assert m.problems["p1"].measure == "M2.2"
    assert (m.month, m.community, m.attendees) == (
        "2014-03",
        "*",
        ("staff-001", "staff-002", "police-01"),
    )


def test_closed_after_the_due_date_is_late_by_local_date(memory_service: Any) -> None:
    with_action(memory_service)
    # 16:00 UTC on Mar 31 is already Apr 1 in the subdistrict.
    memory_service.handle(close(at=datetime(2014, 3, 31, 16, 0, tzinfo=UTC)))
    assert memory_service.get(Meeting, "m-2014-03").actions["a1"].late is True
    closed = memory_service.history("m-2014-03", "meeting")[-1]
    assert (closed.event, closed.details["late"]) == ("ActionClosed", True)


def test_a_problem_stays_open_while_any_action_is_open(memory_service: Any) -> None:
    with_action(memory_service)
    memory_service.handle(problem("p2"))
    memory_service.handle(action("a2", due=date(2014, 4, 30)))
    memory_service.handle(close("a1"))
    m = memory_service.get(Meeting, "m-2014-03")
    assert [a.action_id for a in m.open_actions] == ["a2"]
    assert [p.problem_id for p in m.open_problems] == ["p1", "p2"]
    memory_service.handle(close("a2"))
    assert [p.problem_id for p in memory_service.get(Meeting, "m-2014-03").open_problems] == ["p2"]


def test_closing_unknown_or_closed_actions_is_refused(memory_service: Any) -> None:
    with_action(memory_service)
    err = refused(memory_service, close("a9"), RuleViolation)
    assert (err.field, err.rule) == ("action_id", "must be an action of this meeting")
    memory_service.handle(close())
    err = refused(memory_service, close(), InvalidTransition)
    assert err.field == "action_id"


def test_actions_need_a_known_problem_a_fresh_id_and_a_due_date_ahead(memory_service: Any) -> None:
    memory_service.handle(hold())
    err = refused(memory_service, action(), RuleViolation)
    assert (err.field, err.rule) == ("problem_id", "must be a problem of this meeting")
    memory_service.handle(problem())
    err = refused(memory_service, action(due=date(2014, 3, 4)), RuleViolation)
    assert err.field == "due"
    memory_service.handle(action(due=date(2014, 3, 5)))  # due the same day: allowed
    err = refused(memory_service, action(), AlreadyExists)
    assert err.field == "action_id"
    err = refused(memory_service, problem(), AlreadyExists)
    assert err.field == "problem_id"


def test_facts_cannot_precede_the_meeting_or_the_assignment(memory_service: Any) -> None:
    memory_service.handle(hold())
    err = refused(memory_service, problem(at=T0 - timedelta(hours=1)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(problem())
    memory_service.handle(action(at=T0 + timedelta(days=1)))
    err = refused(memory_service, close(at=T0 + timedelta(hours=1)), RuleViolation)
    assert (err.field, err.rule) == ("occurred_at", "must not be before the action was assigned")


def test_meeting_shape_and_ids(memory_service: Any) -> None:
    refused(memory_service, problem(), NotFound)
    err = refused(memory_service, hold(attendees=()), InvalidCommand)
    assert err.field == "attendees"
    err = refused(memory_service, hold(attendees=("s1", "s1")), InvalidCommand)
    assert err.field == "attendees"
    memory_service.handle(hold(community="C3"))
    refused(memory_service, hold(), AlreadyExists)
    assert memory_service.get(Meeting, "m-2014-03").community == "C3"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("month", "2014-13"),
        ("month", "2014-3"),
        ("attendees[1]", ("s1", " ")),
        ("minutes", ""),
    ],
)
def test_bad_meeting_fields_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(BrokenRule) as info:
        hold(**{field.split("[")[0]: value})
    assert info.value.attribute == field


@pytest.mark.parametrize("measure", ["M2.2", "P4", "S1", "M10.12"])
def test_measures_are_plan_ids(measure: str) -> None:
    data = command_to_json(problem())
    parsed = parse_command({**data, "measure": measure})
    assert isinstance(parsed, cmds.RaiseProblem)
    assert parsed.measure == measure


@pytest.mark.parametrize("measure", ["", "M2", "X1", "m2.2", "M2.2 ", "P"])
def test_other_measures_are_refused(measure: str) -> None:
    with pytest.raises(InvalidCommand) as info:
        parse_command({**command_to_json(problem()), "measure": measure})
    assert info.value.field == "measure"


# -- round trips ------------------------------------------------------------------------


@settings(max_examples=60)
@given(meeting_commands)
def test_commands_round_trip_through_json(command: Any) -> None:
    assert parse_command(command_to_json(command)) == command


# -- contract (every backend) -----------------------------------------------------------


def test_meeting_lands_and_replays_on_every_backend(service_factory: Any) -> None:
    service = service_factory()
    with_action(service)
    service.handle(action("a2", due=date(2014, 3, 10)))
    service.handle(close("a1", at=T0 + timedelta(days=3)))
    service.handle(close("a2", at=T0 + timedelta(days=30)))
    live = service.get(Meeting, "m-2014-03")
    replayed = service_factory().get(Meeting, "m-2014-03")
    assert replayed.__dict__ == live.__dict__
    assert [(a.action_id, a.late) for a in replayed.actions.values()] == [
        ("a1", False),
        ("a2", True),
    ]
    assert replayed.actions["a2"].due == date(2014, 3, 10)


def test_refused_meeting_command_writes_nothing_on_every_backend(service: Any) -> None:
    with_action(service)
    command = close("a9")
    refused(service, command, RuleViolation)
    fixed = cmds.CloseAction(
        command_id=command.command_id,
        occurred_at=T0,
        actor=CHAIR,
        meeting_id="m-2014-03",
        action_id="a1",
        result="done",
    )
    assert not service.handle(fixed).duplicate


# -- stateful ---------------------------------------------------------------------------

MEETINGS = ("m-0", "m-1", "m-2")
PROBLEMS = ("p1", "p2")
ACTIONS = ("a1", "a2")


class MeetingMachine(CommandMachine):
    """The real application beside a plain model of each meeting's problems and actions.

    Ids are drawn from small sets, so that commands hit known, unknown and closed ones.
    """

    START = T0
    STEP = timedelta(hours=1)
    meetings = Bundle("meetings")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, dict[str, Any]] = {}

    @initialize(target=meetings)
    def first(self) -> str:
        # An open action from the start: hypothesis often repeats one rule for a whole run.
        self.hold("m-0", ["staff-001"])
        self.raise_problem("m-0", "p1")
        self.assign("m-0", "a1", "p1", 3)
        return "m-0"

    @rule(target=meetings, ref=st.sampled_from(MEETINGS), attendees=st.lists(refs, max_size=3))
    def hold(self, ref: str, attendees: list[str]) -> str:
        ok = ref not in self.model and bool(attendees) and len(set(attendees)) == len(attendees)
        self.send(hold(ref, self.tick(), attendees=tuple(attendees)), refused_unless(ok))
        if ok:
            self.model[ref] = {"problems": set(), "actions": {}}
        return ref

    @rule(ref=meetings, problem_id=st.sampled_from(PROBLEMS))
    def raise_problem(self, ref: str, problem_id: str) -> None:
        m = self.model.get(ref)
        ok = m is not None and problem_id not in m["problems"]
        command = on(
            cmds.RaiseProblem, ref, self.tick(), problem_id=problem_id, text="t", measure="S1"
        )
        self.send(command, refused_unless(ok))
        if m is not None and ok:
            m["problems"].add(problem_id)

    @rule(
        ref=meetings,
        action_id=st.sampled_from(ACTIONS),
        problem_id=st.sampled_from((*PROBLEMS, "p-unknown")),
        days=st.integers(-2, 10),
    )
    def assign(self, ref: str, action_id: str, problem_id: str, days: int) -> None:
        m = self.model.get(ref)
        due = self.tick().date() + timedelta(days=days)
        ok = (
            m is not None
            and action_id not in m["actions"]
            and problem_id in m["problems"]
            and days >= 0
        )
        command = on(
            cmds.AssignAction,
            ref,
            self.clock,
            action_id=action_id,
            problem_id=problem_id,
            owner="staff-002",
            due=due,
        )
        self.send(command, refused_unless(ok))
        if m is not None and ok:
            m["actions"][action_id] = {"problem": problem_id, "due": due, "late": None}

    @rule(
        ref=meetings,
        action_id=st.sampled_from((*ACTIONS, "a-unknown")),
        hours=st.integers(0, 24 * 8),
    )
    def close(self, ref: str, action_id: str, hours: int) -> None:
        m = self.model.get(ref)
        today = self.tick(timedelta(hours=hours)).date()
        a = m["actions"].get(action_id) if m is not None else None
        ok = a is not None and a["late"] is None
        command = on(cmds.CloseAction, ref, self.clock, action_id=action_id, result="r")
        self.send(command, refused_unless(ok))
        if a is not None and ok:
            a["late"] = today > a["due"]

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            meeting = self.service.get(Meeting, ref)
            assert set(meeting.problems) == m["problems"]
            assert {
                k: {"problem": a.problem_id, "due": a.due, "late": a.late}
                for k, a in meeting.actions.items()
            } == m["actions"]


TestMeetingMachine = MeetingMachine.TestCase
