"""Replay: a record, or the whole store, as it was known at a time or as it stood at one.

Every event carries two times (docs/architecture.md): when it was *recorded* (eventsourcing's
``timestamp``) and when it *occurred* in the world (``meta.occurred_at``, given by whoever
reported it; paper records from 2013 are entered later). So there are two cuts:

``Cut.known_at(T)``
    only events recorded by T: what the office knew at T. For one record that is the
    prefix of its history recorded by T (a later version cannot be recorded before an
    earlier one), and the record is rebuilt exactly as the live system held it then. For
    the store as a whole (reports) it is the prefix of the notification log before the
    first event recorded after T (:mod:`~safecomm_core.audit.prefix` says why), which is
    also what makes a known-at replay cheap: nothing after that prefix is read.
``Cut.as_of(T)``
    events that occurred by T, whenever they were recorded: today's best knowledge of
    that date, late entries included. A record is rebuilt from the prefix of its history
    that occurred by T. An event that occurred by T but follows one that did not (entered
    out of order) cannot be applied without the one before it; it is listed in
    ``not_applied`` rather than silently dropped or applied out of turn.

Replays fold the events themselves and never use snapshots: snapshots are a cache, not the
record, and the ledger does not chain them.

Reports plug in through :func:`replay_report`: a report is any callable that takes an
iterator of :class:`ReplayedEvent` (the decoded event and its position, in notification
order, as projection handlers receive them) and returns the report; the replay feeds it
exactly the events of the cut.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import attrs
from eventsourcing.utils import resolve_topic

from safecomm_core.audit.prefix import recorded_prefix
from safecomm_core.converter import converter
from safecomm_core.dates import SUBDISTRICT_TZ, end_of_day
from safecomm_core.domain.base import KINDS, Record, aggregate_id
from safecomm_core.errors import FieldError, InvalidCommand, NotFound

# The same rendering as ``Safecomm.history`` (people by their ref only), so that a replayed
# record reads like its live history.
from safecomm_core.history import HistoryEntry, history_entry, shown
from safecomm_core.service import Safecomm

__all__ = [
    "Cut",
    "CutBasis",
    "ReplayedEvent",
    "ReplayedRecord",
    "ReportBuilder",
    "identify",
    "parse_moment",
    "replay_events",
    "replay_record",
    "replay_report",
]

T = TypeVar("T")


class CutBasis(enum.StrEnum):
    """Which of an event's two times a cut reads."""

    KNOWN_AT = "known_at"  # recorded (eventsourcing's timestamp)
    AS_OF = "as_of"  # occurred (meta.occurred_at)


@attrs.frozen
class Cut:
    """Which events a replay sees: those recorded by, or those that occurred by, ``moment``."""

    basis: CutBasis
    moment: datetime = attrs.field()

    @moment.validator
    def _aware(self, _attribute: Any, value: datetime) -> None:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a cut's moment carries its UTC offset")

    @classmethod
    def known_at(cls, moment: datetime) -> Cut:
        """Events recorded at or before ``moment``."""
        return cls(CutBasis.KNOWN_AT, moment)

    @classmethod
    def as_of(cls, moment: datetime) -> Cut:
        """Events that occurred at or before ``moment``."""
        return cls(CutBasis.AS_OF, moment)

    def when(self, event: Any) -> datetime:
        """The time of ``event`` this cut reads."""
        return event.timestamp if self.basis is CutBasis.KNOWN_AT else event.meta.occurred_at  # type: ignore[no-any-return]

    def includes(self, event: Any) -> bool:
        """Whether ``event`` falls within the cut."""
        return self.when(event) <= self.moment

    def to_dict(self) -> dict[str, str]:
        """``{"known_at": "…"}`` or ``{"as_of": "…"}``."""
        return {str(self.basis): self.moment.isoformat()}


def parse_moment(text: str, *, field: str = "moment") -> datetime:
    """Read a cut's time: an ISO 8601 date-time, or a date meaning the end of that day.

    Times without an offset, and dates, are read in the subdistrict's zone
    (Asia/Shanghai): "what did we know on 2014-08-31?" means up to its last instant there.
    """
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            end = end_of_day(day)
            return end - timedelta(microseconds=1)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidCommand(
            [FieldError(field, "must be an ISO 8601 date (YYYY-MM-DD) or date-time")]
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SUBDISTRICT_TZ)


