"""``migrants``: migrant workers (M3.1–M3.3): registration, permit, services, in clear only
what is not personal.

Nothing personal is projected: the person and every dwelling stay sealed in the events.
A row keeps the worker's reference, community and grid unit (jurisdiction), where the
registration came from, dates, and statuses.

``migrants`` is each worker as they stand now. ``migrant_facts`` has one row per event of
a worker, and each fact row carries the worker's **state after that fact** (community,
status, permit, next endorsement due, start of continuous residence), so "as of" a date
is the latest fact that occurred by then, with no rule re-applied.

The permit follows 居住证暂行条例 Art. 10 as the record does: endorsement is due at each
full year from issue; an endorsement on time moves the due day on a year, a late one
restarts the count of residence years from its own day and is due a year after it. The
events carry the due day that was in force when each was decided, so this needs no rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.migrant import (
    MigrantWorker,
    endorsement_due,
    residence_after_endorsement,
)
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import event_values, provenance_columns
from safecomm_core.projections.schema import (
    BOOLEAN,
    DATE,
    INTEGER,
    TEXT,
    TIMESTAMP,
    Column,
    Table,
)
from safecomm_core.projections.writer import ViewWriter

__all__ = ["MIGRANTS", "MIGRANT_FACTS", "MIGRANT_ROWS", "STATE_COLUMNS"]

#: The columns a worker's state is kept in, in ``migrants`` and after each fact.
STATE_COLUMNS = (
    "community",
    "grid_unit",
    "status",
    "permit",
    "residence_since",
    "endorsement_due_on",
    "endorsements",
)


def _state_columns() -> tuple[Column, ...]:
    return (
        Column("community", TEXT, nullable=False),
        Column("grid_unit", TEXT),
        Column("status", TEXT, nullable=False, doc="registered, left or erased"),
        Column("permit", TEXT, nullable=False, doc="none, applied, issued or suspended"),
        Column("residence_since", DATE, nullable=False, doc="start of continuous residence"),
        Column("endorsement_due_on", DATE, doc="next endorsement of the permit due"),
        Column("endorsements", INTEGER, nullable=False),
    )


MIGRANT_ROWS = Table(
    "migrants",
    columns=(
        Column("worker_id", TEXT, nullable=False, doc="the aggregate's id"),
        Column("ref", TEXT, nullable=False, doc="the worker's reference (no personal data)"),
        *_state_columns(),
        Column("source", TEXT, nullable=False, doc="door-to-door, landlord, employer, ..."),
        Column("arrived_on", DATE, nullable=False),
        Column("registered_at", TIMESTAMP, nullable=False),
        Column("registered_on", DATE, nullable=False),
        Column("registration_due_on", DATE, nullable=False),
        Column("registered_late", BOOLEAN, nullable=False),
        Column("left_on", DATE),
        Column("permit_applied_on", DATE),
        Column("permit_issued_on", DATE),
        Column("permit_issue_due_on", DATE),
        Column("offers", INTEGER, nullable=False, doc="services offered"),
        Column("long_residence_offered_on", DATE, doc="first M3.3 long-residence offer"),
        Column("rights_cases", INTEGER, nullable=False),
        Column("recorded_at", TIMESTAMP, nullable=False),
        Column("version", INTEGER, nullable=False),
        Column("notification_id", INTEGER, nullable=False),
    ),
    key=("worker_id",),
    indexes=(("community",),),
    doc="One row per migrant worker, without personal data.",
)

MIGRANT_FACTS = Table(
    "migrant_facts",
    columns=(
        Column("worker_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("fact", TEXT, nullable=False, doc="registered, moved, permit_issued, ..."),
        Column("due_on", DATE, doc="the limit the event carries, if any"),
        Column("offer_id", TEXT),
        Column("service", TEXT),
        Column("proactive", BOOLEAN),
        Column("eligible_since", DATE, doc="set on M3.3 long-residence offers"),
        Column("rights_kind", TEXT),
        *_state_columns(),
        *provenance_columns(),
    ),
    key=("worker_id", "originator_version"),
    indexes=(("notification_id",),),
    doc="Every event of every worker, with the worker's state after it.",
)

MIGRANTS = Projection(
    "migrants",
    version=1,
    tables=(MIGRANT_ROWS, MIGRANT_FACTS),
    doc="Migrant workers: registration, moves, permits and endorsements, services, rights.",
)


@MIGRANTS.reads
def _rows_read(event: Any) -> list[tuple[Any, Any]]:
    # Every event adds its fact row: the insert's check that the key is free is read too.
    worker_id = str(event.originator_id)
    return [(MIGRANT_ROWS, worker_id), (MIGRANT_FACTS, (worker_id, event.originator_version))]


def _fact(
    view: ViewWriter, event: Any, notification_id: int, row: dict[str, Any], fact: str, **more: Any
) -> None:
    view.insert(
        MIGRANT_FACTS,
        {
            "worker_id": row["worker_id"],
            "ref": row["ref"],
            "fact": fact,
            **{name: row[name] for name in STATE_COLUMNS},
            **more,
            **event_values(event, notification_id),
        },
    )


def _worker(view: ViewWriter, event: Any) -> dict[str, Any]:
    row = view.get(MIGRANT_ROWS, str(event.originator_id))
    if row is None:
        raise LookupError(f"no row for migrant worker {event.originator_id}: not registered")
    return row


def _change(
    view: ViewWriter,
    event: Any,
    notification_id: int,
    fact: str,
    *,
    row: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    **changes: Any,
) -> None:
    """Apply ``changes`` to the worker's ``row`` (read if not given) and add the fact row."""
    row = _worker(view, event) if row is None else row
    view.update(
        MIGRANT_ROWS,
        row["worker_id"],
        version=event.originator_version,
        notification_id=notification_id,
        **changes,
    )
    _fact(view, event, notification_id, {**row, **changes}, fact, **(facts or {}))


