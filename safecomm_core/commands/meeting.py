"""Commands of the monthly meetings and their corrective actions (``meeting.*``, plan S1)."""

from __future__ import annotations

from datetime import date

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.meeting import Meeting
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import day, ident, ids, matches, prose

__all__ = ["AssignAction", "CloseAction", "HoldMeeting", "RaiseProblem"]

#: A plan measure's id: M1.2, P4, S1 ... (docs/domain.md); the numbers are the plan's, so
#: only the shape is checked.
MEASURE = r"M\d+\.\d+|P\d+|S\d+"
#: A calendar month.
MONTH = r"\d{4}-(0[1-9]|1[0-2])"


@attrs.frozen(kw_only=True)
class _OnMeeting(Command):
    meeting_id: str = ident()


@command("meeting.hold", serves=("S1",))
@attrs.frozen(kw_only=True)
class HoldMeeting(_OnMeeting):
    """A monthly meeting was held: which month's, who attended (staff ids), the minutes.

    ``community`` is ``*`` (the default) for the subdistrict's group.
    """

    month: str = attrs.field(validator=matches(MONTH, "must be YYYY-MM"))
    attendees: tuple[str, ...] = ids()
    minutes: str = prose()
    community: str = ident(default=SUBDISTRICT)

    def run(self, ctx: Context) -> None:
        if not self.attendees:
            raise InvalidCommand([FieldError("attendees", "at least one attendee")])
        if len(set(self.attendees)) != len(self.attendees):
            raise InvalidCommand([FieldError("attendees", "each attendee once")])
        ctx.check_new(Meeting, self.meeting_id)
        ctx.add(
            Meeting(
                meta=ctx.meta,
                ref=self.meeting_id,
                community=self.community,
                month=self.month,
                attendees=self.attendees,
                minutes=ctx.seal_text(Meeting, self.meeting_id, self.minutes),
            )
        )


@command("meeting.raise_problem", serves=("S1",))
@attrs.frozen(kw_only=True)
class RaiseProblem(_OnMeeting):
    """An open problem raised at the meeting, and the plan measure it concerns."""

    problem_id: str = ident()
    text: str = prose()
    measure: str = attrs.field(validator=matches(MEASURE, "must be a plan measure: M1.2, P4, S1"))

    def run(self, ctx: Context) -> None:
        meeting = ctx.load(Meeting, self.meeting_id)
        meeting.raise_problem(
            ctx.meta,
            self.problem_id,
            ctx.seal_text(Meeting, self.meeting_id, self.text),
            self.measure,
        )


@command("meeting.assign_action", serves=("S1",))
@attrs.frozen(kw_only=True)
class AssignAction(_OnMeeting):
    """A corrective action for one of the meeting's problems: owner (staff id), due date."""

    action_id: str = ident()
    problem_id: str = ident()
    owner: str = ident()
    due: date = day()

    def run(self, ctx: Context) -> None:
        meeting = ctx.load(Meeting, self.meeting_id)
        meeting.assign_action(ctx.meta, self.action_id, self.problem_id, self.owner, self.due)


@command("meeting.close_action", serves=("S1",))
@attrs.frozen(kw_only=True)
class CloseAction(_OnMeeting):
    """A corrective action was carried out; it is late if closed after its due date."""

    action_id: str = ident()
    result: str = prose()

    def run(self, ctx: Context) -> None:
        meeting = ctx.load(Meeting, self.meeting_id)
        meeting.close_action(
            ctx.meta, self.action_id, ctx.seal_text(Meeting, self.meeting_id, self.result)
        )
