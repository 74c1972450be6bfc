"""The alert dispatcher on real channels: Mosquitto, local HTTP receivers, a fake SMS
provider speaking Aliyun's API; acknowledgements back, forged ones refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from safecomm_notify.channel import Channel
from safecomm_notify.dispatcher import Dispatcher, Retry
from safecomm_notify.lease import lease_for
from safecomm_notify.listener import Listener
from safecomm_notify.mqtt import MqttChannel, ack_topic
from safecomm_notify.sms import SmsChannel, alert_code
from safecomm_notify.webhook import WebhookChannel

from safecomm_core import AlertChannel, GridAlert, Safecomm, monthly_report, open_store
from safecomm_core.domain.grid_alert import DeliveryStatus
from tests.conftest import drop_pg_tables, store_url
from tests.notifying import (
    ALIYUN_ID,
    ALIYUN_SECRET,
    SECRET,
    Clock,
    DroppingProxy,
    DutyApps,
    Receiver,
    network_with_alert,
    signed_ack,
    sms_reply,
    unit_name,
)

FAST = Retry(attempts=3, first_pause=0.01, longest_pause=0.05, timeout=1.0)


def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def mqtt(prefix: str, port: int = 1883) -> MqttChannel:
    return MqttChannel({"host": "127.0.0.1", "port": port, "prefix": prefix})


def sms(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> SmsChannel:
    monkeypatch.setenv("TEST_ALIYUN_ID", ALIYUN_ID)
    monkeypatch.setenv("TEST_ALIYUN_SECRET", ALIYUN_SECRET)
    return SmsChannel(
        {
            "provider": "aliyun",
            "endpoint": receiver.url("/sms"),
            "sign_name": "河门口社区",
            "template_code": "SMS_000001",
            "access_key_id_env": "TEST_ALIYUN_ID",
            "access_key_secret_env": "TEST_ALIYUN_SECRET",
            "timeout": 1.0,
        }
    )


def dispatcher(service: Safecomm, channels: list[Channel], **kwargs: Any) -> Dispatcher:
    kwargs.setdefault("retry", FAST)
    return Dispatcher(service, channels, secret=SECRET, poll=0.02, **kwargs)


def alert(service: Safecomm, ref: str = "a-1") -> GridAlert:
    return service.get(GridAlert, ref)


def steps(service: Safecomm, ref: str = "a-1") -> list[Any]:
    return list(service.log.events_of(alert(service, ref).id))


def test_units_reached_over_mqtt_acknowledge_through_their_duty_apps(
    memory_service: Safecomm,
) -> None:
    topic = prefix()
    units = [unit_name(n) for n in range(1, 6)]
    network_with_alert(memory_service, {u: {AlertChannel.MQTT: f"dev-{u}"} for u in units})

    async def main() -> Dispatcher:
        async with DutyApps(topic, answering=set(units)) as apps:
            d = dispatcher(memory_service, [mqtt(topic)])
            await asyncio.wait_for(d.run(), 30)
            assert sorted(u for _a, u, _n in apps.received) == units
            return d

    d = asyncio.run(main())
    assert d.position == memory_service.log.head()  # every alert finished with
    d.close()
    recipients = alert(memory_service).recipients
    assert all(recipients[u].acknowledged for u in units)
    assert all(recipients[u].delivery is DeliveryStatus.DELIVERED for u in units)
    sent = [e for e in steps(memory_service) if isinstance(e, GridAlert.Sent)]
    assert sorted((e.unit, e.channel, e.attempt) for e in sent) == [
        (u, AlertChannel.MQTT, 1) for u in units
    ]
    # The dispatcher acted as itself; each acknowledgement as its unit.
    acks = [e for e in steps(memory_service) if isinstance(e, GridAlert.Acknowledged)]
    assert {(e.meta.actor.id, e.meta.actor.role.value) for e in sent} == {
        ("alert-dispatcher", "system")
    }
    assert sorted((e.meta.actor.id, e.unit) for e in acks) == [(u, u) for u in units]


def test_a_unit_no_channel_reaches_falls_back_then_fails_and_is_escalated_at_t(
    memory_service: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """u01's SMS is refused for good, its webhook answers 5xx: every attempt is recorded,
    the next channel follows, and once T has passed it is escalated. u02 is reached by SMS
    and replies with the code; u03's webhook is slow once, then takes it."""
    slow_once: set[str] = set()

    def fail(kind: str, who: str) -> str | None:
        if who in ("13900000001",) or (kind == "webhook" and who == "u01"):
            return "refuse" if kind == "sms" else "5xx"
        if kind == "webhook" and who == "u03" and who not in slow_once:
            slow_once.add(who)
            return "slow"
        return None

    with Receiver(fail, slow=1.5) as receiver:
        contacts = {
            "u01": {
                AlertChannel.SMS: "13900000001",
                AlertChannel.WEBHOOK: receiver.url("/hook/u01"),
            },
            "u02": {AlertChannel.SMS: "13900000002"},
            "u03": {AlertChannel.WEBHOOK: receiver.url("/hook/u03")},
        }
        network_with_alert(memory_service, contacts)
        clock = Clock()
        channels: list[Channel] = [sms(receiver, monkeypatch), WebhookChannel({"timeout": 0.5})]
        d = dispatcher(memory_service, channels, clock=clock)

        async def main() -> None:
            listener = Listener(d, "127.0.0.1", 0, sms_token="hook-secret")
            port = await listener.start()
            run = asyncio.create_task(d.run())
            while alert(memory_service).recipients["u02"].delivery is not DeliveryStatus.DELIVERED:
                await asyncio.sleep(0.02)
            code = alert_code("a-1")
            async with httpx.AsyncClient() as client:
                wrong = await client.post(
                    f"http://127.0.0.1:{port}/sms/not-the-token",
                    content=sms_reply("13900000002", code),
                )
                assert wrong.status_code == 404
                stranger = await client.post(
                    f"http://127.0.0.1:{port}/sms/hook-secret",
                    content=sms_reply("13911112222", code),
                )
                assert stranger.status_code == 200
                reply = await client.post(
                    f"http://127.0.0.1:{port}/sms/hook-secret",
                    content=sms_reply("+86 139 0000 0002", f"收到 {code}"),
                )
                assert reply.json() == {"code": 0, "msg": "成功"}
            while run.done() is False and not all(
                r.delivery is not DeliveryStatus.SENT and r.attempts
                for u, r in alert(memory_service).recipients.items()
                if u in ("u01", "u03")
            ):
                await asyncio.sleep(0.02)
            clock.advance(31)  # T (30 minutes, the default rule) passes
            await asyncio.wait_for(run, 30)
            await listener.stop()

        asyncio.run(main())
        d.close()
        assert receiver.bad_signatures == 0

    recipients = alert(memory_service).recipients
    assert recipients["u02"].acknowledged
    assert recipients["u02"].escalated_at is None
    assert recipients["u01"].delivery is DeliveryStatus.FAILED
    assert recipients["u01"].escalated_at is not None
    assert recipients["u03"].delivery is DeliveryStatus.DELIVERED
    assert recipients["u03"].escalated_at is not None  # reached, never acknowledged
    history = [
        (type(e).__name__, getattr(e, "channel", None), getattr(e, "attempt", None))
        for e in steps(memory_service)
        if getattr(e, "unit", None) == "u01"
    ]
    # SMS refused for good after one attempt; the webhook tried three times; escalated.
    assert history == [
        ("Sent", AlertChannel.SMS, 1),
        ("Failed", None, None),
        ("Sent", AlertChannel.WEBHOOK, 1),
        ("Failed", None, None),
        ("Sent", AlertChannel.WEBHOOK, 2),
        ("Failed", None, None),
        ("Sent", AlertChannel.WEBHOOK, 3),
        ("Failed", None, None),
        ("EscalatedNoAck", None, None),
    ]
    u03 = [e for e in steps(memory_service) if getattr(e, "unit", None) == "u03"]
    assert [type(e).__name__ for e in u03] == [
        "Sent",
        "Failed",
        "Sent",
        "Delivered",
        "EscalatedNoAck",
    ]
    assert u03[1].reason == "the unit's system did not answer in time"
    assert u03[3].message_id.startswith("hook-")
    delivered_u02 = next(
        e for e in steps(memory_service) if isinstance(e, GridAlert.Delivered) and e.unit == "u02"
    )
    assert delivered_u02.message_id.startswith("biz-")


