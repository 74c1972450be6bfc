"""Broadcast: the warning platform's rules, JSON round-trips, a stateful model, all stores."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, rule

from safecomm_core import (
    AlreadyExists,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    PersonInput,
    RuleViolation,
    command_to_json,
    parse_command,
)
from safecomm_core.commands import broadcast as cmds
from safecomm_core.domain.broadcast import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Medium,
    Outlet,
    Period,
)
from tests.commanding import issue
from tests.machines import CommandMachine, refused_unless
from tests.refusals import refused, stored
from tests.strategies import CST, outlet_reaches
from tests.test_golden import GOLDEN, replay

T0 = datetime(2014, 1, 30, 18, 0, tzinfo=CST)  # eve of the Spring Festival 2014
SMS = Outlet(medium=Medium.SMS)
QQ_C1 = Outlet(medium=Medium.QQ_GROUP, community="C1")
QQ_C2 = Outlet(medium=Medium.QQ_GROUP, community="C2")
WEIBO_C1 = Outlet(medium=Medium.WEIBO, community="C1")


def reach(outlet: Outlet, recipients: int) -> cmds.OutletReach:
    return cmds.OutletReach(outlet=outlet, recipients=recipients)


def publish(ref: str = "w-1", at: datetime = T0, **extra: Any) -> cmds.PublishBroadcast:
    fields: dict[str, Any] = {
        "community": "*",
        "category": BroadcastCategory.ANTI_THEFT,
        "period": Period.HOLIDAY,
        "text": "春节期间请锁好门窗 lock doors and windows over the holiday",
        "outlets": (reach(SMS, 5200), reach(QQ_C1, 310)),
    }
    return issue(cmds.PublishBroadcast, at, broadcast_id=ref, **(fields | extra))


def on(cls: type[Any], ref: str = "w-1", at: datetime = T0, **fields: Any) -> Any:
    return issue(cls, at, broadcast_id=ref, **fields)


def publish_on(*outlets: cmds.OutletReach, ref: str = "w-1", at: datetime = T0) -> Any:
    return on(cmds.PublishBroadcastOn, ref, at, outlets=outlets)


def ask(qid: str = "q-1", at: datetime = T0, ref: str = "w-1", **extra: Any) -> Any:
    fields: dict[str, Any] = {"outlet": QQ_C1, "text": "does this cover bicycles?"}
    return on(cmds.ReceiveQuestion, ref, at, question_id=qid, **(fields | extra))


def answer(qid: str = "q-1", at: datetime = T0, ref: str = "w-1") -> Any:
    return on(cmds.AnswerQuestion, ref, at, question_id=qid, answer="yes: use the lots")


# -- rules ------------------------------------------------------------------------------


def test_published_on_each_outlet_with_its_recipients(memory_service: Any) -> None:
    memory_service.handle(publish())
    memory_service.handle(publish_on(reach(WEIBO_C1, 1800), at=T0 + timedelta(hours=14)))
    b = memory_service.get(Broadcast, "w-1")
    assert (b.status, b.category, b.period) == (
        BroadcastStatus.PUBLISHED,
        BroadcastCategory.ANTI_THEFT,
        Period.HOLIDAY,
    )
    assert b.reach == {SMS: 5200, QQ_C1: 310, WEIBO_C1: 1800}
    assert b.recipients == 7310
    events = [e.event for e in memory_service.history("w-1", "broadcast")]
    assert events == ["Published", "PublishedOn", "PublishedOn", "PublishedOn"]


def test_each_outlet_once(memory_service: Any) -> None:
    memory_service.handle(publish())
    err = refused(memory_service, publish_on(reach(QQ_C2, 9), reach(SMS, 1)), RuleViolation)
    assert (err.field, err.rule) == ("outlet", "each outlet once")
    # the whole command is refused: QQ_C2, which came first, was not published either
    assert QQ_C2 not in memory_service.get(Broadcast, "w-1").reach


def test_time_to_answer_follows_from_both_occurred_at(memory_service: Any) -> None:
    memory_service.handle(publish())
    asked = T0 + timedelta(hours=1)
    memory_service.handle(ask(at=asked, person=PersonInput(ref="p-5", phone="13912345678")))
    memory_service.handle(ask("q-2", asked, outlet=SMS))
    b = memory_service.get(Broadcast, "w-1")
    assert b.time_to_answer("q-1") is None
    memory_service.handle(answer(at=asked + timedelta(hours=2, minutes=15)))
    b = memory_service.get(Broadcast, "w-1")
    assert b.time_to_answer("q-1") == timedelta(hours=2, minutes=15)
    assert b.time_to_answer("q-2") is None
    assert b.time_to_answer("nope") is None
    assert b.questions["q-1"].outlet == QQ_C1


def test_time_to_answer_across_utc_offsets(memory_service: Any) -> None:
    memory_service.handle(publish())
    memory_service.handle(ask(at=datetime(2014, 1, 30, 20, 0, tzinfo=CST)))
    memory_service.handle(answer(at=datetime.fromisoformat("2014-01-30T12:30:00+00:00")))
    assert memory_service.get(Broadcast, "w-1").time_to_answer("q-1") == timedelta(minutes=30)


def test_a_question_is_answered_once_and_not_before_it_was_asked(memory_service: Any) -> None:
    memory_service.handle(publish())
    asked = T0 + timedelta(hours=3)
    memory_service.handle(ask(at=asked))
    err = refused(memory_service, answer(at=asked - timedelta(minutes=1)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(answer(at=asked))
    err = refused(memory_service, answer(at=asked + timedelta(days=1)), InvalidTransition)
    assert (err.field, err.rule) == ("question_id", "answered once")


def test_unknown_and_repeated_question_ids(memory_service: Any) -> None:
    memory_service.handle(publish())
    err = refused(memory_service, answer("q-9"), RuleViolation)
    assert err.field == "question_id"
    memory_service.handle(ask())
    err = refused(memory_service, ask(), AlreadyExists)
    assert err.field == "question_id"


def test_withdrawn_stops_publication_but_questions_are_still_answered(memory_service: Any) -> None:
    memory_service.handle(publish())
    memory_service.handle(ask())
    memory_service.handle(on(cmds.WithdrawBroadcast, reason="false alarm"))
    refused(memory_service, publish_on(reach(WEIBO_C1, 10)), InvalidTransition)
    refused(memory_service, on(cmds.WithdrawBroadcast, reason="again"), InvalidTransition)
    memory_service.handle(ask("q-2", text="why was it withdrawn?"))
    memory_service.handle(answer("q-1"))
    memory_service.handle(answer("q-2"))
    b = memory_service.get(Broadcast, "w-1")
    assert b.status is BroadcastStatus.WITHDRAWN
    assert all(q.answered_at is not None for q in b.questions.values())


def test_the_resident_asking_is_sealed_never_stored_in_clear(memory_service: Any) -> None:
    memory_service.handle(publish())
    resident = PersonInput(ref="p-5", name="Wang Fang", phone="13912345678")
    memory_service.handle(ask(person=resident))
    for n in stored(memory_service):
        assert b"Wang Fang" not in n.state
        assert b"13912345678" not in n.state
    question = memory_service.get(Broadcast, "w-1").questions["q-1"]
    assert question.person is not None
    assert memory_service.person(question.person).phone == "13912345678"


def test_facts_cannot_precede_the_publication(memory_service: Any) -> None:
    memory_service.handle(publish())
    before = T0 - timedelta(minutes=5)
    for command in (
        ask(at=before),
        publish_on(reach(QQ_C2, 1), at=before),
        on(cmds.WithdrawBroadcast, at=before, reason="r"),
    ):
        assert refused(memory_service, command, RuleViolation).field == "occurred_at"


def test_unknown_and_duplicate_broadcast_ids(memory_service: Any) -> None:
    refused(memory_service, ask(ref="nope"), NotFound)
    memory_service.handle(publish())
    assert refused(memory_service, publish(), AlreadyExists).field == "broadcast_id"


@pytest.mark.parametrize(
    "outlets",
    [(), (reach(SMS, 1), reach(SMS, 2))],
    ids=["none", "twice"],
)
def test_outlets_are_given_each_once(memory_service: Any, outlets: tuple[Any, ...]) -> None:
    assert refused(memory_service, publish(outlets=outlets), InvalidCommand).field == "outlets"
    memory_service.handle(publish())
    assert refused(memory_service, publish_on(*outlets), InvalidCommand).field == "outlets"


@pytest.mark.parametrize(
    ("type_", "fields", "field"),
    [
        ("broadcast.publish", {"category": "rumour"}, "category"),
        ("broadcast.publish", {"period": "always"}, "period"),
        ("broadcast.publish", {"text": " "}, "text"),
        (
            "broadcast.publish",
            {"outlets": [{"outlet": {"medium": "sms"}, "recipients": -1}]},
            "outlets[0].recipients",
        ),
        (
            "broadcast.publish",
            {"outlets": [{"outlet": {"medium": "fax"}, "recipients": 1}]},
            "outlets[0].outlet.medium",
        ),
        (
            "broadcast.receive_question",
            {"outlet": {"medium": "qq_group", "community": ""}},
            "outlet.community",
        ),
        ("broadcast.answer_question", {"answer": ""}, "answer"),
    ],
)
def test_bad_json_is_refused_naming_the_field(
    type_: str, fields: dict[str, Any], field: str
) -> None:
    valid = {
        "broadcast.publish": publish(),
        "broadcast.receive_question": ask(),
        "broadcast.answer_question": answer(),
    }[type_]
    with pytest.raises(InvalidCommand) as info:
        parse_command(command_to_json(valid) | fields)
    assert [e.field for e in info.value.errors] == [field]


# -- round trips ------------------------------------------------------------------------


# -- every store ------------------------------------------------------------------------


def test_broadcast_lands_and_replays_on_every_store(service_factory: Any) -> None:
    service = service_factory()
    for command in (
        publish(),
        publish_on(reach(WEIBO_C1, 1800), reach(QQ_C2, 95), at=T0 + timedelta(hours=1)),
        ask(at=T0 + timedelta(hours=2), person=PersonInput(ref="p-5", name="Wang Fang")),
        answer(at=T0 + timedelta(hours=3)),
        on(cmds.WithdrawBroadcast, at=T0 + timedelta(hours=4), reason="thief caught"),
    ):
        service.handle(command)
    live = service.get(Broadcast, "w-1")
    replayed = service_factory().get(Broadcast, "w-1")
    assert replayed.__dict__ == live.__dict__
    assert replayed.reach == {SMS: 5200, QQ_C1: 310, WEIBO_C1: 1800, QQ_C2: 95}
    assert replayed.time_to_answer("q-1") == timedelta(hours=1)
    assert replayed.status is BroadcastStatus.WITHDRAWN


def test_refused_broadcast_commands_write_nothing_on_every_store(service: Any) -> None:
    first = publish()
    service.handle(first)
    assert service.handle(first).duplicate
    refused(service, publish(), AlreadyExists)
    refused(service, publish_on(reach(QQ_C1, 1)), RuleViolation)
    refused(service, answer(), RuleViolation)
    refused(service, publish("w-2", outlets=()), InvalidCommand)
    assert len(service.history("w-1", "broadcast")) == 3


def test_v0_1_broadcast_still_replays() -> None:
    (path,) = [p for p in GOLDEN if p.stem == "v0_1_broadcast"]
    (b,) = [a for a in replay(path).values() if isinstance(a, Broadcast)]
    assert (b.ref, b.status, b.recipients) == ("w-2014-011", BroadcastStatus.WITHDRAWN, 7310)
    assert b.time_to_answer("q-1") == timedelta(hours=2, minutes=30)
    assert b.questions["q-1"].person is not None


# -- stateful ---------------------------------------------------------------------------


class BroadcastMachine(CommandMachine):
    """The real application beside a plain model of each broadcast."""

    START = T0
    STEP = timedelta(minutes=37)
    broadcasts = Bundle("broadcasts")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, dict[str, Any]] = {}

    @rule(target=broadcasts, ref=st.sampled_from(["w-1", "w-2", "w-3"]), outlets=outlet_reaches)
    def publish(self, ref: str, outlets: tuple[cmds.OutletReach, ...]) -> str:
        ok = ref not in self.model
        self.send(publish(ref, self.tick(), outlets=outlets), refused_unless(ok))
        if ok:
            self.model[ref] = {
                "status": "published",
                "reach": {r.outlet: r.recipients for r in outlets},
                "questions": {},
            }
        return ref

    @rule(ref=broadcasts | st.just("w-none"), outlets=outlet_reaches)
    def publish_on(self, ref: str, outlets: tuple[cmds.OutletReach, ...]) -> None:
        m = self.model.get(ref)
        ok = (
            m is not None
            and m["status"] == "published"
            and not any(r.outlet in m["reach"] for r in outlets)
        )
        self.send(publish_on(*outlets, ref=ref, at=self.tick()), refused_unless(ok))
        if ok:
            assert m is not None
            m["reach"].update({r.outlet: r.recipients for r in outlets})

    @rule(ref=broadcasts, qid=st.sampled_from(["q-1", "q-2", "q-3"]))
    def ask(self, ref: str, qid: str) -> None:
        m = self.model.get(ref)
        ok = m is not None and qid not in m["questions"]
        at = self.tick()
        self.send(ask(qid, at, ref), refused_unless(ok))
        if ok:
            assert m is not None
            m["questions"][qid] = [at, None]

    @rule(ref=broadcasts, qid=st.sampled_from(["q-1", "q-2", "q-3"]), backdated=st.booleans())
    def answer(self, ref: str, qid: str, backdated: bool) -> None:
        m = self.model.get(ref)
        asked = m["questions"].get(qid) if m is not None else None
        at = asked[0] - timedelta(minutes=1) if asked and backdated else self.tick()
        ok = asked is not None and asked[1] is None and not backdated
        self.send(answer(qid, at, ref), refused_unless(ok))
        if ok:
            assert asked is not None
            asked[1] = at

    @rule(ref=broadcasts)
    def withdraw(self, ref: str) -> None:
        m = self.model.get(ref)
        ok = m is not None and m["status"] == "published"
        self.send(on(cmds.WithdrawBroadcast, ref, self.tick(), reason="r"), refused_unless(ok))
        if ok:
            assert m is not None
            m["status"] = "withdrawn"

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            b = self.service.get(Broadcast, ref)
            waits = {q: b.time_to_answer(q) for q in b.questions}
            expected = {q: None if a is None else a - t for q, (t, a) in m["questions"].items()}
            assert (str(b.status), b.reach, waits) == (m["status"], m["reach"], expected)


TestBroadcastMachine = BroadcastMachine.TestCase
