"""The city's monthly roll-up: each subdistrict's figures as a scope, and the city's.

Each subdistrict's monthly report is made from its own views (its subdistrict figures,
scope ``*``), read through :data:`Views` (:func:`live_views` opens its store; a server
passes its own projectors); the roll-up names them by the subdistrict's id and adds the
city's figure (scope ``*``) of each indicator: a rate or a change from the summed numerators and
denominators; a median or a 90th percentile cannot be made from the subdistricts'
figures, so the city's is not applicable (``None``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import attrs

from safecomm_core.application import open_store
from safecomm_core.city import City, Subdistrict
from safecomm_core.projections import Projector
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Figure, Report
from safecomm_core.reports.monthly import monthly_report

__all__ = ["CITY", "Views", "city_report", "live_views", "rollup"]

#: The scope of the city's own figures.
CITY = "*"

T = TypeVar("T")


class Views(Protocol):
    """How a roll-up reads a subdistrict: runs ``build`` on a projector of its views and
    gives back what it returned."""

    def __call__(self, sub: Subdistrict, build: Callable[[Projector], T], /) -> T: ...


def live_views(sub: Subdistrict, build: Callable[[Projector], T]) -> T:
    """``build`` on the subdistrict's live views (its store opened for the call)."""
    with open_store(sub.store) as service, Projector(service) as projector:
        return build(projector)


def city_report(
    city: City,
    period: str | None = None,
    scope: str = CITY,
    *,
    generated_at: datetime | None = None,
) -> Report:
    """The roll-up of ``city`` for ``period`` (default: the latest month of any
    subdistrict) and ``scope`` (``*``: the city and every subdistrict; an id: that one)."""
    return rollup(city, live_views, period, scope, generated_at=generated_at)


def rollup(
    city: City,
    views: Views,
    period: str | None = None,
    scope: str = CITY,
    *,
    generated_at: datetime | None = None,
) -> Report:
    """The city's report (see :func:`city_report`), each subdistrict read by ``views``."""
    chosen = [city.subdistrict(scope)] if scope != CITY else list(city.subdistricts)

    def read(sub: Subdistrict, month: str | None) -> Report:
        return views(sub, lambda p: monthly_report(p, month, generated_at=generated_at))

    reports = {sub.id: read(sub, period) for sub in chosen}
    latest = max(r.period for r in reports.values())
    for sub in chosen:
        if reports[sub.id].period != latest:
            reports[sub.id] = read(sub, latest)
    figures: list[Figure] = []
    for sub in chosen:
        figures += [
            attrs.evolve(f, scope=sub.id) for f in reports[sub.id].figures if f.scope == "*"
        ]
    if scope == CITY:
        figures = [*_city_figures(figures, latest), *figures]
    return Report(
        kind="city-monthly",
        zh=f"{city.name} 月度汇总",
        en=f"{city.name} monthly roll-up",
        period=latest,
        scope=scope,
        generated_at=generated_at or datetime.now(UTC),
        figures=tuple(figures),
    )


def _city_figures(figures: list[Figure], period: str) -> list[Figure]:
    found = []
    for id, definition in DEFINITIONS.items():
        mine = [f for f in figures if f.id == id]
        if not mine:
            continue
        summed = definition.kind in ("rate", "change")
        numerator = sum(f.numerator for f in mine) if summed else 0.0
        denominator = sum(f.denominator or 0.0 for f in mine) if summed else None
        found.append(
            Figure(
                id=id,
                numerator=numerator,
                denominator=denominator,
                value=numerator / denominator if denominator else None,
                period=period,
                scope=CITY,
                definition_version=mine[0].definition_version,
                basis=mine[0].basis,
            )
        )
    return found
