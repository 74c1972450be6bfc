"""The stored events at given positions of the log, as :class:`EventRef` s.

Most views keep each fact's event in full (its provenance columns), so a report names the
events it counted from its rows alone. Some keep only the position of an event (a
meeting's, a corrective action's, a command's receipt): :class:`StoredEvents` reads those
from the log itself (``service.log``, or the bounded or shadow log a replay folds), and
names each with its record's kind and reference, as ``safecomm history`` opens it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from safecomm_core.domain.base import KINDS
from safecomm_core.eventlog import EventLog
from safecomm_core.reports.counting import EventRef

__all__ = ["Resolve", "StoredEvents", "no_events"]

#: Resolves positions of the log to the events stored there (or to none).
Resolve = Callable[[Iterable[int | None]], tuple[EventRef, ...]]


def no_events(_positions: Iterable[int | None]) -> tuple[EventRef, ...]:
    """For a figure computed without its provenance (the report itself): no events."""
    return ()


class StoredEvents:
    """Reads events by position from ``log``, each once."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._found: dict[int, EventRef] = {}
        self._refs: dict[UUID, str] = {}
        self._kinds = {getattr(cls, "TOPIC", kind): kind for kind, cls in KINDS.items()}

    def __call__(self, positions: Iterable[int | None]) -> tuple[EventRef, ...]:
        """The events at ``positions`` (None: none), in the order of the log."""
        return tuple(sorted(self.at(p) for p in set(positions) if p is not None))

    def at(self, position: int) -> EventRef:
        """The event at ``position``."""
        found = self._found.get(position)
        if found is None:
            (notification,) = [
                n for n in self.log.read(position - 1, 1, stop=position) if n.id == position
            ]
            event = self.log.decode(notification)
            record = notification.topic.rsplit("/", 1)[0]
            found = self._found[position] = EventRef(
                notification_id=position,
                kind=self._kinds.get(record, record),
                ref=self._ref(event.originator_id),
                version=event.originator_version,
                topic=notification.topic,
                occurred_at=event.meta.occurred_at,
            )
        return found

    def _ref(self, record_id: UUID) -> str:
        ref = self._refs.get(record_id)
        if ref is None:
            (first,) = self.log.events_of(record_id, upto=1)
            ref = self._refs[record_id] = str(getattr(first, "ref", record_id))
        return ref
