"""Personal data: sealed with a key per person, erasable by destroying that key.

Events never hold a name, ID number, phone number or address in clear. They hold a
:class:`SealedPerson`: the person's opaque ``ref`` and an AES-GCM box that only that
person's data key opens. Erasing a person (PIPL Art. 47) destroys the key; history still
replays, and the box then reads as ``[erased]``.

ID numbers are de-duplicated through the key store's ID-number index: the event store sees
only a random token per ID number (18-digit IDs are enumerable, so a plain hash, or a
keyed one whose key is ever known, would give them away). Once the last person holding an
ID number is erased, its index row is deleted and the token leads nowhere.

The key stores are in :mod:`safecomm_core.keystore`; every key they hold is wrapped by
the master key (:mod:`safecomm_core.masterkey`). See ``docs/personal-data.md``.
"""

from __future__ import annotations

import base64
import json
import os
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safecomm_core.transcoding import value_type
from safecomm_core.validation import BrokenRule, ident, label_or_none, matches, phone

__all__ = [
    "ERASED",
    "KeyStore",
    "PersonData",
    "PersonInput",
    "SealedPerson",
    "id_number_digest",
    "open_person",
    "seal_person",
    "sealed_people",
]

#: What an erased person's fields read as.
ERASED = "[erased]"

_ID_NUMBER = r"[0-9]{17}[0-9Xx]|[0-9]{15}"  # ASCII digits only: \d admits other scripts

#: The start of the key store's names for records' keys (their free text's, see
#: :mod:`safecomm_core.freetext`); no person's ref may start so.
RECORD_KEY_PREFIX = "record:"


