"""Warnings and safety tips on the warning platform (M2.4), and residents' questions.

- Before each public holiday the subdistrict warns every household: the SMS platform and
  the seven communities' QQ groups at once, the Weibo accounts the next morning.
- In high-incidence periods (``PER_MONTH`` a month at scale 1) a community warns its own
  QQ group and Weibo followers (anti-theft, anti-violence, anti-fraud).
- Once a month or so, a safety tip by SMS.
A third of the broadcasts draw residents' questions, answered within minutes or days; a
few are never answered. One warning, about a rumour, is withdrawn.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from safecomm_core.commands import broadcast as bc
from safecomm_core.domain.broadcast import BroadcastCategory, Medium, Outlet, Period
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.personal import PersonInput
from safecomm_core.values import Role
from safecomm_demo.places import POPULATION
from safecomm_demo.story import COMMUNITIES, Story, Writer, at, months, staff

__all__ = ["PER_MONTH", "broadcasts"]

#: Community warnings in high-incidence periods, a month at scale 1.
PER_MONTH = 2

_END = date(2014, 12, 31)
_DESK = staff(122, Role.STAFF)
#: The eve of each holiday in the programme, and what the warning is about.
_HOLIDAYS = (
    (date(2013, 10, 1), "国庆长假外出请锁好门窗", BroadcastCategory.ANTI_THEFT),
    (date(2013, 12, 31), "元旦期间注意防盗防火", BroadcastCategory.ANTI_THEFT),
    (date(2014, 1, 29), "春节临近, 谨防冒充亲友借钱诈骗", BroadcastCategory.ANTI_FRAUD),
    (date(2014, 2, 13), "元宵灯会人多, 请看管好随身财物", BroadcastCategory.ANTI_THEFT),
    (date(2014, 4, 4), "清明出行注意防火和家中防盗", BroadcastCategory.SAFETY_TIP),
    (date(2014, 4, 30), "五一假期外出请锁好门窗", BroadcastCategory.ANTI_THEFT),
    (date(2014, 5, 30), "端午节期间注意水上安全", BroadcastCategory.SAFETY_TIP),
    (date(2014, 9, 5), "中秋节谨防中奖短信诈骗", BroadcastCategory.ANTI_FRAUD),
    (date(2014, 9, 30), "国庆长假外出请锁好门窗", BroadcastCategory.ANTI_THEFT),
    (date(2014, 12, 31), "元旦期间注意防盗防火", BroadcastCategory.ANTI_THEFT),
)
_SPATES = (
    (BroadcastCategory.ANTI_THEFT, "近期电动车被盗案件多发, 请停入停车棚并加锁"),
    (BroadcastCategory.ANTI_THEFT, "近期入室盗窃多发, 请关好门窗, 陌生人敲门勿开"),
    (BroadcastCategory.ANTI_FRAUD, "近期冒充公检法电话诈骗多发, 切勿转账"),
    (BroadcastCategory.ANTI_VIOLENCE, "夜间请结伴出行, 遇到纠纷及时报警"),
)
_QUESTIONS = (
    "停车棚晚上几点关门?",
    "接到可疑电话怎么办?",
    "小区门口的路灯什么时候修?",
    "可以加入巡逻志愿者吗?",
    "如何登记家里的电动车?",
)
_ANSWER_MINUTES = (10, 30, 60, 180, 600, 1440, 2880, 4320)


def _sms() -> Outlet:
    return Outlet(medium=Medium.SMS)


def _reach(w: Writer, outlet: Outlet) -> bc.OutletReach:
    """How many the outlet reaches: households by SMS, members and followers online."""
    rng = w.rng
    if outlet.medium is Medium.SMS:
        size = sum(POPULATION.values()) // 4 if outlet.community == SUBDISTRICT else 1200
    else:
        size = POPULATION.get(outlet.community, 5000) // (
            8 if outlet.medium is Medium.QQ_GROUP else 5
        )
    # The groups grew during the programme; a few per cent of numbers are not reached.
    return bc.OutletReach(outlet=outlet, recipients=size - rng.randint(0, size // 20))


def _questions(
    w: Writer, s: Story, ref: str, outlets: list[Outlet], t: datetime, people: list[PersonInput]
) -> None:
    rng = w.rng
    if rng.random() >= 0.33:
        return
    online = [o for o in outlets if o.medium is not Medium.SMS] or outlets
    for k in range(1, rng.randint(1, 3) + 1):
        asked = t + timedelta(minutes=rng.randint(10, 600))
        if asked.date() > _END:
            return
        question_id = f"q{k}"
        w.add(
            s,
            bc.ReceiveQuestion,
            asked,
            _DESK,
            broadcast_id=ref,
            question_id=question_id,
            outlet=rng.choice(online),
            text=rng.choice(_QUESTIONS),
            person=rng.choice(people) if rng.random() < 0.15 else None,
        )
        answered = asked + timedelta(minutes=rng.choice(_ANSWER_MINUTES))
        if rng.random() < 0.95 and answered.date() <= _END:
            w.add(
                s,
                bc.AnswerQuestion,
                answered,
                _DESK,
                broadcast_id=ref,
                question_id=question_id,
                answer="已回复, 感谢关注",
            )


class _Broadcasts:
    """Numbers the broadcasts and writes each one's story."""

    def __init__(self, w: Writer, people: list[PersonInput]) -> None:
        self.w = w
        self.people = people
        self.n = 0

    def publish(
        self,
        t: datetime,
        community: str,
        category: BroadcastCategory,
        period: Period,
        text: str,
        now: list[Outlet],
        next_morning: list[Outlet],
    ) -> tuple[str, Story]:
        w = self.w
        self.n += 1
        ref = f"bc-{self.n:03d}"
        s = w.story(late_share=0.03, max_delay_days=2)
        w.add(
            s,
            bc.PublishBroadcast,
            t,
            _DESK,
            broadcast_id=ref,
            community=community,
            category=category,
            period=period,
            text=text,
            outlets=tuple(_reach(w, o) for o in now),
        )
        if next_morning and t.date() < _END:
            w.add(
                s,
                bc.PublishBroadcastOn,
                at(t.date() + timedelta(days=1), 8),
                _DESK,
                broadcast_id=ref,
                outlets=tuple(_reach(w, o) for o in next_morning),
            )
        _questions(w, s, ref, now + next_morning, t, self.people)
        return ref, s


