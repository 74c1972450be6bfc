"""PreventionAsset: technical and physical prevention in the compounds (plan M2.1, M2.2).

A device (技防: anti-theft devices fitted in old compounds, with the source of the funds) is
Installed; a non-motor-vehicle parking lot or a gatehouse (物防) is Built (or rebuilt).
Then: CustodianAssigned (lots and gatehouses) → Inspected* (ok, or a fault found) →
FaultReported* → Repaired → … → Decommissioned. A gatehouse keeps a daily register:
RegisterCounted gives the day's entries and the large items that left, with what they
were. Gatehouses must not copy ID cards (docs/domain.md), so the register has no field for
a person: it holds counts and item descriptions only.
"""

from __future__ import annotations

import enum
from datetime import date

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.values import Meta

__all__ = [
    "AssetKind",
    "AssetStatus",
    "InspectionOutcome",
    "PreventionAsset",
    "RegisterCount",
]


class AssetKind(enum.StrEnum):
    """人防 / 物防 / 技防: which kind of prevention asset."""

    DEVICE = "device"  # 技防: an anti-theft device (M2.1)
    PARKING_LOT = "parking_lot"  # 物防: a non-motor-vehicle parking lot (M2.2)
    GATEHOUSE = "gatehouse"  # 物防/人防: a staffed gatehouse with its registers (M2.2)


#: The kinds that are staffed: a lot has a custodian, a gatehouse its keeper.
STAFFED = frozenset({AssetKind.PARKING_LOT, AssetKind.GATEHOUSE})


class AssetStatus(enum.StrEnum):
    IN_SERVICE = "in_service"
    FAULTY = "faulty"
    DECOMMISSIONED = "decommissioned"


class InspectionOutcome(enum.StrEnum):
    OK = "ok"
    FAULT = "fault"


@attrs.frozen
class RegisterCount:
    """One day of a gatehouse's registers: counts and item descriptions, never people."""

    entries: int
    large_items_out: int
    items: tuple[str, ...]


class _Commissioned(Record.Created):
    """The fields of both creating events: Installed (a device) and Built (a lot, a gatehouse).

    Kept outside the aggregate so that eventsourcing does not take it for a third one.
    """

    ref: str
    community: str
    kind: AssetKind
    compound: str
    description: str
    funding_source: str | None
    rebuilt: bool


