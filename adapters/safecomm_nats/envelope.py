"""The envelope every published event travels in: a CloudEvents 1.0 JSON object.

Its shape is public and versioned (``safecommversion``, see docs/stream.md): a consumer
reads it with :meth:`Envelope.from_json`, never by importing safecomm's domain classes.
Personal data stays out of it: the event's fields are rendered as a record's history shows
them (:func:`safecomm_core.history.history_entry`), people reduced to their refs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs

from safecomm_core.history import HistoryEntry

__all__ = ["SCHEMA_VERSION", "Envelope", "EnvelopeError", "envelope_of", "message_id"]

#: The envelope's version: raised when a field changes meaning or is removed (docs/stream.md).
SCHEMA_VERSION = 1


class EnvelopeError(ValueError):
    """A message that is not a safecomm envelope of a version this code reads."""


@attrs.frozen
class Envelope:
    """One stored event, as published: where it sits in the store and what it says."""

    #: ``<store>:<position>``: unique per event, also the broker's ``Nats-Msg-Id``.
    id: str
    #: ``safecomm/<store>``.
    source: str
    #: ``safecomm.<kind>.<Event>``, e.g. ``safecomm.dispute.Reported``.
    type: str
    store: str
    position: int
    kind: str
    ref: str
    event: str
    #: The record's version this event brought it to (1 for the event that created it).
    record_version: int
    #: When the store recorded the event.
    time: datetime
    #: When it happened in the world, as the command said.
    occurred_at: datetime
    actor: str
    role: str
    channel: str | None
    command_id: str
    community: str
    #: The event's own fields as plain JSON values, people as ``{"person": ref}``.
    data: dict[str, Any]
    schema_version: int = SCHEMA_VERSION

    @property
    def subject(self) -> str:
        """The CloudEvents subject: ``<kind>/<ref>``."""
        return f"{self.kind}/{self.ref}"

    def to_json(self) -> bytes:
        """The CloudEvents 1.0 JSON form (extension attributes in lower case, as it asks)."""
        document = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "safecommversion": self.schema_version,
            "store": self.store,
            "position": self.position,
            "recordversion": self.record_version,
            "occurredat": self.occurred_at.isoformat(),
            "actor": self.actor,
            "actorrole": self.role,
            "channel": self.channel,
            "commandid": self.command_id,
            "community": self.community,
            "data": self.data,
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes) -> Envelope:
        """Read an envelope; :class:`EnvelopeError` if it is not one this code reads."""
        try:
            doc = json.loads(payload)
            version = doc["safecommversion"]
            if version != SCHEMA_VERSION:
                raise EnvelopeError(f"envelope version {version!r} is not {SCHEMA_VERSION}")
            kind, _, ref = doc["subject"].partition("/")
            return cls(
                id=doc["id"],
                source=doc["source"],
                type=doc["type"],
                store=doc["store"],
                position=int(doc["position"]),
                kind=kind,
                ref=ref,
                event=doc["type"].rpartition(".")[2],
                record_version=int(doc["recordversion"]),
                time=datetime.fromisoformat(doc["time"]),
                occurred_at=datetime.fromisoformat(doc["occurredat"]),
                actor=doc["actor"],
                role=doc["actorrole"],
                channel=doc["channel"],
                command_id=doc["commandid"],
                community=doc["community"],
                data=doc["data"],
            )
        except EnvelopeError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EnvelopeError(f"not a safecomm envelope: {type(exc).__name__}: {exc}") from exc


def message_id(store: str, position: int) -> str:
    """The id of the event at ``position`` of ``store``: the envelope's and the broker's."""
    return f"{store}:{position}"


def envelope_of(store: str, position: int, community: str, entry: HistoryEntry) -> Envelope:
    """The envelope of the event stored at ``position`` of ``store``, as its record's
    history shows it (``entry``), an event of a record of ``community``."""
    return Envelope(
        id=message_id(store, position),
        source=f"safecomm/{store}",
        type=f"safecomm.{entry.kind}.{entry.event}",
        store=store,
        position=position,
        kind=entry.kind,
        ref=entry.ref,
        event=entry.event,
        record_version=entry.version,
        time=entry.recorded_at,
        occurred_at=entry.occurred_at,
        actor=entry.actor,
        role=entry.role,
        channel=entry.channel,
        command_id=entry.command_id,
        community=community,
        data=entry.details,
    )
