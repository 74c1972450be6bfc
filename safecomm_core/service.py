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
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from safecomm_core.access import POLICY, Principal, Read, Touched
from safecomm_core.commands.base import Command, parse_command
from safecomm_core.converter import converter
from safecomm_core.domain.access import PersonalDataOpening
from safecomm_core.domain.base import KINDS, Record, aggregate_id
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.domain.rules import Rules
from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    FieldError,
    Forbidden,
    InvalidCommand,
    NotFound,
    StoreError,
)
from safecomm_core.eventlog import EventStore, WriteCollision
from safecomm_core.freetext import SealedText, open_text, record_key_ref
from safecomm_core.history import HistoryEntry, history_entry
from safecomm_core.personal import ERASED, KeyStore, PersonData, SealedPerson, open_person
from safecomm_core.recent import RecentRecords
from safecomm_core.store import StoreConfig
from safecomm_core.unit_of_work import Repeated, UnitOfWork, rules_from
from safecomm_core.validation import check_text
from safecomm_core.values import Actor, Channel, Meta

if TYPE_CHECKING:
    from safecomm_core.batch import CommandBatch

__all__ = ["OpenedText", "Outcome", "Safecomm"]

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


@attrs.frozen
class OpenedText:
    """One free-text field of a record's event, opened (``[erased]`` once erased)."""

    version: int
    event: str
    field: str
    text: str


