"""ProjectPhase: every rule of a phase's life, round-trips, contract and a stateful model test."""

from __future__ import annotations

import hashlib
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
from safecomm_core.commands import phase as cmds
from safecomm_core.domain.phase import (
    REVIEW_PHASES,
    Evidence,
    EvidenceKind,
    PhaseId,
    PhaseStatus,
    ProjectPhase,
    ReviewKind,
)
from safecomm_core.freetext import open_text
from safecomm_core.validation import BrokenRule
from safecomm_core.values import Actor, Role
from tests.commanding import command_id
from tests.machines import CommandMachine, refused_unless
from tests.refusals import refused
from tests.strategies import CST, phase_commands, phase_ids

STAFF = Actor("staff-001", Role.STAFF)
#: P4 runs May – Aug 2014 (plan II).
T0 = datetime(2014, 5, 2, 9, 0, tzinfo=CST)


def evidence(content: str, kind: EvidenceKind = EvidenceKind.REPORT) -> Evidence:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return Evidence(sha256=digest, title=content, kind=kind)


def plan(ref: PhaseId = PhaseId.P4, at: datetime = T0, **extra: Any) -> cmds.PlanPhase:
    fields: dict[str, Any] = {
        "command_id": command_id(),
        "occurred_at": at,
        "actor": STAFF,
        "phase_id": ref,
        "title": "training and guidance",
        "window_start": date(2014, 5, 1),
        "window_end": date(2014, 8, 31),
        "required_deliverables": ("expert training", "promotion meeting"),
    }
    return cmds.PlanPhase(**(fields | extra))


def on(cls: type[Any], ref: PhaseId = PhaseId.P4, at: datetime = T0, **fields: Any) -> Any:
    return cls(command_id=command_id(), occurred_at=at, actor=STAFF, phase_id=ref, **fields)


def deliver(name: str, *docs: str, ref: PhaseId = PhaseId.P4, at: datetime = T0) -> Any:
    return on(cmds.RecordDeliverable, ref, at, name=name, evidence=tuple(evidence(d) for d in docs))


def started(service: Any, ref: PhaseId = PhaseId.P4, at: datetime = T0) -> None:
    service.handle(plan(ref, at))
    service.handle(on(cmds.StartPhase, ref, at))


# -- rules ------------------------------------------------------------------------------


