"""The master key: it wraps every key the key store holds, and is never kept in a store.

A key store keeps person keys and system secrets only *wrapped* (AES-GCM) by the master
key, so a copy of every store file or table opens nothing without it. The master key
comes, in this order, from:

- ``SAFECOMM_MASTER_KEY``: the base64 of 32 random bytes (for containers and CI);
- ``SAFECOMM_MASTER_KEY_FILE``: a file holding that base64 line, mode 0600;
- ``master.key`` in the user's configuration folder (``$XDG_CONFIG_HOME/safecomm``,
  else ``~/.config/safecomm``): never beside a store, so that copying a store's folder
  does not copy its key.

``safecomm keys init`` writes the key file; ``safecomm keys rotate`` replaces it and
re-wraps a store's live keys (see ``docs/personal-data.md``). :class:`MasterKey` is the
interface the key stores use, so that a key management service can stand in for the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safecomm_core.errors import StoreError

__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "LocalMasterKey",
    "MasterKey",
    "MasterKeyError",
    "create_key_file",
    "default_key_file",
    "ensure_key_file",
    "key_file",
    "load_master_key",
    "rotate_key_file",
]

ENV_KEY = "SAFECOMM_MASTER_KEY"
ENV_KEY_FILE = "SAFECOMM_MASTER_KEY_FILE"

_KEY_BYTES = 32


class MasterKeyError(StoreError):
    """The master key is missing, malformed, readable by others, or not the store's."""


class MasterKey(Protocol):
    """A key-encryption key: wraps and unwraps small secrets bound to a context."""

    @property
    def key_id(self) -> str:
        """A short id naming this key (not derived in a way that reveals it)."""

    @property
    def source(self) -> str:
        """Where the key came from, for messages (never the key itself)."""

    def wrap(self, plain: bytes, context: bytes) -> bytes:
        """``plain`` encrypted and authenticated, bound to ``context``."""

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """What :meth:`wrap` wrapped with the same ``context``; :class:`MasterKeyError` else."""


class LocalMasterKey:
    """A master key held by this process: AES-256-GCM with a random nonce per wrap."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != _KEY_BYTES:
            raise MasterKeyError(
                f"the master key from {source} must be {_KEY_BYTES} bytes, not {len(key)}",
                field="master_key",
                rule="32 bytes",
            )
        self._aead = AESGCM(key)
        self._key = key
        self.source = source
        self.key_id = hashlib.sha256(b"safecomm master key id\x00" + key).hexdigest()[:16]

    @classmethod
    def generate(cls, source: str = "a new key") -> LocalMasterKey:
        """A new random master key."""
        return cls(os.urandom(_KEY_BYTES), source)

    def encoded(self) -> str:
        """The key as the base64 line that a key file or ``SAFECOMM_MASTER_KEY`` holds."""
        return base64.b64encode(self._key).decode()

    def wrap(self, plain: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], context)
        except InvalidTag:
            raise MasterKeyError(
                f"the master key from {self.source} does not open this store's keys",
                field="master_key",
                rule="the key the store's keys are wrapped with",
            ) from None

    def __repr__(self) -> str:
        return f"LocalMasterKey(key_id={self.key_id!r}, source={self.source!r})"


def default_key_file() -> Path:
    """``master.key`` in the user's configuration folder (never beside a store)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "safecomm" / "master.key"


def key_file() -> Path:
    """The master key file in force: ``SAFECOMM_MASTER_KEY_FILE``, else the default."""
    named = os.environ.get(ENV_KEY_FILE)
    return Path(named) if named else default_key_file()


def load_master_key() -> LocalMasterKey:
    """The master key in force (see the module's notes); :class:`MasterKeyError` if none."""
    encoded = os.environ.get(ENV_KEY)
    if encoded:
        return _decode(encoded, f"${ENV_KEY}")
    path = key_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MasterKeyError(
            f"no master key: {path} does not exist. Create it with 'safecomm keys init', "
            f"or set {ENV_KEY} (base64 of 32 bytes) or {ENV_KEY_FILE}",
            field="master_key",
            rule="required to open a store's keys",
        ) from None
    except OSError as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise MasterKeyError(
            f"the master key file {path} is readable by others "
            f"(mode {stat.S_IMODE(mode):04o}); make it 0600: chmod 600 {path}",
            field="master_key",
            rule="mode 0600",
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc}") from None
    return _decode(text, str(path))


def create_key_file(path: Path) -> LocalMasterKey:
    """Write a new master key to ``path``, mode 0600; never overwrites a file."""
    key = LocalMasterKey.generate(str(path))
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: an existing key (or a link put there) is never replaced or followed.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MasterKeyError(
            f"{path} exists; not overwriting a master key (the keys it wraps would be lost)",
            field="master_key",
            rule="never overwritten",
        ) from None
    except OSError as exc:
        raise MasterKeyError(f"cannot create the master key file {path}: {exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.encoded() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def _decode(encoded: str, source: str) -> LocalMasterKey:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(
            f"the master key from {source} is not base64", field="master_key", rule="base64"
        ) from None
    return LocalMasterKey(key, source)


def ensure_key_file() -> Path | None:
    """Create the default master key file if no master key is configured; its path if made.

    For a first run with nothing set up (``safecomm demo``); anything configured is left
    alone, and a configured file that is missing is not made here but reported on use.
    """
    if os.environ.get(ENV_KEY) or os.environ.get(ENV_KEY_FILE):
        return None
    path = default_key_file()
    if path.exists():
        return None
    create_key_file(path)
    return path


def rotate_key_file(path: Path, rewrap: Callable[[LocalMasterKey, LocalMasterKey], None]) -> None:
    """Replace the master key in ``path`` by a new one; ``rewrap(old, new)`` moves the keys.

    The new key is written first to ``path.next`` (so that it survives a crash while the
    keys are re-wrapped), then moved over ``path``, which retires the old key.
    """
    old = load_master_key()
    if old.source != str(path):
        raise MasterKeyError(
            f"the master key in force comes from {old.source}, not from a file: rotation "
            f"writes the new key to a file; unset {ENV_KEY} and use {ENV_KEY_FILE}",
            field="master_key",
            rule="rotated in its file",
        )
    staged = path.with_name(path.name + ".next")
    if staged.exists():
        raise MasterKeyError(
            f"{staged} exists: an earlier rotation stopped midway. If the stores open with "
            f"{path}, delete {staged}; if they do not, move {staged} to {path}",
            field="master_key",
            rule="one rotation at a time",
        )
    new = create_key_file(staged)
    rewrap(old, new)
    os.replace(staged, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename is durable before the old key is called retired
    finally:
        os.close(folder)
