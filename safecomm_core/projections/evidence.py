"""``evidence``: every command handled, what it recorded, and when: the facts behind the
self-assessment's "which measure has evidence".

One row per command (its receipt): its type, its community, when its facts occurred, how
many events it wrote and which records it changed. Which plan measures a command serves
is **not** stored: reports read it from the command classes (``SERVES``) when they run, so
that correcting a class's ``SERVES`` corrects every report at once, without a rebuild.

One refinement is stored, because only the events can tell it: the **phase** a command's
facts belong to. Phase commands name every phase in ``SERVES`` (any phase can be started
or completed); the receipt's records say which one it was (``phase:P3``). Opening a survey
wave serves P1, P4 or P6 by its wave (baseline, mid-term, final), which the
``WaveOpened`` event says. Reports count such a command only for its own phase.

Why receipts: they are written in the same transaction as the command's events, with the
command's type and the command's time (``occurred_at``), so they are the one place where
a fact and the intention behind it meet. The events of every other record are followed
too, only to count them per command (``events``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from safecomm_core.coverage import record_events
from safecomm_core.dates import local_date
from safecomm_core.domain.base import KINDS
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.domain.survey import Survey, Wave
from safecomm_core.projections.definition import Handler, Projection
from safecomm_core.projections.schema import DATE, INTEGER, TEXT, TIMESTAMP, Column, Row, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["EVIDENCE", "EVIDENCE_ROWS", "WAVE_PHASES"]

#: The phase whose evidence each survey wave is (domain: baseline in P1, mid-term in P4,
#: final in P6).
WAVE_PHASES: dict[Wave, str] = {Wave.BASELINE: "P1", Wave.MID_TERM: "P4", Wave.FINAL: "P6"}

EVIDENCE_ROWS = Table(
    "evidence",
    columns=(
        Column("command_id", TEXT, nullable=False),
        Column("command_type", TEXT, doc="from the receipt (NULL until it is projected)"),
        Column("community", TEXT, doc="of the first record the command changed"),
        Column("phase", TEXT, doc="the phase the facts belong to, where they say so"),
        Column("records", TEXT, doc="records changed, a JSON list of kind:ref"),
        Column("events", INTEGER, nullable=False, doc="events the command wrote"),
        Column("occurred_at", TIMESTAMP, nullable=False),
        Column("occurred_on", DATE, nullable=False),
        Column("recorded_at", TIMESTAMP, nullable=False),
        Column("notification_id", INTEGER, doc="of the receipt"),
    ),
    key=("command_id",),
    indexes=(("command_type", "occurred_on"), ("occurred_on",)),
    doc="One row per command handled.",
)

#: ``json.dumps(…, ensure_ascii=False)``, whose non-default option builds an encoder per call.
_json = json.JSONEncoder(ensure_ascii=False).encode

EVIDENCE = Projection(
    "evidence",
    version=1,
    tables=(EVIDENCE_ROWS,),
    doc="Every command handled: type, community, time, events written, phase of its facts.",
)


@EVIDENCE.reads
def _rows_read(event: Any) -> list[tuple[Any, Any]]:
    return [(EVIDENCE_ROWS, event.meta.command_id)]


def _command(view: ViewWriter, event: Any, changes: Callable[[Row | None], Row]) -> None:
    """Write ``changes(row)`` to the command's row, starting the row from ``event`` if this
    is the first of the command's events projected (the receipt or any other).

    One write per event: a command's row is started and changed in the same put.
    """
    command_id = event.meta.command_id
    row = view.get(EVIDENCE_ROWS, command_id)
    if row is None:
        when = event.meta.occurred_at
        start: Row = {
            "command_id": command_id,
            "events": 0,
            "occurred_at": when,
            "occurred_on": local_date(when),
            "recorded_at": event.timestamp,
        }
        view.insert(EVIDENCE_ROWS, {**start, **changes(None)})
    else:
        view.update(EVIDENCE_ROWS, command_id, **changes(row))


def _phase(records: tuple[str, ...]) -> str | None:
    return next((r.split(":", 1)[1] for r in records if r.startswith("phase:")), None)


@EVIDENCE.handles(CommandReceipt.Handled)
def _handled(view: ViewWriter, event: CommandReceipt.Handled, notification_id: int) -> None:
    records = tuple(event.records)

    def changes(row: Row | None) -> Row:
        return {
            "command_type": event.command_type,
            "community": event.community,
            # A wave's opening may have named the phase already: it says more.
            "phase": (row and row["phase"]) or _phase(records),
            "records": _json(list(records)),
            "notification_id": notification_id,
        }

    _command(view, event, changes)


def _counted(view: ViewWriter, event: Any, _notification_id: int) -> None:
    _command(view, event, lambda row: {"events": row["events"] + 1 if row else 1})


def _wave_opened(view: ViewWriter, event: Survey.WaveOpened, notification_id: int) -> None:
    phase = WAVE_PHASES.get(Wave(event.wave))
    _command(view, event, lambda row: {"events": row["events"] + 1 if row else 1, "phase": phase})


def _register() -> None:
    """Count the events of every record kind but receipts; a wave's opening also names its
    phase. Record kinds are read when this module is imported: a new kind changes the
    topics, and so the projection's fingerprint, and the runner rebuilds it."""
    for kind in sorted(KINDS):
        cls = KINDS[kind]
        if cls is CommandReceipt or not cls.__module__.startswith("safecomm_core."):
            continue  # records defined elsewhere (tests, say) are not the programme's
        for event_class in record_events(cls):
            handler: Handler = _wave_opened if event_class is Survey.WaveOpened else _counted
            EVIDENCE.handles(event_class)(handler)


_register()
