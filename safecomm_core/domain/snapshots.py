"""Snapshots of long-lived records, kept under stable names and restored with their types.

A record with a long history (a grid alert holds a row per unit of a 47-unit network, some
four events each) is loaded from its latest snapshot plus the events after it. Snapshots
are a cache: eventsourcing takes them after the events are saved, and the events stay the
record. Which records are snapshotted, and how often, is the application's setting.

eventsourcing's snapshot keeps ``vars(record)`` through the JSON transcoder, which returns
enum members as plain strings and tuples as lists. A record that opts in says how to give
its attributes their types back (:meth:`Retypable._retype`), so a record restored from a
snapshot equals the same record replayed from its events.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from eventsourcing.domain import Snapshot
from eventsourcing.utils import register_topic

__all__ = ["Retypable", "RetypingSnapshot", "snapshot_class"]


class Retypable(Protocol):
    """A record whose attributes can be given back the types JSON took from them."""

    def _retype(self) -> None:
        """Re-type attributes after a restore; must never raise (like apply code)."""


class RetypingSnapshot(Snapshot):
    """A snapshot whose restored record re-types what the JSON transcoder flattened."""

    def mutate(self, _: None) -> Any:
        record = super().mutate(_)
        cast(Retypable, record)._retype()
        return record


def snapshot_class(topic: str) -> type[RetypingSnapshot]:
    """A snapshot class stored under ``topic`` (never a module path: see base.py)."""
    cls = type(
        "Snapshot",
        (RetypingSnapshot,),
        {"TOPIC": topic, "__module__": __name__, "__qualname__": f"Snapshot[{topic}]"},
    )
    register_topic(topic, cls)
    return cls
