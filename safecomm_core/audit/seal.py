"""Seals: an Ed25519 signature over a point of the chain, and the keys that make them.

A seal says "the store called *store* held, up to notification *position*, the rows
whose chain value is *hash*", signed at *sealed_at* with the key *key_id*. The private key
lives in a file outside the store (:func:`generate_key` writes it with mode 0600 and the
public key beside it, ``FILE.pub``); whoever can write to the database then cannot forge a
seal, and whoever holds the public key can check one.

The signed message is exact bytes, so that a third party can check a seal with any
Ed25519 tool::

    b"safecomm audit seal v1\\n" + JSON of {"hash", "key_id", "position", "sealed_at",
    "store"} with sorted keys, separators "," and ":", ASCII only

``hash`` is the chain value in lower-case hex, ``sealed_at`` an ISO 8601 UTC time,
``key_id`` the first 16 hex digits of SHA-256 of the raw 32-byte public key. A published
seal is one JSON line (:meth:`Seal.to_json`): those fields, the raw public key and the
signature in base64.

Each seal made from the command line is also appended to a **seal log** outside the store
(:func:`append_seal_log`: one JSON line per seal, ``SAFECOMM_SEAL_LOG`` or
``safecomm-seal.log`` beside the sealing key), which verification reads and holds the
stored seals to: whoever can rewrite the store cannot delete seals unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from safecomm_core.audit.errors import AuditError, KeyFileError

__all__ = [
    "SEAL_LOG_ENV",
    "Seal",
    "append_seal_log",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_path",
    "read_seal_log",
    "seal_log_path",
    "sign_seal",
]

#: The variable naming the seal log; without it, ``safecomm-seal.log`` beside the key.
SEAL_LOG_ENV = "SAFECOMM_SEAL_LOG"
_SEAL_LOG_NAME = "safecomm-seal.log"

_CONTEXT = b"safecomm audit seal v1\n"
_FIELDS = ("hash", "key_id", "position", "sealed_at", "store")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_path(private_key_file: str | os.PathLike[str]) -> Path:
    """Where :func:`generate_key` puts the public key of ``private_key_file``: ``FILE.pub``."""
    path = Path(private_key_file)
    return path.with_name(path.name + ".pub")


def generate_key(out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write a new Ed25519 key: ``out`` (private, PEM, mode 0600) and ``out.pub`` (public).

    Refuses to overwrite either file: a lost sealing key cannot be recovered, and a
    replaced one would make the seals it made unverifiable with the new ``.pub``.
    """
    private_path = Path(out)
    public_path = public_key_path(private_path)
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(f"{path} exists; not overwriting a key", field="out")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        # O_EXCL: never follow a file or link someone put there since the check above;
        # the mode is set at creation, so the key is never readable by others.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(public_pem)
    except OSError as exc:
        raise KeyFileError(f"cannot write the key: {exc}", field="out") from exc
    return private_path, public_path


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read a sealing key written by :func:`generate_key` (PEM, PKCS#8, not encrypted)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file: {exc}", field="key") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path} is not an unencrypted PEM private key ({exc})", field="key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key", field="key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read a public key: the ``.pub`` PEM file, or the base64 raw key a seal carries."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the public key file: {exc}", field="public_key") from exc
    return parse_public_key(data, str(path))


def parse_public_key(data: bytes, source: str = "public key") -> Ed25519PublicKey:
    """A public key from PEM bytes or from the base64 of its 32 raw bytes."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
            if isinstance(key, Ed25519PublicKey):
                return key
            raise KeyFileError(f"{source} is not an Ed25519 public key", field="public_key")
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise KeyFileError(
            f"{source} is not an Ed25519 public key ({exc})", field="public_key"
        ) from None


@attrs.frozen
class Seal:
    """A signed point of the chain: the store held ``hash`` up to ``position``."""

    store: str
    position: int
    hash: str
    sealed_at: str
    key_id: str
    public_key: str
    signature: str

    def message(self) -> bytes:
        """The exact bytes that are signed (see the module's docstring)."""
        fields = {name: getattr(self, name) for name in _FIELDS}
        return _CONTEXT + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def key(self) -> Ed25519PublicKey:
        """The public key carried by the seal (trust it only if you trust where it came from)."""
        return parse_public_key(self.public_key.encode(), "the seal's public key")

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """Whether ``public_key`` made this seal's signature over its message."""
        if key_id(public_key) != self.key_id:
            return False
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def sealed_time(self) -> datetime:
        """``sealed_at`` as a datetime."""
        return datetime.fromisoformat(self.sealed_at)

    def to_dict(self) -> dict[str, Any]:
        """The seal as a JSON object."""
        return attrs.asdict(self)

    def to_json(self) -> str:
        """One line of JSON, for publication (e.g. in the monthly report)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seal:
        """Read a seal back from :meth:`to_dict`; ``ValueError`` when it is not one."""
        names = [a.name for a in attrs.fields(cls)]
        if not isinstance(data, dict) or sorted(data) != sorted(names):
            raise ValueError(f"a seal has exactly the fields {', '.join(names)}")
        if type(data["position"]) is not int:
            raise ValueError("a seal's position is an integer")
        if not all(isinstance(data[n], str) for n in names if n != "position"):
            raise ValueError("a seal's fields other than position are strings")
        return cls(**data)

    @classmethod
    def from_json(cls, line: str) -> Seal:
        """Read a published seal (one JSON line)."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a seal: {exc}") from None
        return cls.from_dict(data)


def sign_seal(
    private_key: Ed25519PrivateKey,
    *,
    store: str,
    position: int,
    chain_hash: bytes,
    sealed_at: datetime | None = None,
) -> Seal:
    """Sign (store, position, chain hash, time) with ``private_key``."""
    moment = (sealed_at or datetime.now(UTC)).astimezone(UTC)
    public = private_key.public_key()
    unsigned = Seal(
        store=store,
        position=position,
        hash=chain_hash.hex(),
        sealed_at=moment.isoformat(),
        key_id=key_id(public),
        public_key=base64.b64encode(_raw(public)).decode(),
        signature="",
    )
    signature = private_key.sign(unsigned.message())
    return attrs.evolve(unsigned, signature=base64.b64encode(signature).decode())


def seal_log_path(key_file: str | os.PathLike[str] | None) -> Path | None:
    """The seal log: ``SAFECOMM_SEAL_LOG``, else ``safecomm-seal.log`` beside ``key_file``.

    ``key_file`` is the sealing key or its ``.pub``: both sit in the same folder. None when
    neither is known.
    """
    named = os.environ.get(SEAL_LOG_ENV)
    if named:
        return Path(named)
    return Path(key_file).with_name(_SEAL_LOG_NAME) if key_file is not None else None


def append_seal_log(path: str | os.PathLike[str], seal: Seal) -> None:
    """Append ``seal`` to the log at ``path`` (made with mode 0600), synced before return."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(seal.to_json() + "\n")
            log.flush()
            os.fsync(log.fileno())
    except OSError as exc:
        raise AuditError(
            f"the seal is stored, but could not be added to the seal log {path}: {exc}"
        ) from exc


def read_seal_log(path: str | os.PathLike[str]) -> list[Seal]:
    """The seals in the log at ``path``, oldest first."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"cannot read the seal log {path}: {exc}") from exc
    seals = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            seals.append(Seal.from_json(line))
        except ValueError as exc:
            raise AuditError(f"{path}:{number} is not a seal: {exc}") from None
    return seals
