"""Migrant workers (M3.1–M3.3): registered since 2010, moving, leaving, permits, services.

``PER_SCALE`` workers at scale 1 (the subdistrict's registers hold a few thousand: scale 4
to 5), every one living in the subdistrict at some time during the programme; they arrived
from 2010 on, so that some reach three years' residence during it. Workers registered before
October 2013 are on the paper registers the coordinators typed in during the programme's
first weeks (their records carry the real dates). Four in five registered within the local
deadline after arriving; the rest days or weeks late, by door-to-door visits, landlords,
employers or coordinators. Some move within the subdistrict, a quarter leave before the end;
of those who left early, a few are erased two or three months later (PIPL Art. 47: the
purpose of their registration achieved), and their records then read ``[erased]``.

Residence permits (居住证): a third apply after six months' residence or more; most permits
are issued within the 15 days of Art. 9, some later; each year's endorsement is mostly made
in the month before it is due, some late (residence years then count afresh), and some
permits are suspended as overdue and restored by a late endorsement weeks later.

M3.3: from December 2013 the community looks for workers resident three years or more and
offers them the extended services at their door (proactive), most soon after they become
eligible; a few apply themselves; about a quarter of those eligible are never offered
anything, and the M3.3 watchlist must show them. Labour rights cases linked to disputes are
opened by :mod:`~safecomm_demo.disputes`; a few safety-accident cases go to legal
aid directly.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import attrs

from safecomm_core.commands import migrant as mg
from safecomm_core.dates import add_months
from safecomm_core.domain.migrant import ErasureGround, PermitBasis, RegistrationSource, RightsKind
from safecomm_core.personal import PersonInput
from safecomm_core.values import Actor, Channel, Role
from safecomm_demo.people import workers
from safecomm_demo.places import EMPLOYERS, compounds_of
from safecomm_demo.rules import in_force
from safecomm_demo.story import COMMUNITIES, Steps, Writer, at, staff

__all__ = ["PER_SCALE", "Migrant", "migrants"]

#: Workers at scale 1.
PER_SCALE = 600

_FIRST_ARRIVAL = date(2010, 1, 1)
_START = date(2013, 10, 1)
_IMPORTS = date(2013, 10, 8)  # the paper registers are typed in from then, over three weeks
_SWEEP = date(2013, 12, 1)  # M3.3: the community starts looking for eligible workers
_END = date(2014, 12, 31)
_POLICE = staff(41, Role.POLICE)  # the station's residence-permit desk
_SOURCES = (
    (RegistrationSource.DOOR_TO_DOOR, 35),
    (RegistrationSource.LANDLORD, 30),
    (RegistrationSource.EMPLOYER, 20),
    (RegistrationSource.COORDINATOR, 15),
)


@attrs.frozen
class Migrant:
    """A worker as the other parts need them: who, where, since when, until when."""

    id: str
    person: PersonInput
    community: str
    registered: datetime
    written: datetime  # when the registration was written down
    left: datetime | None
    on_time: bool  # registered within the local deadline after arriving


def _coordinator(rng: random.Random) -> Actor:
    return staff(rng.randint(100, 119), Role.COORDINATOR)


def _dwelling(rng: random.Random, community: str) -> str:
    compound = rng.choice(compounds_of(community)).name
    building, entrance, room = rng.randint(1, 12), rng.randint(1, 4), rng.randint(101, 604)
    return f"{compound}{building}栋{entrance}单元{room}"


def _when(day: date, rng: random.Random) -> datetime:
    return at(day, rng.randint(9, 17), rng.randint(0, 59))


def migrants(w: Writer) -> list[Migrant]:
    """Register every worker's story; the workers, for the rights cases of disputes."""
    rng = w.rng
    people = workers(rng, max(30, round(PER_SCALE * w.scale)))
    sources = [source for source, _weight in _SOURCES]
    weights = [weight for _source, weight in _SOURCES]
    span = (date(2014, 11, 30) - _FIRST_ARRIVAL).days
    roster: list[Migrant] = []
    for n, person in enumerate(people, start=1):
        arrived = _FIRST_ARRIVAL + timedelta(days=rng.randint(0, span))
        deadline = in_force("*", arrived).registration_deadline_days
        late = rng.random() < 0.2
        delay = rng.randint(deadline + 1, 45) if late else rng.randint(0, deadline)
        registered = _when(min(arrived + timedelta(days=delay), _END - timedelta(days=3)), rng)
        # Everyone was here during the programme; a quarter leave before its end.
        left: datetime | None = None
        first_day = max(registered.date(), _START) + timedelta(days=30)
        if rng.random() < 0.25 and first_day < _END - timedelta(days=10):
            left = _when(
                first_day + timedelta(days=rng.randint(0, (_END - first_day).days - 5)), rng
            )
        community = rng.choice(COMMUNITIES)
        worker_id = f"mw-{n:05d}"
        imported = registered.date() < _START
        s = w.story(
            late_share=0.1,
            max_delay_days=15,
            not_before=_when(_IMPORTS + timedelta(days=rng.randint(0, 21)), rng)
            if imported
            else None,
        )
        source = rng.choices(sources, weights)[0]
        steps = Steps(worker_id=worker_id)
        steps.add(
            registered,
            mg.RegisterMigrantWorker,
            _coordinator(rng),
            channel=Channel.IMPORT if imported else Channel(source.value),
            community=community,
            person=person,
            arrived_on=arrived,
            dwelling=_dwelling(rng, community),
            employer=rng.choice(EMPLOYERS) if rng.random() < 0.9 else None,
            source=source if imported else None,
        )
        until = left.date() if left else _END
        if _permit(w, steps, arrived, registered.date(), until) is None:
            _services(w, steps, worker_id, arrived, until)
        if rng.random() < 0.01 and registered.date() < until - timedelta(days=20):
            opened = max(registered.date(), _START) + timedelta(days=rng.randint(1, 15))
            steps.add(
                _when(opened, rng),
                mg.OpenMigrantRightsCase,
                _coordinator(rng),
                case_id=f"la-{worker_id}",
                kind=RightsKind.SAFETY_ACCIDENT,
                legal_aid=f"法援-{opened.year}-{n:05d}",
            )
        _move(w, steps, registered.date(), until)
        if left is not None:
            steps.add(
                left, mg.RecordMigrantDeparture, _coordinator(rng), channel=Channel.COORDINATOR
            )
            erased = left + timedelta(days=rng.randint(60, 90))
            if erased.date() <= _END and rng.random() < 0.03:
                # PIPL Art. 47: the purpose is achieved once the worker has left for good.
                steps.add(
                    erased,
                    mg.EraseMigrantWorker,
                    staff(1, Role.ADMIN),
                    ground=ErasureGround.PURPOSE_ACHIEVED,
                )
        steps.write(w, s)
        written = s.entries[0][0]  # the registration: the earliest of the worker's facts
        roster.append(Migrant(worker_id, person, community, registered, written, left, not late))
    return roster