def test_forged_acknowledgements_are_refused_and_written_nowhere(
    memory_service: Safecomm,
) -> None:
    topic = prefix()
    units = ["u01", "u02"]
    network_with_alert(memory_service, {u: {AlertChannel.MQTT: f"dev-{u}"} for u in units})
    d = dispatcher(memory_service, [mqtt(topic)])

    async def main() -> None:
        listener = Listener(d, "127.0.0.1", 0)
        port = await listener.start()
        run = asyncio.create_task(d.run())
        async with DutyApps(topic, answering=set()) as apps:
            while len(apps.received) < 2:
                await asyncio.sleep(0.02)
            while any(
                r.delivery is DeliveryStatus.SENT for r in alert(memory_service).recipients.values()
            ):
                await asyncio.sleep(0.02)
            head = memory_service.log.head()
            forged = [
                {**signed_ack("a-1", "u01"), "sig": "0" * 64},  # a bad signature
                signed_ack("a-1", "u01", key_of="u02"),  # another unit's credential
                signed_ack("a-1", "u01", ts=1_000_000_000),  # an old one
            ]
            async with httpx.AsyncClient() as client:
                for ack in forged:
                    answer = await client.post(f"http://127.0.0.1:{port}/acks", json=ack)
                    assert answer.status_code == 403
            import aiomqtt

            async with aiomqtt.Client("127.0.0.1", 1883) as client:
                for ack in forged:
                    await client.publish(ack_topic(topic, "u01"), json.dumps(ack), qos=1)
            # a genuine one from u02's system, over HTTP, after the forged ones
            async with httpx.AsyncClient() as http:
                for _twice in range(2):  # the repeat is taken, and changes nothing
                    answer = await http.post(
                        f"http://127.0.0.1:{port}/acks", json=signed_ack("a-1", "u02")
                    )
                    assert answer.status_code == 202
            while d.refused < 6 or not alert(memory_service).recipients["u02"].acknowledged:
                await asyncio.sleep(0.02)
            # Only u02's acknowledgement (and its receipt) was written.
            new = [
                type(e).__name__
                for n in memory_service.log.read(head, 100)
                for e in [memory_service.log.decode(n)]
            ]
            assert sorted(new) == ["Acknowledged", "Handled"]  # and the command's receipt
            assert d.refused == 6
            assert d.accepted == 1
        run.cancel()
        await listener.stop()

    asyncio.run(main())
    d.close()
    assert not alert(memory_service).recipients["u01"].acknowledged


