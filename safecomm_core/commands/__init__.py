"""Every command, registered by type when this package is imported."""

from safecomm_core.commands import (
    broadcast,
    campaign,
    dispute,
    grid_alert,
    grid_network,
    meeting,
    migrant,
    patrol,
    phase,
    police_statistic,
    population,
    prevention_asset,
    rules,
    survey,
    targets,
)
from safecomm_core.commands.base import COMMANDS, Command, Context, command_to_json, parse_command

__all__ = [
    "COMMANDS",
    "Command",
    "Context",
    "broadcast",
    "campaign",
    "command_to_json",
    "dispute",
    "grid_alert",
    "grid_network",
    "meeting",
    "migrant",
    "parse_command",
    "patrol",
    "phase",
    "police_statistic",
    "population",
    "prevention_asset",
    "rules",
    "survey",
    "targets",
]
