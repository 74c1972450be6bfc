"""A record's history as people read it: each event with both times and who caused it.

Used by :meth:`~safecomm_core.service.Safecomm.history`, by audit replays and by every
adapter that shows a timeline. Sealed people show only their ref, and free text
``[sealed]``: history is read by more people than may open personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from safecomm_core.converter import converter
from safecomm_core.freetext import SEALED, SealedText
from safecomm_core.personal import SealedPerson
from safecomm_core.values import Meta

__all__ = ["HistoryEntry", "event_details", "history_entry", "shown"]


@attrs.frozen
class HistoryEntry:
    """One event of a record, with both times and who caused it."""

    kind: str
    ref: str
    version: int
    event: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    role: str
    channel: str | None
    command_id: str
    details: dict[str, Any]


#: Event attributes that the entry shows in fields of its own, or not at all.
_HIDDEN = frozenset(
    {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}
)


def history_entry(kind: str, ref: str, event: Any) -> HistoryEntry:
    """The entry of ``event``, an event of the record ``ref`` of ``kind``."""
    meta: Meta = event.meta
    return HistoryEntry(
        kind=kind,
        ref=ref,
        version=event.originator_version,
        event=type(event).__name__,
        occurred_at=meta.occurred_at,
        recorded_at=event.timestamp,
        actor=meta.actor.id,
        role=str(meta.actor.role),
        channel=str(meta.channel) if meta.channel else None,
        command_id=meta.command_id,
        details=event_details(event),
    )


def event_details(event: Any) -> dict[str, Any]:
    """The event's own fields as simple values, people as their refs."""
    return {name: shown(value) for name, value in vars(event).items() if name not in _HIDDEN}


def shown(value: Any) -> Any:
    """``value`` as simple types, with a sealed person reduced to ``{"person": ref}`` and
    sealed free text to ``[sealed]`` (``""`` where none was written)."""
    if isinstance(value, SealedPerson):
        return {"person": value.ref}
    if isinstance(value, SealedText):
        return "" if value.empty else SEALED
    if isinstance(value, (list, tuple)):
        return [shown(v) for v in value]
    if attrs.has(type(value)):
        return {k: shown(v) for k, v in attrs.asdict(value, recurse=False).items()}
    return converter.unstructure(value)
