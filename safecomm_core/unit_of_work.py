"""The unit of work: what one command being handled sees of the store, and what it changes.

It is the :class:`~safecomm_core.commands.base.Context` a command decides in: it loads
records (from the recent-records cache or the store), checks that new ids are free, seals
people, and collects the records the command changed; the service then saves them, with the
command's receipt, in one transaction (see docs/architecture.md, *Handling a command*).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from safecomm_core.commands.base import Command
from safecomm_core.domain.base import Record, aggregate_id
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.domain.rules import Rulebook, Rules, rules_in_force
from safecomm_core.errors import AlreadyExists, NotFound
from safecomm_core.freetext import SealedText, record_key_ref, seal_text
from safecomm_core.personal import (
    KeyStore,
    PersonInput,
    SealedPerson,
    id_number_digest,
    seal_person,
)

if TYPE_CHECKING:
    from safecomm_core.access import Principal
    from safecomm_core.service import Safecomm

__all__ = ["DeferredKeys", "Repeated", "UnitOfWork", "already_exists", "rules_from"]

R = TypeVar("R", bound=Record)


class Repeated(Exception):
    """The command being handled was handled before: its receipt is in the store."""

    def __init__(self, prior: CommandReceipt) -> None:
        super().__init__(prior.ref)
        self.prior = prior


def already_exists(cls: type[Record], ref: str) -> AlreadyExists:
    """The refusal of a new record whose id is taken."""
    return AlreadyExists(
        f"{cls.KIND} {ref!r} already exists", field=cls.id_field(), rule="must not exist yet"
    )


def rules_from(load: Callable[[type[Rulebook], str], Rulebook], community: str, on: date) -> Rules:
    """The rules in force, from the rulebook that ``load`` finds (the defaults if none)."""
    try:
        book = load(Rulebook, Rulebook.REF)
    except NotFound:
        return rules_in_force((), community, on)
    return book.in_force(community, on)


class DeferredKeys:
    """The key store as a command being decided sees it: reads go through, writes wait.

    Sealing a new person makes their key here, in memory; so does an ID number's first
    token. They are kept (:meth:`keep`) only once every rule has passed, so a refused
    command leaves nothing in the key store either.
    """

    def __init__(self, keys: KeyStore, known: dict[str, tuple[str, bytes]] | None = None) -> None:
        self._keys = keys
        #: Keys already read or kept, shared by the commands of a batch (see
        #: :mod:`safecomm_core.batch`): a stored key never changes; it only goes, when its
        #: person is erased, and an erasure is never decided inside a batch.
        self._known = known if known is not None else {}
        self._new_keys: dict[str, tuple[str, bytes]] = {}
        self._new_tokens: dict[str, str] = {}
        self._bindings: list[tuple[str, str]] = []

    @property
    def pending(self) -> bool:
        """Whether keeping the command's keys will write to the key store."""
        return bool(self._new_keys or self._new_tokens or self._bindings)

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        found = self._new_keys.get(ref) or self._known.get(ref)
        if found is None:
            found = self._keys.person_key(ref, create=False)
            if found is not None:
                self._known[ref] = found
        if found is None and create:
            found = self._new_keys[ref] = self._keys.new_person_key(ref)
        return found

    def id_token(self, id_number: str) -> str:
        found = self._new_tokens.get(id_number) or self._keys.find_id_token(id_number)
        if found is None:
            found = self._new_tokens[id_number] = self._keys.new_id_token(id_number)
        return found

    def bind_id(self, id_number: str, ref: str) -> None:
        self._bindings.append((id_number, ref))

    def secret(self, name: str) -> bytes:
        return self._keys.secret(name)

    def keep(self) -> bool:
        """Keep what the command made; False if another writer kept a different key or
        token first (the command must then be decided again, sealing with theirs)."""
        if not self.pending:  # most commands make none
            return True
        kept = all(self._keys.keep_person_key(ref, *made) for ref, made in self._new_keys.items())
        kept = kept and all(
            self._keys.keep_id_token(number, token) for number, token in self._new_tokens.items()
        )
        if kept:
            for number, ref in self._bindings:
                self._keys.bind_id(number, ref)
            self._known.update(self._new_keys)
        return kept


