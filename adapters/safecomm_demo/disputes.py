"""Disputes (M1.2–M1.4, M3.2, M3.5): kinds, delays and outcomes as a mediation room sees them.

``PER_MONTH`` disputes per community per month reach the joint mediation room at scale 1
(a busy room sees about four: scale 2). Most are
accepted and mediated within a day or two, some wait past the local setting; a few are
flagged as risks and reported to the police; most end in an agreement (some confirmed by
a court), the rest in termination with the parties told their other routes; each is
followed up and archived. A refused file is erased two months after (its purpose achieved:
its free text reads ``[erased]``; its parties, who recur in other records, are kept).
Labour matters (wage arrears, labour contracts, work injury) are brought by migrant
workers where one was registered by then, and are linked to the worker as a rights case
(M3.2).

:func:`carry_on` and :func:`settle` are the later parts of the same workflow, for the
disputes that patrols open on the spot (:mod:`~safecomm_demo.patrols`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from safecomm_core.commands import dispute as d
from safecomm_core.commands import migrant as mg
from safecomm_core.domain.dispute import (
    AgreementForm,
    DisputeKind,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.domain.migrant import ErasureGround, RightsKind
from safecomm_core.personal import PersonInput
from safecomm_core.values import Actor, Channel, Role
from safecomm_demo.migrants import Migrant
from safecomm_demo.story import COMMUNITIES, Story, Writer, at, months, staff

__all__ = ["KINDS", "PER_MONTH", "SUMMARIES", "carry_on", "disputes", "party", "settle"]


def party(person: PersonInput, role: PartyRole) -> d.PartyInput:
    """A dispute party from a made-up person (name and phone; no ID number needed)."""
    return d.PartyInput(ref=person.ref, name=person.name, phone=person.phone, role=role)


#: Kinds and their weights among the disputes the mediation room sees.
KINDS = (
    (DisputeKind.NEIGHBOUR, 30),
    (DisputeKind.FAMILY, 20),
    (DisputeKind.PROPERTY, 15),
    (DisputeKind.WAGE_ARREARS, 10),
    (DisputeKind.LABOUR, 8),
    (DisputeKind.WORK_INJURY, 4),
    (DisputeKind.ECONOMIC, 10),
    (DisputeKind.OTHER, 3),
)
SUMMARIES = {
    DisputeKind.NEIGHBOUR: "楼上漏水影响楼下住户",
    DisputeKind.FAMILY: "赡养老人费用分担",
    DisputeKind.PROPERTY: "物业费与停车位纠纷",
    DisputeKind.WAGE_ARREARS: "工地拖欠农民工工资",
    DisputeKind.LABOUR: "劳动合同解除补偿",
    DisputeKind.WORK_INJURY: "工伤认定与赔偿",
    DisputeKind.ECONOMIC: "借款未按期归还",
    DisputeKind.OTHER: "其他民间纠纷",
}
#: Disputes per community per month, at scale 1.
PER_MONTH = 2

_CHANNELS = [Channel.WALK_IN] * 6 + [Channel.GRID] * 2 + [Channel.HOTLINE, Channel.REFERRAL]
_RIGHTS = {
    DisputeKind.WAGE_ARREARS: RightsKind.WAGE_ARREARS,
    DisputeKind.LABOUR: RightsKind.LABOUR,
    DisputeKind.WORK_INJURY: RightsKind.WORK_INJURY,
}
_MEDIATORS = [staff(n, Role.MEDIATOR) for n in range(10, 22)]
_CHAIR = staff(2, Role.COMMITTEE)


def _worker(rng: random.Random, migrants: Sequence[Migrant], reported: datetime) -> Migrant | None:
    """A migrant worker registered (and written down) by then and still here, if any."""
    here = [
        m
        for m in migrants
        if m.written < reported - timedelta(hours=1) and (m.left is None or m.left > reported)
    ]
    return rng.choice(here) if here else None


def disputes(
    w: Writer,
    start: date,
    end: date,
    people: list[PersonInput],
    migrants: Sequence[Migrant] = (),
) -> None:
    """``PER_MONTH`` disputes per community per month, handled over the following weeks."""
    rng = w.rng
    kinds, weights = zip(*KINDS, strict=True)
    n = 0
    for month in months(start, end):
        for community in COMMUNITIES:
            for _ in range(w.count(PER_MONTH)):
                n += 1
                kind = rng.choices(kinds, weights)[0]
                reported = at(month + timedelta(days=rng.randint(0, 27)), rng.randint(8, 17))
                ref = f"d-{reported.year}-{n:04d}"
                mediator = rng.choice(_MEDIATORS)
                applicant, respondent = rng.sample(people, 2)
                worker = _worker(rng, migrants, reported) if kind in _RIGHTS else None
                if worker is not None:
                    applicant, community = worker.person, worker.community
                s = w.story()
                w.add(
                    s,
                    d.ReportDispute,
                    reported,
                    mediator,
                    channel=rng.choice(_CHANNELS),
                    dispute_id=ref,
                    community=community,
                    kind=kind,
                    summary=SUMMARIES[kind],
                    parties=(
                        party(applicant, PartyRole.APPLICANT),
                        party(respondent, PartyRole.RESPONDENT),
                    ),
                )
                t = reported + timedelta(minutes=rng.randint(10, 240))
                if worker is not None:
                    w.add(
                        s,
                        mg.OpenMigrantRightsCase,
                        t,
                        staff(rng.randint(100, 119), Role.COORDINATOR),
                        worker_id=worker.id,
                        case_id=f"rc-{ref}",
                        kind=_RIGHTS[kind],
                        dispute_id=ref,
                    )
                if rng.random() < 0.07:
                    w.add(s, d.RefuseDispute, t, mediator, dispute_id=ref, reason="当事人拒绝调解")
                    w.add(s, d.ArchiveDispute, t + timedelta(days=2), mediator, dispute_id=ref)
                    erased = t + timedelta(days=60)
                    if erased.date() <= end:
                        # PIPL Art. 47: a refused file's purpose is achieved. The demo's
                        # people recur in other records, so their keys stay: the file's
                        # free text is what is erased.
                        w.add(
                            s,
                            d.EraseDispute,
                            erased,
                            staff(1, Role.ADMIN),
                            dispute_id=ref,
                            ground=ErasureGround.PURPOSE_ACHIEVED,
                            keep=(applicant.ref, respondent.ref),
                        )
                    continue
                w.add(s, d.AcceptDispute, t, mediator, dispute_id=ref)
                w.add(s, d.AssignMediator, t, _CHAIR, dispute_id=ref, mediator=mediator.id)
                # Most are mediated within a day or two; some wait past the local setting.
                t += timedelta(hours=rng.choice([2, 6, 20, 30, 48, 60, 90, 130]))
                if rng.random() < 0.04:
                    w.add(s, d.FlagDisputeRisk, t, mediator, dispute_id=ref, risk="有激化风险")
                    w.add(
                        s,
                        d.ReportDisputeToPolice,
                        t,
                        mediator,
                        dispute_id=ref,
                        station="河门口派出所",
                    )
                carry_on(w, s, ref, kind, t, mediator, end)


def carry_on(
    w: Writer, s: Story, ref: str, kind: DisputeKind, t: datetime, mediator: Actor, end: date
) -> None:
    """Sessions from ``t``, then an agreement or a termination, follow-up and archive.

    A dispute whose mediation runs past ``end`` stays open at the programme's end.
    """
    rng = w.rng
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        if t.date() > end:
            return  # still being mediated when the programme ends
        w.add(s, d.HoldSession, t, mediator, dispute_id=ref, notes="双方到场")
        t += timedelta(days=rng.randint(1, 9))
    if t.date() > end:
        return
    if kind in _RIGHTS and rng.random() < 0.6:
        w.add(
            s,
            d.ReferLegalAid,
            t,
            mediator,
            dispute_id=ref,
            provider="区法律援助中心",
            matter=str(kind),
        )
    if rng.random() < 0.86:
        form = AgreementForm.WRITTEN if rng.random() < 0.6 else AgreementForm.ORAL
        w.add(s, d.ReachAgreement, t, mediator, dispute_id=ref, form=form, terms="按协议履行")
        settle(w, s, ref, t, mediator, form, end)
        return
    w.add(
        s,
        d.TerminateMediation,
        t,
        mediator,
        dispute_id=ref,
        reason="分歧较大, 调解不成",
        routes_told=(Route.JUDICIAL, Route.ARBITRATION),
    )
    _close(w, s, ref, t, mediator, end)


def settle(
    w: Writer, s: Story, ref: str, t: datetime, mediator: Actor, form: AgreementForm, end: date
) -> None:
    """After an agreement reached at ``t``: court confirmation for a few, performance,
    follow-up and archive, as far as the programme's ``end``."""
    rng = w.rng
    performed = t + timedelta(days=rng.randint(7, 30))
    ruled = t + timedelta(days=28)
    if form is AgreementForm.WRITTEN and rng.random() < 0.12 and ruled.date() <= end:
        w.add(
            s,
            d.ApplyJudicialConfirmation,
            t + timedelta(days=rng.randint(2, 25)),
            mediator,
            dispute_id=ref,
        )
        w.add(
            s,
            d.DecideJudicialConfirmation,
            ruled,
            mediator,
            dispute_id=ref,
            confirmed=rng.random() < 0.9,
        )
        performed = max(performed, ruled + timedelta(days=1))
    outcome = rng.choices(list(PerformanceOutcome), [85, 10, 5])[0]
    t = performed
    if t.date() > end:
        return
    w.add(s, d.RecordPerformance, t, mediator, dispute_id=ref, outcome=outcome)
    _close(w, s, ref, t, mediator, end)


def _close(w: Writer, s: Story, ref: str, t: datetime, mediator: Actor, end: date) -> None:
    t += timedelta(days=w.rng.randint(3, 20))
    if (t + timedelta(days=1)).date() > end:
        return
    w.add(s, d.FollowUpDispute, t, mediator, dispute_id=ref, notes="回访满意")
    w.add(s, d.ArchiveDispute, t + timedelta(days=1), mediator, dispute_id=ref)
