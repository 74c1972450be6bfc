"""Commands handled in batches: decided one by one, in order, stored N per transaction.

A bulk import (a paper archive of thousands of lines) spends most of a one-command
transaction waiting for the disk. A :class:`CommandBatch` decides each command as
:meth:`~safecomm_core.service.Safecomm.handle` does, in order, against the store *and* the
records earlier commands of the batch changed (held here, not yet stored), then stores the
events of the accepted ones, each command's receipt first, in one transaction per ``size``
commands. What a command is told is final only once it is *settled*: a batch written, or the
command refused (see docs/architecture.md, *Batches*).

- A receipt is written with its command's events, in the same transaction: a crash loses
  whole commands that were never reported as settled, and handling them again completes
  the import (the receipts say which were stored).
- A command whose id is already in the batch is a repeat of it; a repeat of a stored
  command is found as ``handle`` finds it.
- A command that is refused, erases people, or loses a race for a person's key does not
  join the batch: the batch is written first, then the command is handled on its own by
  ``handle`` (which refuses it again, with the store as it now stands, or decides it
  afresh). A refused command may have changed a held record before refusing, so that
  record is not lent again: it is written as the earlier commands left it.
- Keys of new people are kept once the command has passed every rule, as ``handle`` keeps
  them, but in one key-store transaction for the batch, committed just before its events'
  transaction: later commands of the batch see them, and a crash before then keeps none. A
  crash between the two leaves keys without events, which the commands, handled again,
  seal with (as after a crash of ``handle`` between its two writes).
- A person's key that one command of the batch read or kept is not read again by the
  later ones: a stored key never changes, and an erasure is never decided inside a batch
  (one by another process meanwhile is seen from the next batch on, as the decisions the
  batch holds would not see it either).
- What ``handle`` asks the store one command at a time is asked once per batch, in one
  read, before its keys are kept: whether a record its commands only read (a rulebook,
  the network) has changed since it was read, and whether a command keeping keys is a
  repeat or creates a record that exists. If so, or if the batch's write collides (another
  writer stored an event of a held record, or an id a command took), nothing of it is
  stored (nor, where the read found it, any of its keys kept), and every command of it is
  handled again on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from safecomm_core.commands.base import Command
from safecomm_core.domain.base import Record
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.errors import SafecommError
from safecomm_core.eventlog import WriteCollision
from safecomm_core.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from safecomm_core.access import Principal
    from safecomm_core.service import Outcome, Safecomm

__all__ = ["CommandBatch", "Settled"]


@attrs.frozen
class Settled:
    """A command whose fate is final: stored (or a repeat), with its outcome, or refused.

    ``tag`` is what the caller gave with the command (a line number, say).
    """

    tag: Any
    outcome: Outcome | None = None
    error: SafecommError | None = None


@attrs.define
class _Decided:
    tag: Any
    command: Command
    outcome: Outcome


class CommandBatch:
    """Commands decided in order and stored ``size`` accepted commands per transaction.

    Made by :meth:`~safecomm_core.service.Safecomm.batch`; used as a context manager, it
    writes what is left when the block ends without an error.
    """

    def __init__(self, service: Safecomm, size: int, principal: Principal | None = None) -> None:
        if size < 1:
            raise ValueError(f"a batch holds at least one command, not {size}")
        self._service = service
        self.size = size
        self._principal = principal
        self._reset()

    def _reset(self) -> None:
        #: Records the batch's commands changed, as they now stand, by id.
        self._held: dict[UUID, Record] = {}
        #: Snapshots due, taken as the events were collected, written after them.
        self._snapshots: list[Any] = []
        #: The key store's transaction, open from the first key the batch keeps.
        self._keys: ExitStack | None = None
        self._receipts: dict[str, CommandReceipt.Handled] = {}
        #: Every event to store, in command order, each command's receipt first.
        self._events: list[Any] = []
        self._decided: list[_Decided] = []
        self._accepted = 0
        #: Lent records that commands only read, with their versions: current when written.
        self._consulted: dict[UUID, int] = {}
        #: Receipts and new records of the commands that keep keys: absent when written.
        self._unasked: dict[UUID, int] = {}
        #: People's keys its commands read or kept, by ref: read once per batch.
        self._known_keys: dict[str, tuple[str, bytes]] = {}

    def __len__(self) -> int:
        """Commands decided and not yet settled."""
        return len(self._decided)

    def add(self, command: Command, tag: Any = None) -> list[Settled]:
        """Decide ``command``; the commands this settles (it among them, if refused).

        Raises only what is not a :class:`~safecomm_core.errors.SafecommError` (a bug).
        """
        service = self._service
        if command.ERASES:
            return self._alone(command, tag)
        fingerprint = service.fingerprint(command)
        held = self._receipts.get(command.command_id)
        if held is not None:
            # A repeat of a command of this batch: settled with it (or refused, if reused).
            repeat = _settled(tag, lambda: service.repeat(held, command, fingerprint))
            if repeat.outcome is None:
                return [repeat]
            self._decided.append(_Decided(tag, command, repeat.outcome))
            return []
        if service.repeating:
            prior = service.receipt(command.command_id)
            if prior is not None:
                return [_settled(tag, lambda: service.repeat(prior, command, fingerprint))]
            service.repeating = False
        uow = UnitOfWork(
            service,
            command,
            first_attempt=True,
            principal=self._principal,
            held=self._held,
            known_keys=self._known_keys,
        )
        try:
            changed = self._decide(command, uow)
        except Exception:
            # Refused, a repeat, or decided on a record changed meanwhile: ``handle`` decides
            # it again, on its own, after the batch is written.
            self._spoil(uow)
            return self._alone(command, tag)
        receipt = service.receipt_of(command, fingerprint, changed)
        self._receipts[command.command_id] = receipt
        self._events.append(receipt)
        for record in changed:
            events = record.collect_events()
            self._events.extend(events)
            self._held[record.id] = record
            snapshot = service.log.snapshot_due(record, events)
            if snapshot is not None:
                self._snapshots.append(snapshot)
        # What it only read equals the store: back to the recent records, as ``handle`` does.
        service.recent.put_all(r for r in uow.records.values() if r.id not in self._held)
        self._consulted.update(uow.consulted())
        outcome = service.outcome(command, receipt)
        self._decided.append(_Decided(tag, command, outcome))
        self._accepted += 1
        return self.flush() if self._accepted >= self.size else []

    def _decide(self, command: Command, uow: UnitOfWork) -> list[Record]:
        service = self._service
        if self._principal is not None:
            service.policy.check_command(self._principal, command, ())
        command.run(uow)
        changed = uow.changed()
        if self._principal is not None:
            service.check_touched(self._principal, command, changed)
        if uow.erasures:
            raise _Alone
        if uow.keys.pending:
            # Whether it is a repeat, or creates a record that exists, must be known before
            # its keys are kept: asked for the whole batch at once, before they are (flush).
            for id_, version in uow.unasked().items():
                self._unasked[id_] = min(version, self._unasked.get(id_, version))
            if self._keys is None:
                self._keys = ExitStack()
                self._keys.enter_context(service.keys.batched())
        # Records it only read are asked whether they changed meanwhile once per batch, as
        # the batch is written (see flush), rather than once per command.
        if not uow.keys.keep():
            raise _Alone
        return changed

    def _spoil(self, uow: UnitOfWork) -> None:
        # Its events, never collected, are only in the record: it is written as the earlier
        # commands left it, and not lent again.
        for record in uow.changed():
            self._held.pop(record.id, None)

    def _alone(self, command: Command, tag: Any) -> list[Settled]:
        settled = self.flush()
        settled.append(self._handle(command, tag))
        return settled

    def _handle(self, command: Command, tag: Any) -> Settled:
        return _settled(tag, lambda: self._service.handle(command, self._principal))

    def flush(self) -> list[Settled]:
        """Write the decided commands' events in one transaction; every one settled.

        The people's keys they made are kept first, in one transaction of the key store.
        """
        keys, self._keys = self._keys, None
        if not self._decided:
            if keys is not None:
                keys.close()
            self._reset()
            return []
        decided, events, snapshots = self._decided, self._events, self._snapshots
        held, asked = self._held, self._unasked
        for id_, version in self._consulted.items():
            asked[id_] = min(version, asked.get(id_, version))
        self._reset()
        log = self._service.log
        try:
            # The keys are kept as this block ends, and none if it raises.
            with keys if keys is not None else nullcontext():
                # One read for the batch: a record it only read was changed meanwhile, or a
                # command keeping keys is a repeat or creates a record that exists.
                if log.any_stored_after(asked):
                    raise WriteCollision("the store has changed under the batch")
            log.save_events(events, snapshots)
        except WriteCollision:
            # Nothing of the batch was stored: each command is decided again, alone.
            return [self._handle(d.command, d.tag) for d in decided]
        self._service.recent.put_all(held.values())
        return [Settled(d.tag, d.outcome) for d in decided]

    def __enter__(self) -> CommandBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.flush()
        elif self._keys is not None:
            # What was decided is dropped, never told: so are the keys it made.
            self._keys.__exit__(exc_type, exc, tb)
            self._keys = None


class _Alone(Exception):
    """The command is handled on its own, after the batch (it erases, or lost a key race)."""


def _settled(tag: Any, outcome: Callable[[], Outcome]) -> Settled:
    try:
        return Settled(tag, outcome())
    except SafecommError as exc:
        return Settled(tag, error=exc)
