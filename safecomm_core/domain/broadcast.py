"""Broadcast: a warning or safety tip on the warning platform (plan M2.4).

Published (the message) → PublishedOn* (one per outlet: the SMS platform, a community's QQ
group, a Weibo account; with its recipient count) → QuestionReceived* → QuestionAnswered
(once per question); Withdrawn stops further publication.

The message and each outlet are separate events because outlets are reached at different
times (SMS at once, a Weibo post the next morning) and each reach is a fact of its own.
A withdrawn broadcast still takes and answers residents' questions: they are owed an answer,
and a withdrawal is often what they ask about.

The time to answer is not stored: it is the difference between the ``occurred_at`` of the
question and of the answer, both already in the events, so it cannot disagree with them.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs
from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import AlreadyExists, InvalidTransition, RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.personal import SealedPerson
from safecomm_core.transcoding import value_type
from safecomm_core.validation import nonempty
from safecomm_core.values import Meta

__all__ = [
    "Broadcast",
    "BroadcastCategory",
    "BroadcastStatus",
    "Medium",
    "Outlet",
    "Period",
    "Question",
]


class BroadcastCategory(enum.StrEnum):
    """What the broadcast warns about (M2.4: "anti-theft", "anti-violence", "anti-fraud")."""

    ANTI_THEFT = "anti_theft"
    ANTI_VIOLENCE = "anti_violence"
    ANTI_FRAUD = "anti_fraud"
    SAFETY_TIP = "safety_tip"
    OTHER = "other"


class Period(enum.StrEnum):
    """When it was sent: M2.4 stresses holidays and high-incidence periods."""

    HOLIDAY = "holiday"
    HIGH_INCIDENCE = "high_incidence"
    ORDINARY = "ordinary"


class Medium(enum.StrEnum):
    """The kind of outlet."""

    SMS = "sms"
    QQ_GROUP = "qq_group"
    WEIBO = "weibo"
    WECHAT_GROUP = "wechat_group"
    OTHER = "other"


class BroadcastStatus(enum.StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@value_type("broadcast_outlet")
@attrs.frozen(kw_only=True)
class Outlet:
    """Where a broadcast goes: a medium, and whose account it is (``*``: the subdistrict's)."""

    medium: Medium
    community: str = attrs.field(default=SUBDISTRICT, validator=nonempty)

    def __str__(self) -> str:
        return f"{self.medium.value}@{self.community}"


@attrs.frozen(kw_only=True)
class Question:
    """A resident's question or opinion as the broadcast keeps it (not a stored value)."""

    outlet: Outlet
    asked_at: datetime
    person: SealedPerson | None
    answered_at: datetime | None = None

    @property
    def time_to_answer(self) -> timedelta | None:
        """From the question to its answer, in the world's time; None while unanswered."""
        return None if self.answered_at is None else self.answered_at - self.asked_at


class Broadcast(Record):
    """A warning or safety tip, where it went, and residents' questions about it."""

    KIND = "broadcast"
    TOPIC = "safecomm/Broadcast"

    # -- creation ---------------------------------------------------------------------

    class Published(Record.Created):
        TOPIC = "safecomm/Broadcast/Published"
        ref: str
        community: str
        category: BroadcastCategory
        period: Period
        text: str

    @event(Published)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        category: BroadcastCategory,
        period: Period,
        text: str,
    ) -> None:
        self._created(meta, ref, community)
        self.category = BroadcastCategory(category)
        self.period = Period(period)
        self.text = text
        self.status = BroadcastStatus.PUBLISHED
        self.reach: dict[Outlet, int] = {}
        self.questions: dict[str, Question] = {}

    # -- outlets ----------------------------------------------------------------------

    class PublishedOn(Record.Event):
        TOPIC = "safecomm/Broadcast/PublishedOn"
        outlet: Outlet
        recipients: int

    @event(PublishedOn)
    def _published_on(self, meta: Meta, outlet: Outlet, recipients: int) -> None:
        self.reach = {**self.reach, outlet: recipients}

    def publish_on(self, meta: Meta, outlet: Outlet, recipients: int) -> None:
        """Sent on one outlet to ``recipients`` people (members, subscribers, followers)."""
        self.check_after_creation(meta)
        if self.status != BroadcastStatus.PUBLISHED:
            raise self.not_allowed(f"publish on {outlet}", self.status.value)
        if outlet in self.reach:
            raise RuleViolation(
                f"broadcast {self.ref!r} is already published on {outlet}",
                field="outlet",
                rule="each outlet once",
            )
        self._published_on(meta=meta, outlet=outlet, recipients=recipients)

    @property
    def recipients(self) -> int:
        """Recipients summed over outlets (one resident may be counted on several)."""
        return sum(self.reach.values())

    # -- residents' questions ---------------------------------------------------------

    class QuestionReceived(Record.Event):
        TOPIC = "safecomm/Broadcast/QuestionReceived"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("text"))
        question_id: str
        outlet: Outlet
        text: SealedText
        person: SealedPerson | None

    @event(QuestionReceived)
    def _question_received(
        self,
        meta: Meta,
        question_id: str,
        outlet: Outlet,
        text: SealedText,
        person: SealedPerson | None,
    ) -> None:
        question = Question(outlet=outlet, asked_at=meta.occurred_at, person=person)
        self.questions = {**self.questions, question_id: question}

    def receive_question(
        self,
        meta: Meta,
        *,
        question_id: str,
        outlet: Outlet,
        text: SealedText,
        person: SealedPerson | None,
    ) -> None:
        """A resident's question or opinion, on any outlet (not only those published on)."""
        self.check_after_creation(meta)
        if question_id in self.questions:
            raise AlreadyExists(
                f"broadcast {self.ref!r} already has a question {question_id!r}",
                field="question_id",
                rule="must not exist yet",
            )
        self._question_received(
            meta=meta, question_id=question_id, outlet=outlet, text=text, person=person
        )

    class QuestionAnswered(Record.Event):
        TOPIC = "safecomm/Broadcast/QuestionAnswered"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("answer"))
        question_id: str
        answer: SealedText

    @event(QuestionAnswered)
    def _question_answered(self, meta: Meta, question_id: str, answer: SealedText) -> None:
        asked = self.questions.get(question_id)
        if asked is not None:  # apply never raises, even on a history it did not decide
            answered = attrs.evolve(asked, answered_at=meta.occurred_at)
            self.questions = {**self.questions, question_id: answered}

    def answer_question(self, meta: Meta, question_id: str, answer: SealedText) -> None:
        """Answer a question once, not before it was asked."""
        asked = self.questions.get(question_id)
        if asked is None:
            raise RuleViolation(
                f"broadcast {self.ref!r} has no question {question_id!r}",
                field="question_id",
                rule="must be a question received",
            )
        if asked.answered_at is not None:
            raise InvalidTransition(
                f"question {question_id!r} of broadcast {self.ref!r} is already answered",
                field="question_id",
                rule="answered once",
            )
        self.check_not_before(meta, asked.asked_at, f"question {question_id!r} was asked")
        self._question_answered(meta=meta, question_id=question_id, answer=answer)

    def time_to_answer(self, question_id: str) -> timedelta | None:
        """How long the question waited for its answer; None while unanswered or unknown."""
        found = self.questions.get(question_id)
        return None if found is None else found.time_to_answer

    # -- withdrawal -------------------------------------------------------------------

    class Withdrawn(Record.Event):
        TOPIC = "safecomm/Broadcast/Withdrawn"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        reason: SealedText

    @event(Withdrawn)
    def _withdrawn(self, meta: Meta, reason: SealedText) -> None:
        self.status = BroadcastStatus.WITHDRAWN

    def withdraw(self, meta: Meta, reason: SealedText) -> None:
        """Stop publishing (e.g. a false alarm); questions are still taken and answered."""
        self.check_after_creation(meta)
        if self.status != BroadcastStatus.PUBLISHED:
            raise self.not_allowed("withdraw", self.status.value)
        self._withdrawn(meta=meta, reason=reason)