def test_completion_with_gaps_keeps_them_on_record(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(deliver("expert training", "training sign-in sheet", "slides"))
    memory_service.handle(on(cmds.CompletePhase, at=T0 + timedelta(days=100)))
    p = memory_service.get(ProjectPhase, "P4")
    assert p.status is PhaseStatus.COMPLETED
    assert p.gaps_at_completion == p.gaps == ("promotion meeting",)
    assert p.completed_late is False
    completed = memory_service.history("P4", "phase")[-1]
    assert (completed.event, completed.details) == ("Completed", {"gaps": ["promotion meeting"]})
    # Evidence filed later (P6 assembles the files) closes the gap; the record of it stays.
    memory_service.handle(deliver("promotion meeting", "minutes", at=T0 + timedelta(days=150)))
    p = memory_service.get(ProjectPhase, "P4")
    assert (p.gaps, p.gaps_at_completion) == ((), ("promotion meeting",))


def test_deliverables_outside_the_plan_and_repeats_are_kept(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(deliver("photos", "photo-1"))
    memory_service.handle(deliver("expert training", "sheet"))
    memory_service.handle(deliver("expert training", "slides"))
    p = memory_service.get(ProjectPhase, "P4")
    assert [d.name for d in p.deliverables] == ["photos", "expert training", "expert training"]
    assert p.delivered == {"photos", "expert training"}
    assert p.gaps == ("promotion meeting",)


def test_evidence_is_a_content_hash_kept_in_lower_case() -> None:
    digest = hashlib.sha256(b"report").hexdigest()
    assert Evidence(sha256=digest.upper(), title="report").sha256 == digest
    for bad in ("", digest[:-1], digest + "0", "g" * 64, digest[:-1] + " "):
        with pytest.raises(BrokenRule) as info:
            Evidence(sha256=bad, title="report")
        assert info.value.attribute == "sha256"


def test_bad_evidence_is_refused_with_the_field(memory_service: Any) -> None:
    started(memory_service)
    data = command_to_json(deliver("expert training", "sheet"))
    data["evidence"][0]["sha256"] = "not-a-hash"
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    assert info.value.field == "evidence[0].sha256"
    err = refused(memory_service, deliver("expert training"), InvalidCommand)
    assert err.field == "evidence"
    err = refused(memory_service, deliver("expert training", "same", "same"), InvalidCommand)
    assert (err.field, err.rule) == ("evidence", "each once")


def test_work_needs_a_start_and_a_start_happens_once(memory_service: Any) -> None:
    memory_service.handle(plan())
    refused(memory_service, deliver("expert training", "sheet"), InvalidTransition)
    refused(
        memory_service, on(cmds.HoldPhaseReview, kind="mid-term", findings="f"), InvalidTransition
    )
    refused(memory_service, on(cmds.CompletePhase), InvalidTransition)
    memory_service.handle(on(cmds.StartPhase))
    refused(memory_service, on(cmds.StartPhase), InvalidTransition)
    memory_service.handle(on(cmds.CompletePhase))
    refused(memory_service, on(cmds.CompletePhase), InvalidTransition)
    refused(memory_service, on(cmds.StartPhase), InvalidTransition)


def test_facts_cannot_precede_the_plan_or_the_start(memory_service: Any) -> None:
    memory_service.handle(plan())
    err = refused(memory_service, on(cmds.StartPhase, at=T0 - timedelta(minutes=1)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(on(cmds.StartPhase, at=T0 + timedelta(days=2)))
    for early in (
        deliver("expert training", "sheet", at=T0 + timedelta(days=1)),
        on(cmds.CompletePhase, at=T0 + timedelta(days=1)),
    ):
        err = refused(memory_service, early, RuleViolation)
        assert (err.field, err.rule) == ("occurred_at", "must not be before the phase started")


def test_a_phase_may_start_before_its_window(memory_service: Any) -> None:
    memory_service.handle(plan(at=T0 - timedelta(days=30)))
    memory_service.handle(on(cmds.StartPhase, at=T0 - timedelta(days=20)))
    assert memory_service.get(ProjectPhase, "P4").status is PhaseStatus.STARTED


@pytest.mark.parametrize(
    ("ref", "kind", "score"),
    [
        (PhaseId.P4, ReviewKind.MID_TERM, None),
        (PhaseId.P6, ReviewKind.SELF_ASSESSMENT, 87),
        (PhaseId.P6, ReviewKind.SELF_ASSESSMENT, None),
        (PhaseId.P6, ReviewKind.LOOK_BACK, None),
        (PhaseId.P2, ReviewKind.LOOK_BACK, None),
        (PhaseId.P7, ReviewKind.PROVINCIAL_INSPECTION, None),
    ],
)
def test_reviews_where_the_plan_puts_them(
    memory_service: Any, ref: PhaseId, kind: ReviewKind, score: int | None
) -> None:
    started(memory_service, ref)
    memory_service.handle(on(cmds.HoldPhaseReview, ref, kind=kind, score=score, findings="ok"))
    [review] = memory_service.get(ProjectPhase, ref).reviews
    assert (review.kind, review.score) == (kind, score)
    assert open_text(review.findings, memory_service.keys) == "ok"


def test_reviews_elsewhere_or_scored_wrongly_are_refused(memory_service: Any) -> None:
    started(memory_service, PhaseId.P4)
    started(memory_service, PhaseId.P6)
    for kind in (ReviewKind.SELF_ASSESSMENT, ReviewKind.PROVINCIAL_INSPECTION):
        err = refused(
            memory_service, on(cmds.HoldPhaseReview, kind=kind, findings="f"), RuleViolation
        )
        assert err.field == "kind"
    err = refused(
        memory_service,
        on(cmds.HoldPhaseReview, kind=ReviewKind.MID_TERM, score=80, findings="f"),
        RuleViolation,
    )
    assert (err.field, err.rule) == ("score", "only for a self-assessment")
    for score in (-1, 101):
        with pytest.raises(BrokenRule):
            on(cmds.HoldPhaseReview, PhaseId.P6, kind="self-assessment", score=score, findings="f")
    data = command_to_json(
        on(cmds.HoldPhaseReview, PhaseId.P6, kind="self-assessment", score=100, findings="f")
    )
    with pytest.raises(InvalidCommand) as info:
        parse_command({**data, "score": 101})
    assert info.value.field == "score"


def test_overdue_only_after_the_window_by_local_date(memory_service: Any) -> None:
    memory_service.handle(plan())
    # 16:00 UTC on Aug 31 is midnight in the subdistrict: the last day of the window.
    last_day = datetime(2014, 8, 31, 15, 59, tzinfo=UTC)
    err = refused(memory_service, on(cmds.MarkPhaseOverdue, at=last_day), RuleViolation)
    assert (err.field, err.rule) == ("occurred_at", "after the planned window")
    memory_service.handle(on(cmds.MarkPhaseOverdue, at=last_day + timedelta(minutes=1)))
    p = memory_service.get(ProjectPhase, "P4")
    assert (p.overdue, p.overdue_on, p.status) == (True, date(2014, 9, 1), PhaseStatus.PLANNED)
    refused(
        memory_service, on(cmds.MarkPhaseOverdue, at=last_day + timedelta(days=9)), RuleViolation
    )


def test_an_overdue_phase_can_still_start_and_complete(memory_service: Any) -> None:
    memory_service.handle(plan())
    late = datetime(2014, 9, 5, tzinfo=CST)
    memory_service.handle(on(cmds.MarkPhaseOverdue, at=late))
    memory_service.handle(on(cmds.StartPhase, at=late))
    memory_service.handle(on(cmds.CompletePhase, at=late + timedelta(days=3)))
    p = memory_service.get(ProjectPhase, "P4")
    assert (p.status, p.overdue, p.completed_late) == (PhaseStatus.COMPLETED, True, True)
    refused(
        memory_service, on(cmds.MarkPhaseOverdue, at=late + timedelta(days=4)), InvalidTransition
    )


def test_completed_in_time_is_never_overdue(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(on(cmds.CompletePhase, at=datetime(2014, 8, 30, tzinfo=CST)))
    refused(
        memory_service,
        on(cmds.MarkPhaseOverdue, at=datetime(2014, 9, 30, tzinfo=CST)),
        InvalidTransition,
    )
    assert memory_service.get(ProjectPhase, "P4").overdue is False


def test_plan_shape_and_ids(memory_service: Any) -> None:
    refused(memory_service, on(cmds.StartPhase), NotFound)
    err = refused(memory_service, plan(window_end=date(2014, 4, 30)), InvalidCommand)
    assert err.field == "window_end"
    err = refused(memory_service, plan(required_deliverables=("a", "a")), InvalidCommand)
    assert (err.field, err.rule) == ("required_deliverables", "each once")
    memory_service.handle(plan(window_end=date(2014, 5, 1), required_deliverables=()))
    refused(memory_service, plan(), AlreadyExists)
    p = memory_service.get(ProjectPhase, "P4")
    assert (p.ref, p.community, p.gaps) == ("P4", "*", ())
    with pytest.raises(InvalidCommand) as info:
        parse_command({**command_to_json(plan()), "phase_id": "P8"})
    assert info.value.field == "phase_id"


def test_review_phases_cover_every_kind() -> None:
    assert set(REVIEW_PHASES) == set(ReviewKind)
    assert REVIEW_PHASES[ReviewKind.LOOK_BACK] == set(PhaseId)


# -- round trips ------------------------------------------------------------------------


@settings(max_examples=60)
@given(phase_commands)
def test_commands_round_trip_through_json(command: Any) -> None:
    assert parse_command(command_to_json(command)) == command


# -- contract (every backend) -----------------------------------------------------------


def test_phase_lands_and_replays_on_every_backend(service_factory: Any) -> None:
    service = service_factory()
    service.handle(plan(PhaseId.P6, required_deliverables=("work report", "evidence files")))
    service.handle(on(cmds.StartPhase, PhaseId.P6))
    service.handle(
        on(
            cmds.RecordDeliverable,
            PhaseId.P6,
            name="work report",
            evidence=(evidence("report"), evidence("photo", EvidenceKind.PHOTO)),
        )
    )
    service.handle(
        on(cmds.HoldPhaseReview, PhaseId.P6, kind="self-assessment", score=91, findings="自评")
    )
    service.handle(on(cmds.MarkPhaseOverdue, PhaseId.P6, at=datetime(2014, 9, 1, tzinfo=CST)))
    service.handle(on(cmds.CompletePhase, PhaseId.P6, at=datetime(2014, 9, 2, tzinfo=CST)))
    live = service.get(ProjectPhase, "P6")
    replayed = service_factory().get(ProjectPhase, "P6")
    assert replayed.__dict__ == live.__dict__
    assert replayed.reviews[0].kind is ReviewKind.SELF_ASSESSMENT
    assert replayed.deliverables[0].evidence[1].kind is EvidenceKind.PHOTO
    assert replayed.gaps_at_completion == ("evidence files",)


def test_refused_phase_command_writes_nothing_on_every_backend(service: Any) -> None:
    started(service)
    command = on(cmds.MarkPhaseOverdue, at=T0 + timedelta(days=1))
    refused(service, command, RuleViolation)
    # not even the receipt: the same command id can carry a corrected command
    fixed = cmds.MarkPhaseOverdue(
        command_id=command.command_id,
        occurred_at=datetime(2014, 9, 1, tzinfo=CST),
        actor=STAFF,
        phase_id=PhaseId.P4,
    )
    assert not service.handle(fixed).duplicate


# -- stateful ---------------------------------------------------------------------------

NAMES = ("diagnosis", "plan", "minutes", "photos")
any_review = st.tuples(st.sampled_from(list(ReviewKind)), st.none() | st.integers(0, 100))


class PhaseMachine(CommandMachine):
    """The real application beside a plain model of each phase."""

    START = T0
    STEP = timedelta(hours=1)
    phases = Bundle("phases")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[PhaseId, dict[str, Any]] = {}
        self.docs = iter(range(10**9))

    def started(self, ref: PhaseId) -> bool:
        return ref in self.model and self.model[ref]["status"] != "planned"

    @initialize(target=phases)
    def first(self) -> PhaseId:
        # A started phase from the start: hypothesis often repeats one rule for a whole run.
        self.plan(PhaseId.P4, 0, 10, ["diagnosis"])
        self.start(PhaseId.P4, 1)
        return PhaseId.P4

    @rule(
        target=phases,
        ref=phase_ids,
        start=st.integers(-40, 20),
        length=st.integers(-2, 30),
        required=st.lists(st.sampled_from(NAMES), unique=True, max_size=3),
    )
    def plan(self, ref: PhaseId, start: int, length: int, required: list[str]) -> PhaseId:
        first = self.tick().date() + timedelta(days=start)
        last = first + timedelta(days=length)
        ok = ref not in self.model and length >= 0
        command = plan(
            ref,
            self.clock,
            window_start=first,
            window_end=last,
            required_deliverables=tuple(required),
        )
        self.send(command, refused_unless(ok))
        if ok:
            self.model[ref] = {
                "status": "planned",
                "end": last,
                "required": tuple(required),
                "delivered": [],
                "reviews": [],
                "overdue": False,
                "gaps_at_completion": (),
            }
        return ref

    @rule(ref=phases, hours=st.integers(0, 240))
    def start(self, ref: PhaseId, hours: int) -> None:
        ok = ref in self.model and not self.started(ref)
        self.send(on(cmds.StartPhase, ref, self.tick(timedelta(hours=hours))), refused_unless(ok))
        if ok:
            self.model[ref]["status"] = "started"

    @rule(ref=phases, name=st.sampled_from(NAMES), documents=st.integers(0, 2))
    def deliver(self, ref: PhaseId, name: str, documents: int) -> None:
        docs = [f"doc-{next(self.docs)}" for _ in range(documents)]
        ok = self.started(ref) and documents > 0
        self.send(deliver(name, *docs, ref=ref, at=self.tick()), refused_unless(ok))
        if ok:
            self.model[ref]["delivered"].append(name)

    @rule(ref=phases, review=any_review)
    def review(self, ref: PhaseId, review: tuple[ReviewKind, int | None]) -> None:
        kind, score = review
        ok = (
            self.started(ref)
            and ref in REVIEW_PHASES[kind]
            and (score is None or kind is ReviewKind.SELF_ASSESSMENT)
        )
        command = on(cmds.HoldPhaseReview, ref, self.tick(), kind=kind, score=score, findings="f")
        self.send(command, refused_unless(ok))
        if ok:
            self.model[ref]["reviews"].append((kind, score))

    @rule(ref=phases, hours=st.integers(0, 240))
    def complete(self, ref: PhaseId, hours: int) -> None:
        ok = self.started(ref) and self.model[ref]["status"] != "completed"
        self.send(
            on(cmds.CompletePhase, ref, self.tick(timedelta(hours=hours))), refused_unless(ok)
        )
        if ok:
            m = self.model[ref]
            m["status"] = "completed"
            m["gaps_at_completion"] = self.gaps(m)

    @rule(ref=phases, hours=st.integers(0, 24 * 40))
    def mark_overdue(self, ref: PhaseId, hours: int) -> None:
        today = self.tick(timedelta(hours=hours)).date()
        m = self.model.get(ref)
        ok = m is not None and m["status"] != "completed" and not m["overdue"] and today > m["end"]
        self.send(on(cmds.MarkPhaseOverdue, ref, self.clock), refused_unless(ok))
        if ok:
            self.model[ref]["overdue"] = True

    @rule(ref=phase_ids)
    def unplanned(self, ref: PhaseId) -> None:
        if ref not in self.model:
            self.send(on(cmds.StartPhase, ref, self.tick()), NotFound)

    @staticmethod
    def gaps(m: dict[str, Any]) -> tuple[str, ...]:
        return tuple(n for n in m["required"] if n not in m["delivered"])

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            p = self.service.get(ProjectPhase, ref)
            assert (
                p.status.value,
                [d.name for d in p.deliverables],
                [(r.kind, r.score) for r in p.reviews],
                p.overdue,
                p.gaps,
                p.gaps_at_completion,
            ) == (
                m["status"],
                m["delivered"],
                m["reviews"],
                m["overdue"],
                self.gaps(m),
                m["gaps_at_completion"],
            )


TestPhaseMachine = PhaseMachine.TestCase
