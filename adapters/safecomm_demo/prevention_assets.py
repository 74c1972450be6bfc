"""Prevention assets (M2.1, M2.2): parking lots, gatehouses and devices in old compounds.

- **98 non-motor-vehicle parking lots**, built or rebuilt from November 2013 to August
  2014 across the compounds, each given a custodian within days (a few change hands
  later), inspected each quarter; some faults (a broken lock, a torn canopy) are repaired
  within days or weeks, one or two are still open at the end. One is taken down in October
  2014 when its compound is redeveloped.
- **20 gatehouses**, rebuilt in the gated compounds from November 2013 to March 2014 and
  staffed. Their registers are counted daily by the gatekeepers; the scenario records a
  sample of days, one day in three weeks at scale 1 (every ``21 / scale`` days, daily
  from scale 21): entries, and the large items that left with what they were (never who
  carried them). A gatehouse's counts accumulate on its record, so each one costs more to
  load than the last; a sparse sample keeps scale 1 quick.
- **Devices** fitted in the twelve old compounds during 2014 (cameras, access control,
  alarms), with where the money came from; inspected twice a year, some faults reported
  by residents or patrols, and repaired.
The numbers of lots, gatehouses and compounds are the plan's facts and do not scale.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from safecomm_core.commands import prevention_asset as pa
from safecomm_core.domain.prevention_asset import AssetKind, InspectionOutcome
from safecomm_core.values import Role
from safecomm_demo.places import COMPOUNDS, GATED, OLD, Compound
from safecomm_demo.story import Steps, Writer, at, days, staff

__all__ = ["LOTS", "assets"]

#: Parking lots built or rebuilt (plan M2.2).
LOTS = 98
#: The lot taken down when its compound was redeveloped, and when.
_DEMOLISHED, _DEMOLITION = 7, date(2014, 10, 20)
#: Days between the register days recorded, at scale 1.
_SAMPLE_DAYS = 21

_END = date(2014, 12, 31)
_OFFICE = staff(1)
_INSPECTOR = staff(120, Role.STAFF)
_FUNDS = ("街道专项资金", "区老旧小区改造资金", "社区自筹", "物业公司出资", "居民自筹")
_DEVICES = ("高清监控摄像头", "单元门禁系统", "红外报警器", "周界防盗网")
_LOT_FAULTS = ("车棚锁具损坏", "雨棚破损", "照明灯不亮", "充电插座故障")
_DEVICE_FAULTS = ("摄像头画面中断", "门禁无法刷卡", "报警器误报", "线路老化")
_ITEMS = (
    "冰箱一台",
    "旧沙发一套",
    "电视机一台",
    "洗衣机一台",
    "衣柜一个",
    "电动车一辆",
    "空调外机一台",
)


def _when(rng: random.Random, day: date) -> datetime:
    return at(day, rng.randint(9, 16), rng.randint(0, 59))


def _upkeep(
    w: Writer,
    steps: Steps,
    since: date,
    every_days: int,
    faults: tuple[str, ...],
    fault_share: float,
    until: date = _END,
) -> None:
    """Inspections every ``every_days`` from ``since`` to ``until``; faults found or
    reported, and repaired."""
    rng = w.rng
    day = since + timedelta(days=rng.randint(20, every_days))
    while day <= until:
        found = rng.random() < fault_share
        if found and rng.random() < 0.5:
            # Reported between inspections (by the custodian, a resident, a patrol).
            steps.add(
                _when(rng, day),
                pa.ReportAssetFault,
                staff(rng.randint(200, 399)),
                fault=rng.choice(faults),
            )
        else:
            outcome = InspectionOutcome.FAULT if found else InspectionOutcome.OK
            steps.add(
                _when(rng, day),
                pa.InspectAsset,
                _INSPECTOR,
                outcome=outcome,
                notes=rng.choice(faults) if found else "",
            )
        if found:
            repaired = day + timedelta(days=rng.choice([2, 5, 9, 15, 30, 45]))
            if repaired > until:
                return  # still faulty at the end
            steps.add(
                _when(rng, repaired), pa.RepairAsset, staff(rng.randint(200, 399)), notes="已修复"
            )
            day = repaired
        day += timedelta(days=every_days + rng.randint(-10, 10))


def _lots(w: Writer) -> None:
    rng = w.rng
    for n in range(1, LOTS + 1):
        compound = COMPOUNDS[(n - 1) % len(COMPOUNDS)]
        built = date(2013, 11, 1) + timedelta(days=rng.randint(0, 300))
        steps = Steps(asset_id=f"lot-{n:03d}")
        built_at = steps.add(
            _when(rng, built),
            pa.BuildAsset,
            _OFFICE,
            community=compound.community,
            compound=compound.name,
            kind=AssetKind.PARKING_LOT,
            description=f"{compound.name}非机动车停车棚",
            rebuilt=rng.random() < 0.4,
            funding_source=rng.choice(_FUNDS),
        )
        custodian = rng.randint(200, 299)
        steps.add(
            built_at + timedelta(days=rng.randint(0, 6), hours=1),
            pa.AssignCustodian,
            _OFFICE,
            custodian=f"staff-{custodian:03d}",
        )
        if rng.random() < 0.1:
            change = built + timedelta(days=rng.randint(60, 200))
            if change <= _END:
                successor = 200 + (custodian - 200 + rng.randint(1, 99)) % 100
                steps.add(
                    _when(rng, change),
                    pa.AssignCustodian,
                    _OFFICE,
                    custodian=f"staff-{successor:03d}",
                )
        if n == _DEMOLISHED:
            _upkeep(w, steps, built, 90, _LOT_FAULTS, 0.1, until=_DEMOLITION)
            steps.add(
                at(_DEMOLITION, 15),
                pa.DecommissionAsset,
                _OFFICE,
                reason="小区拆迁改造, 停车棚拆除",
            )
        else:
            _upkeep(w, steps, built, 90, _LOT_FAULTS, 0.1)
        steps.write(w, w.story(late_share=0.15))


def _gatehouse(w: Writer, n: int, compound: Compound) -> None:
    rng = w.rng
    built = date(2013, 11, 1) + timedelta(days=rng.randint(0, 140))
    steps = Steps(asset_id=f"gate-{n:02d}")
    steps.add(
        _when(rng, built),
        pa.BuildAsset,
        _OFFICE,
        community=compound.community,
        compound=compound.name,
        kind=AssetKind.GATEHOUSE,
        description=f"{compound.name}门卫室",
        rebuilt=True,
        funding_source=rng.choice(_FUNDS[:2]),
    )
    keeper = staff(300 + n)
    steps.add(
        _when(rng, built + timedelta(days=1)), pa.AssignCustodian, _OFFICE, custodian=keeper.id
    )
    _upkeep(w, steps, built, 120, ("门禁栏杆故障", "登记台照明不亮"), 0.1)
    # A sample of days (see the module's docstring); each counted the next morning.
    step = max(1, round(_SAMPLE_DAYS / w.scale))
    first = built + timedelta(days=rng.randint(1, step))
    size = 300 + 40 * rng.randint(0, 10)
    for day in days(first, _END - timedelta(days=1), step):
        large = rng.choices([0, 1, 2, 3], [60, 25, 10, 5])[0]
        steps.add(
            at(day + timedelta(days=1), 8, rng.randint(0, 30)),
            pa.CountGatehouseRegister,
            keeper,
            day=day,
            entries=size + rng.randint(-60, 60) + (80 if day.weekday() >= 5 else 0),
            large_items_out=large,
            items=tuple(rng.choice(_ITEMS) for _ in range(large)),
        )
    steps.write(w, w.story(late_share=0.05))


def _devices(w: Writer) -> None:
    rng = w.rng
    n = 0
    for compound in OLD:
        for description in rng.sample(_DEVICES, rng.randint(2, 4)):
            n += 1
            installed = date(2014, 1, 10) + timedelta(days=rng.randint(0, 240))
            steps = Steps(asset_id=f"dev-{n:03d}")
            steps.add(
                _when(rng, installed),
                pa.InstallDevice,
                _OFFICE,
                community=compound.community,
                compound=compound.name,
                description=description,
                funding_source=rng.choice(_FUNDS),
            )
            _upkeep(w, steps, installed, 180, _DEVICE_FAULTS, 0.2)
            steps.write(w, w.story(late_share=0.15))


def assets(w: Writer) -> None:
    """Build the lots and gatehouses, fit the devices, and keep them up."""
    _lots(w)
    for n, compound in enumerate(GATED, start=1):
        _gatehouse(w, n, compound)
    _devices(w)
