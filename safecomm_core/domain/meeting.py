"""Meeting: the group's monthly meeting and its corrective actions (plan S1; AQ/T 9001 el. 11).

Held (month, attendees, minutes) → ProblemRaised* → ActionAssigned* → ActionClosed*.

Problems and the actions that correct them stay on the meeting that raised them, so one
record answers "what did the March meeting decide, and was it done?". An action is closed
on that meeting's record even when the closure is reported at a later meeting; its
``occurred_at`` says when. An action closed after its due date is recorded as late, in
the event itself, so reports need not recompute it. Dates (due, late) are read in the
subdistrict's time zone.

``month`` says which month's meeting it is, not when it was held: a March meeting held on
2 April (after a holiday) is still March's. One meeting per month and community is the
practice, not a rule this record can check alone (a projection over meetings can).
"""

from __future__ import annotations

from datetime import date, datetime

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.errors import AlreadyExists, InvalidTransition, RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.values import Meta

__all__ = ["Action", "Meeting", "Problem"]


@attrs.frozen
class Problem:
    """An open problem raised at the meeting, and the plan measure it concerns."""

    problem_id: str
    text: SealedText
    measure: str
    occurred_at: datetime


@attrs.frozen
class Action:
    """A corrective action: who owns it, when it is due, and how it ended."""

    action_id: str
    problem_id: str
    owner: str
    due: date
    assigned_at: datetime
    closed_at: datetime | None = None
    result: SealedText | None = None
    late: bool | None = None

    @property
    def closed(self) -> bool:
        """Whether the action was closed."""
        return self.closed_at is not None


class Meeting(Record):
    """A monthly meeting of the group, in a community or for the subdistrict (``*``)."""

    KIND = "meeting"
    TOPIC = "safecomm/Meeting"

    # -- creation ---------------------------------------------------------------------

    class Held(Record.Created):
        TOPIC = "safecomm/Meeting/Held"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("minutes"))
        ref: str
        community: str
        month: str
        attendees: tuple[str, ...]
        minutes: SealedText

    @event(Held)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        month: str,
        attendees: tuple[str, ...],
        minutes: SealedText,
    ) -> None:
        self._created(meta, ref, community)
        self.month = month
        self.attendees = tuple(attendees)
        self.minutes = minutes
        self.problems: dict[str, Problem] = {}
        self.actions: dict[str, Action] = {}

    @property
    def open_actions(self) -> tuple[Action, ...]:
        """Actions not closed yet, in the order they were assigned."""
        return tuple(a for a in self.actions.values() if not a.closed)

    @property
    def open_problems(self) -> tuple[Problem, ...]:
        """Problems with no action yet, or with an action still open."""
        settled = {a.problem_id for a in self.actions.values()} - {
            a.problem_id for a in self.open_actions
        }
        return tuple(p for p in self.problems.values() if p.problem_id not in settled)

    # -- problems and actions ---------------------------------------------------------

    class ProblemRaised(Record.Event):
        TOPIC = "safecomm/Meeting/ProblemRaised"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("text"))
        problem_id: str
        text: SealedText
        measure: str

    @event(ProblemRaised)
    def _problem_raised(self, meta: Meta, problem_id: str, text: SealedText, measure: str) -> None:
        self.problems[problem_id] = Problem(problem_id, text, measure, meta.occurred_at)

    def raise_problem(self, meta: Meta, problem_id: str, text: SealedText, measure: str) -> None:
        """An open problem, and the plan measure it concerns (e.g. ``M2.2``)."""
        self.check_after_creation(meta)
        if problem_id in self.problems:
            raise AlreadyExists(
                f"problem {problem_id!r} was already raised at meeting {self.ref!r}",
                field="problem_id",
                rule="must not exist yet",
            )
        self._problem_raised(meta=meta, problem_id=problem_id, text=text, measure=measure)

    class ActionAssigned(Record.Event):
        TOPIC = "safecomm/Meeting/ActionAssigned"
        action_id: str
        problem_id: str
        owner: str
        due: date

    @event(ActionAssigned)
    def _action_assigned(
        self, meta: Meta, action_id: str, problem_id: str, owner: str, due: date
    ) -> None:
        self.actions[action_id] = Action(action_id, problem_id, owner, due, meta.occurred_at)

    def assign_action(
        self, meta: Meta, action_id: str, problem_id: str, owner: str, due: date
    ) -> None:
        """A corrective action for a problem of this meeting, with an owner and a due date."""
        self.check_after_creation(meta)
        if action_id in self.actions:
            raise AlreadyExists(
                f"action {action_id!r} was already assigned at meeting {self.ref!r}",
                field="action_id",
                rule="must not exist yet",
            )
        if problem_id not in self.problems:
            raise RuleViolation(
                f"meeting {self.ref!r} raised no problem {problem_id!r}",
                field="problem_id",
                rule="must be a problem of this meeting",
            )
        assigned_on = local_date(meta.occurred_at)
        if due < assigned_on:
            raise RuleViolation(
                f"action {action_id!r} is due {due.isoformat()}, before it was assigned "
                f"on {assigned_on.isoformat()}",
                field="due",
                rule="not before the assignment",
            )
        self._action_assigned(
            meta=meta, action_id=action_id, problem_id=problem_id, owner=owner, due=due
        )

    class ActionClosed(Record.Event):
        TOPIC = "safecomm/Meeting/ActionClosed"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("result"))
        action_id: str
        result: SealedText
        late: bool

    @event(ActionClosed)
    def _action_closed(self, meta: Meta, action_id: str, result: SealedText, late: bool) -> None:
        action = self.actions.get(action_id)
        if action is None:  # apply never raises; decide made sure it exists
            return
        self.actions[action_id] = attrs.evolve(
            action, closed_at=meta.occurred_at, result=result, late=late
        )

    def close_action(self, meta: Meta, action_id: str, result: SealedText) -> None:
        """The action was carried out (or ended); late when closed after its due date."""
        self.check_after_creation(meta)
        action = self.actions.get(action_id)
        if action is None:
            raise RuleViolation(
                f"meeting {self.ref!r} assigned no action {action_id!r}",
                field="action_id",
                rule="must be an action of this meeting",
            )
        if action.closed:
            raise InvalidTransition(
                f"cannot close action {action_id!r} of meeting {self.ref!r}: it is closed",
                field="action_id",
                rule="cannot close when closed",
            )
        self.check_not_before(meta, action.assigned_at, "the action was assigned")
        late = local_date(meta.occurred_at) > action.due
        self._action_closed(meta=meta, action_id=action_id, result=result, late=late)
