"""Dispute: every rule of the mediation workflow, round-trips, and a stateful model test."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, invariant, rule

from safecomm_core import (
    AlreadyExists,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    RuleViolation,
    command_to_json,
    parse_command,
)
from safecomm_core.commands import dispute as cmds
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    DisputeStatus,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.values import Actor, Role
from tests.commanding import command_id
from tests.machines import MACHINE_SETTINGS, CommandMachine, refused_unless
from tests.refusals import refused
from tests.strategies import CST, communities, meta_fields, notes_texts, party_inputs, refs, texts

MEDIATOR = Actor("staff-017", Role.MEDIATOR)
T0 = datetime(2014, 3, 3, 9, 10, tzinfo=CST)


def report(ref: str = "d-1", at: datetime = T0, **extra: Any) -> cmds.ReportDispute:
    fields: dict[str, Any] = {
        "command_id": command_id(),
        "occurred_at": at,
        "actor": MEDIATOR,
        "dispute_id": ref,
        "community": "C1",
        "kind": DisputeKind.NEIGHBOUR,
        "summary": "water leaking from the flat above",
        "parties": (cmds.PartyInput(ref="p-1", role=PartyRole.APPLICANT, name="王建国"),),
    }
    return cmds.ReportDispute(**(fields | extra))


def on(cls: type[Any], ref: str = "d-1", at: datetime = T0, **fields: Any) -> Any:
    return cls(command_id=command_id(), occurred_at=at, actor=MEDIATOR, dispute_id=ref, **fields)


def to_agreement(service: Any, ref: str = "d-1", at: datetime = T0) -> None:
    service.handle(report(ref, at))
    service.handle(on(cmds.AcceptDispute, ref, at + timedelta(minutes=20)))
    service.handle(on(cmds.AssignMediator, ref, at + timedelta(minutes=21), mediator="staff-017"))
    service.handle(on(cmds.HoldSession, ref, at + timedelta(days=1)))
    service.handle(
        on(
            cmds.ReachAgreement,
            ref,
            at + timedelta(days=1, hours=1),
            form=AgreementForm.WRITTEN,
            terms="repair",
        )
    )


# -- rules ------------------------------------------------------------------------------


def test_full_workflow_with_confirmation_follow_up_and_archive(memory_service: Any) -> None:
    to_agreement(memory_service)
    later = T0 + timedelta(days=10)
    memory_service.handle(
        on(cmds.RecordPerformance, at=later, outcome=PerformanceOutcome.PERFORMED)
    )
    memory_service.handle(on(cmds.ApplyJudicialConfirmation, at=later))
    memory_service.handle(on(cmds.DecideJudicialConfirmation, at=later, confirmed=True))
    memory_service.handle(on(cmds.FollowUpDispute, at=later, notes="all well"))
    memory_service.handle(on(cmds.ArchiveDispute, at=later))
    d = memory_service.get(Dispute, "d-1")
    assert (d.status, d.performance, d.confirmation, d.follow_ups) == (
        DisputeStatus.ARCHIVED,
        PerformanceOutcome.PERFORMED,
        "confirmed",
        1,
    )


def test_judicial_confirmation_window_is_thirty_days_inclusive(memory_service: Any) -> None:
    to_agreement(memory_service)  # agreement on 2014-03-04
    err = refused(
        memory_service,
        on(cmds.ApplyJudicialConfirmation, at=datetime(2014, 4, 4, 9, tzinfo=CST)),
        RuleViolation,
    )
    assert "31 days" in str(err)
    memory_service.handle(on(cmds.ApplyJudicialConfirmation, at=datetime(2014, 4, 3, tzinfo=CST)))


def test_confirmation_window_is_a_versioned_rule(memory_service: Any) -> None:
    memory_service.handle_json(
        {
            "type": "rules.adopt",
            "command_id": "r-1",
            "occurred_at": "2014-01-01T00:00:00+08:00",
            "actor": {"id": "staff-001", "role": "admin"},
            "effective_from": "2014-04-01",
            "community": "C1",
            "changes": {"judicial_confirmation_days": 60},
        }
    )
    to_agreement(memory_service)
    memory_service.handle(on(cmds.ApplyJudicialConfirmation, at=datetime(2014, 4, 20, tzinfo=CST)))


def test_refusal_ends_the_case(memory_service: Any) -> None:
    memory_service.handle(report())
    memory_service.handle(on(cmds.RefuseDispute, reason="the respondent refuses mediation"))
    refused(memory_service, on(cmds.AcceptDispute), InvalidTransition)
    memory_service.handle(on(cmds.ArchiveDispute))


def test_session_needs_a_mediator_and_agreement_needs_a_session(memory_service: Any) -> None:
    memory_service.handle(report())
    refused(memory_service, on(cmds.HoldSession), InvalidTransition)  # not accepted yet
    memory_service.handle(on(cmds.AcceptDispute))
    refused(memory_service, on(cmds.HoldSession), RuleViolation)
    memory_service.handle(on(cmds.AssignMediator, mediator="m-1"))
    refused(
        memory_service,
        on(cmds.ReachAgreement, form=AgreementForm.ORAL, terms="apologise"),
        RuleViolation,
    )


def test_police_report_needs_a_flagged_risk(memory_service: Any) -> None:
    memory_service.handle(report())
    refused(memory_service, on(cmds.ReportDisputeToPolice, station="Hemenkou"), RuleViolation)
    memory_service.handle(on(cmds.FlagDisputeRisk, risk="threats of violence"))
    memory_service.handle(on(cmds.ReportDisputeToPolice, station="Hemenkou"))
    assert memory_service.get(Dispute, "d-1").reported_to_police


def test_termination_must_tell_a_route(memory_service: Any) -> None:
    memory_service.handle(report())
    memory_service.handle(on(cmds.AcceptDispute))
    refused(memory_service, on(cmds.TerminateMediation, reason="no", routes_told=()), RuleViolation)
    memory_service.handle(on(cmds.TerminateMediation, reason="no", routes_told=(Route.JUDICIAL,)))
    refused(memory_service, on(cmds.RecordPerformance, outcome="performed"), InvalidTransition)


def test_facts_cannot_precede_the_report(memory_service: Any) -> None:
    memory_service.handle(report())
    err = refused(memory_service, on(cmds.AcceptDispute, at=T0 - timedelta(hours=1)), RuleViolation)
    assert err.field == "occurred_at"


def test_unknown_and_duplicate_ids(memory_service: Any) -> None:
    refused(memory_service, on(cmds.AcceptDispute, "nope"), NotFound)
    memory_service.handle(report())
    refused(memory_service, report(), AlreadyExists)


def test_parties_must_be_given_once_each(memory_service: Any) -> None:
    none = refused(memory_service, report(parties=()), InvalidCommand)
    assert [(e.field, e.rule) for e in none.errors] == [("parties", "at least one party")]
    party = cmds.PartyInput(ref="p-1", role=PartyRole.APPLICANT)
    refused(memory_service, report(parties=(party, party)), InvalidCommand)


# -- round trips ------------------------------------------------------------------------


dispute_commands = st.one_of(
    meta_fields().flatmap(
        lambda m: st.builds(
            cmds.ReportDispute,
            dispute_id=refs,
            community=communities,
            kind=st.sampled_from(list(DisputeKind)),
            summary=texts,
            parties=party_inputs,
            grid_unit=st.none() | refs,
            **{k: st.just(v) for k, v in m.items()},
        )
    ),
    meta_fields().flatmap(
        lambda m: st.builds(
            cmds.TerminateMediation,
            dispute_id=refs,
            reason=texts,
            routes_told=st.lists(st.sampled_from(list(Route)), max_size=3).map(tuple),
            **{k: st.just(v) for k, v in m.items()},
        )
    ),
    meta_fields().flatmap(
        lambda m: st.builds(
            cmds.ReachAgreement,
            dispute_id=refs,
            form=st.sampled_from(list(AgreementForm)),
            terms=texts,
            **{k: st.just(v) for k, v in m.items()},
        )
    ),
    meta_fields().flatmap(
        lambda m: st.builds(
            cmds.DecideJudicialConfirmation,
            dispute_id=refs,
            confirmed=st.booleans(),
            notes=notes_texts,
            **{k: st.just(v) for k, v in m.items()},
        )
    ),
)


@given(dispute_commands)
def test_commands_round_trip_through_json(command: Any) -> None:
    assert parse_command(command_to_json(command)) == command


# -- stateful ---------------------------------------------------------------------------


class DisputeMachine(CommandMachine):
    """The real application beside a plain model of each dispute's status and counters."""

    START = T0
    SETTINGS = settings(MACHINE_SETTINGS, stateful_step_count=25)
    disputes = Bundle("disputes")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, dict[str, Any]] = {}

    @rule(target=disputes, ref=refs)
    def report(self, ref: str) -> str:
        fresh = ref not in self.model
        self.send(report(ref, self.tick()), refused_unless(fresh))
        if fresh:
            self.model[ref] = {"status": "reported", "mediator": None, "sessions": 0, "risk": False}
        return ref

    @rule(ref=disputes)
    def accept(self, ref: str) -> None:
        m = self.model[ref]
        ok = m["status"] == "reported"
        self.send(on(cmds.AcceptDispute, ref, self.tick()), refused_unless(ok))
        if ok:
            m["status"] = "accepted"

    @rule(ref=disputes)
    def refuse(self, ref: str) -> None:
        m = self.model[ref]
        ok = m["status"] == "reported"
        self.send(on(cmds.RefuseDispute, ref, self.tick(), reason="refuses"), refused_unless(ok))
        if ok:
            m["status"] = "refused"

    @rule(ref=disputes, mediator=refs)
    def assign(self, ref: str, mediator: str) -> None:
        m = self.model[ref]
        ok = m["status"] == "accepted"
        self.send(on(cmds.AssignMediator, ref, self.tick(), mediator=mediator), refused_unless(ok))
        if ok:
            m["mediator"] = mediator

    @rule(ref=disputes)
    def session(self, ref: str) -> None:
        m = self.model[ref]
        ok = m["status"] == "accepted" and m["mediator"] is not None
        self.send(on(cmds.HoldSession, ref, self.tick()), refused_unless(ok))
        if ok:
            m["sessions"] += 1

    @rule(ref=disputes)
    def flag(self, ref: str) -> None:
        m = self.model[ref]
        ok = m["status"] != "archived"
        self.send(on(cmds.FlagDisputeRisk, ref, self.tick(), risk="violence"), refused_unless(ok))
        if ok:
            m["risk"] = True

    @rule(ref=disputes, form=st.sampled_from(list(AgreementForm)))
    def agree(self, ref: str, form: AgreementForm) -> None:
        m = self.model[ref]
        ok = m["status"] == "accepted" and m["sessions"] > 0
        self.send(
            on(cmds.ReachAgreement, ref, self.tick(), form=form, terms="t"), refused_unless(ok)
        )
        if ok:
            m["status"] = "agreed"

    @rule(ref=disputes, routes=st.lists(st.sampled_from(list(Route)), max_size=2))
    def terminate(self, ref: str, routes: list[Route]) -> None:
        m = self.model[ref]
        ok = m["status"] == "accepted" and bool(routes)
        self.send(
            on(cmds.TerminateMediation, ref, self.tick(), reason="r", routes_told=tuple(routes)),
            refused_unless(ok),
        )
        if ok:
            m["status"] = "terminated"

    @rule(ref=consumes(disputes))
    def archive(self, ref: str) -> None:
        m = self.model[ref]
        ok = m["status"] in ("agreed", "terminated", "refused")
        self.send(on(cmds.ArchiveDispute, ref, self.tick()), refused_unless(ok))
        if ok:
            m["status"] = "archived"

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            d = self.service.get(Dispute, ref)
            assert (str(d.status), d.mediator, d.sessions, d.risk_flagged) == (
                m["status"],
                m["mediator"],
                m["sessions"],
                m["risk"],
            )


TestDisputeMachine = DisputeMachine.TestCase
