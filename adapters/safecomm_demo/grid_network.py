"""The linkage network (M2.3): 47 units and compounds joining over the first months.

The grid office opens the network on 10 October 2013. Community offices and the police
join first, then the compounds with gatehouses, property companies, enterprises, schools,
the hospital and the market, until January 2014. Every unit gives an SMS number when it
joins; many add a duty phone (preferred at night), a QQ group, and in 2014 a WeChat
group. Two units leave in 2014 (an enterprise moves away, a property company's contract
ends) and the company that takes over the compound joins in its place.

Membership and contacts are written down as they happen (prompt stories): alerts rest on
them, and an alert's recipients are the members when it was raised.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import attrs

from safecomm_core.commands import grid_network as g
from safecomm_core.domain.grid_network import AlertChannel, Hours, UnitKind
from safecomm_core.values import Channel, Role
from safecomm_demo.places import GATED
from safecomm_demo.story import COMMUNITIES, Story, Writer, at, staff

__all__ = ["NETWORK", "Unit", "network"]

NETWORK = "hemenkou"
_OPENED = date(2013, 10, 10)
_GRID = staff(30, Role.GRID_WORKER)


@attrs.define
class Unit:
    """A unit as the scenario knows it: when it was a member, and its channels since when."""

    id: str
    name: str
    kind: UnitKind
    community: str
    joined: datetime
    left: datetime | None = None
    channels: dict[AlertChannel, datetime] = attrs.field(factory=dict)

    def member_at(self, moment: datetime) -> bool:
        """Whether the unit was a member at ``moment`` (as the network decides it)."""
        return self.joined <= moment and (self.left is None or moment < self.left)

    def channels_at(self, moment: datetime) -> tuple[AlertChannel, ...]:
        """The channels the unit could be reached on at ``moment``, in fallback order."""
        return tuple(c for c in AlertChannel if c in self.channels and self.channels[c] <= moment)


def _roster() -> list[tuple[str, UnitKind, str]]:
    """The 47 units, in the order they join: (name, kind, community)."""
    units = [(f"{c}社区居委会", UnitKind.COMMUNITY_OFFICE, c) for c in COMMUNITIES]
    units += [
        ("河门口派出所", UnitKind.POLICE_POST, "C1"),
        ("沙坝警务室", UnitKind.POLICE_POST, "C7"),
    ]
    units += [(f"{c.name}小区", UnitKind.RESIDENTIAL_COMPOUND, c.community) for c in GATED]
    units += [
        (f"{name}物业公司", UnitKind.PROPERTY_COMPANY, c)
        for name, c in (
            ("安居", "C1"),
            ("金沙", "C2"),
            ("向阳", "C3"),
            ("怡景", "C4"),
            ("东风", "C5"),
            ("翠苑", "C6"),
            ("康乐", "C7"),
        )
    ]
    units += [
        ("河门口电厂", UnitKind.ENTERPRISE, "C1"),
        ("矿机配件厂", UnitKind.ENTERPRISE, "C2"),
        ("冶建公司", UnitKind.ENTERPRISE, "C3"),
        ("金沙江物流公司", UnitKind.ENTERPRISE, "C4"),
        ("攀西建安公司", UnitKind.ENTERPRISE, "C5"),
        ("滨江酒店", UnitKind.ENTERPRISE, "C6"),
        ("河门口小学", UnitKind.SCHOOL, "C1"),
        ("河门口中学", UnitKind.SCHOOL, "C3"),
        ("沙坝小学", UnitKind.SCHOOL, "C7"),
        ("河门口医院", UnitKind.HOSPITAL, "C2"),
        ("河门口农贸市场", UnitKind.MARKET, "C5"),
    ]
    return units


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def _contact(
    w: Writer, s: Story, unit: Unit, channel: AlertChannel, when: datetime, hours: Hours | None
) -> None:
    rng = w.rng
    value = (
        _phone(rng)
        if channel in (AlertChannel.SMS, AlertChannel.PHONE)
        else (f"{rng.randint(100_000_000, 999_999_999)}")
    )
    w.add(
        s,
        g.SetContactChannel,
        when,
        _GRID,
        channel=Channel.GRID,
        network_id=NETWORK,
        unit_id=unit.id,
        contact_channel=channel,
        contact=value,
        hours=hours,
    )
    unit.channels[channel] = when


def _join(w: Writer, unit: Unit) -> None:
    rng = w.rng
    s = w.story(prompt=True)
    w.add(
        s,
        g.JoinNetwork,
        unit.joined,
        _GRID,
        channel=Channel.GRID,
        network_id=NETWORK,
        unit_id=unit.id,
        name=unit.name,
        kind=unit.kind,
        community=unit.community,
    )
    t = unit.joined + timedelta(minutes=20)
    _contact(w, s, unit, AlertChannel.SMS, t, None)
    if rng.random() < 0.5:
        _contact(w, s, unit, AlertChannel.PHONE, t, Hours("22:00", "07:00"))
    if rng.random() < 0.6:
        _contact(w, s, unit, AlertChannel.QQ, t, Hours("08:00", "18:00"))
    if rng.random() < 0.3:
        # WeChat groups came in during the spring of 2014 (before any unit left).
        later = at(date(2014, 3, 1) + timedelta(days=rng.randint(0, 90)), 11)
        _contact(w, s, unit, AlertChannel.WECHAT, later, None)


def network(w: Writer) -> list[Unit]:
    """Open the network, let the units join and leave; the roster, for the alerts."""
    rng = w.rng
    w.add(
        w.story(prompt=True),
        g.OpenNetwork,
        at(_OPENED, 9),
        staff(1, Role.ADMIN),
        channel=Channel.GRID,
        network_id=NETWORK,
        name="河门口街道联防联动网络",
    )
    units: list[Unit] = []
    roster = _roster()
    for n, (name, kind, community) in enumerate(roster, start=1):
        # The first nine (offices and police) in the first week; the rest by January.
        days = rng.randint(1, 7) if n <= 9 else rng.randint(8, 95)
        joined = at(_OPENED + timedelta(days=days), rng.randint(9, 11), rng.randint(0, 59))
        units.append(Unit(f"U{n:02d}", name, kind, community, joined))
    for unit in sorted(units, key=lambda u: u.joined):
        _join(w, unit)
    leaving = (
        (next(u for u in units if u.name == "滨江酒店"), date(2014, 6, 16), "企业搬迁出辖区"),
        (next(u for u in units if u.name == "翠苑物业公司"), date(2014, 9, 1), "物业服务合同到期"),
    )
    for unit, day, reason in leaving:
        unit.left = at(day, 10)
        w.add(
            w.story(prompt=True),
            g.LeaveNetwork,
            unit.left,
            _GRID,
            channel=Channel.GRID,
            network_id=NETWORK,
            unit_id=unit.id,
            reason=reason,
        )
    successor = Unit(
        f"U{len(roster) + 1:02d}",
        "祥和物业公司",
        UnitKind.PROPERTY_COMPANY,
        "C6",
        at(date(2014, 9, 1), 10, 30),
    )
    units.append(successor)
    _join(w, successor)
    return units
