"""Daily public-order patrols (M1.3) by police and volunteers, across the communities.

``PER_DAY`` patrols a day on average at scale 1 (none on some days, two on others; the
plan's pace of one to three a day is scale 2.5), mostly in the evening, each in one community:
a route of two to four of its checkpoints, a team of one or two officers and two to four
volunteers. The team sets out near the planned time and passes the checkpoints in order,
sometimes skipping one and now and then stopping somewhere off the route; a third of the
patrols note something (a broken light, a suspicious van, a hazard). About one patrol in
twelve mediates a friction on the spot: two thirds are settled there (an oral agreement),
the rest are carried on by the mediation committee like any other dispute.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from safecomm_core.commands import dispute as d
from safecomm_core.commands import patrol as pt
from safecomm_core.domain.dispute import AgreementForm, DisputeKind, PartyRole
from safecomm_core.domain.patrol import ObservationCategory, PatrolTeam
from safecomm_core.personal import PersonInput
from safecomm_core.values import Actor, Channel, Role
from safecomm_demo.disputes import SUMMARIES, carry_on, party, settle
from safecomm_demo.places import checkpoints
from safecomm_demo.story import COMMUNITIES, Story, Writer, at, days, staff

__all__ = ["PER_DAY", "patrols"]

#: Patrols a day on average, at scale 1.
PER_DAY = 0.8

_START = date(2013, 10, 8)
_END = date(2014, 12, 31)
_POLICE = tuple(f"staff-{n:03d}" for n in range(40, 50))
_VOLUNTEERS = tuple(f"staff-{n:03d}" for n in range(60, 100))
_AREAS = ("居民小区片区", "农贸市场周边", "学校周边", "背街小巷", "江边步道")
_OBSERVATIONS = (
    (ObservationCategory.FACILITY_FAULT, "路灯不亮"),
    (ObservationCategory.SUSPICIOUS_ACTIVITY, "一辆无牌面包车长时间停留"),
    (ObservationCategory.HAZARD, "井盖松动"),
    (ObservationCategory.THEFT_RISK, "电动车未停入停车棚"),
    (ObservationCategory.DISORDER, "夜市占道经营"),
    (ObservationCategory.OTHER, "楼道堆放杂物"),
)
_FRICTIONS = (
    DisputeKind.NEIGHBOUR,
    DisputeKind.NEIGHBOUR,
    DisputeKind.PROPERTY,
    DisputeKind.FAMILY,
    DisputeKind.OTHER,
)
_MEDIATORS = [staff(n, Role.MEDIATOR) for n in range(10, 22)]


def patrols(w: Writer, people: list[PersonInput]) -> None:
    """About ``PER_DAY`` patrols a day (× scale) from October 2013 to the end of 2014."""
    rng = w.rng
    n = 0
    for day in days(_START, _END):
        for _ in range(w.count(PER_DAY * rng.choice([0.5, 1.0, 1.5]))):
            n += 1
            _patrol(w, f"pt-{day:%Y%m%d}-{n:05d}", day, people)


def _patrol(w: Writer, ref: str, day: date, people: list[PersonInput]) -> None:
    rng = w.rng
    community = rng.choice(COMMUNITIES)
    places = checkpoints(community)
    route = tuple(rng.sample(places, rng.randint(2, 4)))
    police = tuple(rng.sample(_POLICE, rng.randint(1, 2)))
    volunteers: list[str] = rng.sample(_VOLUNTEERS, rng.randint(2, 4))
    # mypy's attrs plugin cannot solve the type of PatrolTeam's converter=tuple.
    team = PatrolTeam(police=police, volunteers=volunteers)  # type: ignore[arg-type]
    hour = rng.choice([9, 14, 19, 19, 20, 20, 21])
    planned = at(day, hour)
    leader = Actor(police[0], Role.POLICE)
    s = w.story(late_share=0.1, max_delay_days=7)
    w.add(
        s,
        pt.PlanPatrol,
        planned - timedelta(hours=rng.randint(4, 30)),
        staff(40, Role.POLICE),
        channel=Channel.PATROL,
        patrol_id=ref,
        community=community,
        area=rng.choice(_AREAS),
        route=route,
        team=team,
        planned_start=planned,
        planned_end=planned + timedelta(hours=2),
    )
    t = planned + timedelta(minutes=rng.randint(-10, 20))
    started = t
    w.add(s, pt.StartPatrol, t, leader, channel=Channel.PATROL, patrol_id=ref)
    stops = [c for c in route if rng.random() > 0.08]
    if rng.random() < 0.06:
        stops.insert(rng.randint(0, len(stops)), rng.choice([c for c in places if c not in route]))
    for checkpoint in stops:
        t += timedelta(minutes=rng.randint(10, 30))
        w.add(
            s,
            pt.VisitCheckpoint,
            t,
            leader,
            channel=Channel.PATROL,
            patrol_id=ref,
            checkpoint=checkpoint,
        )
    if rng.random() < 0.33:
        category, details = rng.choice(_OBSERVATIONS)
        t += timedelta(minutes=rng.randint(1, 10))
        w.add(
            s,
            pt.RecordPatrolObservation,
            t,
            leader,
            channel=Channel.PATROL,
            patrol_id=ref,
            category=category,
            details=details,
            checkpoint=stops[-1] if stops else None,
        )
    mediated = None
    if rng.random() < 0.08:
        t += timedelta(minutes=rng.randint(5, 25))
        mediated = _mediate(w, s, ref, t, team, people)
    t += timedelta(minutes=rng.randint(5, 20))
    elapsed = int((t - started).total_seconds() // 60)
    w.add(
        s,
        pt.EndPatrol,
        t,
        leader,
        channel=Channel.PATROL,
        patrol_id=ref,
        distance_m=rng.randint(1500, 6000),
        duration_minutes=elapsed - rng.randint(0, 5),
    )
    if mediated is not None:
        _after(w, s, *mediated)


def _mediate(
    w: Writer, s: Story, ref: str, t: datetime, team: PatrolTeam, people: list[PersonInput]
) -> tuple[str, DisputeKind, bool, datetime]:
    """A friction mediated on the spot; what the dispute needs to carry on."""
    rng = w.rng
    kind = rng.choice(_FRICTIONS)
    dispute_id = f"d-{ref}"
    settled = rng.random() < 0.67
    mediator = rng.choice(team.members)
    a, b = rng.sample(people, 2)
    w.add(
        s,
        pt.MediateOnSite,
        t,
        Actor(mediator, Role.VOLUNTEER if mediator in team.volunteers else Role.POLICE),
        channel=Channel.PATROL,
        patrol_id=ref,
        dispute_id=dispute_id,
        kind=kind,
        summary=SUMMARIES[kind],
        parties=(party(a, PartyRole.APPLICANT), party(b, PartyRole.RESPONDENT)),
        settled=settled,
        terms="当场达成口头协议" if settled else None,
        mediator=mediator,
        notes="巡逻中现场调解",
    )
    return dispute_id, kind, settled, t


def _after(
    w: Writer, s: Story, dispute_id: str, kind: DisputeKind, settled: bool, t: datetime
) -> None:
    """After the patrol, on the dispute's own time: the committee takes it up."""
    rng = w.rng
    committee = rng.choice(_MEDIATORS)
    if settled:
        settle(w, s, dispute_id, t, committee, AgreementForm.ORAL, _END)
        return
    later = t + timedelta(days=rng.randint(1, 3))
    w.add(
        s,
        d.AssignMediator,
        later,
        staff(2, Role.COMMITTEE),
        dispute_id=dispute_id,
        mediator=committee.id,
    )
    carry_on(w, s, dispute_id, kind, later + timedelta(hours=2), committee, _END)
