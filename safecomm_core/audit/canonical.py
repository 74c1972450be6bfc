"""The ledger's definition: how a stored event is encoded and how rows are chained.

Every stored event (one row of the notification log) is encoded as ``canonical(row)``;
the rows are chained in notification order::

    h_0 = GENESIS = SHA-256(b"safecomm audit ledger v1")
    h_i = SHA-256(h_{i-1} ‖ canonical(row_i))

``canonical(row)`` is the concatenation, integers big-endian:

=========  =====================  ==================================================
bytes      field                  value
=========  =====================  ==================================================
8          position               the notification id, signed 64-bit
4          length of the id       n, unsigned 32-bit
n          originator id          UTF-8 of the id as 32 lower-case hex digits (a
                                  UUID without dashes, as eventsourcing's SQLite
                                  recorder writes it); any other stored text as is
8          version                the originator version, signed 64-bit
4          length of the topic    m, unsigned 32-bit
m          topic                  UTF-8 of the stored topic
32         state digest           SHA-256 of the stored state bytes, exactly as
                                  stored (encrypted and compressed, if so configured)
=========  =====================  ==================================================

Why the state enters through its digest: the chain can then be recomputed from ledger
entries alone (position, id, version, topic, digest), so an evidence bundle can prove a
row's place in the sealed history while leaving out the bytes of rows it does not
need, and the ledger can name a changed row without keeping a copy of it.

A row whose stored fields have the wrong types (only raw SQL can do that: a state
stored as text, a version that is not an integer) is *malformed*; its canonical form is
``0xFF ‖ repr`` of the fields, which can never equal a well-formed row's (those begin
with the position's high byte, below 0x80), so it never matches a seal.

The functions here are the only implementation of the definition: the follower, the
verifier and the tests all use them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from typing import Any

import attrs

__all__ = [
    "GENESIS",
    "LedgerEntry",
    "MalformedRow",
    "RawRow",
    "canonical",
    "chain",
    "chain_counted",
    "chain_rows",
    "entry_row",
    "entry_rows",
    "raw_canonical",
    "state_digest",
]

#: The chain's value before the first row.
GENESIS = hashlib.sha256(b"safecomm audit ledger v1").digest()

#: A row as read from the store: (position, originator id, version, topic, state).
#: Typed loosely because raw SQL can put anything in a column, and the ledger must say so
#: rather than fail.
RawRow = tuple[Any, Any, Any, Any, Any]

_sha256 = hashlib.sha256
# One compiled struct per (id length, topic length): both take few values (ids are all
# 32 hex digits, topics a few dozen names), and one pack call is much faster than six.
_LAYOUTS: dict[tuple[int, int], struct.Struct] = {}


def _layout(id_length: int, topic_length: int) -> struct.Struct:
    layout = struct.Struct(f">qI{id_length}sqI{topic_length}s32s")
    if len(_LAYOUTS) < 4096:  # bounded: tampered rows could bring any lengths
        _LAYOUTS[(id_length, topic_length)] = layout
    return layout


def state_digest(state: bytes) -> bytes:
    """SHA-256 of a row's stored state bytes."""
    return _sha256(state).digest()


def canonical(position: int, originator_id: str, version: int, topic: str, digest: bytes) -> bytes:
    """The canonical encoding of one row, given the digest of its state (see above).

    Raises ``TypeError``, ``AttributeError``, ``UnicodeEncodeError`` or ``struct.error``
    when a field has the wrong type or range.
    """
    if type(digest) is not bytes or len(digest) != 32:
        raise TypeError("a state digest is 32 bytes")
    return _encode(position, originator_id, version, topic, digest)


def _encode(position: int, originator_id: str, version: int, topic: str, digest: bytes) -> bytes:
    oid = originator_id.encode()
    top = topic.encode()
    layout = _LAYOUTS.get((len(oid), len(top))) or _layout(len(oid), len(top))
    return layout.pack(position, len(oid), oid, version, len(top), top, digest)


def raw_canonical(row: RawRow) -> bytes:
    """The canonical encoding of a row as read from the store, malformed or not."""
    position, originator_id, version, topic, state = row
    try:
        # Wrong types fail inside: bytes have no .encode(), text is no integer for struct,
        # and text has no buffer for SHA-256.
        return _encode(position, originator_id, version, topic, _sha256(state).digest())
    except (TypeError, AttributeError, UnicodeEncodeError, struct.error):
        return b"\xff" + repr(row).encode("utf-8", "backslashreplace")


def chain(previous: bytes, encoded: bytes) -> bytes:
    """The next chain value: SHA-256(previous ‖ canonical(row))."""
    return _sha256(previous + encoded).digest()


# topic → (pack, topic length, topic bytes) of the layout of ``previous ‖ canonical(row)``
# for 32-character ids: nearly every row has one, looking the layout up by topic alone
# saves building a key, and packing the previous value with the row saves a copy.
_BY_TOPIC: dict[str, tuple[Callable[..., bytes], int, bytes]] = {}


