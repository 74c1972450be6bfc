"""The audit's errors, under safecomm's one tree (:mod:`safecomm_core.errors`)::

    SafecommError
    └── AuditError                (RuntimeError)     the audit could not be done
        ├── KeyFileError          (ValueError)       a key file is missing, unreadable or wrong
        └── TamperDetected                            the record was altered

:class:`TamperDetected` is raised by :meth:`Verification.check
<safecomm_core.audit.verify.Verification.check>` and when the ledger meets a record it cannot
encode; :func:`~safecomm_core.audit.verify.verify` itself returns its findings instead of
raising, so that a script can print all of them.
"""

from __future__ import annotations

from safecomm_core.errors import SafecommError

__all__ = ["AuditError", "KeyFileError", "TamperDetected"]


class AuditError(SafecommError, RuntimeError):
    """The audit could not be done (the ledger or the seals could not be read or written)."""


class KeyFileError(AuditError, ValueError):
    """A key file is missing, unreadable, of the wrong kind, or would be overwritten."""


class TamperDetected(AuditError):
    """Verification found the stored events altered, or a seal that does not hold."""
