"""The reports the service serves, cut to who is asking.

The report functions are imported here and nowhere else in this adapter (but for the
city's roll-up, in :mod:`safecomm_http.city_reports`).

A report without a community is cut to the principal's communities: one community, that
one; all of them, the subdistrict (``*``); several, the request must name one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.converter import converter
from safecomm_core.dates import SUBDISTRICT_TZ, Month
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, Forbidden, InvalidCommand
from safecomm_core.projections import Projector
from safecomm_core.reports import monthly_report, self_assessment, watchlist
from safecomm_core.reports.model import Report
from safecomm_core.reports.provenance import EXPLAINED, Explanation, explain
from safecomm_core.reports.watch import DEFAULT_CLOSING_DAYS
from safecomm_core.validation import EARLIEST_DAY, LATEST_DAY

__all__ = [
    "CITY_INDICATORS",
    "DEFAULT_CLOSING_DAYS",
    "INDICATORS",
    "REPORTS",
    "ReportQuery",
    "check_day",
    "check_period",
    "explained",
    "explanation_data",
    "scope_for",
]

#: The reports served at ``/v1/reports/{name}``.
REPORTS = ("monthly", "self-assessment", "watchlist")
#: The indicators ``/v1/reports/explain/{indicator}`` explains.
INDICATORS = tuple(EXPLAINED)
#: The indicators ``/v1/city/reports/explain/{indicator}`` explains: the monthly report's.
CITY_INDICATORS = tuple(i for i, report in EXPLAINED.items() if report == "monthly")

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def scope_for(principal: Principal, community: str | None) -> str:
    """The community a report for ``principal`` covers (``*``: the subdistrict).

    Refuses a community the principal does not serve, and asks for one when the
    principal serves several but not all.
    """
    POLICY.check_read(principal, Read.REPORTS)
    if community is None:
        if principal.serves(SUBDISTRICT):
            return SUBDISTRICT
        if len(principal.communities) == 1:
            return principal.communities[0]
        choices = ", ".join(sorted(principal.communities))
        raise InvalidCommand([FieldError("community", f"must be given: one of {choices}")])
    if not POLICY.may_read(principal, Read.REPORTS, community):
        raise Forbidden(
            f"{principal.subject!r} does not serve community {community!r}",
            field="community",
            rule="must be one of the principal's communities",
        )
    return community


def check_period(period: str | None, *, field: str = "period") -> str | None:
    """``period`` if it is a month ``YYYY-MM`` within the days the store takes (or None)."""
    if period is not None and not _PERIOD.fullmatch(period):
        raise InvalidCommand([FieldError(field, "must be a month YYYY-MM, e.g. 2014-03")])
    if period is not None and not EARLIEST_DAY.isoformat()[:7] <= period <= LATEST_DAY.isoformat():
        # A report looks a year back and a month on: a month out of the store's days
        # would reach past the calendar (docs/input-rules.md).
        raise InvalidCommand([FieldError(field, _RANGE)])
    return period


def check_day(day: date | None, *, field: str = "as_of") -> date | None:
    """``day`` if it falls within the days the store takes (or None)."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidCommand([FieldError(field, _RANGE)])
    return day


_RANGE = f"must fall between {EARLIEST_DAY} and {LATEST_DAY}"


@attrs.frozen
class ReportQuery:
    """One report asked for: which, for when, for which community."""

    name: str
    community: str
    period: str | None = None
    as_of: date | None = None
    within: int = DEFAULT_CLOSING_DAYS

    @classmethod
    def of(
        cls,
        name: str,
        community: str,
        *,
        period: str | None,
        as_of: date | None,
        within: int,
        today: date | None = None,
    ) -> ReportQuery:
        """The query, its day resolved: self-assessment and watchlist are as of a day."""
        check_period(period)
        check_day(as_of)
        if name != "monthly":
            if period is not None and as_of is not None:
                raise InvalidCommand([FieldError("as_of", "give period or as_of, not both")])
            if as_of is None:
                as_of = (
                    Month.parse(period).last
                    if period is not None
                    else today or datetime.now(SUBDISTRICT_TZ).date()
                )
            period = None
        return cls(name, community, period, as_of, within)

    def key(self) -> str:
        """A digest of everything the report depends on besides the store."""
        data = {
            **attrs.asdict(self, recurse=False),
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def build(self, projector: Projector) -> Report:
        """The report, from caught-up views."""
        community = None if self.community == SUBDISTRICT else self.community
        if self.name == "monthly":
            return monthly_report(projector, self.period, self.community)
        assert self.as_of is not None  # resolved by ReportQuery.of
        if self.name == "self-assessment":
            return self_assessment(projector, as_of=self.as_of, community=community)
        return watchlist(
            projector, as_of=self.as_of, community=community, closing_within_days=self.within
        )


def explained(projector: Projector, indicator: str, period: str, scope: str) -> Mapping[str, Any]:
    """The events behind ``indicator`` for ``period`` and ``scope``, as JSON values."""
    return explanation_data(explain(projector, indicator, period, scope))


def explanation_data(found: Explanation) -> dict[str, Any]:
    """An explanation as JSON values: the figure, what each side counts, and each side's
    events (in a city's, each naming its subdistrict; "" in one store's)."""
    return {
        "figure": converter.unstructure(found.figure),
        "report": found.report,
        "definition": found.definition,
        "numerator": [converter.unstructure(e) for e in found.numerator],
        "denominator": [converter.unstructure(e) for e in found.denominator],
        "rows": [
            {"cells": list(cells), "events": [converter.unstructure(e) for e in events]}
            for cells, events in found.rows
        ],
    }