def chain_rows(previous: bytes, rows: Iterable[RawRow]) -> bytes:
    """Chain rows read from the store onto ``previous``, in order.

    The same as ``chain(previous, raw_canonical(row))`` row after row, written
    out in one loop (:func:`chain_counted`) because it runs once per stored event when
    verifying: two SHA-256 and one struct pack per row, nothing else on the common path.
    """
    return chain_counted(previous, rows)[0]


def chain_counted(previous: bytes, rows: Iterable[RawRow]) -> tuple[bytes, int, Any]:
    """:func:`chain_rows`, also giving how many rows there were and the last one's
    position (None if none): counted in the loop, so that rows can be read as a
    stream (a cursor) rather than gathered in lists to be counted."""
    h = previous
    count = 0
    position: Any = None
    rest = iter(rows)
    if len(h) != 32:  # not a chain value (the packed layout holds 32 bytes): as defined
        for row in rest:
            h = chain(h, raw_canonical(row))
            count, position = 1, row[0]
            break
    sha = _sha256
    by_topic = _BY_TOPIC
    for row in rest:
        position, originator_id, version, topic, state = row
        count += 1
        try:
            oid = originator_id.encode()
            pack, topic_length, topic_bytes = by_topic[topic]
            if len(oid) != 32:
                raise KeyError(topic)
            h = sha(
                pack(h, position, 32, oid, version, topic_length, topic_bytes, sha(state).digest())
            ).digest()
            continue
        except KeyError:
            encoded = raw_canonical(row)
            _learn_topic(topic, encoded)
        except (TypeError, AttributeError, UnicodeEncodeError, struct.error):
            encoded = raw_canonical(row)
        h = sha(h + encoded).digest()
    return h, count, position


def _learn_topic(topic: Any, encoded: bytes) -> None:
    """Remember the packed layout of a well-formed row's topic (see ``_BY_TOPIC``)."""
    if type(topic) is str and encoded[:1] != b"\xff" and len(_BY_TOPIC) < 4096:
        top = topic.encode()
        layout = struct.Struct(f">32sqI32sqI{len(top)}s32s")
        _BY_TOPIC[topic] = (layout.pack, len(top), top)


class MalformedRow(ValueError):
    """A stored event whose fields have the wrong types (see the module's docstring)."""


@attrs.frozen
class LedgerEntry:
    """What the ledger keeps of one row: enough to re-encode it, and the chain after it."""

    position: int
    originator_id: str
    version: int
    topic: str
    state_digest: bytes
    chain: bytes

    def encoded(self) -> bytes:
        """``canonical(row)`` of the row this entry was made from."""
        return canonical(
            self.position, self.originator_id, self.version, self.topic, self.state_digest
        )

    @classmethod
    def of(cls, row: RawRow, previous: bytes) -> LedgerEntry:
        """The entry of a row read from the store, chained onto ``previous``.

        Raises :class:`MalformedRow` when the row's fields have the wrong types.
        """
        return cls(*entry_row(row, previous))


#: A ledger entry as a plain tuple, as the ledger's table holds it: (position, originator
#: id, version, topic, state digest, chain value).
EntryRow = tuple[int, str, int, str, bytes, bytes]


def entry_row(row: RawRow, previous: bytes) -> EntryRow:
    """The :class:`LedgerEntry` of a row, chained onto ``previous``, as a plain tuple
    (cheaper to make than the entry, by half, when the ledger catches up).

    Raises :class:`MalformedRow` when the row's fields have the wrong types.
    """
    return _entry_of(row, raw_canonical(row), previous)


def _entry_of(row: RawRow, encoded: bytes, previous: bytes) -> EntryRow:
    if encoded[:1] == b"\xff":
        raise MalformedRow(f"stored record at position {row[0]} is malformed")
    return (row[0], row[1], row[2], row[3], encoded[-32:], chain(previous, encoded))


def entry_rows(previous: bytes, rows: Iterable[RawRow]) -> list[EntryRow]:
    """:func:`entry_row` of each row in turn, each chained onto the one before.

    Written out in one loop, as :func:`chain_counted`, because the ledger's catch-up runs
    it once per stored event: on the common path two SHA-256, one struct pack and the
    entry's tuple per row.

    Raises :class:`MalformedRow` when a row's fields have the wrong types.
    """
    entries: list[EntryRow] = []
    append = entries.append
    rest = iter(rows)
    if len(previous) != 32:  # not a chain value (the packed layout holds 32 bytes)
        for row in rest:
            append(entry_row(row, previous))
            previous = entries[-1][5]
            break
    h = previous
    sha = _sha256
    by_topic = _BY_TOPIC
    for row in rest:
        position, originator_id, version, topic, state = row
        try:
            oid = originator_id.encode()
            pack, topic_length, topic_bytes = by_topic[topic]
            if len(oid) != 32:
                raise KeyError(topic)
            digest = sha(state).digest()
            h = sha(pack(h, position, 32, oid, version, topic_length, topic_bytes, digest)).digest()
        except (KeyError, TypeError, AttributeError, UnicodeEncodeError, struct.error):
            encoded = raw_canonical(row)
            _learn_topic(topic, encoded)
            entry = _entry_of(row, encoded, h)  # MalformedRow for what cannot be encoded
            append(entry)
            h = entry[5]
            continue
        append((position, originator_id, version, topic, digest, h))
    return entries
