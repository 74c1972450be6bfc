"""Patrol: every rule and transition, on-site mediation, round-trips and a stateful model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    invariant,
    multiple,
    precondition,
    rule,
)

from safecomm_core import (
    AlreadyExists,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    RuleViolation,
    SafecommError,
    command_to_json,
    open_store,
    parse_command,
)
from safecomm_core.commands import dispute as dispute_cmds
from safecomm_core.commands import patrol as cmds
from safecomm_core.commands.dispute import PartyInput
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    DisputeSource,
    DisputeStatus,
    PartyRole,
)
from safecomm_core.domain.patrol import ObservationCategory, Patrol, PatrolStatus, PatrolTeam
from safecomm_core.values import Actor, Channel, Role
from tests.commanding import command_id
from tests.machines import CommandMachine
from tests.refusals import refused_exactly
from tests.strategies import CST, patrol_commands_by_type

OFFICER = Actor("pol-1", Role.POLICE)
CLERK = Actor("staff-003", Role.STAFF)
TEAM = PatrolTeam(police=("pol-1",), volunteers=("v-1", "v-2"))
ROUTE = ("market-gate", "compound-7", "bridge")
T0 = datetime(2014, 5, 1, 18, 0, tzinfo=CST)  # when the patrol was planned
START = T0 + timedelta(hours=1)


def mins(n: int) -> datetime:
    """``n`` minutes after the patrol started."""
    return START + timedelta(minutes=n)


def plan(ref: str = "p-1", at: datetime = T0, **extra: Any) -> cmds.PlanPatrol:
    fields: dict[str, Any] = {
        "command_id": command_id(),
        "occurred_at": at,
        "actor": CLERK,
        "patrol_id": ref,
        "community": "C1",
        "area": "market street and compounds 5-9",
        "route": ROUTE,
        "team": TEAM,
        "planned_start": T0 + timedelta(hours=1),
        "planned_end": T0 + timedelta(hours=3),
        "grid_unit": "G-12",
    }
    return cmds.PlanPatrol(**(fields | extra))


def on(cls: type[Any], ref: str = "p-1", at: datetime = START, **fields: Any) -> Any:
    fields.setdefault("actor", OFFICER)
    return cls(command_id=command_id(), occurred_at=at, patrol_id=ref, **fields)


PARTIES = (
    PartyInput(ref="per-1", role=PartyRole.APPLICANT, name="王建国", phone="13800001001"),
    PartyInput(ref="per-2", role=PartyRole.RESPONDENT),
)


def mediate(ref: str = "p-1", dispute: str = "d-1", at: datetime = START, **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "dispute_id": dispute,
        "kind": DisputeKind.NEIGHBOUR,
        "summary": "quarrel over a bicycle blocking a doorway",
        "parties": PARTIES,
    }
    return on(cmds.MediateOnSite, ref, at, **(fields | extra))


def started(service: Any, ref: str = "p-1") -> None:
    service.handle(plan(ref))
    service.handle(on(cmds.StartPatrol, ref))


def stored_topics(service: Any) -> list[str]:
    return [n.topic for n in service.log.read(0, 10**6) if "CommandReceipt" not in n.topic]


# -- lifecycle --------------------------------------------------------------------------


def test_a_whole_patrol(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(10), checkpoint="market-gate"))
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(20), checkpoint="night-market"))
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(30), checkpoint="market-gate"))
    memory_service.handle(
        on(
            cmds.RecordPatrolObservation,
            at=mins(35),
            category=ObservationCategory.FACILITY_FAULT,
            details="street light out at the east gate",
            checkpoint="market-gate",
        )
    )
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(40), checkpoint="bridge"))
    memory_service.handle(on(cmds.EndPatrol, at=mins(120), distance_m=4200, duration_minutes=110))
    p = memory_service.get(Patrol, "p-1")
    assert p.status is PatrolStatus.ENDED
    assert (p.started_at, p.ended_at) == (START, mins(120))
    assert [(v.checkpoint, v.off_route) for v in p.visits] == [
        ("market-gate", False),
        ("night-market", True),
        ("market-gate", False),
        ("bridge", False),
    ]
    assert p.route_visited == ("market-gate", "bridge")
    assert p.route_missed == ("compound-7",)
    assert p.observations == (ObservationCategory.FACILITY_FAULT,)
    assert (p.distance_m, p.duration_minutes) == (4200, 110)
    assert (p.community, p.grid_unit, p.team, p.route) == ("C1", "G-12", TEAM, ROUTE)


def test_stored_names_are_stable(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(on(cmds.VisitCheckpoint, checkpoint="bridge"))
    memory_service.handle(
        on(cmds.RecordPatrolObservation, category=ObservationCategory.HAZARD, details="gas smell")
    )
    memory_service.handle(mediate(settled=True, terms="bicycle moved; apology"))
    memory_service.handle(on(cmds.EndPatrol))
    assert stored_topics(memory_service) == [
        "safecomm/Patrol/Planned",
        "safecomm/Patrol/Started",
        "safecomm/Patrol/CheckpointVisited",
        "safecomm/Patrol/ObservationRecorded",
        "safecomm/Patrol/OnSiteMediationHeld",
        "safecomm/Dispute/Reported",
        "safecomm/Dispute/Accepted",
        "safecomm/Dispute/MediatorAssigned",
        "safecomm/Dispute/SessionHeld",
        "safecomm/Dispute/AgreementReached",
        "safecomm/Patrol/Ended",
    ]


def test_start_may_differ_from_the_plan_but_not_precede_planning(memory_service: Any) -> None:
    memory_service.handle(plan())
    err = refused_exactly(
        memory_service, on(cmds.StartPatrol, at=T0 - timedelta(minutes=1)), RuleViolation
    )
    assert err.field == "occurred_at"
    # Earlier than the planned start is fine: plans are plans.
    memory_service.handle(on(cmds.StartPatrol, at=T0 + timedelta(minutes=5)))
    assert memory_service.get(Patrol, "p-1").started_at == T0 + timedelta(minutes=5)


def test_start_only_once(memory_service: Any) -> None:
    started(memory_service)
    refused_exactly(memory_service, on(cmds.StartPatrol, at=mins(1)), InvalidTransition)
    memory_service.handle(on(cmds.EndPatrol, at=mins(60)))
    refused_exactly(memory_service, on(cmds.StartPatrol, at=mins(61)), InvalidTransition)


def _on_patrol_commands(at: datetime) -> list[Any]:
    return [
        on(cmds.VisitCheckpoint, at=at, checkpoint="bridge"),
        on(cmds.RecordPatrolObservation, at=at, category="hazard", details="loose wires"),
        mediate(at=at),
        on(cmds.EndPatrol, at=at),
    ]


def test_nothing_happens_on_a_planned_patrol(memory_service: Any) -> None:
    memory_service.handle(plan())
    for command in _on_patrol_commands(START):
        err = refused_exactly(memory_service, command, InvalidTransition)
        assert "planned" in str(err)
    assert not memory_service.exists(Dispute, "d-1")


def test_nothing_happens_on_an_ended_patrol(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(on(cmds.EndPatrol, at=mins(60)))
    for command in _on_patrol_commands(mins(61)):
        err = refused_exactly(memory_service, command, InvalidTransition)
        assert "ended" in str(err)


def test_nothing_happens_before_the_start(memory_service: Any) -> None:
    started(memory_service)
    for command in _on_patrol_commands(mins(-1)):
        err = refused_exactly(memory_service, command, RuleViolation)
        assert err.field == "occurred_at"
    # ... and before the plan is also refused, by the rule every record keeps.
    for command in _on_patrol_commands(T0 - timedelta(days=1)):
        assert refused_exactly(memory_service, command, RuleViolation).field == "occurred_at"
    for command in _on_patrol_commands(START):  # at the very start is allowed
        memory_service.handle(command)


def test_the_end_is_not_before_any_fact(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(50), checkpoint="bridge"))
    # A fact entered late, out of order, is fine; it does not move the last fact back.
    memory_service.handle(on(cmds.VisitCheckpoint, at=mins(20), checkpoint="compound-7"))
    err = refused_exactly(memory_service, on(cmds.EndPatrol, at=mins(49)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(on(cmds.EndPatrol, at=mins(50)))


def test_duration_is_at_most_the_time_from_start_to_end(memory_service: Any) -> None:
    started(memory_service)
    err = refused_exactly(
        memory_service, on(cmds.EndPatrol, at=mins(90), duration_minutes=91), RuleViolation
    )
    assert err.field == "duration_minutes"
    memory_service.handle(on(cmds.EndPatrol, at=mins(90), duration_minutes=90, distance_m=0))
    assert memory_service.get(Patrol, "p-1").duration_minutes == 90


def test_unknown_and_taken_ids(memory_service: Any) -> None:
    refused_exactly(memory_service, on(cmds.StartPatrol, "nope"), NotFound)
    refused_exactly(memory_service, mediate("nope"), NotFound)
    memory_service.handle(plan())
    refused_exactly(memory_service, plan(), AlreadyExists)


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ({"route": ()}, [("route", "at least one checkpoint")]),
        ({"route": ("a", "b", "a")}, [("route", "each checkpoint once")]),
        ({"route": ("a", " ")}, [("route[1]", "must not be empty")]),
        ({"team": PatrolTeam()}, [("team", "at least one member")]),
        (
            {"team": PatrolTeam(police=("x",), volunteers=("x",))},
            [("team", "nobody both police and volunteer")],
        ),
        ({"team": PatrolTeam(police=("x", "x"))}, [("team.police", "each officer once")]),
        (
            {"team": PatrolTeam(police=("x",), volunteers=("",))},
            [("team.volunteers[0]", "must not be empty")],
        ),
        (
            {"planned_end": T0 + timedelta(hours=1)},
            [("planned_end", "must be after planned_start")],
        ),
    ],
)
def test_malformed_plans_name_the_field(
    memory_service: Any, extra: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    try:
        command = plan(**extra)
    except InvalidCommand as exc:  # a field's own rule: refused as the command is built
        err: SafecommError = exc
    else:  # a rule of the whole command: refused when handled, nothing written
        err = refused_exactly(memory_service, command, InvalidCommand)
    assert isinstance(err, InvalidCommand)
    assert [(e.field, e.rule) for e in err.errors] == errors


@pytest.mark.parametrize(
    ("command", "changes", "error"),
    [
        (on(cmds.EndPatrol), {"distance_m": -5}, ("distance_m", "must be zero or more")),
        (on(cmds.EndPatrol), {"duration_minutes": "1h"}, ("duration_minutes", "must be int")),
        (mediate(settled=True, terms="t"), {"terms": "  "}, ("terms", "must not be empty")),
        (mediate(), {"mediator": ""}, ("mediator", "must not be empty")),
        (
            on(cmds.VisitCheckpoint, checkpoint="x"),
            {"checkpoint": ""},
            ("checkpoint", "must not be empty"),
        ),
        (
            on(cmds.RecordPatrolObservation, category="hazard", details="x"),
            {"category": "ufo"},
            ("category", "must be one of " + ", ".join(repr(c.value) for c in ObservationCategory)),
        ),
    ],
)
def test_field_rules_refuse_bad_json(
    command: Any, changes: dict[str, Any], error: tuple[str, str]
) -> None:
    with pytest.raises(InvalidCommand) as info:
        parse_command({**command_to_json(command), **changes})
    assert [(e.field, e.rule) for e in info.value.errors] == [error]


# -- on-site mediation ------------------------------------------------------------------


def test_unsettled_mediation_opens_an_accepted_dispute(memory_service: Any) -> None:
    started(memory_service)
    outcome = memory_service.handle(mediate(at=mins(15), mediator="v-2", notes="calmed down"))
    assert outcome.records == ("patrol:p-1", "dispute:d-1")
    p = memory_service.get(Patrol, "p-1")
    assert (p.mediations, p.settled_on_site) == (("d-1",), 0)
    d = memory_service.get(Dispute, "d-1")
    assert (d.source, d.status, d.mediator, d.sessions) == (
        DisputeSource.PATROL,
        DisputeStatus.ACCEPTED,
        "v-2",
        1,
    )
    assert (d.community, d.grid_unit, d.kind) == ("C1", "G-12", DisputeKind.NEIGHBOUR)
    assert d.first_session_at == mins(15)
    assert d.agreement_form is None
    assert [pp.person.ref for pp in d.parties] == ["per-1", "per-2"]
    assert memory_service.person(d.parties[0].person).name == "王建国"
    # The committee carries on with the ordinary dispute commands.
    memory_service.handle(
        dispute_cmds.ReachAgreement(
            command_id=command_id(),
            occurred_at=mins(60 * 24),
            actor=CLERK,
            dispute_id="d-1",
            form=AgreementForm.WRITTEN,
            terms="the bicycle is parked in the lot",
        )
    )
    assert memory_service.get(Dispute, "d-1").status is DisputeStatus.AGREED


def test_settled_mediation_records_an_oral_agreement(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(
        mediate(at=mins(15), settled=True, terms="apology; bicycle moved", grid_unit="G-13")
    )
    assert memory_service.get(Patrol, "p-1").settled_on_site == 1
    d = memory_service.get(Dispute, "d-1")
    assert (d.status, d.agreement_form, d.mediator) == (
        DisputeStatus.AGREED,
        AgreementForm.ORAL,
        "pol-1",  # the actor, by default
    )
    assert (d.closed_at, d.grid_unit) == (mins(15), "G-13")
    history = memory_service.history("d-1", kind="dispute")
    # The terms are sealed with the dispute's key: the history shows that they exist.
    assert history[-1].details == {"form": "oral", "terms": "[sealed]"}
    opened = memory_service.texts(Dispute, "d-1")
    assert [(t.event, t.field, t.text) for t in opened][-1] == (
        "AgreementReached",
        "terms",
        "apology; bicycle moved",
    )
    assert {e.command_id for e in history} == {
        e.command_id for e in memory_service.history("p-1", kind="patrol")[-1:]
    }


def test_mediation_into_a_taken_dispute_id_writes_nothing(memory_service: Any) -> None:
    started(memory_service)
    memory_service.handle(
        dispute_cmds.ReportDispute(
            command_id=command_id(),
            occurred_at=START,
            actor=CLERK,
            dispute_id="d-1",
            community="C1",
            kind=DisputeKind.FAMILY,
            summary="walk-in",
            parties=PARTIES[:1],
        )
    )
    refused_exactly(memory_service, mediate(at=mins(5), settled=True, terms="t"), AlreadyExists)
    assert memory_service.get(Patrol, "p-1").mediations == ()
    assert memory_service.get(Dispute, "d-1").source is DisputeSource.WALK_IN


def test_mediator_must_be_on_the_team(memory_service: Any) -> None:
    started(memory_service)
    err = refused_exactly(memory_service, mediate(mediator="pol-9"), RuleViolation)
    assert err.field == "mediator"
    # A clerk typing in a paper record names the patroller; the clerk is not the default.
    refused_exactly(memory_service, mediate(actor=CLERK), RuleViolation)
    memory_service.handle(mediate(actor=CLERK, mediator="v-1", channel=Channel.IMPORT))
    assert memory_service.get(Dispute, "d-1").mediator == "v-1"


def test_refused_mediation_makes_no_data_keys(memory_service: Any) -> None:
    started(memory_service)
    stranger = PartyInput(ref="per-77", role=PartyRole.APPLICANT, name="赵六")
    refused_exactly(memory_service, mediate(mediator="pol-9", parties=(stranger,)), RuleViolation)
    assert memory_service.keys.person_key("per-77", create=False) is None


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ({"settled": True}, [("terms", "required when settled on the spot")]),
        ({"terms": "moved it"}, [("terms", "only when settled on the spot")]),
        ({"parties": ()}, [("parties", "at least one party")]),
        ({"parties": (PARTIES[0], PARTIES[0])}, [("parties", "each party once")]),
    ],
)
def test_malformed_mediations_name_the_field(
    memory_service: Any, extra: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    started(memory_service)
    err = refused_exactly(memory_service, mediate(**extra), InvalidCommand)
    assert isinstance(err, InvalidCommand)
    assert [(e.field, e.rule) for e in err.errors] == errors


# -- round trips ------------------------------------------------------------------------


@settings(max_examples=25)
@given(patrol_commands_by_type["patrol.plan"])
def test_a_plan_round_trips_through_the_store(command: cmds.PlanPatrol) -> None:
    with open_store("memory://") as service:
        service.handle(command)
        p = service.get(Patrol, command.patrol_id)
    assert (p.community, p.area, p.route, p.team, p.grid_unit) == (
        command.community,
        command.area,
        command.route,
        command.team,
        command.grid_unit,
    )
    assert (p.planned_start, p.planned_end, p.created_meta) == (
        command.planned_start,
        command.planned_end,
        command.meta,
    )


# -- contract: every backend ------------------------------------------------------------


def test_patrol_lands_and_replays(service_factory: Any) -> None:
    service = service_factory()
    started(service)
    service.handle(on(cmds.VisitCheckpoint, at=mins(5), checkpoint="elsewhere"))
    service.handle(on(cmds.RecordPatrolObservation, at=mins(6), category="disorder", details="x"))
    service.handle(mediate(at=mins(7), settled=True, terms="shook hands"))
    service.handle(on(cmds.EndPatrol, at=mins(30), distance_m=1500))
    live = service.get(Patrol, "p-1")
    live_dispute = service.get(Dispute, "d-1")
    reopened = service_factory()
    assert reopened.get(Patrol, "p-1").__dict__ == live.__dict__
    assert reopened.get(Dispute, "d-1").__dict__ == live_dispute.__dict__
    assert reopened.get(Patrol, "p-1").visits[0].off_route


def test_on_site_mediation_is_atomic(service: Any) -> None:
    started(service)
    service.handle(mediate(dispute="d-1", at=mins(5)))
    refused_exactly(
        service, mediate(dispute="d-1", at=mins(6), settled=True, terms="t"), AlreadyExists
    )
    assert service.get(Patrol, "p-1").mediations == ("d-1",)
    assert service.get(Dispute, "d-1").status is DisputeStatus.ACCEPTED


def test_repeated_mediation_has_the_effect_of_once(service: Any) -> None:
    started(service)
    command = mediate(at=mins(5), settled=True, terms="t")
    first = service.handle(command)
    again = service.handle(command)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.records == first.records == ("patrol:p-1", "dispute:d-1")
    assert [e.version for e in service.history("d-1", kind="dispute")] == [1, 2, 3, 4, 5]
    assert service.get(Patrol, "p-1").mediations == ("d-1",)


# -- stateful ---------------------------------------------------------------------------

MEMBERS = ("pol-1", "pol-2", "v-1", "v-2")
CHECKPOINTS = ("cp-1", "cp-2", "cp-3", "cp-4", "cp-5")
PATROLS = ("p-1", "p-2", "p-3")
UNKNOWN = "p-never"  # returned by a refused plan: never planned
DISPUTES = ("d-1", "d-2", "d-3", "d-4", "d-5", "d-6")
#: Minutes from the machine's clock; as often earlier, for facts entered out of order and
#: facts that precede the start or the last fact.
deltas = st.one_of(st.integers(1, 120), st.integers(-30, 0))
teams = st.permutations(MEMBERS).flatmap(
    lambda ids: st.tuples(st.integers(0, 4), st.integers(0, 4)).map(
        lambda ab: PatrolTeam(
            police=tuple(ids[: min(ab)]), volunteers=tuple(ids[min(ab) : max(ab)])
        )
    )
)


@dataclass
class PatrolModel:
    """What a patrol should be, kept in plain Python."""

    planned_at: datetime
    route: tuple[str, ...]
    team: PatrolTeam
    status: str = "planned"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    visits: list[tuple[str, bool]] = field(default_factory=list)
    observations: list[ObservationCategory] = field(default_factory=list)
    mediations: list[str] = field(default_factory=list)
    settled: int = 0
    distance_m: int | None = None
    duration_minutes: int | None = None

    def __post_init__(self) -> None:
        self.last_fact_at = self.planned_at

    def fact(self, at: datetime) -> None:
        self.last_fact_at = max(self.last_fact_at, at)

    def on_patrol_error(self, at: datetime) -> type[SafecommError] | None:
        if at < self.planned_at:
            return RuleViolation
        if self.status != "started":
            return InvalidTransition
        assert self.started_at is not None
        if at < self.started_at:
            return RuleViolation
        return None


class PatrolMachine(CommandMachine):
    """The real application beside a plain model of each patrol and its on-site disputes.

    Facts are dated ``at`` a number of minutes from the clock, as often before it as after;
    the clock moves on to each fact that lands.
    """

    START = T0
    patrols = Bundle("patrols")  # every id planned (or refused a plan)
    under_way = Bundle("under_way")  # ids started here (ended ones stay: they must refuse)

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, PatrolModel] = {}
        self.disputes: dict[str, tuple[bool, str]] = {}  # ref -> (settled, mediator)

    def at(self, delta: int) -> datetime:
        return self.clock + timedelta(minutes=delta)

    def on_patrol_error(self, ref: str, at: datetime) -> type[SafecommError] | None:
        m = self.model.get(ref)
        return NotFound if m is None else m.on_patrol_error(at)

    # Planning stops once every id is taken, so that the steps go to the patrols themselves.
    @precondition(lambda self: len(self.model) < len(PATROLS))
    @rule(
        target=patrols,
        ref=st.sampled_from(PATROLS),
        route=st.lists(st.sampled_from(CHECKPOINTS), min_size=1, max_size=4, unique=True),
        team=teams,
        delta=deltas,
    )
    def plan(self, ref: str, route: list[str], team: PatrolTeam, delta: int) -> str:
        at = self.at(delta)
        command = plan(ref, at, route=tuple(route), team=team)
        malformed = not team.members
        error = InvalidCommand if malformed else AlreadyExists if ref in self.model else None
        if self.send(command, error):
            self.model[ref] = PatrolModel(at, tuple(route), team)
        # A refused plan leaves an id that later commands must find missing (NotFound).
        return ref if ref in self.model else UNKNOWN

    @rule(target=under_way, ref=patrols, delta=st.integers(-10, 120))
    def start(self, ref: str, delta: int) -> Any:
        at = self.at(delta)
        m = self.model.get(ref)
        error: type[SafecommError] | None = None
        if m is None:
            error = NotFound
        elif at < m.planned_at:
            error = RuleViolation
        elif m.status != "planned":
            error = InvalidTransition
        if not self.send(on(cmds.StartPatrol, ref, at), error):
            return multiple()
        m = self.model[ref]
        m.status, m.started_at = "started", at
        m.fact(at)
        return ref

    @rule(ref=under_way, on_route=st.booleans(), pick=st.integers(0, 4), delta=deltas)
    def visit(self, ref: str, on_route: bool, pick: int, delta: int) -> None:
        m = self.model.get(ref)
        # Half the visits go off the route (a route never holds every checkpoint).
        choices = [c for c in CHECKPOINTS if m is None or (c in m.route) == on_route]
        checkpoint = choices[pick % len(choices)]
        at = self.at(delta)
        command = on(cmds.VisitCheckpoint, ref, at, checkpoint=checkpoint)
        if self.send(command, self.on_patrol_error(ref, at)):
            m = self.model[ref]
            m.visits.append((checkpoint, checkpoint not in m.route))
            m.fact(at)

    @rule(ref=under_way, category=st.sampled_from(list(ObservationCategory)), delta=deltas)
    def observe(self, ref: str, category: ObservationCategory, delta: int) -> None:
        at = self.at(delta)
        command = on(cmds.RecordPatrolObservation, ref, at, category=category, details="seen")
        if self.send(command, self.on_patrol_error(ref, at)):
            self.model[ref].observations.append(category)
            self.model[ref].fact(at)

    @rule(
        ref=under_way,
        dispute=st.sampled_from(DISPUTES),
        outcome=st.sampled_from(["unsettled", "settled", "unsettled", "settled", "no terms"]),
        on_team=st.integers(0, 4).map(lambda n: n > 0),
        pick=st.integers(0, 4),
        delta=deltas,
    )
    def mediate(
        self, ref: str, dispute: str, outcome: str, on_team: bool, pick: int, delta: int
    ) -> None:
        m = self.model.get(ref)
        # Mostly a team member; now and then someone who is not on this team.
        choices = [
            x for x in (*MEMBERS, "stranger") if m is None or (x in m.team.members) == on_team
        ]
        mediator = choices[pick % len(choices)]
        at = self.at(delta)
        settled = outcome != "unsettled"
        terms = "agreed on the spot" if outcome == "settled" else None
        command = mediate(ref, dispute, at, settled=settled, terms=terms, mediator=mediator)
        # The command's order: its shape, the patrol exists, the dispute id is free, the rules.
        error = self.on_patrol_error(ref, at)
        if outcome == "no terms":
            error = InvalidCommand
        elif error is not NotFound and dispute in self.disputes:
            error = AlreadyExists
        elif error is None and not on_team:
            error = RuleViolation
        if self.send(command, error):
            assert m is not None
            m.mediations.append(dispute)
            m.settled += settled
            m.fact(at)
            self.disputes[dispute] = (settled, mediator)

    @rule(
        ref=under_way,
        delta=deltas,
        distance=st.none() | st.integers(0, 10_000),
        duration=st.none() | st.integers(0, 300),
    )
    def end(self, ref: str, delta: int, distance: int | None, duration: int | None) -> None:
        at = self.at(delta)
        command = on(cmds.EndPatrol, ref, at, distance_m=distance, duration_minutes=duration)
        error = self.on_patrol_error(ref, at)
        if error is None:
            m = self.model[ref]
            assert m.started_at is not None
            elapsed = int((at - m.started_at).total_seconds() // 60)
            if at < m.last_fact_at or (duration is not None and duration > elapsed):
                error = RuleViolation
        if self.send(command, error):
            m = self.model[ref]
            m.status, m.ended_at = "ended", at
            m.distance_m, m.duration_minutes = distance, duration
            m.fact(at)

    @rule(ref=patrols, action=st.sampled_from(["visit", "observe", "mediate", "end"]))
    def out_of_turn(self, ref: str, action: str) -> None:
        """Facts on any patrol: planned, ended or unknown ones must refuse them."""
        if action == "visit":
            self.visit(ref, True, 0, 1)
        elif action == "observe":
            self.observe(ref, ObservationCategory.OTHER, 1)
        elif action == "mediate":
            self.mediate(ref, "d-out-of-turn", "settled", True, 0, 1)
        else:
            self.end(ref, 1, None, None)

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            p = self.service.get(Patrol, ref)  # rebuilt from the stored events
            assert (str(p.status), p.started_at, p.ended_at, p.last_fact_at) == (
                m.status,
                m.started_at,
                m.ended_at,
                m.last_fact_at,
            )
            assert [(v.checkpoint, v.off_route) for v in p.visits] == m.visits
            assert list(p.observations) == m.observations
            assert (list(p.mediations), p.settled_on_site) == (m.mediations, m.settled)
            assert (p.distance_m, p.duration_minutes) == (m.distance_m, m.duration_minutes)
            assert (p.route, p.team) == (m.route, m.team)
        for ref, (settled, mediator) in self.disputes.items():
            d = self.service.get(Dispute, ref)
            expected = DisputeStatus.AGREED if settled else DisputeStatus.ACCEPTED
            assert (d.status, d.source, d.mediator) == (expected, DisputeSource.PATROL, mediator)


TestPatrolMachine = PatrolMachine.TestCase
