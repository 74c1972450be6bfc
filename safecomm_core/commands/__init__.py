"""Every command, registered by type when this package is imported."""

from safecomm_core.commands import dispute, meeting, phase, rules
from safecomm_core.commands.base import COMMANDS, Command, Context, command_to_json, parse_command

__all__ = [
    "COMMANDS",
    "Command",
    "Context",
    "command_to_json",
    "dispute",
    "meeting",
    "parse_command",
    "phase",
    "rules",
]
