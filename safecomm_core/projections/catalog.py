"""The projections safecomm ships: what ``safecomm project`` keeps up to date.

Add a projection here (one import, one entry) once its module defines it.
"""

from __future__ import annotations

from safecomm_core.projections.definition import Projection

__all__ = ["builtin_projections"]


def builtin_projections() -> tuple[Projection, ...]:
    """Every shipped projection, in the order they are caught up."""
    from safecomm_core.projections.disputes import DISPUTES

    return (DISPUTES,)