class Safecomm:
    """The in-process API: :meth:`handle` commands, then query records, people and history."""

    def __init__(self, log: EventStore, keys: KeyStore, config: StoreConfig) -> None:
        #: The store's event log: what projections, audits and replays read.
        self.log = log
        self.keys = keys
        self.config = config
        #: Records recent commands saved, lent to the next command that loads them.
        self.recent = RecentRecords()
        #: The last command was a repeat: a hint, never a guard.
        self.repeating = False
        #: The access policy applied where a principal is given.
        self.policy = POLICY
        #: The command fingerprints' secret and its keyed HMAC (see :meth:`fingerprint`).
        self._fingerprinter: tuple[bytes, hmac.HMAC] | None = None

    # -- commands ---------------------------------------------------------------------

    def handle(self, command: Command, principal: Principal | None = None) -> Outcome:
        """Apply a command once. A repeat (same ``command_id``) returns the first result.

        With a ``principal`` (the caller an adapter authenticated), the access policy is
        applied: the command's actor must be the principal, and the principal may issue it
        on the records it changes (:meth:`~safecomm_core.access.Policy.check_command`).
        Without one, the caller is trusted (an in-process service).

        Raises a :class:`~safecomm_core.errors.SafecommError` subclass, having written
        nothing, when the command is refused.
        """
        if principal is not None:
            self.policy.check_command(principal, command, ())
        if command.ERASES:
            # A repeat of an erasure, or the next one, completes any erasure whose key
            # could not be destroyed when it was recorded.
            self._complete_erasures(command)
        fingerprint = self.fingerprint(command)
        if self.repeating:
            # Repeats come in runs (a file imported again, a demo run twice): while they do,
            # one read of the receipt is cheaper than deciding again and failing to write.
            prior = self.receipt(command.command_id)
            if prior is not None:
                return self.repeat(prior, command, fingerprint)
            self.repeating = False
        for attempt in range(ATTEMPTS):
            if attempt:
                _pause(attempt)
            # The receipt is read only when a repeat is possible: the command is refused, its
            # write collides, or it is about to touch the key store. A new command, the usual
            # case, costs no read for it; the receipt's unique key stays the guard.
            uow = UnitOfWork(self, command, first_attempt=attempt == 0, principal=principal)
            try:
                command.run(uow)
                changed = uow.changed()
                if principal is not None:
                    self.check_touched(principal, command, changed)
                if uow.erasures or uow.keys.pending:
                    uow.before_key_store()
            except Repeated as repeated:
                return self.repeat(repeated.prior, command, fingerprint)
            except Exception as refusal:
                prior = self.receipt(command.command_id)
                if prior is not None:
                    return self.repeat(prior, command, fingerprint)
                if uow.stale(changed_too=True):
                    continue  # refused on a record another process has changed since
                self._disclose_holder(refusal, principal)
                raise
            # An erasure marks people erased before the save, for good: it must not rest on an
            # old record even where the save would then be refused, so every lent one is asked.
            if uow.stale(changed_too=bool(uow.erasures)):
                continue  # a record it decided on has changed since: decide again
            receipt = self.receipt_of(command, fingerprint, changed)
            # Every rule has passed: now, and only now, the key store is written to. The
            # people a command erases read as erased from here on, before the events say
            # so: if the save then fails, a retry of the command completes the erasure.
            if not uow.keys.keep():
                continue  # another writer kept this person's key first: seal with theirs
            for ref in uow.erasures:
                self.keys.mark_erased(ref)
            try:
                self.log.save(*changed, first=(receipt,))
            except WriteCollision:
                prior = self.receipt(command.command_id)
                if prior is not None:
                    return self.repeat(prior, command, fingerprint)
                continue  # a concurrent writer won, or an id was taken: decide again
            # Only records of a command that landed go back: they now equal the store.
            self.recent.put_all(uow.records.values())
            if uow.erasures:
                self._complete_erasures(command)
            return self.outcome(command, receipt)
        raise ConcurrencyConflict(
            f"command {command.command_id!r} lost {ATTEMPTS} write races; try again"
        )

    def batch(self, size: int = 100, principal: Principal | None = None) -> CommandBatch:
        """Commands decided in order and stored ``size`` per transaction (a bulk import):
        see :mod:`safecomm_core.batch`."""
        from safecomm_core.batch import CommandBatch

        return CommandBatch(self, size, principal)

    def check_touched(self, principal: Principal, command: Command, changed: list[Record]) -> None:
        """Refuse ``command`` if ``principal`` may not change the records it ``changed``."""
        self.policy.check_command(principal, command, map(_touched, changed))

    @staticmethod
    def outcome(command: Command, receipt: CommandReceipt.Handled) -> Outcome:
        """What handling ``command``, stored with ``receipt``, did."""
        return Outcome(command.command_id, command.TYPE, receipt.records)

    @staticmethod
    def receipt_of(
        command: Command, fingerprint: str, changed: list[Record]
    ) -> CommandReceipt.Handled:
        """The receipt a handled ``command`` leaves (its one event), naming the records it
        ``changed``."""
        return CommandReceipt.handled(
            meta=command.meta,
            ref=command.command_id,
            community=changed[0].community if changed else "*",
            command_type=command.TYPE,
            fingerprint=fingerprint,
            records=tuple(f"{r.KIND}:{r.ref}" for r in changed),
        )

    def _disclose_holder(self, exc: Exception, principal: Principal | None) -> None:
        """Name the record that holds what a refused command asked for, to a caller who may
        read it (a trusted caller, or a principal whose policy allows it)."""
        if not isinstance(exc, AlreadyExists) or exc.holder is None:
            return
        kind, ref, community = exc.holder
        if principal is None or self.policy.may_read(principal, Read.RECORDS, community):
            exc.message = f"{exc.message}: {kind} {ref!r}"
            exc.args = (exc.message,)

    def _complete_erasures(self, command: Command) -> None:
        """Destroy the keys of people marked erased, or say that it must be done again."""
        try:
            self.keys.complete_erasures()
        except Exception as exc:
            raise StoreError(
                f"the keys of people marked erased could not be destroyed yet "
                f"({type(exc).__name__}: {exc}); they read as erased, and an erasure this "
                f"command recorded stays recorded: send command {command.command_id!r} again, "
                "or run 'safecomm keys complete-erasures'"
            ) from exc

    def handle_json(self, data: Mapping[str, Any], principal: Principal | None = None) -> Outcome:
        """Parse a command's JSON object and handle it (as :meth:`handle`)."""
        return self.handle(parse_command(data), principal)

    def fingerprint(self, command: Command) -> str:
        """The command's keyed digest, kept in its receipt to tell a repeat from a reuse."""
        # Keyed, because commands carry personal fields and a plain hash could be guessed.
        canonical = json.dumps(
            converter.unstructure(command), sort_keys=True, ensure_ascii=False
        ).encode()
        secret = self.keys.secret("command-fingerprint")
        if self._fingerprinter is None or self._fingerprinter[0] is not secret:
            # The HMAC keyed once, copied for each command: keying it hashes the secret's
            # two pads, as much work again as a small command's digest.
            self._fingerprinter = (secret, hmac.new(secret, digestmod=hashlib.sha256))
        digest = self._fingerprinter[1].copy()
        digest.update(canonical)
        return digest.hexdigest()

    def receipt(self, command_id: str) -> CommandReceipt | None:
        """The receipt of the command ``command_id``, if it was handled."""
        # One indexed read of the receipt's first event: a receipt has one event and is never
        # snapshotted, so the repository's snapshot lookup would be a second read per command.
        if not self.log.stored_after(aggregate_id(CommandReceipt.KIND, command_id), 0):
            return None
        return self.get(CommandReceipt, command_id)

    def repeat(
        self, prior: CommandReceipt | CommandReceipt.Handled, command: Command, fingerprint: str
    ) -> Outcome:
        """The outcome of a repeat of the command ``prior`` is the receipt of, or
        :class:`~safecomm_core.errors.CommandIdReused` if it is another command."""
        self.repeating = True
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

    def get(self, cls: type[R], ref: str, principal: Principal | None = None) -> R:
        """The record of kind ``cls`` the caller calls ``ref``, or :class:`NotFound`.

        With a ``principal``, a record the policy does not let it read is not found either.
        """
        found = self.log.load(aggregate_id(cls.KIND, ref))
        if not isinstance(found, cls) or (
            principal is not None
            and not self.policy.may_read_record(principal, found.community, found.addressed_to())
        ):
            raise NotFound(cls.KIND, ref, cls.id_field())
        return found

    def exists(self, cls: type[Record], ref: str) -> bool:
        """Whether a record of kind ``cls`` has the id ``ref``."""
        return self.log.stored_after(aggregate_id(cls.KIND, ref), 0)

    def rules(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on``."""
        return rules_from(self.get, community, on)

    def person(
        self,
        sealed: SealedPerson,
        principal: Principal | None = None,
        *,
        record: Record | None = None,
        why: str = "",
    ) -> PersonData:
        """A person's fields, opened with their key (``[erased]`` once erased).

        With a ``principal``, the policy must let its role open people of ``record``'s
        community, ``why`` must say what for, and the opening is stored (who, whose, from
        which record, why, when) before the data is opened: see
        :class:`~safecomm_core.domain.access.PersonalDataOpening`.
        """
        if principal is not None:
            self._record_opening(sealed.ref, principal, record, why)
        return open_person(sealed, self.keys)

    def texts(
        self,
        cls: type[Record],
        ref: str,
        principal: Principal | None = None,
        *,
        why: str = "",
    ) -> list[OpenedText]:
        """Every free text of the record, opened with its key (``[erased]`` once erased).

        Free text may name people, so it is opened as personal data is (see
        :meth:`person`): with a ``principal``, the policy must let its role open personal
        data of the record's community, ``why`` must say what for, and the opening is
        stored first. A record the principal may not read is not found.
        """
        record = self.get(cls, ref, principal)
        if principal is not None:
            self._record_opening(record_key_ref(cls.KIND, ref), principal, record, why)
        erased = getattr(record, "erased_on", None) is not None
        opened: list[OpenedText] = []
        for event in self.log.events_of(record.id):
            for name, value in vars(event).items():
                if isinstance(value, SealedText) and not value.empty:
                    text = ERASED if erased else open_text(value, self.keys)
                    opened.append(
                        OpenedText(event.originator_version, type(event).__name__, name, text)
                    )
        return opened

    def _record_opening(
        self, whose: str, principal: Principal, record: Record | None, why: str
    ) -> None:
        if record is None or not why.strip():
            raise InvalidCommand(
                [FieldError("record" if record is None else "why", "must be given")]
            )
        # The reason is stored for good in the audited log: it meets the free-text rules.
        check_text("why", why, required=True)
        if not self.policy.may_read(principal, Read.PERSONAL, record.community):
            raise Forbidden(
                f"{principal.subject!r} ({principal.role}) may not open personal data of "
                f"{record.KIND} {record.ref!r}",
                field="person",
                rule=f"not allowed for role {principal.role} in community {record.community}",
            )
        opening_id = str(uuid.uuid4())
        self.log.save(
            PersonalDataOpening(
                meta=Meta(
                    command_id=opening_id,
                    occurred_at=datetime.now(UTC),
                    actor=Actor(principal.subject, principal.role),
                    channel=Channel.API,
                ),
                ref=opening_id,
                community=record.community,
                person=whose,
                record=f"{record.KIND}:{record.ref}",
                why=why,
            )
        )

    def history(
        self, ref: str, kind: str | None = None, principal: Principal | None = None
    ) -> list[HistoryEntry]:
        """Every event of the record(s) called ``ref`` (of ``kind``, if given), in order.

        With a ``principal``, records the policy does not let it read are left out.
        """
        kinds = [kind] if kind else sorted(k for k in KINDS if k != CommandReceipt.KIND)
        entries: list[HistoryEntry] = []
        for k in kinds:
            if k not in KINDS:
                raise NotFound(k, ref)
            events = self.log.events_of(aggregate_id(k, ref))
            if (
                events
                and principal is not None
                and not self.policy.may_read(principal, Read.RECORDS, events[0].community)
            ):
                continue
            entries.extend(history_entry(k, ref, e) for e in events)
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


def _touched(record: Record) -> Touched:
    # A record whose first event is among the pending ones is created by this command.
    first = record.pending_events[0].originator_version if record.pending_events else 0
    return Touched(record.KIND, record.ref, record.community, new=first == 1)


def _pause(attempt: int) -> None:
    """Wait before deciding a command again after its ``attempt``-th lost race."""
    time.sleep(random.uniform(0, min(LONGEST_PAUSE, FIRST_PAUSE * 2**attempt)))
