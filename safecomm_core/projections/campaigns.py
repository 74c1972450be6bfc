"""``campaigns``: publicity held (M1.1, M1.5, M3.4, P2, S2–S5), with the events behind it.

A campaign counts in the month and community where it was **held** (its ``Held`` event's
date and community; a campaign planned subdistrict-wide is held in one community). Its
attendance is the count the organisers gave; materials add up over its distributions.

People named as present (``ParticipantsRecorded``) are rows of ``campaign_people``,
one per campaign and person: the person's opaque ref (as the events carry it; names stay
sealed), with where and when the campaign was held. Reports count them and never show the
refs. ``named`` on the campaign's row counts them beside the head count.

Provenance: ``campaign_facts`` names the event that planned, held or cancelled it; each
participant's row names the event that recorded them.
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.campaign import Campaign
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import (
    event_values,
    fact_table,
    last_event_columns,
    provenance_columns,
    set_fact,
    touch,
)
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["CAMPAIGNS", "CAMPAIGN_FACTS", "CAMPAIGN_PARTICIPANTS", "CAMPAIGN_ROWS"]

CAMPAIGN_ROWS = Table(
    "campaigns",
    columns=(
        Column("campaign_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="planned for (or *)"),
        Column("theme", TEXT, nullable=False),
        Column("measures", TEXT, nullable=False, doc="plan measures served, comma-separated"),
        Column("planned_on", DATE, nullable=False),
        Column("status", TEXT, nullable=False, doc="planned, held or cancelled"),
        Column("held_at", TIMESTAMP),
        Column("held_on", DATE),
        Column("held_in", TEXT, doc="the community it was held in"),
        Column("audiences", TEXT, doc="comma-separated"),
        Column("attendance", INTEGER, nullable=False),
        Column("partners", INTEGER, nullable=False),
        Column("materials", INTEGER, nullable=False, doc="items handed out or put up"),
        Column("bravery_acts", INTEGER, nullable=False),
        Column("named", INTEGER, nullable=False, doc="people named as present"),
        Column("cancelled_at", TIMESTAMP),
        *last_event_columns(),
    ),
    key=("campaign_id",),
    indexes=(("held_on",),),
    doc="One row per campaign.",
)

CAMPAIGN_FACTS = fact_table(
    "campaign_facts", "campaign_id", "The event that planned, held or cancelled a campaign."
)

CAMPAIGN_PARTICIPANTS = Table(
    "campaign_people",
    columns=(
        Column("campaign_id", TEXT, nullable=False),
        Column("person_ref", TEXT, nullable=False, doc="the person's opaque ref, never a name"),
        Column("held_in", TEXT, nullable=False, doc="the community the campaign was held in"),
        Column("held_on", DATE, nullable=False),
        *provenance_columns(),
    ),
    key=("campaign_id", "person_ref"),
    indexes=(("held_on",),),
    doc="One row per person named as present at a campaign.",
)

CAMPAIGNS = Projection(
    "campaigns",
    version=2,
    tables=(CAMPAIGN_ROWS, CAMPAIGN_FACTS, CAMPAIGN_PARTICIPANTS),
    doc="Publicity campaigns: held where and when, attendance, materials.",
)


@CAMPAIGNS.reads
def _campaign_read(event: Any) -> list[tuple[Table, Any]]:
    return [(CAMPAIGN_ROWS, str(event.originator_id))]


@CAMPAIGNS.handles(Campaign.Planned)
def _planned(view: ViewWriter, event: Campaign.Planned, notification_id: int) -> None:
    view.insert(
        CAMPAIGN_ROWS,
        {
            "campaign_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "theme": str(event.theme),
            "measures": ",".join(event.measures),
            "planned_on": event.planned_on,
            "status": "planned",
            "attendance": 0,
            "partners": 0,
            "materials": 0,
            "bravery_acts": 0,
            "named": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )
    set_fact(view, CAMPAIGN_FACTS, event, notification_id, "planned")


@CAMPAIGNS.handles(Campaign.Held)
def _held(view: ViewWriter, event: Campaign.Held, notification_id: int) -> None:
    when = event.meta.occurred_at
    touch(
        view,
        CAMPAIGN_ROWS,
        event,
        notification_id,
        status="held",
        held_at=when,
        held_on=local_date(when),
        held_in=event.community,
        audiences=",".join(str(a) for a in event.audiences),
        attendance=event.attendance,
        partners=len(event.partners),
    )
    set_fact(view, CAMPAIGN_FACTS, event, notification_id, "held")


@CAMPAIGNS.handles(Campaign.MaterialsDistributed)
def _materials(
    view: ViewWriter, event: Campaign.MaterialsDistributed, notification_id: int
) -> None:
    row = touch(view, CAMPAIGN_ROWS, event, notification_id)
    view.update(CAMPAIGN_ROWS, row["campaign_id"], materials=row["materials"] + event.count)


@CAMPAIGNS.handles(Campaign.BraveryPublicised)
def _bravery(view: ViewWriter, event: Campaign.BraveryPublicised, notification_id: int) -> None:
    row = touch(view, CAMPAIGN_ROWS, event, notification_id)
    view.update(CAMPAIGN_ROWS, row["campaign_id"], bravery_acts=row["bravery_acts"] + 1)


@CAMPAIGNS.handles(Campaign.ParticipantsRecorded)
def _participants(
    view: ViewWriter, event: Campaign.ParticipantsRecorded, notification_id: int
) -> None:
    row = touch(view, CAMPAIGN_ROWS, event, notification_id)
    view.update(CAMPAIGN_ROWS, row["campaign_id"], named=row["named"] + len(event.participants))
    for person in event.participants:
        view.insert(
            CAMPAIGN_PARTICIPANTS,
            {
                "campaign_id": row["campaign_id"],
                "person_ref": person.ref,
                "held_in": row["held_in"],
                "held_on": row["held_on"],
                **event_values(event, notification_id),
            },
        )


@CAMPAIGNS.handles(Campaign.Cancelled)
def _cancelled(view: ViewWriter, event: Campaign.Cancelled, notification_id: int) -> None:
    touch(
        view,
        CAMPAIGN_ROWS,
        event,
        notification_id,
        status="cancelled",
        cancelled_at=event.meta.occurred_at,
    )
    set_fact(view, CAMPAIGN_FACTS, event, notification_id, "cancelled")