class UnitOfWork:
    """The :class:`~safecomm_core.commands.base.Context` of one command being handled."""

    def __init__(
        self,
        service: Safecomm,
        command: Command,
        *,
        first_attempt: bool,
        principal: Principal | None = None,
        held: Mapping[UUID, Record] | None = None,
        known_keys: dict[str, tuple[str, bytes]] | None = None,
    ) -> None:
        self._service = service
        #: Records that earlier commands of a batch changed, not yet stored (see
        #: :mod:`safecomm_core.batch`): loaded from here, as they now stand.
        self._held: Mapping[UUID, Record] = held if held is not None else {}
        #: What the command made for the key store, kept only once every rule passed.
        self.keys = DeferredKeys(service.keys, known_keys)
        self._command_type = command.TYPE
        self._principal = principal
        self.meta = command.meta
        self.records: dict[UUID, Record] = {}
        self.erasures: list[str] = []
        self._not_repeated = False
        self._first_attempt = first_attempt
        self._unasked: list[tuple[type[Record], str]] = []  # see check_new
        self._lent: dict[UUID, int] = {}  # see stale: id -> version when lent

    def before_key_store(self) -> None:
        """Settle what the store was not yet asked, before the key store is written to.

        Key store writes happen outside the events' transaction, so a command that will be
        refused, or a repeat, must be known as such first: raises :class:`Repeated` if
        the command was handled before, :class:`AlreadyExists` if a new record's id is
        taken. Each question is asked once.
        """
        if not self._not_repeated:
            prior = self._service.receipt(self.meta.command_id)
            if prior is not None:
                raise Repeated(prior)
            self._not_repeated = True
        while self._unasked:
            cls, ref = self._unasked.pop()
            if self._service.exists(cls, ref):
                raise already_exists(cls, ref)

    def unasked(self) -> dict[UUID, int]:
        """What :meth:`before_key_store` would ask the store, as ids of records that must
        not be stored at all (version 0): the command's receipt, unless already asked, and
        each new record. A batch asks it of all its commands at once, before keeping their
        keys (see :mod:`safecomm_core.batch`)."""
        unasked = dict.fromkeys((aggregate_id(cls.KIND, ref) for cls, ref in self._unasked), 0)
        if not self._not_repeated:
            unasked[aggregate_id(CommandReceipt.KIND, self.meta.command_id)] = 0
        return unasked

    def load(self, cls: type[R], ref: str) -> R:
        id_ = aggregate_id(cls.KIND, ref)
        found = self.records.get(id_)
        if found is None:
            found = self._held.get(id_)
            if found is None:
                found = self._service.recent.take(id_)
                if found is None:
                    found = self._service.get(cls, ref)
                else:
                    self._lent[id_] = found.version
            self.records[id_] = found
        if not isinstance(found, cls) or (
            self._principal is not None
            and not cls.CONSULTED_BY_ALL
            and self._service.policy.hides(self._principal, self._command_type, found.community)
        ):
            # Another community's record is as good as absent: a refusal on its state
            # would tell what it holds.
            raise NotFound(cls.KIND, ref, cls.id_field())
        return found

    def exists(self, cls: type[Record], ref: str) -> bool:
        id_ = aggregate_id(cls.KIND, ref)
        return (
            id_ in self.records
            or id_ in self._held
            or id_ in self._service.recent
            or self._service.exists(cls, ref)
        )

    def check_new(self, cls: type[Record], ref: str) -> None:
        # A first attempt does not ask the store: a new record whose id is taken collides on
        # the store's unique (id, version) key when saved, and the command is then decided
        # again, asking (see Safecomm.handle). One read fewer for each record created.
        id_ = aggregate_id(cls.KIND, ref)
        if id_ in self.records or id_ in self._held or id_ in self._service.recent:
            raise already_exists(cls, ref)
        if self._first_attempt:
            self._unasked.append((cls, ref))
        elif self._service.exists(cls, ref):
            raise already_exists(cls, ref)

    def add(self, record: Record) -> None:
        self.records[record.id] = record

    def rules(self, community: str, on: date) -> Rules:
        # Loaded like any record: the rulebook is read by many commands and changed by few,
        # so it comes from the recent records (asked before saving whether it is current)
        # instead of being rebuilt from the store for every command that needs a deadline.
        return rules_from(self.load, community, on)

    def seal(self, person: PersonInput) -> SealedPerson:
        return seal_person(person, self.keys)

    def seal_text(self, cls: type[Record], ref: str, text: str) -> SealedText:
        return seal_text(record_key_ref(cls.KIND, ref), text, self.keys)

    def id_digest(self, id_number: str) -> str:
        return id_number_digest(id_number, self.keys)

    def erase(self, person_ref: str) -> None:
        self.erasures.append(person_ref)

    def erase_text(self, cls: type[Record], ref: str) -> None:
        self.erasures.append(record_key_ref(cls.KIND, ref))

    def changed(self) -> list[Record]:
        return [r for r in self.records.values() if r.pending_events]

    def stale(self, *, changed_too: bool) -> bool:
        """Whether another process stored events of a lent record after it was lent.

        A lent record that the command changed needs no read: if it was stale, its first
        new event takes a version already stored, the store's unique key refuses the save,
        and the command is decided again from the store. One it only read (the rulebook,
        the network it consulted) is asked here, one read each, before saving; and every
        one is (``changed_too``) after a refusal, which may rest on old state, and before
        an erasure, which destroys keys before the save.
        """
        return any(
            self._service.log.stored_after(id_, version)
            for id_, version in self._lent.items()
            if changed_too or not self.records[id_].pending_events
        )

    def consulted(self) -> dict[UUID, int]:
        """The lent records the command only read, each with its version when lent."""
        return {
            id_: version
            for id_, version in self._lent.items()
            if not self.records[id_].pending_events
        }
