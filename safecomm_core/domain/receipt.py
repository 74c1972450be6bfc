"""The receipt of a handled command: the guard that makes every command idempotent.

Its id is derived from the ``command_id``, and it is saved in the same transaction as the
command's events, so the store's unique (id, version) constraint lets only one of two
identical commands land, however they race. A repeated command returns the first result.
"""

from __future__ import annotations

from eventsourcing.domain import event

from safecomm_core.domain.base import Record
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
