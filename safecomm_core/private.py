"""Files safecomm writes are its owner's only: mode 0600 unless configured otherwise.

Stores, key stores, views, exports, seal keys and seal logs hold personal data or
secrets. :func:`create_private` makes a file 0600 before SQLite opens it (SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode); :func:`private_umask` sets the
process's umask for the command line, so that every file it writes is born private.
``SAFECOMM_UMASK`` (octal, e.g. ``027``) chooses another umask.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["create_private", "private_umask"]

#: The umask applied when ``SAFECOMM_UMASK`` does not name one: files 0600, folders 0700.
DEFAULT_UMASK = 0o077


def create_private(path: str) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (never follows a link)."""
    if path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def private_umask() -> int:
    """Set the process umask (``SAFECOMM_UMASK`` or 077) and return the one it replaces."""
    configured = os.environ.get("SAFECOMM_UMASK")
    try:
        mask = int(configured, 8) if configured else DEFAULT_UMASK
    except ValueError:
        mask = DEFAULT_UMASK
    return os.umask(mask & 0o777)
