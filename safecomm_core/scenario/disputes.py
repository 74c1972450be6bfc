"""Disputes (M1.2–M1.4, M3.2, M3.5): kinds, delays and outcomes as a mediation room sees them."""

from __future__ import annotations

from datetime import date, timedelta

from safecomm_core.commands import dispute as d
from safecomm_core.domain.dispute import (
    AgreementForm,
    DisputeKind,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.personal import PersonInput
from safecomm_core.scenario.story import COMMUNITIES, Writer, at, months, staff
from safecomm_core.values import Channel, Role

__all__ = ["disputes"]


def _party(person: PersonInput, role: PartyRole) -> d.PartyInput:
    return d.PartyInput(ref=person.ref, name=person.name, phone=person.phone, role=role)


_KINDS = [
    (DisputeKind.NEIGHBOUR, 30),
    (DisputeKind.FAMILY, 20),
    (DisputeKind.PROPERTY, 15),
    (DisputeKind.WAGE_ARREARS, 10),
    (DisputeKind.LABOUR, 8),
    (DisputeKind.WORK_INJURY, 4),
    (DisputeKind.ECONOMIC, 10),
    (DisputeKind.OTHER, 3),
]
_SUMMARIES = {
    DisputeKind.NEIGHBOUR: "楼上漏水影响楼下住户",
    DisputeKind.FAMILY: "赡养老人费用分担",
    DisputeKind.PROPERTY: "物业费与停车位纠纷",
    DisputeKind.WAGE_ARREARS: "工地拖欠农民工工资",
    DisputeKind.LABOUR: "劳动合同解除补偿",
    DisputeKind.WORK_INJURY: "工伤认定与赔偿",
    DisputeKind.ECONOMIC: "借款未按期归还",
    DisputeKind.OTHER: "其他民间纠纷",
}
_CHANNELS = [Channel.WALK_IN] * 6 + [Channel.GRID] * 2 + [Channel.HOTLINE, Channel.REFERRAL]
_RIGHTS = (DisputeKind.WAGE_ARREARS, DisputeKind.LABOUR, DisputeKind.WORK_INJURY)
_MEDIATORS = [staff(n, Role.MEDIATOR) for n in range(10, 22)]


def disputes(w: Writer, start: date, end: date, people: list[PersonInput]) -> None:
    """About 4 disputes per community per month, handled over the following weeks."""
    rng = w.rng
    kinds, weights = zip(*_KINDS, strict=True)
    n = 0
    for month in months(start, end):
        for community in COMMUNITIES:
            for _ in range(w.count(4)):
                n += 1
                kind = rng.choices(kinds, weights)[0]
                reported = at(month + timedelta(days=rng.randint(0, 27)), rng.randint(8, 17))
                ref = f"d-{reported.year}-{n:04d}"
                mediator = rng.choice(_MEDIATORS)
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
                    summary=_SUMMARIES[kind],
                    parties=(
                        _party(rng.choice(people), PartyRole.APPLICANT),
                        _party(rng.choice(people), PartyRole.RESPONDENT),
                    ),
                )
                t = reported + timedelta(minutes=rng.randint(10, 240))
                if rng.random() < 0.07:
                    w.add(s, d.RefuseDispute, t, mediator, dispute_id=ref, reason="当事人拒绝调解")
                    w.add(s, d.ArchiveDispute, t + timedelta(days=2), mediator, dispute_id=ref)
                    continue
                w.add(s, d.AcceptDispute, t, mediator, dispute_id=ref)
                chair = staff(2, Role.COMMITTEE)
                w.add(s, d.AssignMediator, t, chair, dispute_id=ref, mediator=mediator.id)
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
                for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                    w.add(s, d.HoldSession, t, mediator, dispute_id=ref, notes="双方到场")
                    t += timedelta(days=rng.randint(1, 9))
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
                if t.date() > end:
                    continue  # still open at the end of the programme
                if rng.random() < 0.86:
                    form = AgreementForm.WRITTEN if rng.random() < 0.6 else AgreementForm.ORAL
                    w.add(
                        s,
                        d.ReachAgreement,
                        t,
                        mediator,
                        dispute_id=ref,
                        form=form,
                        terms="按协议履行",
                    )
                    if form is AgreementForm.WRITTEN and rng.random() < 0.12:
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
                            t + timedelta(days=28),
                            mediator,
                            dispute_id=ref,
                            confirmed=rng.random() < 0.9,
                        )
                    outcome = rng.choices(list(PerformanceOutcome), [85, 10, 5])[0]
                    t += timedelta(days=rng.randint(7, 30))
                    w.add(s, d.RecordPerformance, t, mediator, dispute_id=ref, outcome=outcome)
                else:
                    w.add(
                        s,
                        d.TerminateMediation,
                        t,
                        mediator,
                        dispute_id=ref,
                        reason="分歧较大, 调解不成",
                        routes_told=(Route.JUDICIAL, Route.ARBITRATION),
                    )
                t += timedelta(days=rng.randint(3, 20))
                w.add(s, d.FollowUpDispute, t, mediator, dispute_id=ref, notes="回访满意")
                w.add(s, d.ArchiveDispute, t + timedelta(days=1), mediator, dispute_id=ref)