def _not_a_record_key(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value.startswith(RECORD_KEY_PREFIX):
        raise BrokenRule(
            attribute.name, f"must not start with {RECORD_KEY_PREFIX!r} (records' keys)"
        )


class Sealing(Protocol):
    """What sealing and opening a person needs of a key store."""

    def person_key(self, ref: str, *, create: bool) -> tuple[str, bytes] | None:
        """The person's (key id, key); made when ``create`` and missing."""

    def id_token(self, id_number: str) -> str:
        """The token standing for ``id_number`` in the event store, made on first use."""

    def bind_id(self, id_number: str, ref: str) -> None:
        """Record that person ``ref`` holds ``id_number`` (erasing them releases it)."""


class KeyStore(Sealing, Protocol):
    """Where per-person data keys and the system's secrets are kept (not the event store).

    A command being decided only reads it: new keys and tokens are made with ``new_…``
    and kept with ``keep_…`` once every rule has passed (see
    :class:`~safecomm_core.unit_of_work.DeferredKeys`).
    """

    def new_person_key(self, ref: str) -> tuple[str, bytes]:
        """A new (key id, key) for ``ref``, not yet kept; refused for an erased person."""

    def batched(self) -> AbstractContextManager[None]:
        """Keys kept inside it are written in one transaction as it ends."""
        ...

    def keep_person_key(self, ref: str, key_id: str, key: bytes) -> bool:
        """Keep ``key`` as ``ref``'s unless they have one; whether it is the one kept."""

    def mark_erased(self, ref: str) -> None:
        """From now on ``ref`` reads as erased; the key is destroyed after."""

    def destroy(self, ref: str) -> bool:
        """Destroy the person's key for good; True if there was one."""

    def complete_erasures(self) -> int:
        """Destroy the keys still stored of people marked erased; returns how many."""

    def find_id_token(self, id_number: str) -> str | None:
        """The token of ``id_number`` if one is kept; writes nothing."""

    def new_id_token(self, id_number: str) -> str:
        """A token for an ID number that has none yet, not yet kept."""

    def keep_id_token(self, id_number: str, token: str) -> bool:
        """Keep ``token`` for ``id_number`` unless it has one; whether it is the one kept."""

    def secret(self, name: str) -> bytes:
        """A named 32-byte system secret, made on first use."""

    def close(self) -> None:
        """Release connections."""


@attrs.frozen(kw_only=True)
class PersonInput:
    """A person as a command names them: an opaque ref and the personal fields known."""

    ref: str = ident(_not_a_record_key)
    name: str | None = label_or_none()
    id_number: str | None = attrs.field(
        default=None, validator=matches(_ID_NUMBER, "must be a 15- or 18-digit ID number")
    )
    phone: str | None = phone()
    address: str | None = label_or_none()

    def fields(self) -> dict[str, str]:
        """The personal fields that are present."""
        values = {
            "name": self.name,
            "id_number": self.id_number.upper() if self.id_number else None,
            "phone": self.phone,
            "address": self.address,
        }
        return {k: v for k, v in values.items() if v is not None}


@value_type("sealed_person")
@attrs.frozen
class SealedPerson:
    """A person inside an event: ref in clear, personal fields in a box for their key."""

    ref: str
    key_id: str
    box: str  # urlsafe base64 of nonce ‖ AES-GCM ciphertext; empty when nothing was given


@attrs.frozen
class PersonData:
    """A person's fields as read back; every field reads ``[erased]`` once erased."""

    ref: str
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    erased: bool = False

    def masked(self) -> PersonData:
        """Fields fit to show in a list: the family name, the ID's region and check digit."""
        if self.erased:
            return self
        return PersonData(
            ref=self.ref,
            name=self.name[:1] + "*" * (len(self.name) - 1) if self.name else None,
            id_number=self.id_number[:4] + "*" * 13 + self.id_number[-1:]
            if self.id_number
            else None,
            phone=self.phone[:3] + "****" + self.phone[-4:] if self.phone else None,
            address="***" if self.address else None,
        )


def seal_person(person: PersonInput, keys: Sealing) -> SealedPerson:
    """Seal the person's fields with their data key (made now if they have none)."""
    found = keys.person_key(person.ref, create=True)
    assert found is not None
    key_id, key = found
    fields = person.fields()
    if "id_number" in fields:
        keys.bind_id(fields["id_number"], person.ref)
    if not fields:
        return SealedPerson(person.ref, key_id, "")
    nonce = os.urandom(12)
    plain = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
    box = nonce + AESGCM(key).encrypt(nonce, plain, _aad(person.ref, key_id))
    return SealedPerson(person.ref, key_id, base64.urlsafe_b64encode(box).decode())


def open_person(sealed: SealedPerson, keys: Sealing) -> PersonData:
    """Open a sealed person; ``erased`` when their key (of that id) is gone."""
    found = keys.person_key(sealed.ref, create=False)
    if found is None or found[0] != sealed.key_id:
        return PersonData(sealed.ref, ERASED, ERASED, ERASED, ERASED, erased=True)
    if not sealed.box:
        return PersonData(sealed.ref)
    raw = base64.urlsafe_b64decode(sealed.box)
    try:
        plain = AESGCM(found[1]).decrypt(raw[:12], raw[12:], _aad(sealed.ref, sealed.key_id))
    except InvalidTag:
        return PersonData(sealed.ref, ERASED, ERASED, ERASED, ERASED, erased=True)
    return PersonData(sealed.ref, **json.loads(plain))


def sealed_people(value: Any) -> list[SealedPerson]:
    """Every sealed person held in ``value`` (an event's or a record's values), however
    nested in tuples, lists and attrs values."""
    if isinstance(value, SealedPerson):
        return [value]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in sealed_people(v)]
    if attrs.has(type(value)):
        return sealed_people(list(attrs.asdict(value, recurse=False).values()))
    return []


def id_number_digest(id_number: str, keys: Sealing) -> str:
    """The token of an ID number, for finding the same person twice without keeping it.

    Stores made before the key store's index kept a keyed HMAC here; their tokens are
    that HMAC still, so their index records are found (see :mod:`safecomm_core.keystore`).
    """
    return keys.id_token(id_number.upper())


def _aad(ref: str, key_id: str) -> bytes:
    # Binding the box to its ref stops a box being copied onto another person.
    return f"{ref}\x00{key_id}".encode()
