"""safecomm: event-sourced records, reports and audits for a Safe Community programme.

Open a store, handle commands, query records:

>>> from safecomm_core import open_store, parse_command
>>> from safecomm_core.domain.dispute import Dispute
>>> with open_store("memory://") as service:  # or "sqlite:///safecomm.db", "postgresql://…"
...     outcome = service.handle(parse_command({
...         "type": "dispute.report",
...         "command_id": "c-1",
...         "occurred_at": "2014-03-03T09:10:00+08:00",
...         "actor": {"id": "staff-017", "role": "mediator"},
...         "dispute_id": "d-2014-0001",
...         "community": "C1",
...         "kind": "neighbour",
...         "summary": "Water leaking from the flat above",
...         "parties": [{"ref": "p-1001", "name": "王建国", "role": "applicant"}],
...     }))
...     dispute = service.get(Dispute, "d-2014-0001")
>>> outcome.records
('dispute:d-2014-0001',)
>>> dispute.status.value, dispute.community
('reported', 'C1')
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
