"""GridNetwork and GridAlert (M2.3): every rule, round-trips, a stateful model, every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    multiple,
    rule,
)

from safecomm_core import (
    COMMANDS,
    AlreadyExists,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    RuleViolation,
    Safecomm,
    command_to_json,
    open_store,
    parse_command,
)
from safecomm_core.commands import grid_alert as ca
from safecomm_core.commands import grid_network as cn
from safecomm_core.domain.grid_alert import (
    AlertCategory,
    AlertOutcome,
    AlertPriority,
    AlertStatus,
    DeliveryStatus,
    GridAlert,
)
from safecomm_core.domain.grid_network import (
    PHONE_CHANNELS,
    AlertChannel,
    GridNetwork,
    Hours,
    UnitKind,
)
from safecomm_core.eventlog import EventStoreApplication
from safecomm_core.personal import SealedPerson
from safecomm_core.values import Actor, Role
from tests.commanding import command_id
from tests.machines import REFUSED, CommandMachine, full_replay, refused_unless, state
from tests.refusals import refused
from tests.strategies import CST

STAFF = Actor("staff-031", Role.GRID_WORKER)
NET = "hemenkou"
T0 = datetime(2014, 5, 6, 8, 0, tzinfo=CST)  # the network's units join
T1 = datetime(2014, 5, 6, 20, 0, tzinfo=CST)  # the alert is raised


def cmd(cls: type[Any], at: datetime, **fields: Any) -> Any:
    return cls(command_id=command_id(), occurred_at=at, actor=STAFF, **fields)


def phone(i: int) -> str:
    return f"139{i:08d}"


def join(unit: str, at: datetime = T0, community: str = "C1") -> cn.JoinNetwork:
    return cmd(
        cn.JoinNetwork,
        at,
        network_id=NET,
        unit_id=unit,
        name=f"{unit} 小区",
        kind=UnitKind.RESIDENTIAL_COMPOUND,
        community=community,
    )


def contact(
    unit: str, channel: AlertChannel = AlertChannel.SMS, value: str = "", at: datetime = T0
) -> cn.SetContactChannel:
    return cmd(
        cn.SetContactChannel,
        at,
        network_id=NET,
        unit_id=unit,
        contact_channel=channel,
        contact=value or phone(int(unit.strip("u") or 0)),
    )


def leave(unit: str, at: datetime = T0) -> cn.LeaveNetwork:
    return cmd(cn.LeaveNetwork, at, network_id=NET, unit_id=unit, reason="moved away")


def network(service: Safecomm, units: tuple[str, ...] = ("u1", "u2", "u3", "u4")) -> None:
    """Open the network; each unit joins with an SMS contact (u1, u3 … in C1; u2, u4 … in C2)."""
    service.handle(cmd(cn.OpenNetwork, T0, network_id=NET, name="河门口联防联动网络"))
    for i, unit in enumerate(units):
        service.handle(join(unit, community="C1" if i % 2 == 0 else "C2"))
        service.handle(contact(unit))


def raise_(ref: str = "a-1", by: str = "u1", at: datetime = T1, **extra: Any) -> ca.RaiseAlert:
    fields: dict[str, Any] = {
        "alert_id": ref,
        "network_id": NET,
        "raised_by": by,
        "category": AlertCategory.THEFT,
        "priority": AlertPriority.URGENT,
        "area": "河门口 north gate",
        "message": "electric bike stolen; suspect on foot towards the bridge",
        "expires_at": at + timedelta(hours=6),
    }
    return cmd(ca.RaiseAlert, at, **(fields | extra))


def on(
    cls: type[Any], unit: str | None = None, at: datetime = T1, ref: str = "a-1", **f: Any
) -> Any:
    if unit is not None:
        f["unit_id"] = unit
    return cmd(cls, at, alert_id=ref, **f)


def send(
    unit: str, channel: AlertChannel = AlertChannel.SMS, at: datetime = T1, ref: str = "a-1"
) -> Any:
    return on(ca.SendAlert, unit, at, ref, contact_channel=channel)


def minutes(n: int) -> datetime:
    return T1 + timedelta(minutes=n)


def alert(service: Safecomm, ref: str = "a-1") -> GridAlert:
    return service.get(GridAlert, ref)


# -- the network ------------------------------------------------------------------------


def test_membership_rules(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2"))
    err = refused(memory_service, join("u1"), RuleViolation)
    assert err.field == "unit_id"
    assert refused(memory_service, leave("u9"), RuleViolation).field == "unit_id"
    memory_service.handle(leave("u2", T0 + timedelta(hours=1)))
    refused(memory_service, leave("u2", T0 + timedelta(hours=2)), RuleViolation)
    refused(memory_service, contact("u2", at=T0 + timedelta(hours=2)), RuleViolation)
    # a unit cannot rejoin before it left, nor leave before it joined
    err = refused(memory_service, join("u2", T0 + timedelta(minutes=30)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(join("u2", T0 + timedelta(hours=3)))
    assert refused(memory_service, leave("u2", T0 + timedelta(hours=2)), RuleViolation).field == (
        "occurred_at"
    )
    unit = memory_service.get(GridNetwork, NET).units["u2"]
    assert unit.active
    assert len(unit.periods) == 2
    assert [ch.channel for ch in unit.channels] == [AlertChannel.SMS]  # kept across rejoining


def test_network_ids(memory_service: Safecomm) -> None:
    refused(memory_service, join("u1"), NotFound)
    network(memory_service, ("u1",))
    refused(memory_service, cmd(cn.OpenNetwork, T0, network_id=NET, name="again"), AlreadyExists)
    refused(memory_service, join("u2", T0 - timedelta(days=1)), RuleViolation)  # before opening


def test_contact_is_sealed_one_per_channel_and_readable(memory_service: Safecomm) -> None:
    network(memory_service, ("u1",))
    memory_service.handle(contact("u1", AlertChannel.WECHAT, "hmk_gate_07"))
    memory_service.handle(contact("u1", AlertChannel.SMS, "028-87654321"))  # replaces the SMS one
    unit = memory_service.get(GridNetwork, NET).units["u1"]
    assert [ch.channel for ch in unit.channels] == [AlertChannel.WECHAT, AlertChannel.SMS]
    values = {}
    for ch in unit.channels:
        assert isinstance(ch.contact, SealedPerson)
        assert ch.contact.ref == "unit-contact:u1"
        values[ch.channel] = ch.value(memory_service.person(ch.contact))
    assert values == {AlertChannel.WECHAT: "hmk_gate_07", AlertChannel.SMS: "028-87654321"}
    shown = repr([e.details for e in memory_service.history(NET, "network")])
    assert "87654321" not in shown
    assert "hmk_gate_07" not in shown
    assert "unit-contact:u1" in shown


def test_contact_checks(memory_service: Safecomm) -> None:
    network(memory_service, ("u1",))
    err = refused(memory_service, contact("u1", AlertChannel.SMS, "call the gate"), InvalidCommand)
    assert err.field == "contact"
    data = command_to_json(contact("u1", AlertChannel.QQ, "123456"))
    data["hours"] = {"start": "25:00", "end": "07:00"}
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    assert info.value.field == "hours.start"
    data["hours"] = {"start": "07:00", "end": "07:00"}
    with pytest.raises(InvalidCommand):
        parse_command(data)
    data["hours"] = {"start": "0７:00", "end": "07:00"}  # a full-width digit
    with pytest.raises(InvalidCommand) as info:
        parse_command(data)
    assert info.value.field == "hours.start"
    data["hours"] = {"start": "22:00", "end": "07:00"}  # over midnight
    memory_service.handle(parse_command(data))
    qq = memory_service.get(GridNetwork, NET).units["u1"].channel(AlertChannel.QQ)
    assert qq is not None
    assert qq.hours == Hours("22:00", "07:00")


# -- raising and fan-out ----------------------------------------------------------------


def test_fan_out_excludes_the_raiser_and_units_that_left(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2", "u3", "u4"))
    memory_service.handle(leave("u3", T1 - timedelta(hours=1)))
    memory_service.handle(raise_())
    memory_service.handle(join("u5", T1 + timedelta(minutes=1)))  # joins after: not told
    a = alert(memory_service)
    assert tuple(a.recipients) == ("u2", "u4")
    assert {r.delivery for r in a.recipients.values()} == {DeliveryStatus.QUEUED}
    assert (a.status, a.community, a.raised_by, a.network) == (AlertStatus.OPEN, "C1", "u1", NET)
    assert a.unanswered() == ("u2", "u4")
    refused(memory_service, send("u1"), RuleViolation)  # the raiser is no recipient
    refused(memory_service, send("u3"), RuleViolation)


def test_fan_out_uses_membership_when_the_alert_was_raised(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2", "u3"))
    memory_service.handle(leave("u3", T1 + timedelta(hours=2)))
    memory_service.handle(join("u4", T1 + timedelta(hours=2)))
    # a paper record entered late: the alert was raised before u3 left and u4 joined
    memory_service.handle(raise_("a-late", at=T1))
    assert tuple(alert(memory_service, "a-late").recipients) == ("u2", "u3")
    memory_service.handle(raise_("a-now", at=T1 + timedelta(hours=3)))
    assert tuple(alert(memory_service, "a-now").recipients) == ("u2", "u4")


def test_raiser_must_be_an_active_member(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2"))
    assert refused(memory_service, raise_(by="u9"), RuleViolation).field == "raised_by"
    memory_service.handle(leave("u2", T1 - timedelta(hours=1)))
    assert refused(memory_service, raise_(by="u2"), RuleViolation).field == "raised_by"
    assert refused(memory_service, raise_(at=T0 - timedelta(days=1)), RuleViolation).field == (
        "raised_by"  # not yet a member then
    )


def test_raise_checks(memory_service: Safecomm) -> None:
    refused(memory_service, raise_(), NotFound)  # no such network
    network(memory_service, ("u1", "u2"))
    err = refused(memory_service, raise_(expires_at=T1), RuleViolation)
    assert err.field == "expires_at"
    memory_service.handle(raise_())
    refused(memory_service, raise_(), AlreadyExists)
    refused(memory_service, send("u2", ref="a-none"), NotFound)


def test_an_alert_with_no_one_else_in_the_network_is_recorded(memory_service: Safecomm) -> None:
    network(memory_service, ("u1",))
    memory_service.handle(raise_())
    assert alert(memory_service).recipients == {}


# -- per recipient ----------------------------------------------------------------------


def test_failure_retry_fallback_delivery_acknowledgement_actions(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2", "u3"))
    memory_service.handle(contact("u2", AlertChannel.PHONE, "13800000002"))
    memory_service.handle(raise_())
    refused(memory_service, on(ca.RecordAlertDelivery, "u2"), InvalidTransition)  # not sent
    refused(memory_service, on(ca.AcknowledgeAlert, "u2"), InvalidTransition)  # not contacted
    err = refused(memory_service, send("u2", AlertChannel.QQ), RuleViolation)  # no QQ contact
    assert err.field == "channel"
    memory_service.handle(send("u2"))
    memory_service.handle(on(ca.RecordAlertFailure, "u2", reason="number unreachable"))
    memory_service.handle(send("u2"))  # retry
    memory_service.handle(on(ca.RecordAlertFailure, "u2", reason="number unreachable"))
    memory_service.handle(send("u2", AlertChannel.PHONE, minutes(2)))  # fall back
    memory_service.handle(on(ca.RecordAlertDelivery, "u2", minutes(3)))
    refused(memory_service, send("u2"), InvalidTransition)  # already delivered
    refused(memory_service, on(ca.ReportAlertAction, "u2", text="x"), InvalidTransition)  # no ack
    memory_service.handle(on(ca.AcknowledgeAlert, "u2", minutes(4)))
    refused(memory_service, on(ca.AcknowledgeAlert, "u2", minutes(5)), InvalidTransition)
    memory_service.handle(on(ca.ReportAlertAction, "u2", minutes(9), text="gate closed"))
    memory_service.handle(on(ca.ReportAlertAction, "u2", minutes(20), text="CCTV checked"))
    r = alert(memory_service).recipients["u2"]
    assert (r.delivery, r.channel, r.attempts, r.failures, r.actions) == (
        DeliveryStatus.DELIVERED,
        AlertChannel.PHONE,
        3,
        2,
        2,
    )
    assert (r.delivered_at, r.acknowledged_at) == (minutes(3), minutes(4))
    assert alert(memory_service).unanswered() == ("u3",)


def test_a_reply_may_come_before_any_delivery_receipt(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2"))
    memory_service.handle(raise_())
    memory_service.handle(send("u2"))
    memory_service.handle(on(ca.AcknowledgeAlert, "u2", minutes(1)))
    refused(memory_service, send("u2", at=minutes(2)), InvalidTransition)  # acknowledged
    memory_service.handle(on(ca.RecordAlertDelivery, "u2", minutes(2)))  # a late receipt lands
    assert alert(memory_service).recipients["u2"].delivery == DeliveryStatus.DELIVERED


def test_a_unit_s_contacts_are_tried_in_fallback_order_those_in_their_hours_first(
    memory_service: Safecomm,
) -> None:
    """SMS → duty app → webhook → phone → groups; a contact whose hours cover the moment
    (local time) comes before those without hours, and those outside theirs come last."""
    network(memory_service, ("u1", "u2"))  # u2 has SMS
    evening = Hours("18:00", "08:00")
    for channel, value, hours in (
        (AlertChannel.DINGTALK, "dingtalk://group-token/", None),
        (AlertChannel.PHONE, "028-87654321", evening),
        (AlertChannel.WEBHOOK, "https://u2.example/alerts", None),
        (AlertChannel.MQTT, "gate-app-2", Hours("08:00", "18:00")),
    ):
        memory_service.handle(
            cmd(
                cn.SetContactChannel,
                T0,
                network_id=NET,
                unit_id="u2",
                contact_channel=channel,
                contact=value,
                hours=hours,
            )
        )
    unit = memory_service.get(GridNetwork, NET).units["u2"]
    order = [c.channel for c in unit.fallback(T1)]  # 20:00 local: the phone's hours
    assert order == ["phone", "sms", "webhook", "dingtalk", "mqtt"]
    noon = T1.replace(hour=12)
    assert [c.channel for c in unit.fallback(noon)] == [
        "mqtt",
        "sms",
        "webhook",
        "dingtalk",
        "phone",
    ]


def test_a_send_keeps_its_attempt_and_a_delivery_the_channel_s_message_id(
    memory_service: Safecomm,
) -> None:
    network(memory_service, ("u1", "u2"))
    memory_service.handle(raise_())
    memory_service.handle(on(ca.SendAlert, "u2", T1, contact_channel=AlertChannel.SMS, attempt=2))
    memory_service.handle(on(ca.RecordAlertDelivery, "u2", minutes(1), message_id="biz-42"))
    events = memory_service.log.events_of(alert(memory_service).id)
    sent = next(e for e in events if isinstance(e, GridAlert.Sent))
    delivered = next(e for e in events if isinstance(e, GridAlert.Delivered))
    assert (sent.attempt, delivered.message_id) == (2, "biz-42")
    # Replayed from the store, the same.
    assert alert(memory_service).recipients["u2"].attempts == 1


def test_escalation_waits_for_the_acknowledgement_time(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2", "u3"))
    memory_service.handle(raise_())
    memory_service.handle(send("u3"))
    memory_service.handle(on(ca.AcknowledgeAlert, "u3", minutes(5)))
    err = refused(memory_service, on(ca.EscalateUnacknowledged, "u2", minutes(29)), RuleViolation)
    assert (err.field, "30 minutes" in str(err)) == ("occurred_at", True)
    memory_service.handle(on(ca.EscalateUnacknowledged, "u2", minutes(30)))  # T has passed
    refused(memory_service, on(ca.EscalateUnacknowledged, "u2", minutes(31)), InvalidTransition)
    refused(memory_service, on(ca.EscalateUnacknowledged, "u3", minutes(40)), InvalidTransition)
    refused(memory_service, on(ca.EscalateUnacknowledged, "u1", minutes(40)), RuleViolation)
    # the coordinator phoned the escalated unit: it may now acknowledge, unsent
    memory_service.handle(on(ca.AcknowledgeAlert, "u2", minutes(35)))
    assert alert(memory_service).recipients["u2"].escalated_at == minutes(30)


def test_escalation_time_is_the_versioned_rule_of_the_alerts_community(
    memory_service: Safecomm,
) -> None:
    network(memory_service, ("u1", "u2", "u3"))  # u1 and u3 in C1, u2 in C2
    memory_service.handle_json(
        {
            "type": "rules.adopt",
            "command_id": "r-1",
            "occurred_at": "2014-01-01T00:00:00+08:00",
            "actor": {"id": "staff-001", "role": "admin"},
            "effective_from": "2014-05-01",
            "community": "C2",
            "changes": {"alert_ack_minutes": 10},
        }
    )
    memory_service.handle(raise_("a-c1", by="u1"))
    memory_service.handle(raise_("a-c2", by="u2"))
    assert alert(memory_service, "a-c2").community == "C2"
    memory_service.handle(on(ca.EscalateUnacknowledged, "u1", minutes(10), ref="a-c2"))
    refused(
        memory_service, on(ca.EscalateUnacknowledged, "u2", minutes(10), ref="a-c1"), RuleViolation
    )
    # a rule effective after the day of the raise does not apply to it
    memory_service.handle_json(
        {
            "type": "rules.adopt",
            "command_id": "r-2",
            "occurred_at": "2014-01-01T00:00:00+08:00",
            "actor": {"id": "staff-001", "role": "admin"},
            "effective_from": "2014-05-07",
            "changes": {"alert_ack_minutes": 5},
        }
    )
    escalate = on(ca.EscalateUnacknowledged, "u3", minutes(6), ref="a-c1")
    refused(memory_service, escalate, RuleViolation)


def test_facts_cannot_precede_the_raise(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2"))
    memory_service.handle(raise_())
    err = refused(memory_service, send("u2", at=T1 - timedelta(seconds=1)), RuleViolation)
    assert err.field == "occurred_at"


# -- the alert as a whole ---------------------------------------------------------------


def test_conclusion_stops_the_alert_but_late_replies_land_until_closed(
    memory_service: Safecomm,
) -> None:
    network(memory_service, ("u1", "u2", "u3"))
    memory_service.handle(raise_())
    memory_service.handle(on(ca.UpdateAlert, at=minutes(1), text="suspect wears a red jacket"))
    memory_service.handle(send("u2"))
    refused(memory_service, on(ca.CloseAlert, at=minutes(2)), InvalidTransition)  # no outcome yet
    memory_service.handle(on(ca.RecordSuspectCaught, at=minutes(3), details="held by u3's guards"))
    a = alert(memory_service)
    assert (a.status, a.outcome, a.updates, a.concluded_at) == (
        AlertStatus.CONCLUDED,
        AlertOutcome.SUSPECT_CAUGHT,
        1,
        minutes(3),
    )
    for late in (
        on(ca.UpdateAlert, at=minutes(4), text="x"),
        send("u3", at=minutes(4)),
        on(ca.EscalateUnacknowledged, "u3", minutes(40)),
        on(ca.ResolveAlert, at=minutes(4), summary="x"),
    ):
        refused(memory_service, late, InvalidTransition)
    memory_service.handle(on(ca.RecordAlertDelivery, "u2", minutes(4)))
    memory_service.handle(on(ca.AcknowledgeAlert, "u2", minutes(5)))
    memory_service.handle(on(ca.ReportAlertAction, "u2", minutes(6), text="searched the car park"))
    memory_service.handle(on(ca.CloseAlert, at=minutes(7)))
    assert alert(memory_service).closed_at == minutes(7)


def every_alert_command(at: datetime) -> list[Any]:
    return [
        send("u2", at=at),
        on(ca.RecordAlertDelivery, "u2", at),
        on(ca.RecordAlertFailure, "u2", at, reason="x"),
        on(ca.AcknowledgeAlert, "u2", at),
        on(ca.ReportAlertAction, "u2", at, text="x"),
        on(ca.EscalateUnacknowledged, "u3", at),
        on(ca.UpdateAlert, at=at, text="x"),
        on(ca.RecordSuspectCaught, at=at, details="x"),
        on(ca.ResolveAlert, at=at, summary="x"),
        on(ca.CancelAlert, at=at, reason="x"),
        on(ca.ExpireAlert, at=at),
        on(ca.CloseAlert, at=at),
    ]


def test_every_command_on_a_closed_alert_is_refused_and_writes_nothing(
    memory_service: Safecomm,
) -> None:
    network(memory_service, ("u1", "u2", "u3"))
    memory_service.handle(raise_())
    memory_service.handle(send("u2"))
    memory_service.handle(on(ca.AcknowledgeAlert, "u2", minutes(1)))
    memory_service.handle(on(ca.CancelAlert, at=minutes(2), reason="false report"))
    memory_service.handle(on(ca.CloseAlert, at=minutes(3)))
    commands = every_alert_command(T1 + timedelta(days=1))
    assert {type(x).TYPE for x in commands} == {t for t in COMMANDS if t.startswith("alert.")} - {
        "alert.raise"
    }
    for command in commands:
        err = refused(memory_service, command, InvalidTransition)
        assert "closed" in str(err)


def test_expiry_only_from_expires_at(memory_service: Safecomm) -> None:
    network(memory_service, ("u1", "u2"))
    memory_service.handle(raise_(expires_at=T1 + timedelta(hours=1)))
    err = refused(memory_service, on(ca.ExpireAlert, at=minutes(59)), RuleViolation)
    assert err.field == "occurred_at"
    memory_service.handle(on(ca.ExpireAlert, at=minutes(60)))
    assert alert(memory_service).outcome == AlertOutcome.EXPIRED


@pytest.mark.parametrize(
    ("command", "outcome"),
    [
        (ca.RecordSuspectCaught, AlertOutcome.SUSPECT_CAUGHT),
        (ca.ResolveAlert, AlertOutcome.RESOLVED),
        (ca.CancelAlert, AlertOutcome.CANCELLED),
    ],
)
def test_one_outcome_only(
    memory_service: Safecomm, command: type[Any], outcome: AlertOutcome
) -> None:
    network(memory_service, ("u1", "u2"))
    memory_service.handle(raise_())
    text = {"details": "d"} if command is ca.RecordSuspectCaught else {}
    text |= {"summary": "s"} if command is ca.ResolveAlert else {}
    text |= {"reason": "r"} if command is ca.CancelAlert else {}
    memory_service.handle(on(command, at=minutes(1), **text))
    assert alert(memory_service).outcome == outcome
    for other in every_alert_command(T1 + timedelta(days=1))[7:11]:
        refused(memory_service, other, InvalidTransition)


# -- snapshots --------------------------------------------------------------------------


def a_fanned_out_alert(service: Safecomm, units: int = 47) -> None:
    """A network of ``units`` (the plan's has 47), an alert from u1 to all the others, each
    sent, delivered and acknowledged: past 50 events each, so both records are snapshotted."""
    network(service, tuple(f"u{i}" for i in range(1, units + 1)))
    service.handle(raise_())
    for i in range(2, units + 1):
        service.handle(send(f"u{i}", at=minutes(1)))
        service.handle(on(ca.RecordAlertDelivery, f"u{i}", minutes(2)))
        service.handle(on(ca.AcknowledgeAlert, f"u{i}", minutes(i)))


def check_snapshots_equal_replay(service: Safecomm) -> None:
    for cls, ref in ((GridNetwork, NET), (GridAlert, "a-1")):
        live = service.get(cls, ref)
        snapshots = list(service.log.application.snapshots.get(live.id))
        assert snapshots, f"no snapshot of {cls.__name__}"
        assert all(s.originator_version % 50 == 0 for s in snapshots)
        assert state(live) == state(full_replay(service, live.id))


def test_long_records_are_snapshotted_and_load_equal_to_a_full_replay(
    memory_service: Safecomm,
) -> None:
    a_fanned_out_alert(memory_service)
    a = alert(memory_service)
    assert a.version == 1 + 46 * 3
    assert a.unanswered() == ()
    assert type(a.status) is AlertStatus  # re-typed after the snapshot
    check_snapshots_equal_replay(memory_service)


# -- round trips ------------------------------------------------------------------------


# -- stateful ---------------------------------------------------------------------------

UNITS = ("u1", "u2", "u3", "u4")
ALERTS = ("a-1", "a-2")
ACK_MINUTES = 30  # the default rule
EXPIRES_AFTER = timedelta(minutes=45)
GOOD = {
    AlertChannel.SMS: "13912345678",
    AlertChannel.PHONE: "028-87654321",
    AlertChannel.QQ: "123456789",
    AlertChannel.WECHAT: "hmk_gate",
    AlertChannel.MQTT: "gate-app-7",
    AlertChannel.WEBHOOK: "https://hmk.example/alerts",
    AlertChannel.DINGTALK: "dingtalk://token-of-the-group/",
    AlertChannel.WECOM: "wecom://key-of-the-group",
}
OPEN_OR_CONCLUDED = ("open", "concluded")
OUTCOMES: dict[AlertOutcome, tuple[type[Any], dict[str, str]]] = {
    AlertOutcome.SUSPECT_CAUGHT: (ca.RecordSuspectCaught, {"details": "caught at the bridge"}),
    AlertOutcome.RESOLVED: (ca.ResolveAlert, {"summary": "bike found"}),
    AlertOutcome.CANCELLED: (ca.CancelAlert, {"reason": "false report"}),
    AlertOutcome.EXPIRED: (ca.ExpireAlert, {}),
}
unit_ids = st.sampled_from(UNITS)
alert_ids = st.sampled_from(ALERTS)
#: For commands on a whole alert: now and then one never raised.
any_alert_ids = st.sampled_from((*ALERTS, "a-9"))
#: After a send: delivered, failed, or no receipt (yet).
RECEIPTS = (True, True, False, None)
RECIPIENT = {
    "delivery": "queued",
    "attempts": 0,
    "failures": 0,
    "ack": False,
    "esc": False,
    "actions": 0,
}
#: (alert, unit) pairs: recipients as raised, and now and then any alert with any unit.
pairs = Bundle("pairs")
any_pair = pairs | st.tuples(alert_ids, unit_ids)
#: Mostly SMS, the contact every unit starts with.
alert_channels = st.just(AlertChannel.SMS) | st.sampled_from(list(AlertChannel))


class GridMachine(CommandMachine):
    """The real application beside a plain model of one network and its alerts.

    Snapshots are taken every 3 events here, so most loads start from one.
    """

    START = T1
    STEP = timedelta(minutes=4)

    def __init__(self) -> None:
        self.snapshots = mock.patch.dict(
            EventStoreApplication.snapshotting_intervals, {GridAlert: 3, GridNetwork: 3}
        )
        self.snapshots.start()
        super().__init__()
        self.units: dict[str, dict[str, Any]] = {}  # unit -> active, channels
        self.alerts: dict[str, dict[str, Any]] = {}

    def recipient(self, ref: str, unit: str) -> dict[str, Any] | None:
        a = self.alerts.get(ref)
        return None if a is None else a["recipients"].get(unit)

    def status(self, ref: str) -> str | None:
        a = self.alerts.get(ref)
        return None if a is None else str(a["status"])

    @initialize(target=pairs)
    def open_and_raise(self) -> Any:
        """Three units with SMS contacts and an alert from u1, so most steps have a target."""
        self.service.handle(cmd(cn.OpenNetwork, T0, network_id=NET, name="河门口"))
        for unit in UNITS[:3]:
            self.service.handle(join(unit, community="C1"))
            self.service.handle(contact(unit, AlertChannel.SMS, GOOD[AlertChannel.SMS]))
            self.units[unit] = {"active": True, "channels": {AlertChannel.SMS}}
        return self.raise_alert("a-1", "u1")

    # -- the network

    @rule(unit=unit_ids)
    def join(self, unit: str) -> None:
        m = self.units.get(unit)
        ok = m is None or not m["active"]
        self.send(join(unit, self.tick(), community="C1"), refused_unless(ok))
        if ok:
            self.units[unit] = {"active": True, "channels": m["channels"] if m else set()}

    @rule(unit=unit_ids)
    def leave(self, unit: str) -> None:
        m = self.units.get(unit)
        ok = m is not None and m["active"]
        self.send(leave(unit, self.tick()), refused_unless(ok))
        if ok:
            self.units[unit]["active"] = False

    @rule(unit=unit_ids, channel=alert_channels, good=st.booleans())
    def set_contact(self, unit: str, channel: AlertChannel, good: bool) -> None:
        m = self.units.get(unit)
        # a bad value: no phone number where one is due (the other channels take any id)
        bad = not good and channel in PHONE_CHANNELS
        value = "call the gate" if bad else GOOD[channel]
        ok = m is not None and m["active"] and not bad
        self.send(contact(unit, channel, value, self.tick()), refused_unless(ok))
        if ok:
            self.units[unit]["channels"].add(channel)

    # -- raising

    @rule(target=pairs, ref=alert_ids, by=unit_ids)
    def raise_alert(self, ref: str, by: str) -> Any:
        at = self.tick()
        by_active = self.units.get(by, {}).get("active", False)
        ok = ref not in self.alerts and by_active
        self.send(raise_(ref, by, at, expires_at=at + EXPIRES_AFTER), refused_unless(ok))
        if not ok:
            return multiple()
        others = sorted(u for u, m in self.units.items() if m["active"] and u != by)
        self.alerts[ref] = {
            "status": "open",
            "raised_at": at,
            "updates": 0,
            "recipients": {u: dict(RECIPIENT) for u in others},
        }
        return multiple(*((ref, u) for u in others))

    # -- per recipient

    @rule(pair=any_pair, channel=alert_channels, then=st.sampled_from(RECEIPTS))
    def send_to(self, pair: tuple[str, str], channel: AlertChannel, then: bool | None) -> None:
        """Send, then (mostly) the receipt: deliveries follow sends as they do in life."""
        ref, unit = pair
        r = self.recipient(ref, unit)
        ok = (
            self.status(ref) == "open"
            and r is not None
            and not r["ack"]
            and r["delivery"] != "delivered"
            and channel in self.units[unit]["channels"]
        )
        self.send(send(unit, channel, self.tick(), ref), refused_unless(ok))
        if ok:
            assert r is not None
            r["delivery"] = "sent"
            r["attempts"] += 1
            if then is not None:
                self.receipt(pair, then)

    @rule(pair=any_pair, delivered=st.booleans())
    def receipt(self, pair: tuple[str, str], delivered: bool) -> None:
        ref, unit = pair
        r = self.recipient(ref, unit)
        ok = self.status(ref) in OPEN_OR_CONCLUDED and r is not None and r["delivery"] == "sent"
        if delivered:
            self.send(on(ca.RecordAlertDelivery, unit, self.tick(), ref), refused_unless(ok))
        else:
            self.send(
                on(ca.RecordAlertFailure, unit, self.tick(), ref, reason="busy"), refused_unless(ok)
            )
        if ok:
            assert r is not None
            r["delivery"] = "delivered" if delivered else "failed"
            r["failures"] += 0 if delivered else 1

    @rule(pair=any_pair)
    def acknowledge(self, pair: tuple[str, str]) -> None:
        ref, unit = pair
        r = self.recipient(ref, unit)
        ok = (
            self.status(ref) in OPEN_OR_CONCLUDED
            and r is not None
            and not r["ack"]
            and (r["attempts"] > 0 or r["esc"])
        )
        self.send(on(ca.AcknowledgeAlert, unit, self.tick(), ref), refused_unless(ok))
        if ok:
            assert r is not None
            r["ack"] = True

    @rule(pair=any_pair)
    def report_action(self, pair: tuple[str, str]) -> None:
        ref, unit = pair
        r = self.recipient(ref, unit)
        ok = self.status(ref) in OPEN_OR_CONCLUDED and r is not None and r["ack"]
        self.send(
            on(ca.ReportAlertAction, unit, self.tick(), ref, text="patrolled"), refused_unless(ok)
        )
        if ok:
            assert r is not None
            r["actions"] += 1

    @rule(pair=any_pair)
    def escalate(self, pair: tuple[str, str]) -> None:
        ref, unit = pair
        r = self.recipient(ref, unit)
        at = self.tick()
        ok = (
            self.status(ref) == "open"
            and r is not None
            and not r["ack"]
            and not r["esc"]
            and at - self.alerts[ref]["raised_at"] >= timedelta(minutes=ACK_MINUTES)
        )
        self.send(on(ca.EscalateUnacknowledged, unit, at, ref), refused_unless(ok))
        if ok:
            assert r is not None
            r["esc"] = True

    @rule(pair=any_pair)
    def backdated(self, pair: tuple[str, str]) -> None:
        """Any fact dated before the alert was raised is refused."""
        ref, unit = pair
        if ref in self.alerts:
            before = self.alerts[ref]["raised_at"] - timedelta(seconds=1)
            self.send(on(ca.AcknowledgeAlert, unit, before, ref), REFUSED)

    # -- the alert as a whole

    @rule(ref=any_alert_ids)
    def update(self, ref: str) -> None:
        ok = self.status(ref) == "open"
        self.send(
            on(ca.UpdateAlert, at=self.tick(), ref=ref, text="seen near the bridge"),
            refused_unless(ok),
        )
        if ok:
            self.alerts[ref]["updates"] += 1

    @rule(ref=any_alert_ids, outcome=st.sampled_from(list(AlertOutcome)))
    def conclude(self, ref: str, outcome: AlertOutcome) -> None:
        at = self.tick()
        ok = self.status(ref) == "open"
        if outcome == AlertOutcome.EXPIRED:
            ok = ok and at >= self.alerts[ref]["raised_at"] + EXPIRES_AFTER
        self.send(
            on(OUTCOMES[outcome][0], at=at, ref=ref, **OUTCOMES[outcome][1]), refused_unless(ok)
        )
        if ok:
            self.alerts[ref] |= {"status": "concluded", "outcome": outcome}

    @rule(ref=any_alert_ids)
    def close(self, ref: str) -> None:
        ok = self.status(ref) == "concluded"
        self.send(on(ca.CloseAlert, at=self.tick(), ref=ref), refused_unless(ok))
        if ok:
            self.alerts[ref]["status"] = "closed"

    # -- invariants

    @invariant()
    def network_matches_model(self) -> None:
        n = self.service.get(GridNetwork, NET)
        assert {u: (x.active, {ch.channel for ch in x.channels}) for u, x in n.units.items()} == {
            u: (m["active"], m["channels"]) for u, m in self.units.items()
        }

    @invariant()
    def alerts_match_model(self) -> None:
        for ref, m in self.alerts.items():
            a = self.service.get(GridAlert, ref)
            assert (str(a.status), a.outcome, a.updates) == (
                m["status"],
                m.get("outcome"),
                m["updates"],
            )
            seen = {
                u: {
                    "delivery": str(r.delivery),
                    "attempts": r.attempts,
                    "failures": r.failures,
                    "ack": r.acknowledged,
                    "esc": r.escalated_at is not None,
                    "actions": r.actions,
                }
                for u, r in a.recipients.items()
            }
            assert seen == m["recipients"]

    def teardown(self) -> None:
        super().teardown()
        self.snapshots.stop()


TestGridMachine = GridMachine.TestCase


# -- every backend ----------------------------------------------------------------------


def test_a_snapshotted_alert_lands_and_replays(service_factory: Any) -> None:
    service = service_factory()
    a_fanned_out_alert(service, units=26)  # the fewest past 50 events each: quick on every backend
    live = alert(service)
    reopened = service_factory()
    assert state(alert(reopened)) == state(live)
    check_snapshots_equal_replay(reopened)


def test_refused_grid_commands_write_nothing(service: Safecomm) -> None:
    network(service, ("u1", "u2", "u3"))
    service.handle(leave("u3", T1 - timedelta(hours=1)))
    refused(service, raise_(by="u3"), RuleViolation)
    service.handle(raise_())
    refused(service, on(ca.EscalateUnacknowledged, "u2", minutes(29)), RuleViolation)
    refused(service, contact("u2", AlertChannel.SMS, "not a phone"), InvalidCommand)
    assert [e.event for e in service.history("a-1", "alert")] == ["Raised"]


def test_contact_values_are_never_in_clear_in_the_sqlite_file(tmp_path: Path) -> None:
    sms, wechat = "13987650123", "hmk_gate_secret"
    with open_store(f"sqlite:///{tmp_path / 'grid.db'}") as service:
        # enough units that the network is snapshotted too, contacts and all
        network(service, tuple(f"u{i}" for i in range(1, 30)))
        service.handle(contact("u1", AlertChannel.SMS, sms))
        service.handle(contact("u1", AlertChannel.WECHAT, wechat))
        service.handle(raise_())
        assert list(service.log.application.snapshots.get(service.get(GridNetwork, NET).id))
        sealed = service.get(GridNetwork, NET).units["u1"].channel(AlertChannel.SMS)
        assert sealed is not None
        assert service.person(sealed.contact).phone == sms
    files = list(_files(tmp_path))
    everything = b"".join(f.read_bytes() for f in files)
    assert b"hemenkou" in everything  # the store is readable in clear: the check can fail
    for value in (sms, wechat, phone(2)):
        assert value.encode() not in everything, value


def _files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())
