"""The exit status each of safecomm's errors ends the ``safecomm`` command with.

The library's errors say what went wrong, not how a process should end: the statuses are the
command line's, and this table is their one source. An error's status is that of the first
class of its MRO the table names (most specific first), so a subclass shares its parent's
(``UnknownCommandType`` is bad input like ``InvalidCommand``, ``ViewDatabaseError`` a store
failure like ``StoreError``) unless the table names it itself (``KeyFileError`` is an
``AuditError`` but bad input, ``MasterKeyError`` a ``StoreError`` but a setting to fix)::

    0  done                         4  not found, or personal data erased
    1  any other safecomm error     5  store unavailable (views included)
    2  bad input                    6  lost a write race too many times
    3  refused by a rule            7  the audit could not be done
                                    8  tamper detected
                                    9  not allowed for the principal
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from safecomm_reports.render import UnsupportedOutput

from safecomm_core.audit.errors import AuditError, KeyFileError, TamperDetected
from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    Forbidden,
    InvalidCommand,
    NotFound,
    PersonErased,
    RuleViolation,
    SafecommError,
    StoreError,
)
from safecomm_core.indicators import UnknownIndicator
from safecomm_core.masterkey import MasterKeyError

__all__ = ["EXIT_STATUS", "exit_status"]

EXIT_STATUS: Mapping[type[SafecommError], int] = MappingProxyType(
    {
        SafecommError: 1,
        InvalidCommand: 2,
        KeyFileError: 2,
        MasterKeyError: 2,
        UnknownIndicator: 2,
        UnsupportedOutput: 2,
        RuleViolation: 3,
        AlreadyExists: 3,
        CommandIdReused: 3,
        NotFound: 4,
        PersonErased: 4,
        StoreError: 5,
        ConcurrencyConflict: 6,
        AuditError: 7,
        TamperDetected: 8,
        Forbidden: 9,
    }
)


def exit_status(error: type[SafecommError]) -> int:
    """The status the command exits with on ``error``: its most specific class in the table."""
    return next(EXIT_STATUS[kind] for kind in error.__mro__ if kind in EXIT_STATUS)
