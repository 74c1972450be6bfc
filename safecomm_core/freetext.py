"""Free text sealed with a key per record, erasable by destroying that key.

Staff write names and phone numbers into summaries, notes, terms and reasons, so free
text is personal data too. Events hold it as a :class:`SealedText`: an AES-GCM box under
the data key of the record the text belongs to. That key is kept in the key store beside
the person keys, under the holder name :func:`record_key_ref` gives (wrapped by the master
key, re-wrapped by rotation, destroyed by an erasure): erasing the record, or its end of
retention, destroys it, and every text of the record then reads ``[erased]``.

Readers that may not open personal data see :data:`SEALED` in its place (histories, the
event stream, record views); :meth:`~safecomm_core.service.Safecomm.texts` opens a
record's texts for a role allowed to, and records the opening. See
``docs/personal-data.md``, *Free text*.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safecomm_core.personal import ERASED, RECORD_KEY_PREFIX, Sealing
from safecomm_core.transcoding import value_type

__all__ = [
    "RECORD_KEY_PREFIX",
    "SEALED",
    "SealedText",
    "legacy_text",
    "open_text",
    "record_key_ref",
    "seal_text",
    "sealed_from_v1",
]

#: What a reader who may not open free text sees in its place.
SEALED = "[sealed]"


def record_key_ref(kind: str, ref: str) -> str:
    """The key store's name for the data key of the ``kind`` record called ``ref``."""
    return f"{RECORD_KEY_PREFIX}{kind}:{ref}"


@value_type("sealed_text")
@attrs.frozen
class SealedText:
    """Free text inside an event: the holder of its key in clear, the text in a box.

    ``clear`` is set only on text that an earlier version stored in clear (see
    :func:`legacy_text`); new text never has it.
    """

    holder: str
    key_id: str
    box: str  # urlsafe base64 of nonce ‖ AES-GCM ciphertext; empty for empty text
    clear: str | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing was written (an optional note left out)."""
        return not self.box and not self.clear


def seal_text(holder: str, text: str, keys: Sealing) -> SealedText:
    """Seal ``text`` with the data key of ``holder`` (made now if it has none)."""
    if not text:
        return SealedText(holder, "", "")
    found = keys.person_key(holder, create=True)
    assert found is not None
    key_id, key = found
    nonce = os.urandom(12)
    box = nonce + AESGCM(key).encrypt(nonce, text.encode(), _aad(holder, key_id))
    return SealedText(holder, key_id, base64.urlsafe_b64encode(box).decode())


def open_text(sealed: SealedText, keys: Sealing) -> str:
    """The text; ``[erased]`` once its record's key is destroyed.

    Text an earlier version kept in clear has no key: it reads ``[erased]`` only through
    its record, which knows that it was erased (see :meth:`Safecomm.texts`).
    """
    if sealed.clear is not None:
        return sealed.clear
    if not sealed.box:
        return ""
    found = keys.person_key(sealed.holder, create=False)
    if found is None or found[0] != sealed.key_id:
        return ERASED
    raw = base64.urlsafe_b64decode(sealed.box)
    try:
        plain = AESGCM(found[1]).decrypt(raw[:12], raw[12:], _aad(sealed.holder, sealed.key_id))
    except InvalidTag:
        return ERASED
    return plain.decode()


def legacy_text(text: str) -> SealedText:
    """Text an earlier version stored in clear, as the current events hold text."""
    return SealedText("", "", "", clear=text)


def sealed_from_v1(*names: str) -> Callable[[dict[str, Any]], None]:
    """An upcaster from an event version that kept the fields ``names`` in clear.

    The text stays as it was stored (events are never rewritten); it is shown only where
    sealed text is, and reads ``[erased]`` once its record is erased.
    """

    def upcast(state: dict[str, Any]) -> None:
        for name in names:
            value = state.get(name)
            if isinstance(value, str):
                state[name] = legacy_text(value)

    return upcast


def _aad(holder: str, key_id: str) -> bytes:
    # Binding the box to its record stops a box being copied onto another record.
    return f"text\x00{holder}\x00{key_id}".encode()
