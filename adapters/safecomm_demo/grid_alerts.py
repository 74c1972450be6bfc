"""Alerts fanned out through the linkage network (M2.3, M2.4), with their per-unit fates.

A unit reports an incident; the alert goes to every other member. Per recipient: the
platform sends on the channel the hour calls for (the duty phone at night where a unit has
one, its QQ group in office hours where it has one, else SMS); SMS and phone calls give a
delivery receipt, groups do not. One send in twenty fails (a number out of service, a
gateway timeout) and is retried or falls back to the next channel. Most units acknowledge
within the rule's time (``alert_ack_minutes`` of the alert's community on the day it was
raised); a few reply late on their own; about one in eight has not replied when the time is
up and is escalated (a coordinator phones it), after which most reply. Some units report
what they did; a third of the alerts get an update. The alert ends with the suspect caught,
resolved, cancelled as a false report (the programme's second alert was one), or expired,
and is closed once the replies are in.

Volume: ``PER_MONTH`` alerts a month at scale 1, where the plan's network passed on six
to ten (scale 3 to 5). Every recipient costs about three commands, so one alert to the full
network is some 130 commands, each loading the alert and the network: alerts are the
scenario's costliest part to build, and ``PER_MONTH`` is the knob that keeps scale 1 quick.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from safecomm_core.commands import grid_alert as g
from safecomm_core.domain.grid_alert import AlertCategory, AlertPriority
from safecomm_core.domain.grid_network import AlertChannel, UnitKind
from safecomm_core.values import Actor, Channel, Role
from safecomm_demo.grid_network import NETWORK, Unit
from safecomm_demo.places import compounds_of
from safecomm_demo.rules import in_force
from safecomm_demo.story import Steps, Writer, at, months, staff

__all__ = ["PER_MONTH", "alerts"]

#: Alerts a month at scale 1.
PER_MONTH = 2

_FIRST = date(2013, 10, 20)  # the offices and police are in by then
_END = date(2014, 12, 31)
_PLATFORM = Actor("sms-platform", Role.SYSTEM)
_COORDINATORS = tuple(staff(n, Role.GRID_WORKER) for n in range(31, 36))

#: category: (weight, priority, message)
_CATEGORIES: dict[AlertCategory, tuple[int, AlertPriority, str]] = {
    AlertCategory.THEFT: (
        38,
        AlertPriority.NORMAL,
        "发生电动车被盗, 嫌疑人骑黑色摩托车逃离, 请注意盘查",
    ),
    AlertCategory.SUSPECT: (
        20,
        AlertPriority.NORMAL,
        "发现可疑人员挨户推门, 身穿灰色外套, 请加强门岗",
    ),
    AlertCategory.FRAUD: (14, AlertPriority.LOW, "有人冒充供电局上门收费, 请提醒居民核实身份"),
    AlertCategory.MISSING_PERSON: (
        9,
        AlertPriority.URGENT,
        "一名老人走失, 身穿蓝色上衣, 请协助寻找",
    ),
    AlertCategory.ROBBERY: (6, AlertPriority.URGENT, "发生抢夺挎包案件, 嫌疑人向江边方向逃跑"),
    AlertCategory.VIOLENCE: (5, AlertPriority.URGENT, "发生打架斗殴, 请周边单位加强巡查"),
    AlertCategory.FIRE: (4, AlertPriority.URGENT, "发生火情, 请周边单位疏散人员并让出通道"),
    AlertCategory.OTHER: (4, AlertPriority.LOW, "发现井盖缺失, 请提醒过往行人注意安全"),
}
_ACTIONS = ("已加强门岗盘查", "已组织保安巡查", "已通知居民注意防范", "已查看监控, 未发现异常")
_FAILURES = ("号码停机", "网关超时", "无人接听")


def _first_channel(unit: Unit, raised: datetime) -> AlertChannel:
    """The channel the hour calls for: the duty phone at night, the QQ group by day."""
    have = unit.channels_at(raised)
    hour = raised.hour
    if (hour >= 22 or hour < 7) and AlertChannel.PHONE in have:
        return AlertChannel.PHONE
    if 8 <= hour < 18 and AlertChannel.QQ in have:
        return AlertChannel.QQ
    return AlertChannel.SMS


#: Channels that give a delivery receipt (a gateway's report, a call answered).
_RECEIPTS = (AlertChannel.SMS, AlertChannel.PHONE)


def _recipient(
    rng: random.Random, alert: Steps, unit: Unit, raised: datetime, ack_minutes: int
) -> datetime | None:
    """One unit's sends, receipts, reply and escalation; when it replied, if it did."""
    channel = _first_channel(unit, raised)
    t = raised + timedelta(minutes=rng.randint(1, 3))
    alert.add(t, g.SendAlert, _PLATFORM, unit_id=unit.id, contact_channel=channel)
    if rng.random() < 0.05:
        t = alert.add(
            t + timedelta(minutes=rng.randint(1, 5)),
            g.RecordAlertFailure,
            _PLATFORM,
            unit_id=unit.id,
            reason=rng.choice(_FAILURES),
        )
        others = [c for c in unit.channels_at(raised) if c != channel]
        channel = rng.choice(others) if others and rng.random() < 0.7 else channel
        t += timedelta(minutes=rng.randint(2, 8))
        alert.add(t, g.SendAlert, _PLATFORM, unit_id=unit.id, contact_channel=channel)
    if channel in _RECEIPTS:
        t = alert.add(
            t + timedelta(minutes=rng.randint(0, 2), seconds=30),
            g.RecordAlertDelivery,
            _PLATFORM,
            unit_id=unit.id,
        )
    due = raised + timedelta(minutes=ack_minutes)
    ack: datetime | None
    fate = rng.random()
    if fate < 0.80:
        ack = max(t, raised) + timedelta(minutes=rng.randint(1, max(1, ack_minutes - 6)))
    elif fate < 0.87:
        ack = max(due, t) + timedelta(minutes=rng.randint(1, 40))  # late, unprompted
    else:
        escalated = max(due, t) + timedelta(minutes=rng.randint(1, 15))
        alert.add(escalated, g.EscalateUnacknowledged, rng.choice(_COORDINATORS), unit_id=unit.id)
        ack = escalated + timedelta(minutes=rng.randint(2, 20)) if rng.random() < 0.65 else None
    if ack is not None:
        alert.add(ack, g.AcknowledgeAlert, Actor(unit.id, Role.UNIT), unit_id=unit.id)
    return ack


