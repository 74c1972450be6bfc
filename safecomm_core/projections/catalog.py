"""The projections safecomm ships: what ``safecomm project`` keeps up to date.

Add a projection here (one import, one entry) once its module defines it.
"""

from __future__ import annotations

from safecomm_core.projections.definition import Projection

__all__ = ["builtin_projections"]


def builtin_projections() -> tuple[Projection, ...]:
    """Every shipped projection, in the order they are caught up."""
    from safecomm_core.projections.broadcasts import BROADCASTS
    from safecomm_core.projections.campaigns import CAMPAIGNS
    from safecomm_core.projections.disputes import DISPUTES
    from safecomm_core.projections.evidence import EVIDENCE
    from safecomm_core.projections.grid_alerts import ALERTS
    from safecomm_core.projections.meetings import MEETINGS
    from safecomm_core.projections.migrants import MIGRANTS
    from safecomm_core.projections.patrols import PATROLS
    from safecomm_core.projections.phases import PHASES
    from safecomm_core.projections.police_statistics import POLICE
    from safecomm_core.projections.populations import POPULATIONS
    from safecomm_core.projections.prevention_assets import ASSETS
    from safecomm_core.projections.rules import RULEBOOK
    from safecomm_core.projections.surveys import SURVEYS
    from safecomm_core.projections.targets import TARGETS

    return (
        DISPUTES,
        RULEBOOK,
        PATROLS,
        ALERTS,
        SURVEYS,
        CAMPAIGNS,
        BROADCASTS,
        ASSETS,
        POLICE,
        POPULATIONS,
        TARGETS,
        MIGRANTS,
        PHASES,
        MEETINGS,
        EVIDENCE,
    )
