"""Every error safecomm raises on purpose.

Each error subclasses both :class:`SafecommError` and the matching built-in, so that
callers' existing ``except ValueError`` / ``except LookupError`` clauses keep working::

    SafecommError
    ├── InvalidCommand            (ValueError)       bad input: a field broke a rule
    │   └── UnknownCommandType                       "type" names no command
    ├── RuleViolation             (ValueError)       valid input, refused by a domain rule
    │   └── InvalidTransition                        not allowed in the record's present state
    ├── AlreadyExists             (ValueError)       a caller-chosen id is taken
    ├── CommandIdReused           (ValueError)       same command_id, different content
    ├── NotFound                  (LookupError)      no record with that id
    ├── PersonErased              (LookupError)      personal data destroyed on request
    ├── Forbidden                 (PermissionError)  the principal may not do this
    ├── StoreError                (RuntimeError)     the store URL or the database failed
    │   └── MasterKeyError                           no master key, or not the store's (exit 2)
    ├── ConcurrencyConflict       (RuntimeError)     lost a write race too many times
    └── AuditError                (RuntimeError)     the audit could not be done
        ├── KeyFileError          (ValueError)       a key file is missing, unreadable or wrong
        └── TamperDetected                           the record was altered

:class:`~safecomm_core.masterkey.MasterKeyError` lives in :mod:`safecomm_core.masterkey`.
The audit's errors live in :mod:`safecomm_core.audit.errors` (imported from
:mod:`safecomm_core.audit`), so that this module needs nothing of the audit.

Every error carries its ``message`` and, where one applies, the ``field`` and ``rule`` it is
about. Nothing is written when any of them is raised. The errors say what went wrong, not
how a program should end: a caller decides that (the ``safecomm`` command maps each class to
an exit status in :mod:`safecomm_cli.exit_status`).
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "CommandIdReused",
    "ConcurrencyConflict",
    "FieldError",
    "Forbidden",
    "InvalidCommand",
    "InvalidTransition",
    "NotFound",
    "PersonErased",
    "RuleViolation",
    "SafecommError",
    "StoreError",
    "UnknownCommandType",
]

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One reason a command was refused: the field's dotted path and the rule it broke."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class SafecommError(Exception):
    """Base of every error safecomm raises on purpose."""

    def __init__(self, message: str, *, field: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        return self.message


class InvalidCommand(SafecommError, ValueError):
    """The command is malformed: one or more fields break a rule of the command's shape."""

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0] if self.errors else FieldError("", "invalid command")
        super().__init__("; ".join(map(str, self.errors)), field=first.field, rule=first.rule)


class UnknownCommandType(InvalidCommand):
    """The command's ``type`` is not one safecomm knows."""


class RuleViolation(SafecommError, ValueError):
    """The command is well formed but a domain rule refuses it."""


class InvalidTransition(RuleViolation):
    """The command is not allowed in the record's present state."""


class AlreadyExists(SafecommError, ValueError):
    """A record with the caller-chosen id already exists, or one holds what was asked for.

    ``holder`` names the record that holds it (kind, ref, community) where the message must
    not: the service names it only to a caller allowed to read that record.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        rule: str = "",
        holder: tuple[str, str, str] | None = None,
    ) -> None:
        super().__init__(message, field=field, rule=rule)
        self.holder = holder


class CommandIdReused(SafecommError, ValueError):
    """A ``command_id`` was sent again with different content."""


class NotFound(SafecommError, LookupError):
    """No record of that kind has that id."""

    def __init__(self, kind: str, ref: str, field: str = "") -> None:
        super().__init__(
            f"no {kind} with id {ref!r}", field=field or f"{kind}_id", rule="must exist"
        )
        self.kind = kind
        self.ref = ref


class PersonErased(SafecommError, LookupError):
    """The person's data key was destroyed: their personal data can no longer be read."""


class Forbidden(SafecommError, PermissionError):
    """The authenticated principal may not issue this command or make this read."""


class StoreError(SafecommError, RuntimeError):
    """The store could not be opened or used (bad URL, database unreachable)."""


class ConcurrencyConflict(SafecommError, RuntimeError):
    """Other writers kept changing the same records; the command was not applied."""
