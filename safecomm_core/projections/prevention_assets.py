"""``assets``: prevention assets (M2.1 devices in old compounds, M2.2 parking lots and
gatehouses) and every event of each, with the asset's state after it.

Reports ask "as of the end of the month": was a compound's device working, was a lot or a
gatehouse staffed? ``asset_facts`` holds one row per event with the state **after** it
(``status``: in_service, faulty or decommissioned; ``staffed``: a custodian assigned), so
the state on a day is that of the latest event that occurred by then. A gatehouse's daily
register counts (entries, large items out) are kept on their fact rows with the day they
count. Nothing about people is kept: custodians are staff ids, and only whether one is
assigned is projected.
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.prevention_asset import InspectionOutcome, PreventionAsset
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import (
    event_values,
    last_event_columns,
    provenance_columns,
    touch,
)
from safecomm_core.projections.schema import BOOLEAN, DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["ASSETS", "ASSET_FACTS", "ASSET_ROWS"]


def _state_columns() -> tuple[Column, ...]:
    return (
        Column("status", TEXT, nullable=False, doc="in_service, faulty or decommissioned"),
        Column("staffed", BOOLEAN, nullable=False, doc="a custodian is assigned"),
    )


ASSET_ROWS = Table(
    "prevention_assets",
    columns=(
        Column("asset_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False),
        Column("kind", TEXT, nullable=False, doc="device, parking_lot or gatehouse"),
        Column("compound", TEXT, nullable=False),
        Column("funding_source", TEXT),
        Column("rebuilt", BOOLEAN, nullable=False),
        Column("commissioned_at", TIMESTAMP, nullable=False),
        Column("commissioned_on", DATE, nullable=False),
        *_state_columns(),
        Column("inspections", INTEGER, nullable=False),
        Column("faults", INTEGER, nullable=False),
        Column("repairs", INTEGER, nullable=False),
        Column("register_days", INTEGER, nullable=False),
        *last_event_columns(),
    ),
    key=("asset_id",),
    indexes=(("community",),),
    doc="One row per prevention asset, as it stands now.",
)

ASSET_FACTS = Table(
    "asset_facts",
    columns=(
        Column("asset_id", TEXT, nullable=False),
        Column("fact", TEXT, nullable=False),
        Column("occurred_on", DATE, nullable=False),
        *_state_columns(),
        Column("register_day", DATE, doc="the day a register count is for"),
        Column("entries", INTEGER),
        Column("large_items_out", INTEGER),
        *provenance_columns(),
    ),
    key=("asset_id", "originator_version"),
    indexes=(("notification_id",),),
    doc="Every event of every asset, with the asset's state after it.",
)

ASSETS = Projection(
    "assets",
    version=1,
    tables=(ASSET_ROWS, ASSET_FACTS),
    doc="Prevention assets: devices, parking lots, gatehouses; state by day; registers.",
)


@ASSETS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    # Every event adds its fact row: the insert's check that the key is free is read too.
    asset_id = str(event.originator_id)
    return [(ASSET_ROWS, asset_id), (ASSET_FACTS, (asset_id, event.originator_version))]


def _fact(
    view: ViewWriter,
    event: Any,
    notification_id: int,
    state: dict[str, Any],
    fact: str,
    **more: Any,
) -> None:
    view.insert(
        ASSET_FACTS,
        {
            "asset_id": str(event.originator_id),
            "fact": fact,
            "occurred_on": local_date(event.meta.occurred_at),
            "status": state["status"],
            "staffed": state["staffed"],
            **more,
            **event_values(event, notification_id),
        },
    )


def _change(view: ViewWriter, event: Any, notification_id: int, fact: str, **changes: Any) -> None:
    row = touch(view, ASSET_ROWS, event, notification_id, **changes)
    _fact(view, event, notification_id, {**row, **changes}, fact)


def _commissioned(view: ViewWriter, event: Any, notification_id: int, fact: str) -> None:
    when = event.meta.occurred_at
    row = {
        "asset_id": str(event.originator_id),
        "ref": event.ref,
        "community": event.community,
        "kind": str(event.kind),
        "compound": event.compound,
        "funding_source": event.funding_source,
        "rebuilt": event.rebuilt,
        "commissioned_at": when,
        "commissioned_on": local_date(when),
        "status": "in_service",
        "staffed": False,
        "inspections": 0,
        "faults": 0,
        "repairs": 0,
        "register_days": 0,
        "version": event.originator_version,
        "notification_id": notification_id,
    }
    view.insert(ASSET_ROWS, row)
    _fact(view, event, notification_id, row, fact)


@ASSETS.handles(PreventionAsset.Installed)
def _installed(view: ViewWriter, event: PreventionAsset.Installed, notification_id: int) -> None:
    _commissioned(view, event, notification_id, "installed")


@ASSETS.handles(PreventionAsset.Built)
def _built(view: ViewWriter, event: PreventionAsset.Built, notification_id: int) -> None:
    _commissioned(view, event, notification_id, "built")


@ASSETS.handles(PreventionAsset.CustodianAssigned)
def _custodian(
    view: ViewWriter, event: PreventionAsset.CustodianAssigned, notification_id: int
) -> None:
    _change(view, event, notification_id, "custodian_assigned", staffed=True)


@ASSETS.handles(PreventionAsset.Inspected)
def _inspected(view: ViewWriter, event: PreventionAsset.Inspected, notification_id: int) -> None:
    row = view.get(ASSET_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no prevention_assets row for {event.originator_id}")
    changes: dict[str, Any] = {"inspections": row["inspections"] + 1}
    if InspectionOutcome(event.outcome) is InspectionOutcome.FAULT:
        changes |= {"status": "faulty", "faults": row["faults"] + 1}
    _change(view, event, notification_id, f"inspected_{event.outcome}", **changes)


@ASSETS.handles(PreventionAsset.FaultReported)
def _fault(view: ViewWriter, event: PreventionAsset.FaultReported, notification_id: int) -> None:
    row = view.get(ASSET_ROWS, str(event.originator_id))
    faults = (row["faults"] if row else 0) + 1
    _change(view, event, notification_id, "fault_reported", status="faulty", faults=faults)


@ASSETS.handles(PreventionAsset.Repaired)
def _repaired(view: ViewWriter, event: PreventionAsset.Repaired, notification_id: int) -> None:
    row = view.get(ASSET_ROWS, str(event.originator_id))
    repairs = (row["repairs"] if row else 0) + 1
    _change(view, event, notification_id, "repaired", status="in_service", repairs=repairs)


@ASSETS.handles(PreventionAsset.Decommissioned)
def _decommissioned(
    view: ViewWriter, event: PreventionAsset.Decommissioned, notification_id: int
) -> None:
    _change(view, event, notification_id, "decommissioned", status="decommissioned")


@ASSETS.handles(PreventionAsset.RegisterCounted)
def _register(
    view: ViewWriter, event: PreventionAsset.RegisterCounted, notification_id: int
) -> None:
    row = touch(view, ASSET_ROWS, event, notification_id)
    view.update(ASSET_ROWS, row["asset_id"], register_days=row["register_days"] + 1)
    _fact(
        view,
        event,
        notification_id,
        row,
        "register_counted",
        register_day=event.day,
        entries=event.entries,
        large_items_out=event.large_items_out,
    )