def _one(w: Writer, units: list[Unit], ref: str, raised: datetime, false_report: bool) -> None:
    rng = w.rng
    members = [u for u in units if u.member_at(raised)]
    sources = [u for u in members if u.kind is not UnitKind.COMMUNITY_OFFICE] or members
    raiser = rng.choice(sources)
    categories = list(_CATEGORIES)
    category = rng.choices(categories, [_CATEGORIES[c][0] for c in categories])[0]
    _weight, priority, message = _CATEGORIES[category]
    area = rng.choice(compounds_of(raiser.community)).name
    expires = raised + timedelta(hours=rng.choice([4, 6, 8, 12, 24]))
    alert = Steps(alert_id=ref, channel=Channel.GRID)
    alert.add(
        raised,
        g.RaiseAlert,
        Actor(raiser.id, Role.UNIT),
        network_id=NETWORK,
        raised_by=raiser.id,
        category=category,
        priority=priority,
        area=area,
        message=f"{area}{message}",
        expires_at=expires,
    )
    ack_minutes = in_force(raiser.community, raised.date()).alert_ack_minutes
    acks = {
        u.id: _recipient(rng, alert, u, raised, ack_minutes) for u in members if u is not raiser
    }
    coordinator = rng.choice(_COORDINATORS)
    if rng.random() < 0.33:
        alert.add(
            raised + timedelta(minutes=rng.randint(20, 50)),
            g.UpdateAlert,
            coordinator,
            text="补充: 最新情况和照片已在群内发布",
        )
    # Nothing is sent, updated or escalated after the outcome.
    still_open = alert.last(g.RaiseAlert, g.SendAlert, g.EscalateUnacknowledged, g.UpdateAlert)
    outcome_at = max(still_open, raised + timedelta(minutes=rng.randint(40, 360)))
    outcome_at += timedelta(minutes=5)
    roll = rng.random()
    if roll < 0.04 or false_report:
        alert.add(outcome_at, g.CancelAlert, coordinator, reason="经核实为误报")
    elif category in (AlertCategory.THEFT, AlertCategory.ROBBERY, AlertCategory.SUSPECT) and (
        roll < 0.3
    ):
        alert.add(
            outcome_at, g.RecordSuspectCaught, coordinator, details="联动单位协助, 嫌疑人被抓获"
        )
    elif roll < 0.7 or category in (AlertCategory.MISSING_PERSON, AlertCategory.FIRE):
        alert.add(outcome_at, g.ResolveAlert, coordinator, summary="事件已处置完毕")
    else:
        alert.add(max(outcome_at, expires + timedelta(minutes=1)), g.ExpireAlert, coordinator)
    replied = [(u, t) for u, t in acks.items() if t is not None]
    for unit_id, ack in rng.sample(replied, min(len(replied), rng.randint(1, 4))):
        alert.add(
            ack + timedelta(minutes=rng.randint(5, 60)),
            g.ReportAlertAction,
            Actor(unit_id, Role.UNIT),
            unit_id=unit_id,
            text=rng.choice(_ACTIONS),
        )
    alert.add(alert.last() + timedelta(minutes=rng.randint(30, 240)), g.CloseAlert, coordinator)
    alert.write(w, w.story(late_share=0.03, max_delay_days=3))


def alerts(w: Writer, units: list[Unit]) -> None:
    """About ``PER_MONTH`` alerts a month (× scale), at any hour, more in the evening."""
    rng = w.rng
    n = 0
    hours = list(range(24))
    weights = [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6, 5, 4, 3, 2]
    for month in months(_FIRST, _END):
        for _ in range(w.count(PER_MONTH)):
            day = month + timedelta(days=rng.randint(0, 27))
            if day < _FIRST:
                continue
            n += 1
            raised = at(day, rng.choices(hours, weights)[0], rng.randint(0, 59))
            _one(w, units, f"a-{day:%Y%m}-{n:04d}", raised, false_report=n == 2)
