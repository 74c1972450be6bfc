"""Commands of technical and physical prevention (``asset.*``, plan M2.1, M2.2)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.prevention_asset import AssetKind, InspectionOutcome, PreventionAsset
from safecomm_core.validation import (
    BrokenRule,
    count,
    day,
    ident,
    label,
    label_or_none,
    labels,
    notes,
    prose,
)

__all__ = [
    "AssignCustodian",
    "BuildAsset",
    "CountGatehouseRegister",
    "DecommissionAsset",
    "InspectAsset",
    "InstallDevice",
    "RepairAsset",
    "ReportAssetFault",
]

# Seven digits or more in a row: an ID number (15 or 18) or a phone number (7 to 11).
# Any digits count, full-width ones (１３８…) too: that is how they are often typed.
_NUMBER_LIKE = re.compile(r"\d{7,}")


def _no_identities(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Gatehouses must not copy ID cards (docs/domain.md). A name cannot be told from an
    # item by a machine, but an ID or phone number can, so those are refused outright.
    for i, text in enumerate(value):
        if _NUMBER_LIKE.search(text):
            raise BrokenRule(
                f"{attribute.name}[{i}]",
                "describe the item only: no ID, phone or other long numbers",
            )


def _one_each(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # A count refused by its own rule (negative, not a number) is that field's error alone.
    out = instance.large_items_out
    if isinstance(out, int) and out >= 0 and len(value) > out:
        raise BrokenRule(attribute.name, "at most one description for each large item out")


def _described_if_fault(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if instance.outcome is InspectionOutcome.FAULT and not value.strip():  # a str by now
        raise BrokenRule(attribute.name, "describe the fault the inspection found")


@attrs.frozen(kw_only=True)
class _OnAsset(Command):
    asset_id: str = ident()


@attrs.frozen(kw_only=True)
class _NewAsset(_OnAsset):
    community: str = ident()
    compound: str = ident()


@command("asset.install", serves=("M2.1",))
@attrs.frozen(kw_only=True)
class InstallDevice(_NewAsset):
    """An anti-theft device fitted in a compound, and where the money came from (M2.1)."""

    description: str = prose()
    funding_source: str = label()

    def run(self, ctx: Context) -> None:
        ctx.check_new(PreventionAsset, self.asset_id)
        ctx.add(
            PreventionAsset.install(
                meta=ctx.meta,
                ref=self.asset_id,
                community=self.community,
                compound=self.compound,
                description=self.description,
                funding_source=self.funding_source,
            )
        )


@command("asset.build", serves=("M2.2",))
@attrs.frozen(kw_only=True)
class BuildAsset(_NewAsset):
    """A non-motor-vehicle parking lot or a gatehouse built, or rebuilt (M2.2)."""

    kind: AssetKind
    description: str = notes()
    rebuilt: bool = False
    funding_source: str | None = label_or_none()

    def run(self, ctx: Context) -> None:
        ctx.check_new(PreventionAsset, self.asset_id)
        ctx.add(
            PreventionAsset.build(
                meta=ctx.meta,
                ref=self.asset_id,
                community=self.community,
                kind=self.kind,
                compound=self.compound,
                description=self.description,
                rebuilt=self.rebuilt,
                funding_source=self.funding_source,
            )
        )


@command("asset.assign_custodian", serves=("M2.2",))
@attrs.frozen(kw_only=True)
class AssignCustodian(_OnAsset):
    """Put a custodian (a staff id) in charge of a parking lot or gatehouse."""

    custodian: str = ident()

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).assign_custodian(ctx.meta, self.custodian)


@command("asset.inspect", serves=("M2.1", "M2.2"))
@attrs.frozen(kw_only=True)
class InspectAsset(_OnAsset):
    """An inspection: ok, or a fault found (then described in ``notes``)."""

    outcome: InspectionOutcome
    notes: str = notes(_described_if_fault)

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).inspect(
            ctx.meta, self.outcome, ctx.seal_text(PreventionAsset, self.asset_id, self.notes)
        )


@command("asset.report_fault", serves=("M2.1", "M2.2"))
@attrs.frozen(kw_only=True)
class ReportAssetFault(_OnAsset):
    """A fault reported outside an inspection."""

    fault: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).report_fault(
            ctx.meta, ctx.seal_text(PreventionAsset, self.asset_id, self.fault)
        )


@command("asset.repair", serves=("M2.1", "M2.2"))
@attrs.frozen(kw_only=True)
class RepairAsset(_OnAsset):
    """The open faults were repaired."""

    notes: str = notes()

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).repair(
            ctx.meta, ctx.seal_text(PreventionAsset, self.asset_id, self.notes)
        )


@command("asset.decommission", serves=("M2.1", "M2.2"))
@attrs.frozen(kw_only=True)
class DecommissionAsset(_OnAsset):
    """Taken out of use for good."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).decommission(
            ctx.meta, ctx.seal_text(PreventionAsset, self.asset_id, self.reason)
        )


@command("asset.count_register", serves=("M2.2",))
@attrs.frozen(kw_only=True)
class CountGatehouseRegister(_OnAsset):
    """A day's totals from a gatehouse's registers: entries, and large items that left.

    ``items`` describes the large items (at most one description each); there is no
    field for who carried them, and numbers that look like ID or phone numbers are refused.
    """

    day: date = day()
    entries: int = count()
    large_items_out: int = count()
    items: tuple[str, ...] = labels(_one_each, _no_identities, default=())

    def run(self, ctx: Context) -> None:
        ctx.load(PreventionAsset, self.asset_id).count_register(
            ctx.meta, self.day, self.entries, self.large_items_out, self.items
        )
