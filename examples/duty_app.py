"""Units' duty apps: they take alerts over MQTT and acknowledge them, as a real app does.

A unit's duty app subscribes to its device's topic; when an alert comes, the duty officer
taps "received" and the app publishes an acknowledgement signed with the unit's key (the
credential ``safecomm alerts credential UNIT`` prints). This script plays every unit::

    python examples/duty_app.py sqlite:///safecomm.db raise       # contacts + a new alert
    python examples/duty_app.py sqlite:///safecomm.db answer &    # the units' duty apps
    safecomm alerts dispatch --store sqlite:///safecomm.db        # the dispatcher

1. ``raise`` (as the office): gives every member unit of the store's network a duty-app
   contact (MQTT device ``duty-<unit>``) where it has none, and raises an alert from the
   first unit. A store without a network gets a small one of six units.
2. ``answer``: for every alert that arrives, the unit's app acknowledges it, and prints
   the unit and the alert. It stops once every unit of the latest alert has answered, or
   after ``--seconds`` (default 60).

The units' keys derive from the dispatcher's secret, ``units.key`` in the working
directory (made here if missing, as the dispatcher would make it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
from safecomm_notify import ack_signature, unit_key

from safecomm_core import (
    Actor,
    AlertCategory,
    AlertChannel,
    AlertPriority,
    Channel,
    GridAlert,
    GridNetwork,
    JoinNetwork,
    OpenNetwork,
    RaiseAlert,
    Role,
    Safecomm,
    SetContactChannel,
    UnitKind,
    open_store,
)

OFFICE = Actor("staff-001", Role.STAFF)


def command(cls: type, **fields: object) -> object:
    """A command by the office, now."""
    return cls(
        command_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        actor=OFFICE,
        channel=Channel.API,
        **fields,
    )


def network_of(service: Safecomm) -> GridNetwork:
    """The store's network (the demo's ``hemenkou``), or a small one made now."""
    for ref in ("hemenkou", "example-net"):
        if service.exists(GridNetwork, ref):
            return service.get(GridNetwork, ref)
    service.handle(command(OpenNetwork, network_id="example-net", name="示例联防网络"))
    for n in range(1, 7):
        service.handle(
            command(
                JoinNetwork,
                network_id="example-net",
                unit_id=f"unit-{n}",
                name=f"示例单位 {n}",
                kind=UnitKind.ENTERPRISE,
                community="C1",
            )
        )
    return service.get(GridNetwork, "example-net")


def raise_alert(service: Safecomm) -> str:
    """Duty-app contacts for every member unit, and a new alert from the first one."""
    network = network_of(service)
    now = datetime.now(UTC)
    members = network.members_at(now)
    for unit in members:
        if network.units[unit].channel(AlertChannel.MQTT) is None:
            service.handle(
                command(
                    SetContactChannel,
                    network_id=network.ref,
                    unit_id=unit,
                    contact_channel=AlertChannel.MQTT,
                    contact=f"duty-{unit}",
                )
            )
    alert_id = f"alert-{now:%Y%m%d-%H%M%S}"
    service.handle(
        command(
            RaiseAlert,
            alert_id=alert_id,
            network_id=network.ref,
            raised_by=members[0],
            category=AlertCategory.MISSING_PERSON,
            priority=AlertPriority.URGENT,
            area="河门口菜市场",
            message="一名老人走失, 身穿蓝色上衣, 请协助寻找",
            expires_at=now + timedelta(hours=4),
        )
    )
    print(f"raised {alert_id} to {len(members) - 1} units of {network.ref}")
    return alert_id


def latest_alert(service: Safecomm) -> GridAlert | None:
    """The alert raised last in the store, if any."""
    found = service.log.read(0, 1_000_000, topics=(GridAlert.Raised.TOPIC,))
    if not found:
        return None
    return service.get(GridAlert, service.log.decode(found[-1]).ref)


async def answer(secret: bytes, prefix: str, waiting_for: set[str], seconds: float) -> None:
    """Play the units' duty apps until every unit in ``waiting_for`` has answered."""
    deadline = time.monotonic() + seconds
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        await client.subscribe(f"{prefix}/units/+/alerts", qos=1)
        print("duty apps listening", flush=True)
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                alert = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                unit, alert_id = alert["unit"], alert["alert_id"]
                ts = int(time.time())
                sig = ack_signature(unit_key(secret, unit), alert_id, unit, ts)
                ack = {"alert_id": alert_id, "unit": unit, "ts": ts, "sig": sig}
                await client.publish(f"{prefix}/acks/{unit}", json.dumps(ack), qos=1)
                print(f"{unit} acknowledged {alert_id}: {alert['message']}", flush=True)
                waiting_for.discard(unit)
                if not waiting_for or time.monotonic() > deadline:
                    return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("store")
    parser.add_argument("action", choices=["raise", "answer"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--prefix", default="safecomm", help="the dispatcher's MQTT prefix")
    args = parser.parse_args()
    key_file = Path("units.key")
    if not key_file.exists():
        key_file.write_text(uuid.uuid4().hex + uuid.uuid4().hex + "\n")
        key_file.chmod(0o600)
    secret = bytes.fromhex(key_file.read_text().strip())
    with open_store(args.store) as service:
        if args.action == "raise":
            raise_alert(service)
            return
        alert = latest_alert(service)
        waiting = set(alert.unanswered()) if alert is not None else set()
    try:
        asyncio.run(answer(secret, args.prefix, waiting, args.seconds))
    except TimeoutError:
        print(f"stopped after {args.seconds:g} s; {len(waiting)} units had no alert")
    else:
        print("every unit answered")


if __name__ == "__main__":
    main()
