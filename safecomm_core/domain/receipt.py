"""The receipt of a handled command: the guard that makes every command idempotent.

Its id is derived from the ``command_id``, and it is saved in the same transaction as the
command's events, so the store's unique (id, version) constraint lets only one of two
identical commands land, however they race. A repeated command returns the first result.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import event
from eventsourcing.utils import get_topic

from safecomm_core.domain.base import Record, aggregate_id
from safecomm_core.values import Meta

__all__ = ["CommandReceipt"]


class CommandReceipt(Record):
    """That a command was handled, its fingerprint, and which records it changed."""

    KIND = "command"
    TOPIC = "safecomm/CommandReceipt"

    class Handled(Record.Created):
        TOPIC = "safecomm/CommandReceipt/Handled"
        ref: str
        community: str
        command_type: str
        fingerprint: str
        records: tuple[str, ...]

    @event(Handled)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        command_type: str,
        fingerprint: str,
        records: tuple[str, ...],
    ) -> None:
        self._created(meta, ref, community)
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.records = tuple(records)

    @classmethod
    def handled(cls, **fields: Any) -> CommandReceipt.Handled:
        """The event of a new receipt with ``fields`` (those of ``__init__``), made as
        ``CommandReceipt(**fields)`` would make it, without the receipt itself: a handled
        command stores it and never reads the receipt back.

        eventsourcing's aggregate machinery (arguments matched to ``__init__``, the event
        applied to a new object) was about a fifth of a bulk import's own work per command.
        """
        return cls.Handled(
            originator_topic=_TOPIC,
            # Not through aggregate_id's cache: a receipt's id is asked for once, and would
            # push the ids of records that commands keep asking for out of it.
            originator_id=aggregate_id.__wrapped__(cls.KIND, fields["ref"]),
            originator_version=cls.INITIAL_VERSION,
            timestamp=cls.Handled.create_timestamp(),
            **fields,
        )


_TOPIC = get_topic(CommandReceipt)
