"""Provenance rows: which stored event set each fact a report counts.

Every report projection keeps, beside its rows, the events behind them, so that an auditor
can go from a figure to the events it counted (:mod:`safecomm_core.reports.provenance`). An
event is named by the columns of :func:`~safecomm_core.projections.schema.event_columns`
(notification id, topic, originator version) plus its originator's id in the row's own key,
with its two times and the command that caused it.

Two shapes, both built here so that every projection names events the same way:

- :func:`fact_table`: one row per (record, part, fact), the latest event that set that fact
  (``part`` names a recipient unit, a checkpoint, an outlet…; ``""`` for the record itself);
- :func:`event_values`: the provenance columns of one event, for tables that keep a row per
  event (a migrant worker's or an asset's history, a survey's responses).

A record's own row names the last event that changed it (``version``, ``notification_id``);
:func:`touch` changes the row and those two together.
"""

from __future__ import annotations

from typing import Any

from safecomm_core.projections.schema import INTEGER, TEXT, TIMESTAMP, Column, Table, event_columns
from safecomm_core.projections.writer import ViewWriter

__all__ = [
    "event_values",
    "fact_table",
    "last_event_columns",
    "provenance_columns",
    "set_fact",
    "touch",
]


def provenance_columns() -> tuple[Column, ...]:
    """The columns naming an event: notification, topic, version, both times, command."""
    return (
        *event_columns(),
        Column("occurred_at", TIMESTAMP, nullable=False),
        Column("recorded_at", TIMESTAMP, nullable=False),
        Column("command_id", TEXT, nullable=False),
    )


def last_event_columns() -> tuple[Column, ...]:
    """A record's row's last event: its version and notification (kept by :func:`touch`)."""
    return (
        Column("version", INTEGER, nullable=False, doc="the record's last event projected"),
        Column("notification_id", INTEGER, nullable=False, doc="... and its notification"),
    )


def event_values(event: Any, notification_id: int) -> dict[str, Any]:
    """The values of :func:`provenance_columns` for ``event``."""
    return {
        "notification_id": notification_id,
        "topic": type(event).TOPIC,
        "originator_version": event.originator_version,
        "occurred_at": event.meta.occurred_at,
        "recorded_at": event.timestamp,
        "command_id": event.meta.command_id,
    }


def fact_table(name: str, id_column: str, doc: str) -> Table:
    """A table of (``id_column``, part, fact) → the event that set the fact (the latest)."""
    return Table(
        name,
        columns=(
            Column(id_column, TEXT, nullable=False),
            Column("part", TEXT, nullable=False, doc="a recipient, checkpoint…; '' for the record"),
            Column("fact", TEXT, nullable=False),
            *provenance_columns(),
        ),
        key=(id_column, "part", "fact"),
        indexes=(("notification_id",),),
        doc=doc,
    )


def set_fact(
    view: ViewWriter, table: Table, event: Any, notification_id: int, fact: str, part: str = ""
) -> None:
    """Record that ``event`` set ``fact`` (of ``part``) of its originator."""
    view.put(
        table,
        {
            table.key[0]: str(event.originator_id),
            "part": part,
            "fact": fact,
            **event_values(event, notification_id),
        },
    )


def touch(
    view: ViewWriter, table: Table, event: Any, notification_id: int, **changes: Any
) -> dict[str, Any]:
    """Change the row of ``event``'s record (keyed by its id) and note the event as its last.

    Returns the row as it was. Raises ``LookupError`` when the record has no row: the event
    that creates it is missing, and the runner records a dead letter.
    """
    key = str(event.originator_id)
    row = view.get(table, key)
    if row is None:
        raise LookupError(f"no {table.name} row for {key}: the event creating it is missing")
    view.update(
        table, key, version=event.originator_version, notification_id=notification_id, **changes
    )
    return row