def test_forty_seven_units_with_channels_failing_at_random(
    memory_service: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """47 units on MQTT (through a proxy that drops connections), webhooks (5xx,
    timeouts) and SMS (5xx, refusals); most answer, some never: every unit ends
    acknowledged or escalated, every attempt is on the record, and the monthly report's
    alert figures are what happened."""
    rng = random.Random(2014)
    topic = prefix()
    units = [unit_name(n) for n in range(1, 48)]

    def fail(kind: str, _who: str) -> str | None:
        return rng.choice(
            [None, None, None, "5xx", "slow", "refuse"]
            if kind == "sms"
            else [None, None, "5xx", "slow"]
        )

    answering = {u for u in units if rng.random() < 0.8}

    async def main() -> None:
        async with DroppingProxy(drop=0.15) as proxy, DutyApps(topic, answering) as apps:
            with Receiver(fail, slow=0.6) as receiver:
                contacts: dict[str, dict[AlertChannel, str]] = {}
                for n, u in enumerate(units):
                    # SMS then the duty app; the unit's system alone; the duty app alone
                    mine: dict[AlertChannel, str] = {}
                    if n % 3 == 0:
                        mine[AlertChannel.SMS] = f"139{n:08d}"
                    if n % 3 == 1:
                        mine[AlertChannel.WEBHOOK] = receiver.url(f"/hook/{u}")
                    else:
                        mine[AlertChannel.MQTT] = f"dev-{u}"
                    contacts[u] = mine
                network_with_alert(memory_service, contacts)
                clock = Clock()
                channels: list[Channel] = [
                    mqtt(topic, proxy.port),
                    WebhookChannel({"timeout": 0.3}),
                    sms(receiver, monkeypatch),
                ]
                d = dispatcher(memory_service, channels, clock=clock)
                run = asyncio.create_task(d.run())
                # Every unit's last attempt has its result: then time passes beyond T.
                while not run.done() and any(
                    r.delivery in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)
                    for r in alert(memory_service).recipients.values()
                    if not r.acknowledged
                ):
                    await asyncio.sleep(0.05)
                clock.advance(31)
                await asyncio.wait_for(run, 60)
                d.close()
                got = Counter((kind, who) for kind, who, _n in receiver.received)
                assert receiver.bad_signatures == 0
            mqtt_got = Counter(u for _a, u, _n in apps.received)
            return_value = (got, mqtt_got)
            main.result = return_value  # type: ignore[attr-defined]

    asyncio.run(main())
    got, mqtt_got = main.result  # type: ignore[attr-defined]
    recipients = alert(memory_service).recipients
    assert set(recipients) == set(units)
    assert all(r.acknowledged or r.escalated_at is not None for r in recipients.values())
    sent = [e for e in steps(memory_service) if isinstance(e, GridAlert.Sent)]
    by_channel = Counter(e.channel for e in sent)
    # Every message a receiver got is an attempt on the record (none sent unrecorded).
    assert sum(got.values()) <= by_channel[AlertChannel.SMS] + by_channel[AlertChannel.WEBHOOK]
    assert sum(mqtt_got.values()) <= by_channel[AlertChannel.MQTT]
    # Every attempt has its result.
    results = [
        e for e in steps(memory_service) if isinstance(e, GridAlert.Delivered | GridAlert.Failed)
    ]
    assert len(results) == len(sent)
    # The channels did fail: retries and fallbacks happened, on every kind of channel.
    last: dict[str, AlertChannel] = {}
    failed: Counter[AlertChannel] = Counter()
    for e in steps(memory_service):
        if isinstance(e, GridAlert.Sent):
            last[e.unit] = e.channel
        elif isinstance(e, GridAlert.Failed):
            failed[last[e.unit]] += 1
    assert set(failed) == {AlertChannel.MQTT, AlertChannel.SMS, AlertChannel.WEBHOOK}
    # The monthly report counts what happened.
    reached = sum(1 for r in recipients.values() if r.delivered_at or r.acknowledged)
    report = monthly_report(memory_service)
    figure = report.figure("alert_reach_rate")
    assert (figure.numerator, figure.denominator) == (reached, 47)
    acked = report.figure("alert_ack_rate")
    due = alert(memory_service).raised_at + timedelta(minutes=30)  # T, the default rule
    in_time = sum(1 for r in recipients.values() if r.acknowledged_at and r.acknowledged_at <= due)
    assert (acked.numerator, acked.denominator) == (in_time, 47)


