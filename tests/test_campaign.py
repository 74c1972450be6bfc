"""Campaign: every rule of a publicity event, JSON round-trips, a stateful model, all stores."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
from safecomm_core.commands import campaign as cmds
from safecomm_core.domain.campaign import (
    Audience,
    Campaign,
    CampaignStatus,
    CampaignTheme,
    MaterialKind,
)
from tests.commanding import issue
from tests.machines import CommandMachine, refused_unless
from tests.refusals import refused, stored
from tests.strategies import CST
from tests.test_golden import GOLDEN, replay

T0 = datetime(2014, 3, 1, 9, 0, tzinfo=CST)
HELD = T0 + timedelta(days=14)


def plan(ref: str = "k-1", at: datetime = T0, **extra: Any) -> cmds.PlanCampaign:
    fields: dict[str, Any] = {
        "community": "C1",
        "title": "法制宣传月 legal publicity month",
        "theme": CampaignTheme.LEGAL,
        "measures": ("M1.1", "S2"),
        "planned_on": date(2014, 3, 15),
    }
    return issue(cmds.PlanCampaign, at, campaign_id=ref, **(fields | extra))


def on(cls: type[Any], ref: str = "k-1", at: datetime = HELD, **fields: Any) -> Any:
    return issue(cls, at, campaign_id=ref, **fields)


def hold(ref: str = "k-1", at: datetime = HELD, **extra: Any) -> cmds.HoldCampaign:
    fields: dict[str, Any] = {
        "place": "construction site, 3rd road",
        "audiences": (Audience.MIGRANT_WORKERS,),
        "attendance": 85,
        "partners": ("Hemenkou police station",),
    }
    return on(cmds.HoldCampaign, ref, at, **(fields | extra))


def materials(kind: MaterialKind, count: int, at: datetime = HELD, ref: str = "k-1") -> Any:
    return on(cmds.DistributeMaterials, ref, at, kind=kind, count=count)


def bravery(ref: str = "k-1", at: datetime = HELD, **extra: Any) -> cmds.PubliciseBravery:
    return on(cmds.PubliciseBravery, ref, at, description="stopped a bag snatcher", **extra)


# -- rules ------------------------------------------------------------------------------


def test_full_campaign_from_plan_to_materials_and_bravery(memory_service: Any) -> None:
    memory_service.handle(plan(measures=("M1.1", "S5")))
    memory_service.handle(hold())
    memory_service.handle(materials(MaterialKind.LEAFLET, 300))
    memory_service.handle(materials(MaterialKind.POSTER, 12, HELD + timedelta(days=2)))
    memory_service.handle(materials(MaterialKind.LEAFLET, 50, HELD + timedelta(days=3)))
    memory_service.handle(bravery(at=HELD + timedelta(hours=1)))
    c = memory_service.get(Campaign, "k-1")
    assert (c.status, c.held_at, c.held_in, c.attendance, c.bravery_acts) == (
        CampaignStatus.HELD,
        HELD,
        "C1",
        85,
        1,
    )
    assert c.audiences == (Audience.MIGRANT_WORKERS,)
    assert c.partners == ("Hemenkou police station",)
    assert c.materials == {MaterialKind.LEAFLET: 350, MaterialKind.POSTER: 12}


def test_a_campaign_is_held_once(memory_service: Any) -> None:
    memory_service.handle(plan())
    memory_service.handle(hold())
    err = refused(memory_service, hold(at=HELD + timedelta(days=1)), InvalidTransition)
    assert "it is held" in str(err)


def test_materials_and_bravery_only_once_held(memory_service: Any) -> None:
    memory_service.handle(plan(measures=("S5",)))
    refused(memory_service, materials(MaterialKind.LETTER, 400), InvalidTransition)
    refused(memory_service, bravery(), InvalidTransition)
    memory_service.handle(on(cmds.CancelCampaign, reason="typhoon warning"))
    refused(memory_service, materials(MaterialKind.LETTER, 400), InvalidTransition)
    refused(memory_service, bravery(), InvalidTransition)
    assert memory_service.get(Campaign, "k-1").status is CampaignStatus.CANCELLED


def test_materials_cannot_be_dated_before_the_event(memory_service: Any) -> None:
    memory_service.handle(plan(measures=("M1.1", "S5")))
    memory_service.handle(hold())
    early = HELD - timedelta(minutes=1)
    err = refused(memory_service, materials(MaterialKind.BANNER, 2, early), RuleViolation)
    assert (err.field, err.rule) == ("occurred_at", "must not be before the campaign was held")
    refused(memory_service, bravery(at=early), RuleViolation)
    memory_service.handle(materials(MaterialKind.BANNER, 2, HELD))


def test_held_in_the_planned_community_unless_planned_subdistrict_wide(memory_service: Any) -> None:
    memory_service.handle(plan())
    err = refused(memory_service, hold(community="C2"), RuleViolation)
    assert err.field == "community"
    memory_service.handle(hold(community="C1"))
    memory_service.handle(plan("k-2", community="*"))
    memory_service.handle(hold("k-2", community="C4"))
    memory_service.handle(plan("k-3", community="*"))
    memory_service.handle(hold("k-3"))
    held_in = [memory_service.get(Campaign, r).held_in for r in ("k-1", "k-2", "k-3")]
    assert held_in == ["C1", "C4", "*"]


def test_bravery_needs_a_campaign_that_serves_s5(memory_service: Any) -> None:
    memory_service.handle(plan(measures=("M1.1",)))
    memory_service.handle(hold())
    err = refused(memory_service, bravery(), RuleViolation)
    assert (err.field, err.rule) == ("campaign_id", "must serve S5")


def test_the_brave_person_is_sealed_never_stored_in_clear(memory_service: Any) -> None:
    memory_service.handle(plan(measures=("S5",), theme=CampaignTheme.BRAVERY))
    memory_service.handle(hold())
    hero = PersonInput(ref="p-77", name="Lei Feng", phone="13800138000")
    memory_service.handle(bravery(person=hero))
    memory_service.handle(bravery(at=HELD + timedelta(hours=1)))  # an unnamed hero
    for n in stored(memory_service):
        assert b"Lei Feng" not in n.state
        assert b"13800138000" not in n.state
    c = memory_service.get(Campaign, "k-1")
    sealed, unnamed = c.bravery_people
    assert unnamed is None
    assert memory_service.person(sealed).name == "Lei Feng"
    details = [e.details for e in memory_service.history("k-1", "campaign")]
    assert {"description": "[sealed]", "person": {"person": "p-77"}} in details
    for n in stored(memory_service):
        assert b"bag snatcher" not in n.state  # free text is sealed with the campaign's key
    texts = memory_service.texts(Campaign, "k-1")
    assert ("BraveryPublicised", "description", "stopped a bag snatcher") in [
        (t.event, t.field, t.text) for t in texts
    ]


def test_cancel_only_before_the_event(memory_service: Any) -> None:
    memory_service.handle(plan())
    memory_service.handle(plan("k-2"))
    memory_service.handle(hold())
    refused(memory_service, on(cmds.CancelCampaign, reason="late"), InvalidTransition)
    memory_service.handle(on(cmds.CancelCampaign, "k-2", reason="hall unavailable"))
    refused(memory_service, on(cmds.CancelCampaign, "k-2", reason="again"), InvalidTransition)
    refused(memory_service, hold("k-2"), InvalidTransition)


def test_facts_cannot_precede_the_plan(memory_service: Any) -> None:
    memory_service.handle(plan())
    err = refused(memory_service, hold(at=T0 - timedelta(days=1)), RuleViolation)
    assert err.field == "occurred_at"
    refused(
        memory_service,
        on(cmds.CancelCampaign, at=T0 - timedelta(seconds=1), reason="r"),
        RuleViolation,
    )


def test_unknown_and_duplicate_ids(memory_service: Any) -> None:
    refused(memory_service, hold("nope"), NotFound)
    memory_service.handle(plan())
    err = refused(memory_service, plan(), AlreadyExists)
    assert err.field == "campaign_id"


@pytest.mark.parametrize(
    ("measures", "fields"),
    [
        ((), ["measures"]),
        (("M1.1", "M1.1"), ["measures"]),
        (("M1.1", "M2.3", "X"), ["measures[1]", "measures[2]"]),
    ],
)
def test_measures_are_campaign_measures_each_once(
    memory_service: Any, measures: tuple[str, ...], fields: list[str]
) -> None:
    err = refused(memory_service, plan(measures=measures), InvalidCommand)
    assert isinstance(err, InvalidCommand)
    assert [e.field for e in err.errors] == fields


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"audiences": ()}, "audiences"),
        ({"audiences": (Audience.ELDERLY, Audience.ELDERLY)}, "audiences"),
        ({"partners": ("police", "police")}, "partners"),
        ({"partners": ("police", " ")}, "partners[1]"),
    ],
)
def test_hold_lists_are_checked(memory_service: Any, extra: dict[str, Any], field: str) -> None:
    memory_service.handle(plan())
    before = stored(memory_service)
    with pytest.raises(InvalidCommand) as info:  # a blank name is refused as it is built
        memory_service.handle(hold(**extra))
    assert info.value.field == field
    assert stored(memory_service) == before


@pytest.mark.parametrize(
    ("type_", "fields", "field"),
    [
        ("campaign.hold", {"attendance": -1}, "attendance"),
        ("campaign.hold", {"attendance": "85"}, "attendance"),
        ("campaign.distribute_materials", {"count": 0}, "count"),
        ("campaign.distribute_materials", {"kind": "graffiti"}, "kind"),
        ("campaign.plan", {"theme": "propaganda"}, "theme"),
        ("campaign.plan", {"planned_on": "15/03/2014"}, "planned_on"),
        ("campaign.publicise_bravery", {"person": {"ref": "p-1", "phone": "x"}}, "person.phone"),
    ],
)
def test_bad_json_is_refused_naming_the_field(
    type_: str, fields: dict[str, Any], field: str
) -> None:
    valid = {
        "campaign.plan": plan(),
        "campaign.hold": hold(),
        "campaign.distribute_materials": materials(MaterialKind.LEAFLET, 1),
        "campaign.publicise_bravery": bravery(),
    }[type_]
    data = command_to_json(valid) | fields
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    assert [e.field for e in info.value.errors] == [field]


# -- round trips ------------------------------------------------------------------------


# -- every store ------------------------------------------------------------------------


def test_campaign_lands_and_replays_on_every_store(service_factory: Any) -> None:
    service = service_factory()
    hero = PersonInput(ref="p-77", name="Lei Feng")
    for command in (
        plan(measures=("M3.4", "S5"), community="*"),
        hold(community="C3", audiences=(Audience.MIGRANT_WORKERS, Audience.CHILDREN)),
        materials(MaterialKind.BOOKLET, 120),
        bravery(person=hero),
    ):
        service.handle(command)
    live = service.get(Campaign, "k-1")
    replayed = service_factory().get(Campaign, "k-1")
    assert replayed.__dict__ == live.__dict__
    assert replayed.materials == {MaterialKind.BOOKLET: 120}
    assert service.person(replayed.bravery_people[0]).name == "Lei Feng"


def test_refused_campaign_commands_write_nothing_on_every_store(service: Any) -> None:
    service.handle(plan())
    repeat = hold()
    service.handle(repeat)
    assert service.handle(repeat).duplicate
    refused(service, hold(), InvalidTransition)
    refused(service, plan(), AlreadyExists)
    refused(service, plan("k-2", measures=("M9.9",)), InvalidCommand)
    refused(service, bravery(), RuleViolation)
    assert [e.event for e in service.history("k-1", "campaign")] == ["Planned", "Held"]


def test_v0_1_campaigns_still_replay() -> None:
    (path,) = [p for p in GOLDEN if p.stem == "v0_1_campaign"]
    found = {a.ref: a for a in replay(path).values() if isinstance(a, Campaign)}
    held, cancelled = found["k-2014-003"], found["k-2014-004"]
    assert (held.status, held.held_in, held.attendance, held.bravery_acts) == (
        CampaignStatus.HELD,
        "C3",
        86,
        1,
    )
    assert held.materials == {MaterialKind.LEAFLET: 300}
    assert held.audiences == (Audience.MIGRANT_WORKERS, Audience.RESIDENTS)
    assert cancelled.status is CampaignStatus.CANCELLED


# -- stateful ---------------------------------------------------------------------------


class CampaignMachine(CommandMachine):
    """The real application beside a plain model of each campaign."""

    START = T0
    campaigns = Bundle("campaigns")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, dict[str, Any]] = {}

    @rule(
        target=campaigns,
        ref=st.sampled_from(["k-1", "k-2", "k-3", "k-4"]),
        community=st.sampled_from(["*", "C1", "C2"]),
        s5=st.booleans(),
        valid=st.booleans(),
    )
    def plan(self, ref: str, community: str, s5: bool, valid: bool) -> str:
        measures = ("M1.5", "S5") if s5 else ("M1.5",)
        ok = ref not in self.model and valid
        command = plan(
            ref, self.tick(), community=community, measures=measures if valid else ("M9.9",)
        )
        self.send(command, refused_unless(ok))
        if ok:
            self.model[ref] = {
                "status": "planned",
                "community": community,
                "s5": s5,
                "held_at": None,
                "held_in": None,
                "attendance": 0,
                "materials": {},
                "bravery": 0,
            }
        return ref

    @rule(
        ref=campaigns,
        community=st.none() | st.sampled_from(["C1", "C2"]),
        attendance=st.integers(0, 500),
    )
    def hold(self, ref: str, community: str | None, attendance: int) -> None:
        m = self.model.get(ref)
        ok = (
            m is not None
            and m["status"] == "planned"
            and (community is None or m["community"] in ("*", community))
        )
        at = self.tick()
        self.send(hold(ref, at, community=community, attendance=attendance), refused_unless(ok))
        if ok:
            assert m is not None
            held_in = m["community"] if community is None else community
            m.update(status="held", held_at=at, held_in=held_in, attendance=attendance)

    @rule(
        ref=campaigns,
        kind=st.sampled_from(list(MaterialKind)),
        count=st.integers(1, 1000),
        backdated=st.booleans(),
    )
    def distribute(self, ref: str, kind: MaterialKind, count: int, backdated: bool) -> None:
        m = self.model.get(ref)
        held = m is not None and m["status"] == "held"
        at = m["held_at"] - timedelta(minutes=1) if m and held and backdated else self.tick()
        ok = held and not backdated
        self.send(materials(kind, count, at, ref), refused_unless(ok))
        if ok:
            assert m is not None
            m["materials"][kind] = m["materials"].get(kind, 0) + count

    @rule(ref=campaigns)
    def publicise_bravery(self, ref: str) -> None:
        m = self.model.get(ref)
        ok = m is not None and m["status"] == "held" and m["s5"]
        self.send(bravery(ref, self.tick()), refused_unless(ok))
        if ok:
            assert m is not None
            m["bravery"] += 1

    @rule(ref=campaigns)
    def cancel(self, ref: str) -> None:
        m = self.model.get(ref)
        ok = m is not None and m["status"] == "planned"
        self.send(on(cmds.CancelCampaign, ref, self.tick(), reason="rain"), refused_unless(ok))
        if ok:
            assert m is not None
            m["status"] = "cancelled"

    @invariant()
    def replay_matches_model(self) -> None:
        for ref, m in self.model.items():
            c = self.service.get(Campaign, ref)
            assert (
                str(c.status),
                c.held_at,
                c.held_in,
                c.attendance,
                c.materials,
                c.bravery_acts,
            ) == (
                m["status"],
                m["held_at"],
                m["held_in"],
                m["attendance"],
                m["materials"],
                m["bravery"],
            )


TestCampaignMachine = CampaignMachine.TestCase