def broadcasts(w: Writer, people: list[PersonInput]) -> None:
    """Holiday warnings, high-incidence warnings, monthly tips, and the questions they draw."""
    rng = w.rng
    b = _Broadcasts(w, people)
    groups = [Outlet(medium=Medium.QQ_GROUP, community=c) for c in COMMUNITIES]
    weibo = [Outlet(medium=Medium.WEIBO, community=c) for c in COMMUNITIES]
    for day, text, category in _HOLIDAYS:
        b.publish(
            at(day, 10),
            SUBDISTRICT,
            category,
            Period.HOLIDAY,
            text,
            [_sms(), *groups],
            weibo if rng.random() < 0.6 else [],
        )
    for month in months(date(2013, 10, 1), _END):
        for _ in range(w.count(PER_MONTH)):
            community = rng.choice(COMMUNITIES)
            category, text = rng.choice(_SPATES)
            day = month + timedelta(days=rng.randint(0, 27))
            group, account = (
                Outlet(medium=m, community=community) for m in (Medium.QQ_GROUP, Medium.WEIBO)
            )
            b.publish(
                at(day, rng.randint(8, 20)),
                community,
                category,
                Period.HIGH_INCIDENCE,
                text,
                [group, account],
                [],
            )
        if rng.random() < 0.8 * min(1.0, w.scale):
            b.publish(
                at(month + timedelta(days=14), 9),
                SUBDISTRICT,
                BroadcastCategory.SAFETY_TIP,
                Period.ORDINARY,
                "安全提示: 出门随手关窗, 贵重物品妥善保管",
                [_sms()],
                [],
            )
    rumour, s = b.publish(
        at(date(2014, 5, 12), 21),
        "C4",
        BroadcastCategory.ANTI_VIOLENCE,
        Period.HIGH_INCIDENCE,
        "网传辖区有人持刀伤人, 请注意安全",
        [Outlet(medium=Medium.QQ_GROUP, community="C4")],
        [],
    )
    w.add(
        s,
        bc.WithdrawBroadcast,
        at(date(2014, 5, 13), 9),
        _DESK,
        broadcast_id=rumour,
        reason="经派出所核实为谣言",
    )
