"""safecomm: event-sourced records, reports and audits for a Safe Community programme.

Open a store, handle commands, query records::

    from safecomm_core import open_store, parse_command

    with open_store("sqlite:///safecomm.db") as store:
        store.handle(parse_command({...}))
"""

from safecomm_core.access import Principal
from safecomm_core.application import open_store
from safecomm_core.commands import COMMANDS, Command, command_to_json, parse_command
from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    FieldError,
    Forbidden,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    PersonErased,
    RuleViolation,
    SafecommError,
    StoreError,
    UnknownCommandType,
)
from safecomm_core.history import HistoryEntry
from safecomm_core.personal import PersonData, PersonInput
from safecomm_core.service import Outcome, Safecomm
from safecomm_core.values import Actor, Channel, Meta, Role

__all__ = [
    "COMMANDS",
    "Actor",
    "AlreadyExists",
    "Channel",
    "Command",
    "CommandIdReused",
    "ConcurrencyConflict",
    "FieldError",
    "Forbidden",
    "HistoryEntry",
    "InvalidCommand",
    "InvalidTransition",
    "Meta",
    "NotFound",
    "Outcome",
    "PersonData",
    "PersonErased",
    "PersonInput",
    "Principal",
    "Role",
    "RuleViolation",
    "Safecomm",
    "SafecommError",
    "StoreError",
    "UnknownCommandType",
    "command_to_json",
    "open_store",
    "parse_command",
]
