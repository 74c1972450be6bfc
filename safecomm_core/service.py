"""The service: one ``handle(command)`` entry point, and typed queries of records and people.

A :class:`Safecomm` is built by :func:`~safecomm_core.application.open_store` (the
composition root). Commands decide in a :class:`~safecomm_core.unit_of_work.UnitOfWork`;
their events and receipt are saved in one transaction through the service's event log
(:attr:`Safecomm.log`, the one boundary to the store: docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

import attrs

from safecomm_core.commands.base import Command, parse_command
from safecomm_core.converter import converter
from safecomm_core.domain.base import KINDS, Record, aggregate_id
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.domain.rules import Rules
from safecomm_core.errors import CommandIdReused, ConcurrencyConflict, NotFound
from safecomm_core.eventlog import EventStore, WriteCollision
from safecomm_core.history import HistoryEntry, history_entry
from safecomm_core.personal import KeyStore, PersonData, SealedPerson, open_person
from safecomm_core.recent import RecentRecords
from safecomm_core.store import StoreConfig
from safecomm_core.unit_of_work import Repeated, UnitOfWork, rules_from

__all__ = ["Outcome", "Safecomm"]

R = TypeVar("R", bound=Record)

#: How many times a command is decided at most when it keeps losing write races, and the
#: first and the longest pause before deciding again (doubled each time, with full jitter so
#: that writers racing for one record spread out instead of colliding again in step).
ATTEMPTS = 30
FIRST_PAUSE = 0.002
LONGEST_PAUSE = 0.5


@attrs.frozen
class Outcome:
    """What handling a command did: the records it changed, and whether it was a repeat."""

    command_id: str
    type: str
    records: tuple[str, ...]
    duplicate: bool = False


class Safecomm:
    """The in-process API: :meth:`handle` commands, then query records, people and history."""

    def __init__(self, log: EventStore, keys: KeyStore, config: StoreConfig) -> None:
        #: The store's event log: what projections, audits and replays read.
        self.log = log
        self.keys = keys
        self.config = config
        #: Records recent commands saved, lent to the next command that loads them.
        self.recent = RecentRecords()
        self._repeating = False  # the last command was a repeat: a hint, never a guard

    # -- commands ---------------------------------------------------------------------

    def handle(self, command: Command) -> Outcome:
        """Apply a command once. A repeat (same ``command_id``) returns the first result.

        Raises a :class:`~safecomm_core.errors.SafecommError` subclass, having written
        nothing, when the command is refused.
        """
        fingerprint = self._fingerprint(command)
        if self._repeating:
            # Repeats come in runs (a file imported again, a demo run twice): while they do,
            # one read of the receipt is cheaper than deciding again and failing to write.
            prior = self.receipt(command.command_id)
            if prior is not None:
                return self._repeat(prior, command, fingerprint)
            self._repeating = False
        for attempt in range(ATTEMPTS):
            if attempt:
                _pause(attempt)
            # The receipt is read only when a repeat is possible: the command is refused, its
            # write collides, or it is about to touch the key store. A new command, the usual
            # case, costs no read for it; the receipt's unique key stays the guard.
            uow = UnitOfWork(self, command, first_attempt=attempt == 0)
            try:
                command.run(uow)
                changed = uow.changed()
                if uow.erasures:
                    uow.before_key_store()
            except Repeated as repeated:
                return self._repeat(repeated.prior, command, fingerprint)
            except Exception:
                prior = self.receipt(command.command_id)
                if prior is not None:
                    return self._repeat(prior, command, fingerprint)
                if uow.stale(changed_too=True):
                    continue  # refused on a record another process has changed since
                raise
            # An erasure destroys keys before the save, for good: it must not rest on an old
            # record even where the save would then be refused, so every lent one is asked.
            if uow.stale(changed_too=bool(uow.erasures)):
                continue  # a record it decided on has changed since: decide again
            receipt = CommandReceipt(
                meta=command.meta,
                ref=command.command_id,
                community=changed[0].community if changed else "*",
                command_type=command.TYPE,
                fingerprint=fingerprint,
                records=tuple(f"{r.KIND}:{r.ref}" for r in changed),
            )
            # Keys go first: if the write then fails, the retry erases nothing twice and
            # the person is no less erased; the other order could leave a readable person.
            for ref in uow.erasures:
                self.keys.destroy(ref)
            try:
                self.log.save(receipt, *changed)
            except WriteCollision:
                prior = self.receipt(command.command_id)
                if prior is not None:
                    return self._repeat(prior, command, fingerprint)
                continue  # a concurrent writer won, or an id was taken: decide again
            # Only records of a command that landed go back: they now equal the store.
            self.recent.put_all(uow.records.values())
            return Outcome(command.command_id, command.TYPE, receipt.records)
        raise ConcurrencyConflict(
            f"command {command.command_id!r} lost {ATTEMPTS} write races; try again"
        )

    def handle_json(self, data: Mapping[str, Any]) -> Outcome:
        """Parse a command's JSON object and handle it."""
        return self.handle(parse_command(data))

    def _fingerprint(self, command: Command) -> str:
        # Keyed, because commands carry personal fields and a plain hash could be guessed.
        canonical = json.dumps(
            converter.unstructure(command), sort_keys=True, ensure_ascii=False
        ).encode()
        return hmac.new(
            self.keys.secret("command-fingerprint"), canonical, hashlib.sha256
        ).hexdigest()

    def receipt(self, command_id: str) -> CommandReceipt | None:
        """The receipt of the command ``command_id``, if it was handled."""
        # One indexed read of the receipt's first event: a receipt has one event and is never
        # snapshotted, so the repository's snapshot lookup would be a second read per command.
        if not self.log.stored_after(aggregate_id(CommandReceipt.KIND, command_id), 0):
            return None
        return self.get(CommandReceipt, command_id)

    def _repeat(self, prior: CommandReceipt, command: Command, fingerprint: str) -> Outcome:
        self._repeating = True
        if prior.command_type != command.TYPE or not hmac.compare_digest(
            prior.fingerprint, fingerprint
        ):
            raise CommandIdReused(
                f"command_id {command.command_id!r} was already used for a different command",
                field="command_id",
                rule="must be unique per command",
            )
        return Outcome(command.command_id, command.TYPE, prior.records, duplicate=True)

    # -- queries ----------------------------------------------------------------------

    def get(self, cls: type[R], ref: str) -> R:
        """The record of kind ``cls`` the caller calls ``ref``, or :class:`NotFound`."""
        found = self.log.load(aggregate_id(cls.KIND, ref))
        if not isinstance(found, cls):
            raise NotFound(cls.KIND, ref, cls.id_field())
        return found

    def exists(self, cls: type[Record], ref: str) -> bool:
        """Whether a record of kind ``cls`` has the id ``ref``."""
        return self.log.stored_after(aggregate_id(cls.KIND, ref), 0)

    def rules(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on``."""
        return rules_from(self.get, community, on)

    def person(self, sealed: SealedPerson) -> PersonData:
        """A person's fields, opened with their key (``[erased]`` once erased)."""
        return open_person(sealed, self.keys)

    def history(self, ref: str, kind: str | None = None) -> list[HistoryEntry]:
        """Every event of the record(s) called ``ref`` (of ``kind``, if given), in order."""
        kinds = [kind] if kind else sorted(k for k in KINDS if k != CommandReceipt.KIND)
        entries: list[HistoryEntry] = []
        for k in kinds:
            if k not in KINDS:
                raise NotFound(k, ref)
            for e in self.log.events_of(aggregate_id(k, ref)):
                entries.append(history_entry(k, ref, e))
        if not entries:
            raise NotFound(kind or "record", ref)
        return entries

    def close(self) -> None:
        """Release the store's and the key store's connections."""
        self.log.close()
        self.keys.close()

    def __enter__(self) -> Safecomm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _pause(attempt: int) -> None:
    """Wait before deciding a command again after its ``attempt``-th lost race."""
    time.sleep(random.uniform(0, min(LONGEST_PAUSE, FIRST_PAUSE * 2**attempt)))