@attrs.frozen
class ReplayedRecord:
    """A record rebuilt at a cut, with the events that made it."""

    kind: str
    ref: str
    aggregate_id: UUID
    cut: Cut
    #: The record as of the cut; None when none of its events fall within the cut.
    record: Record | None
    #: Its events within the cut, applied in order; the record's version is their count.
    events: tuple[HistoryEntry, ...]
    #: Events within the cut that could not be applied (see the module's docstring).
    not_applied: tuple[HistoryEntry, ...]
    #: How many events the record has today, whatever the cut.
    versions_today: int

    @property
    def version(self) -> int:
        """The record's version at the cut (0: it did not exist yet)."""
        return len(self.events)

    def state(self) -> dict[str, Any] | None:
        """The record's attributes as JSON values (people appear by their ref only)."""
        if self.record is None:
            return None
        values = {
            "id": str(self.record.id),
            "version": self.record.version,
            "created_on": self.record.created_on.isoformat(),
            "modified_on": self.record.modified_on.isoformat(),
        }
        for name, value in vars(self.record).items():
            if not name.startswith("_"):
                values[name] = shown(value)
        return values

    def to_dict(self) -> dict[str, Any]:
        """The replay as a JSON object: the cut, the state, the events."""
        return {
            "kind": self.kind,
            "ref": self.ref,
            "aggregate_id": str(self.aggregate_id),
            "cut": self.cut.to_dict(),
            "exists": self.record is not None,
            "version": self.version,
            "versions_today": self.versions_today,
            "state": self.state(),
            "events": [converter.unstructure(e) for e in self.events],
            "not_applied": [converter.unstructure(e) for e in self.not_applied],
        }


def identify(service: Safecomm, aggregate: UUID) -> tuple[str, str]:
    """The kind and reference of the record whose id is ``aggregate``, from its first event."""
    first = next(iter(_events(service, aggregate, lte=1)), None)
    topic = getattr(first, "originator_topic", None)
    ref = getattr(first, "ref", None)
    if first is None or not isinstance(topic, str) or not isinstance(ref, str):
        raise NotFound("record", str(aggregate))
    kind = getattr(resolve_topic(topic), "KIND", "")
    if not kind:
        raise NotFound("record", str(aggregate))
    return kind, ref


def replay_record(
    service: Safecomm, record: str, cut: Cut, *, kind: str | None = None
) -> ReplayedRecord:
    """Rebuild one record at ``cut``.

    ``record`` is the caller's reference (``d-2014-0001``; give ``kind`` when several
    kinds of record share it) or the aggregate's UUID, as verification names it.
    """
    aggregate, kind, ref = _resolve(service, record, kind)
    events = list(_events(service, aggregate))
    applied = 0
    while applied < len(events) and cut.includes(events[applied]):
        applied += 1
    rebuilt: Any = None
    for event in events[:applied]:
        rebuilt = event.mutate(rebuilt)
    history = [history_entry(kind, ref, e) for e in events]
    return ReplayedRecord(
        kind=kind,
        ref=ref,
        aggregate_id=aggregate,
        cut=cut,
        record=rebuilt,
        events=tuple(history[:applied]),
        not_applied=tuple(
            h for h, e in zip(history[applied:], events[applied:], strict=True) if cut.includes(e)
        ),
        versions_today=len(events),
    )


def _resolve(service: Safecomm, record: str, kind: str | None) -> tuple[UUID, str, str]:
    try:
        given = UUID(record)
    except ValueError:
        given = None
    if given is not None:
        found_kind, ref = identify(service, given)
        if kind and kind != found_kind:
            raise NotFound(kind, record)
        return given, found_kind, ref
    if kind is not None and kind not in KINDS:
        raise InvalidCommand([FieldError("kind", f"must be one of {', '.join(sorted(KINDS))}")])
    kinds = [kind] if kind else sorted(KINDS)
    present = [
        k for k in kinds if next(iter(_events(service, aggregate_id(k, record), lte=1)), None)
    ]
    if not present:
        raise NotFound(kind or "record", record)
    if len(present) > 1:
        raise InvalidCommand(
            [FieldError("kind", f"several records are called {record!r} ({', '.join(present)})")]
        )
    return aggregate_id(present[0], record), present[0], record


def _events(service: Safecomm, aggregate: UUID, lte: int | None = None) -> list[Any]:
    return service.log.events_of(aggregate, upto=lte)


@attrs.frozen
class ReplayedEvent:
    """One event of a replay: its position in the notification log and the decoded event."""

    position: int
    event: Any


#: A report, as replay sees it: it takes the cut's events in order and returns itself.
ReportBuilder = Callable[[Iterator[ReplayedEvent]], T]


def replay_events(
    service: Safecomm, cut: Cut, *, topics: Sequence[str] = (), batch_size: int = 1000
) -> Iterator[ReplayedEvent]:
    """Every event of the store within ``cut``, in notification order.

    ``topics`` narrows the read to those stored topics (a projection's, typically). Known
    at T, the store's events are the log's prefix recorded by T (see
    :mod:`~safecomm_core.audit.prefix`), so nothing after it is read; as of T, the whole
    log is read and each event kept if it occurred by T.
    """
    known = cut.basis is CutBasis.KNOWN_AT
    stop = recorded_prefix(service, cut.moment).end if known else None
    after = 0
    while stop is None or after < stop:
        batch = service.log.read(after, batch_size, stop=stop, topics=topics)
        events = [service.log.decode(n) for n in batch]
        if not batch:
            return
        for notification, event in zip(batch, events, strict=True):
            if known or cut.includes(event):
                yield ReplayedEvent(notification.id, event)
        after = batch[-1].id


def replay_report(
    service: Safecomm, cut: Cut, build: ReportBuilder[T], *, topics: Sequence[str] = ()
) -> T:
    """Build a report from exactly the events of ``cut`` (the hook for report replays)."""
    return build(replay_events(service, cut, topics=topics))