@pytest.mark.postgres
def test_two_dispatchers_on_postgresql_reach_each_unit_once_per_attempt(
    tmp_path: Path,
) -> None:
    """Two dispatchers follow one store; each alert is worked by one at a time (its lease),
    so every unit gets each attempt once. The first dies (its connection with it) with
    its alerts unfinished: the second takes them over."""
    url, name = store_url("postgres", tmp_path)
    topic = prefix()
    units = [unit_name(n) for n in range(1, 11)]
    try:
        first, second = open_store(url), open_store(url)
        alerts = [f"a-{n}" for n in range(1, 5)]
        for ref in alerts:
            network_with_alert(
                first, {u: {AlertChannel.MQTT: f"dev-{u}"} for u in units}, alert=ref
            )

        async def main() -> Counter[tuple[str, str, int]]:
            # Units do not answer at first, so every alert stays open.
            async with DutyApps(topic, answering=set()) as apps:
                a_lease, b_lease = lease_for(first.config), lease_for(second.config)
                a = dispatcher(first, [mqtt(topic)], lease=a_lease)
                b = dispatcher(second, [mqtt(topic)], lease=b_lease)
                runs = [asyncio.create_task(a.run(follow=True))]
                while not any(a_lease.holds(ref) for ref in alerts):
                    await asyncio.sleep(0.02)
                runs.append(asyncio.create_task(b.run(follow=True)))
                while len(apps.received) < len(alerts) * len(units):
                    await asyncio.sleep(0.02)
                # Each alert is held by one of them, never both.
                assert all(a_lease.holds(ref) != b_lease.holds(ref) for ref in alerts)
                # The first dies: its run ends, its session (and every lock) with it.
                runs[0].cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runs[0]
                a.close()
                # The second takes over the alerts the first held.
                while not all(b_lease.holds(ref) for ref in alerts):
                    await asyncio.sleep(0.05)
                apps.answering.update(units)
                # A second alert round: the units now answer what is sent to them.
                for ref in ("a-5", "a-6"):
                    network_with_alert(
                        first, {u: {AlertChannel.MQTT: f"dev-{u}"} for u in units}, alert=ref
                    )
                while not all(
                    all(r.acknowledged for r in second.get(GridAlert, ref).recipients.values())
                    for ref in ("a-5", "a-6")
                ):
                    await asyncio.sleep(0.05)
                runs[1].cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runs[1]
                b.close()
                return Counter(apps.received)

        received = asyncio.run(main())
        assert max(received.values()) == 1  # no attempt reached a unit twice
        recorded = set()
        for ref in [*alerts, "a-5", "a-6"]:
            record = second.get(GridAlert, ref)
            sent = [
                (ref, e.unit, e.attempt)
                for e in second.log.events_of(record.id)
                if isinstance(e, GridAlert.Sent)
            ]
            assert len(sent) == len(set(sent)) >= len(units)  # each attempt recorded once
            recorded.update(sent)
        assert set(received) <= recorded  # nothing went out that is not on the record
        first.close()
        second.close()
    finally:
        drop_pg_tables(name)


