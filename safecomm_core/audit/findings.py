"""What verification finds: a row that was changed, a seal that does not hold.

A :class:`Finding` names one place: its kind, the position, and the row that should be
there (``expected``, from the ledger) and the one that is (``found``, from the store).
``aggregate_id`` and ``version`` name the row the finding is about (:attr:`Finding.subject`):
the expected one, except for an insertion, where it is the one found.
"""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID

import attrs

__all__ = ["Finding", "FindingKind", "RowRef"]


class FindingKind(enum.StrEnum):
    """What happened at a position."""

    UPDATED = "updated"  # same row (id, version) there, other topic or state
    DELETED = "deleted"  # the row is gone and rows follow it
    INSERTED = "inserted"  # a row that the ledger never chained is there
    REORDERED = "reordered"  # a row chained elsewhere is there, or this one moved
    TRUNCATED = "truncated"  # this row and every one after it are gone
    ALTERED = "altered"  # rows were changed, but the ledger was too: cannot name one
    LEDGER = "ledger"  # the rows hold, but a ledger entry was altered
    BAD_SEAL = "bad-seal"  # a seal's signature, key or store does not hold


@attrs.frozen
class RowRef:
    """A row as the ledger or the store has it."""

    position: int
    aggregate_id: str
    version: Any
    topic: Any

    @classmethod
    def of(cls, position: int, originator_id: Any, version: Any, topic: Any) -> RowRef:
        """A reference with the id written as a UUID when it is one."""
        return cls(position, display_id(originator_id), version, topic)

    def __str__(self) -> str:
        return f"{self.aggregate_id} v{self.version} ({self.topic})"


def display_id(originator_id: Any) -> str:
    """An originator id as people read it: a dashed UUID, else its text."""
    if isinstance(originator_id, str) and len(originator_id) == 32:
        try:
            return str(UUID(hex=originator_id))
        except ValueError:
            pass
    return originator_id if isinstance(originator_id, str) else repr(originator_id)


@attrs.frozen
class Finding:
    """One thing verification found wrong."""

    kind: FindingKind
    position: int | None
    message: str
    expected: RowRef | None = None
    found: RowRef | None = None
    #: True when a valid seal covers the position: the change is proven by a signature.
    #: False in the unsealed tail, where only the (unsigned) ledger says so.
    sealed: bool = False
    #: The kind and reference of the row's record (e.g. ``dispute:d-2014-0001``), when known.
    label: str | None = None

    @property
    def subject(self) -> RowRef | None:
        """The row this finding is about: the inserted one, else the one expected."""
        if self.kind is FindingKind.INSERTED:
            return self.found
        return self.expected or self.found

    @property
    def aggregate_id(self) -> str | None:
        """The id of the aggregate whose row this finding is about."""
        return self.subject.aggregate_id if self.subject else None

    @property
    def version(self) -> Any:
        """The version (of its aggregate) of the row this finding is about."""
        return self.subject.version if self.subject else None

    def __str__(self) -> str:
        where = f"position {self.position}: " if self.position is not None else ""
        return f"{self.kind}: {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON object."""
        data = attrs.asdict(self, recurse=True)
        data["kind"] = str(self.kind)
        data["aggregate_id"] = self.aggregate_id
        data["version"] = self.version
        return data
