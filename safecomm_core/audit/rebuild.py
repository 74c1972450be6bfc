"""Rebuild check: every projection rebuilt from zero and held to its live view.

::

    from safecomm_core import open_store
    from safecomm_core.audit import rebuild_check

    with open_store("sqlite:///safecomm.db") as service:
        result = rebuild_check(service)
        print("\\n".join(result.summary()))

Each projection with a live view is rebuilt by
:meth:`Projector.rebuild_check <safecomm_core.projections.runner.Projector.rebuild_check>`
into a scratch generation beside the live one, up to the live view's position (readers
keep the live view throughout; the scratch generation is dropped afterwards), and the two
are compared table by table by their digests; where a table's digests differ, the rows
that differ are listed by key. The live view's digest is reported with the outcome, so
that it can be published or compared with another copy.

The check neither catches the live views up nor rebuilds them: it judges the views as they
stand. A projection that has never been built has nothing to compare and is listed as
such, not as a difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from safecomm_core.converter import converter
from safecomm_core.projections import Difference, Projection, Projector, builtin_projections
from safecomm_core.service import Safecomm

__all__ = ["ProjectionCheck", "RebuildCheck", "rebuild_check"]


@attrs.frozen
class ProjectionCheck:
    """One projection's outcome: its live view's digest, and the rows a rebuild gives otherwise."""

    projection: str
    #: False: the projection has no live view yet (nothing was compared).
    built: bool
    generation: int = 0
    position: int = 0
    digest: str = ""
    differences: tuple[Difference, ...] = ()

    @property
    def equal(self) -> bool:
        """True when the rebuild equals the live view (or there is no live view)."""
        return not self.differences


@attrs.frozen
class RebuildCheck:
    """The outcome of :func:`rebuild_check` over several projections."""

    projections: tuple[ProjectionCheck, ...]

    @property
    def equal(self) -> bool:
        """True when every rebuilt projection equals its live view."""
        return all(p.equal for p in self.projections)

    def summary(self, *, limit: int = 20) -> list[str]:
        """Lines for people: one per projection, then up to ``limit`` differing rows each."""
        lines = []
        for p in self.projections:
            if not p.built:
                lines.append(f"{p.projection}: not built yet (nothing to compare)")
            elif p.equal:
                lines.append(
                    f"{p.projection}: equal (generation {p.generation}, position "
                    f"{p.position}, digest {p.digest})"
                )
            else:
                lines.append(
                    f"{p.projection}: DIFFERS: {len(p.differences)} row(s) (live generation "
                    f"{p.generation}, position {p.position}, digest {p.digest})"
                )
                for d in p.differences[:limit]:
                    lines.append(f"  {d.table} {list(d.key)}: live {d.live} rebuilt {d.rebuilt}")
        differing = sum(1 for p in self.projections if not p.equal)
        verdict = "EQUAL" if self.equal else f"DIFFERENT: {differing} projection(s)"
        lines.append(f"{verdict}; {len(self.projections)} projection(s) checked")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a JSON object (rows as the converter writes them)."""
        return {
            "equal": self.equal,
            "projections": [
                {
                    "projection": p.projection,
                    "built": p.built,
                    "generation": p.generation,
                    "position": p.position,
                    "digest": p.digest,
                    "equal": p.equal,
                    "differences": [
                        {
                            "table": d.table,
                            "key": converter.unstructure(list(d.key)),
                            "live": converter.unstructure(d.live),
                            "rebuilt": converter.unstructure(d.rebuilt),
                        }
                        for d in p.differences
                    ],
                }
                for p in self.projections
            ],
        }


def rebuild_check(
    service: Safecomm,
    projections: Iterable[Projection] | None = None,
    *,
    projector: Projector | None = None,
) -> RebuildCheck:
    """Rebuild every projection (default: the built-in ones) and compare with its live view."""
    chosen = list(builtin_projections() if projections is None else projections)
    if projector is None:
        with Projector(service) as own:
            return _check(own, chosen)
    return _check(projector, chosen)


def _check(projector: Projector, projections: list[Projection]) -> RebuildCheck:
    results = []
    for projection in projections:
        if projector.status(projection).live_generation == 0:
            results.append(ProjectionCheck(projection.name, built=False))
            continue
        live = projector.digest(projection)
        differences = projector.rebuild_check(projection)
        results.append(
            ProjectionCheck(
                projection.name,
                built=True,
                generation=live.generation,
                position=live.position,
                digest=live.value,
                differences=tuple(differences),
            )
        )
    return RebuildCheck(tuple(results))