def test_an_sms_reply_after_a_restart_still_acknowledges(
    memory_service: Safecomm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatcher that sent the SMS stopped before the reply came; the next one matches
    the reply to the unit all the same (it opens the number again, recorded)."""
    with Receiver() as receiver:
        network_with_alert(memory_service, {"u01": {AlertChannel.SMS: "13900000001"}})

        async def until_delivered() -> None:
            d = dispatcher(memory_service, [sms(receiver, monkeypatch)])
            run = asyncio.create_task(d.run())
            while alert(memory_service).recipients["u01"].delivery is not DeliveryStatus.DELIVERED:
                await asyncio.sleep(0.02)
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
            d.close()

        async def after_restart() -> None:
            d = dispatcher(memory_service, [sms(receiver, monkeypatch)])
            listener = Listener(d, "127.0.0.1", 0, sms_token="hook-secret")
            port = await listener.start()
            run = asyncio.create_task(d.run())
            while not any(  # the number is opened again, to match replies: recorded
                getattr(memory_service.log.decode(n), "why", "").startswith("to match replies")
                for n in memory_service.log.read(0, 10_000)
            ):
                await asyncio.sleep(0.02)
            async with httpx.AsyncClient() as client:
                reply = sms_reply("13900000001", f"{alert_code('a-1')} 收到")
                await client.post(f"http://127.0.0.1:{port}/sms/hook-secret", content=reply)
            await asyncio.wait_for(run, 30)  # finished: the only unit acknowledged
            await listener.stop()
            d.close()

        asyncio.run(until_delivered())
        asyncio.run(after_restart())
    assert alert(memory_service).recipients["u01"].acknowledged
    assert len(receiver.sms_sent) == 1  # not sent again