def _move(w: Writer, steps: Steps, registered: date, until: date) -> None:
    """One move within the subdistrict for some, reported by a coordinator (M3.1)."""
    rng = w.rng
    first = max(registered, _START) + timedelta(days=30)
    if rng.random() >= 0.15 or first >= until - timedelta(days=2):
        return
    day = first + timedelta(days=rng.randint(0, (until - first).days - 2))
    community = rng.choice(COMMUNITIES)
    steps.add(
        _when(day, rng),
        mg.RecordMigrantMove,
        _coordinator(rng),
        channel=Channel.COORDINATOR,
        dwelling=_dwelling(rng, community),
        community=community,
    )


def _permit(w: Writer, steps: Steps, arrived: date, registered: date, until: date) -> date | None:
    """A residence permit for a third of the workers; the day residence years restarted
    (a late endorsement, 居住证暂行条例 Art. 10), if they did."""
    rng = w.rng
    if rng.random() >= 0.33:
        return None
    rules = in_force("*", arrived)
    applied = max(
        add_months(arrived, rules.permit_min_residence_months + rng.randint(0, 24)),
        registered + timedelta(days=1),
    )
    issued = applied + timedelta(
        days=rng.randint(16, 28) if rng.random() < 0.15 else rng.randint(5, rules.permit_issue_days)
    )
    if issued >= until:
        return None
    basis = rng.choice([PermitBasis.EMPLOYMENT] * 4 + [PermitBasis.DWELLING])
    steps.add(_when(applied, rng), mg.ApplyResidencePermit, _coordinator(rng), basis=basis)
    steps.add(_when(issued, rng), mg.IssueResidencePermit, _POLICE)
    restarted: date | None = None
    due = add_months(issued, 12)
    while due < until:
        roll = rng.random()
        if roll < 0.8:
            endorsed = due - timedelta(days=rng.randint(0, 25))
        elif roll < 0.9:
            endorsed = due + timedelta(days=rng.randint(5, 40))
        else:
            suspended = due + timedelta(days=rng.randint(10, 30))
            if suspended >= until:
                break
            steps.add(_when(suspended, rng), mg.SuspendResidencePermit, _POLICE)
            if rng.random() >= 0.6:
                break  # still suspended
            endorsed = suspended + timedelta(days=rng.randint(10, 90))
        if endorsed >= until:
            break
        steps.add(_when(endorsed, rng), mg.EndorseResidencePermit, _POLICE)
        if endorsed > due:
            restarted = endorsed
            due = add_months(endorsed, 12)
        else:
            due = add_months(due, 12)
    return restarted


def _services(w: Writer, steps: Steps, worker_id: str, arrived: date, until: date) -> None:
    """M3.3's extended services for a worker who reaches three years' residence."""
    rng = w.rng
    eligible = add_months(arrived, 12 * in_force("*", arrived).proactive_service_years)
    first = max(eligible, _SWEEP)
    roll = rng.random()
    if roll < 0.65:
        offered, proactive = first + timedelta(days=rng.randint(0, 45)), True
    elif roll < 0.75:
        offered, proactive = first + timedelta(days=rng.randint(30, 120)), False
    else:
        return  # eligible, never offered: the watchlist shows them
    if offered >= until:
        return
    offer_id = f"{worker_id}-m33"
    steps.add(
        _when(offered, rng),
        mg.OfferMigrantService,
        staff(rng.randint(3, 9)),
        offer_id=offer_id,
        service="计划生育等延伸服务 (居住满三年)",
        proactive=proactive,
        long_residence=True,
    )
    delivered = offered + timedelta(days=rng.randint(3, 20))
    if rng.random() < 0.85 and delivered < until:
        steps.add(
            _when(delivered, rng),
            mg.DeliverMigrantService,
            staff(rng.randint(3, 9)),
            offer_id=offer_id,
        )