def _on(event: Any) -> date:
    return local_date(event.meta.occurred_at)


@MIGRANTS.handles(MigrantWorker.Registered)
def _registered(view: ViewWriter, event: MigrantWorker.Registered, notification_id: int) -> None:
    row = {
        "worker_id": str(event.originator_id),
        "ref": event.ref,
        "community": event.community,
        "grid_unit": event.grid_unit,
        "status": "registered",
        "permit": "none",
        "residence_since": event.arrived_on,
        "endorsement_due_on": None,
        "endorsements": 0,
        "source": str(event.source),
        "arrived_on": event.arrived_on,
        "registered_at": event.meta.occurred_at,
        "registered_on": _on(event),
        "registration_due_on": event.due_on,
        "registered_late": _on(event) > event.due_on,
        "offers": 0,
        "rights_cases": 0,
        "recorded_at": event.timestamp,
        "version": event.originator_version,
        "notification_id": notification_id,
    }
    view.insert(MIGRANT_ROWS, row)
    _fact(view, event, notification_id, row, "registered", due_on=event.due_on)


@MIGRANTS.handles(MigrantWorker.Moved)
def _moved(view: ViewWriter, event: MigrantWorker.Moved, notification_id: int) -> None:
    _change(
        view, event, notification_id, "moved", community=event.community, grid_unit=event.grid_unit
    )


@MIGRANTS.handles(MigrantWorker.Left)
def _left(view: ViewWriter, event: MigrantWorker.Left, notification_id: int) -> None:
    _change(view, event, notification_id, "left", status="left", left_on=_on(event))


@MIGRANTS.handles(MigrantWorker.Erased)
def _erased(view: ViewWriter, event: MigrantWorker.Erased, notification_id: int) -> None:
    _change(view, event, notification_id, "erased", status="erased")


@MIGRANTS.handles(MigrantWorker.PermitApplied)
def _permit_applied(
    view: ViewWriter, event: MigrantWorker.PermitApplied, notification_id: int
) -> None:
    _change(
        view,
        event,
        notification_id,
        "permit_applied",
        permit="applied",
        permit_applied_on=_on(event),
    )


@MIGRANTS.handles(MigrantWorker.PermitIssued)
def _permit_issued(
    view: ViewWriter, event: MigrantWorker.PermitIssued, notification_id: int
) -> None:
    on = _on(event)
    _change(
        view,
        event,
        notification_id,
        "permit_issued",
        facts={"due_on": event.due_on},
        permit="issued",
        permit_issued_on=on,
        permit_issue_due_on=event.due_on,
        endorsement_due_on=endorsement_due(on),
    )


@MIGRANTS.handles(MigrantWorker.PermitEndorsed)
def _permit_endorsed(
    view: ViewWriter, event: MigrantWorker.PermitEndorsed, notification_id: int
) -> None:
    on, row = _on(event), _worker(view, event)
    _change(
        view,
        event,
        notification_id,
        "permit_endorsed",
        row=row,
        facts={"due_on": event.due_on},
        permit="issued",
        endorsements=row["endorsements"] + 1,
        endorsement_due_on=endorsement_due(on, was_due=event.due_on),
        residence_since=residence_after_endorsement(row["residence_since"], on, event.due_on),
    )


@MIGRANTS.handles(MigrantWorker.PermitSuspended)
def _permit_suspended(
    view: ViewWriter, event: MigrantWorker.PermitSuspended, notification_id: int
) -> None:
    _change(
        view,
        event,
        notification_id,
        "permit_suspended",
        facts={"due_on": event.due_on},
        permit="suspended",
    )


@MIGRANTS.handles(MigrantWorker.ServiceOffered)
def _offered(view: ViewWriter, event: MigrantWorker.ServiceOffered, notification_id: int) -> None:
    row = _worker(view, event)
    first_long = row["long_residence_offered_on"]
    if event.eligible_since is not None and first_long is None:
        first_long = _on(event)
    _change(
        view,
        event,
        notification_id,
        "service_offered",
        row=row,
        facts={
            "offer_id": event.offer_id,
            "service": event.service,
            "proactive": event.proactive,
            "eligible_since": event.eligible_since,
        },
        offers=row["offers"] + 1,
        long_residence_offered_on=first_long,
    )


@MIGRANTS.handles(MigrantWorker.ServiceDelivered)
def _delivered(
    view: ViewWriter, event: MigrantWorker.ServiceDelivered, notification_id: int
) -> None:
    _change(view, event, notification_id, "service_delivered", facts={"offer_id": event.offer_id})


@MIGRANTS.handles(MigrantWorker.RightsCaseOpened)
def _rights_case(
    view: ViewWriter, event: MigrantWorker.RightsCaseOpened, notification_id: int
) -> None:
    row = _worker(view, event)
    _change(
        view,
        event,
        notification_id,
        "rights_case",
        row=row,
        facts={"rights_kind": str(event.kind)},
        rights_cases=row["rights_cases"] + 1,
    )
