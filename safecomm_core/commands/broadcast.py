"""Commands of the warning platform (``broadcast.*``, plan M2.4)."""

from __future__ import annotations

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.commands.shape import require_distinct
from safecomm_core.domain.broadcast import Broadcast, BroadcastCategory, Outlet, Period
from safecomm_core.personal import PersonInput
from safecomm_core.validation import count, ident, identifier, member_rule, prose

__all__ = [
    "AnswerQuestion",
    "OutletReach",
    "PublishBroadcast",
    "PublishBroadcastOn",
    "ReceiveQuestion",
    "WithdrawBroadcast",
]

_SERVES = ("M2.4",)


@attrs.frozen(kw_only=True)
class OutletReach:
    """An outlet a broadcast was sent on, and how many people it reached there."""

    outlet: Outlet = attrs.field(validator=member_rule("community", identifier))
    recipients: int = count()


def _publish_on(ctx: Context, broadcast: Broadcast, outlets: tuple[OutletReach, ...]) -> None:
    for reach in outlets:
        broadcast.publish_on(ctx.meta, reach.outlet, reach.recipients)


@attrs.frozen(kw_only=True)
class _OnBroadcast(Command):
    broadcast_id: str = ident()


@command("broadcast.publish", serves=_SERVES)
@attrs.frozen(kw_only=True)
class PublishBroadcast(Command):
    """Publish a warning or safety tip on one or more outlets at once.

    ``community`` is the jurisdiction the broadcast belongs to (``*``: the subdistrict).
    """

    broadcast_id: str = ident()
    community: str = ident()
    category: BroadcastCategory
    period: Period
    text: str = prose()
    outlets: tuple[OutletReach, ...]

    def run(self, ctx: Context) -> None:
        require_distinct("outlets", (o.outlet for o in self.outlets))
        ctx.check_new(Broadcast, self.broadcast_id)
        broadcast = Broadcast(
            meta=ctx.meta,
            ref=self.broadcast_id,
            community=self.community,
            category=self.category,
            period=self.period,
            text=self.text,
        )
        _publish_on(ctx, broadcast, self.outlets)
        ctx.add(broadcast)


@command("broadcast.publish_on", serves=_SERVES)
@attrs.frozen(kw_only=True)
class PublishBroadcastOn(_OnBroadcast):
    """Send a published broadcast on more outlets (e.g. Weibo the next morning)."""

    outlets: tuple[OutletReach, ...]

    def run(self, ctx: Context) -> None:
        require_distinct("outlets", (o.outlet for o in self.outlets))
        _publish_on(ctx, ctx.load(Broadcast, self.broadcast_id), self.outlets)


@command("broadcast.receive_question", serves=_SERVES)
@attrs.frozen(kw_only=True)
class ReceiveQuestion(_OnBroadcast):
    """A resident's question or opinion about the broadcast, on some outlet.

    The resident, if known, is sealed: keep names and numbers out of ``text``.
    """

    question_id: str = ident()
    outlet: Outlet = attrs.field(validator=member_rule("community", identifier))
    text: str = prose()
    person: PersonInput | None = None

    def run(self, ctx: Context) -> None:
        broadcast = ctx.load(Broadcast, self.broadcast_id)
        broadcast.receive_question(
            ctx.meta,
            question_id=self.question_id,
            outlet=self.outlet,
            text=ctx.seal_text(Broadcast, self.broadcast_id, self.text),
            person=None if self.person is None else ctx.seal(self.person),
        )


@command("broadcast.answer_question", serves=_SERVES)
@attrs.frozen(kw_only=True)
class AnswerQuestion(_OnBroadcast):
    """Answer a resident's question; the time to answer follows from both ``occurred_at``."""

    question_id: str = ident()
    answer: str = prose()

    def run(self, ctx: Context) -> None:
        broadcast = ctx.load(Broadcast, self.broadcast_id)
        broadcast.answer_question(
            ctx.meta, self.question_id, ctx.seal_text(Broadcast, self.broadcast_id, self.answer)
        )


@command("broadcast.withdraw", serves=_SERVES)
@attrs.frozen(kw_only=True)
class WithdrawBroadcast(_OnBroadcast):
    """Stop publishing the broadcast (e.g. a false alarm)."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Broadcast, self.broadcast_id).withdraw(
            ctx.meta, ctx.seal_text(Broadcast, self.broadcast_id, self.reason)
        )
