"""The access log: each opening of a person's data by an authenticated principal.

Personal data is opened only for the roles that need it (see :mod:`safecomm_core.access`),
and each opening is kept as a record of its own in the store, before the data is opened:
who (the event's actor), whose (the person's ref), from which record, why, and when. Being
events, openings are append-only and chained by the audit ledger like every other fact.
"""

from __future__ import annotations

from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.values import Meta

__all__ = ["PersonalDataOpening"]


class PersonalDataOpening(Record):
    """That a principal opened one person's data, from which record, and why."""

    KIND = "opening"
    TOPIC = "safecomm/PersonalDataOpening"

    class Opened(Record.Created):
        TOPIC = "safecomm/PersonalDataOpening/Opened"
        ref: str
        community: str
        person: str
        record: str
        why: str

    @event(Opened)
    def __init__(
        self, *, meta: Meta, ref: str, community: str, person: str, record: str, why: str
    ) -> None:
        self._created(meta, ref, community)
        self.person = person
        self.record = record
        self.why = why