class PreventionAsset(Record):
    """A device, parking lot or gatehouse in a compound, from installation to decommissioning."""

    KIND = "asset"
    TOPIC = "safecomm/PreventionAsset"

    # -- creation: devices are installed, lots and gatehouses built ---------------------

    class Installed(_Commissioned):
        TOPIC = "safecomm/PreventionAsset/Installed"

    class Built(_Commissioned):
        TOPIC = "safecomm/PreventionAsset/Built"

    @event(Installed)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        kind: AssetKind,
        compound: str,
        description: str,
        funding_source: str | None,
        rebuilt: bool,
    ) -> None:
        # Both creating events land here (see build()); they differ only in name.
        self._created(meta, ref, community)
        self.kind = AssetKind(kind)
        self.compound = compound
        self.description = description
        self.funding_source = funding_source
        self.rebuilt = rebuilt
        self.status = AssetStatus.IN_SERVICE
        self.custodian: str | None = None
        self.inspections = 0
        self.open_faults: tuple[SealedText, ...] = ()
        self.repairs = 0
        self.registers: dict[date, RegisterCount] = {}

    @classmethod
    def install(
        cls,
        *,
        meta: Meta,
        ref: str,
        community: str,
        compound: str,
        description: str,
        funding_source: str,
    ) -> PreventionAsset:
        """A device fitted in a compound (M2.1), paid for from ``funding_source``."""
        return cls(
            meta=meta,
            ref=ref,
            community=community,
            kind=AssetKind.DEVICE,
            compound=compound,
            description=description,
            funding_source=funding_source,
            rebuilt=False,
        )

    @classmethod
    def build(
        cls,
        *,
        meta: Meta,
        ref: str,
        community: str,
        kind: AssetKind,
        compound: str,
        description: str,
        rebuilt: bool,
        funding_source: str | None = None,
    ) -> PreventionAsset:
        """A parking lot or gatehouse built, or rebuilt, in a compound (M2.2)."""
        if kind not in STAFFED:
            raise RuleViolation(
                f"a {kind.value} is installed, not built",
                field="kind",
                rule="must be parking_lot or gatehouse",
            )
        return cls._create(
            cls.Built,
            id=cls.create_id(ref),
            meta=meta,
            ref=ref,
            community=community,
            kind=kind,
            compound=compound,
            description=description,
            funding_source=funding_source,
            rebuilt=rebuilt,
        )

    # -- staffing -----------------------------------------------------------------------

    class CustodianAssigned(Record.Event):
        TOPIC = "safecomm/PreventionAsset/CustodianAssigned"
        custodian: str

    @event(CustodianAssigned)
    def _custodian_assigned(self, meta: Meta, custodian: str) -> None:
        self.custodian = custodian

    def assign_custodian(self, meta: Meta, custodian: str) -> None:
        """Put a custodian (a staff id, never a name) in charge of a lot or gatehouse."""
        self._require_in_use(meta, "assign a custodian to")
        if self.kind not in STAFFED:
            raise RuleViolation(
                f"asset {self.ref!r} is a {self.kind.value}: only parking lots and "
                "gatehouses have a custodian",
                field="asset_id",
                rule="must be a parking lot or gatehouse",
            )
        if custodian == self.custodian:
            raise RuleViolation(
                f"{custodian!r} is already the custodian of asset {self.ref!r}",
                field="custodian",
                rule="must differ from the present custodian",
            )
        self._custodian_assigned(meta=meta, custodian=custodian)

    # -- upkeep -------------------------------------------------------------------------

    class Inspected(Record.Event):
        TOPIC = "safecomm/PreventionAsset/Inspected"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        outcome: InspectionOutcome
        notes: SealedText

    @event(Inspected)
    def _inspected(self, meta: Meta, outcome: InspectionOutcome, notes: SealedText) -> None:
        self.inspections += 1
        if InspectionOutcome(outcome) is InspectionOutcome.FAULT:
            self._fault(notes)

    def inspect(self, meta: Meta, outcome: InspectionOutcome, notes: SealedText) -> None:
        """An inspection; a fault it finds stays open until a repair is recorded."""
        self._require_in_use(meta, "inspect")
        if outcome is InspectionOutcome.OK and self.open_faults:
            # An "ok" beside an open fault would leave the record contradicting itself;
            # the repair is the fact that closes a fault.
            raise RuleViolation(
                f"asset {self.ref!r} has {len(self.open_faults)} open fault(s): "
                "record the repair before an ok inspection",
                field="outcome",
                rule="cannot be ok while a fault is open",
            )
        self._inspected(meta=meta, outcome=outcome, notes=notes)

    class FaultReported(Record.Event):
        TOPIC = "safecomm/PreventionAsset/FaultReported"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("fault"))
        fault: SealedText

    @event(FaultReported)
    def _fault_reported(self, meta: Meta, fault: SealedText) -> None:
        self._fault(fault)

    def report_fault(self, meta: Meta, fault: SealedText) -> None:
        """A fault reported outside an inspection (by a custodian, a resident, a patrol)."""
        self._require_in_use(meta, "report a fault on")
        self._fault_reported(meta=meta, fault=fault)

    def _fault(self, fault: SealedText) -> None:
        self.open_faults = (*self.open_faults, fault)
        self.status = AssetStatus.FAULTY

    class Repaired(Record.Event):
        TOPIC = "safecomm/PreventionAsset/Repaired"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        notes: SealedText

    @event(Repaired)
    def _repaired(self, meta: Meta, notes: SealedText) -> None:
        self.open_faults = ()
        self.repairs += 1
        self.status = AssetStatus.IN_SERVICE

    def repair(self, meta: Meta, notes: SealedText) -> None:
        """Every open fault repaired; the asset is back in service."""
        self._require_in_use(meta, "repair")
        if not self.open_faults:
            raise self.not_allowed("repair", "without an open fault")
        self._repaired(meta=meta, notes=notes)

    class Decommissioned(Record.Event):
        TOPIC = "safecomm/PreventionAsset/Decommissioned"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        reason: SealedText

    @event(Decommissioned)
    def _decommissioned(self, meta: Meta, reason: SealedText) -> None:
        self.status = AssetStatus.DECOMMISSIONED

    def decommission(self, meta: Meta, reason: SealedText) -> None:
        """Taken out of use for good; nothing more is recorded on it."""
        self._require_in_use(meta, "decommission")
        self._decommissioned(meta=meta, reason=reason)

    # -- the gatehouse's registers ------------------------------------------------------

    class RegisterCounted(Record.Event):
        TOPIC = "safecomm/PreventionAsset/RegisterCounted"
        day: date
        entries: int
        large_items_out: int
        items: tuple[str, ...]

    @event(RegisterCounted)
    def _register_counted(
        self, meta: Meta, day: date, entries: int, large_items_out: int, items: tuple[str, ...]
    ) -> None:
        self.registers[day] = RegisterCount(entries, large_items_out, tuple(items))

    def count_register(
        self, meta: Meta, day: date, entries: int, large_items_out: int, items: tuple[str, ...]
    ) -> None:
        """One day's register totals at a gatehouse: entries, and large items that left."""
        self._require_in_use(meta, "count the register of")
        if self.kind is not AssetKind.GATEHOUSE:
            raise RuleViolation(
                f"asset {self.ref!r} is a {self.kind.value}: only gatehouses keep registers",
                field="asset_id",
                rule="must be a gatehouse",
            )
        built = local_date(self.created_meta.occurred_at)
        if not built <= day <= local_date(meta.occurred_at):
            raise RuleViolation(
                f"register day {day.isoformat()} of asset {self.ref!r} must fall between "
                f"the day it was built ({built.isoformat()}) and the day it is counted",
                field="day",
                rule="between the build and the count",
            )
        if day in self.registers:
            # Refused rather than replaced: a second count for a day is far more often
            # the same paper register entered twice than a correction.
            raise RuleViolation(
                f"asset {self.ref!r} already has a register count for {day.isoformat()}",
                field="day",
                rule="one count per day",
            )
        self._register_counted(
            meta=meta, day=day, entries=entries, large_items_out=large_items_out, items=items
        )

    # -- checks -------------------------------------------------------------------------

    def _require_in_use(self, meta: Meta, action: str) -> None:
        self.check_after_creation(meta)
        if self.status is AssetStatus.DECOMMISSIONED:
            raise self.not_allowed(action, self.status.value)
