"""The indicator registry: every figure a report produces is in it, and every entry is
produced by the report it names or says why none produces it; the reports' public surface."""

from __future__ import annotations

import doctest
import importlib
import inspect
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import safecomm_core.dates
import safecomm_core.domain.dispute
import safecomm_core.domain.grid_alert
import safecomm_core.domain.migrant
import safecomm_core.indicators
import safecomm_core.reports
import safecomm_core.reports.assessment
import safecomm_core.reports.model
import safecomm_core.reports.monthly
import safecomm_core.reports.watch
from safecomm_core import SafecommError, parse_command
from safecomm_core.indicators import INDICATORS, UnknownIndicator, current_id, indicator
from safecomm_core.reports import (
    Report,
    UnknownFigure,
    monthly_report,
    self_assessment,
    watchlist,
)
from safecomm_core.reports.indicators import DEFINITIONS


@pytest.fixture(scope="module")
def reports() -> list[Report]:
    """Every report that has figures, from one empty store (figures exist, not applicable)."""
    from safecomm_core import open_store

    with open_store("memory://") as service:
        # A population recorded: incidence per 10,000 is among the figures.
        service.handle(
            parse_command(
                {
                    "type": "population.record",
                    "command_id": "pop-1",
                    "occurred_at": "2014-01-05T09:00:00+08:00",
                    "actor": {"id": "staff-001", "role": "staff"},
                    "population_id": "C1/2013-12-31",
                    "community": "C1",
                    "as_of": "2013-12-31",
                    "residents": 8000,
                    "migrants": 2000,
                    "basis": "annual_update",
                    "source": "街道年度人口统计",
                }
            )
        )
        return [
            monthly_report(service, "2014-03"),
            self_assessment(service, as_of=date(2014, 3, 31)),
        ]


def test_every_figure_a_report_produces_is_in_the_registry(reports: list[Report]) -> None:
    for report in reports:
        for figure in report.figures:
            known = indicator(figure.id)
            assert known.report == report.kind, figure.id
            assert (figure.basis, figure.definition_version) == (known.basis, known.version)


def test_every_entry_is_produced_or_says_why_not(reports: list[Report]) -> None:
    produced = {(r.kind, f.id) for r in reports for f in r.figures}
    for entry in INDICATORS.values():
        if entry.report is None:
            assert entry.not_produced, entry.id
        else:
            assert (entry.report, entry.id) in produced, entry.id
            assert not entry.not_produced, entry.id


def test_the_monthly_reports_definitions_and_series_come_from_the_registry(
    reports: list[Report],
) -> None:
    monthly = reports[0]
    assert list(DEFINITIONS) == [i.id for i in INDICATORS.values() if i.report == "monthly"]
    charted = {s.indicator for s in monthly.series}
    assert charted == {i.id for i in INDICATORS.values() if i.series}


def test_former_ids_are_read_as_todays_and_never_reused() -> None:
    former = [f for i in INDICATORS.values() for f in i.former_ids]
    assert len(former) == len(set(former))
    assert not set(former) & set(INDICATORS)
    assert current_id("escalation_rate") == "dispute_escalation_rate"
    assert current_id("awareness_rate") == "awareness_rate"


def test_an_unknown_indicator_is_a_lookup_error_naming_the_known() -> None:
    with pytest.raises(UnknownIndicator) as raised:
        indicator("happiness_rate")
    assert isinstance(raised.value, SafecommError)
    assert isinstance(raised.value, LookupError)
    assert "'happiness_rate'" in str(raised.value)
    assert "sense_of_security_rate" in str(raised.value)


def test_report_figure_finds_a_figure_by_id_and_scope(reports: list[Report]) -> None:
    monthly = reports[0]
    found = monthly.figure("alert_ack_rate")
    assert (found.id, found.scope, found.period) == ("alert_ack_rate", "*", "2014-03")
    assert monthly.figure("incidence_per_10k").basis == "police"  # a population recorded


@pytest.mark.parametrize(
    ("figure_id", "scope"), [("happiness_rate", "*"), ("alert_ack_rate", "C9")]
)
def test_report_figure_names_what_it_lacks(
    reports: list[Report], figure_id: str, scope: str
) -> None:
    with pytest.raises(UnknownFigure) as raised:
        reports[0].figure(figure_id, scope)
    error = raised.value
    assert isinstance(error, SafecommError)
    assert isinstance(error, LookupError)
    message = str(error)
    assert repr(figure_id) in message
    assert repr(scope) in message
    assert "mediation_success_rate" in message  # the figures it has
    assert message.endswith("its scopes: *")  # and its scopes (a store with no community)


def test_the_reports_are_the_packages_functions() -> None:
    assert safecomm_core.reports.monthly_report is safecomm_core.reports.monthly.monthly_report
    assert safecomm_core.reports.self_assessment is safecomm_core.reports.assessment.self_assessment
    assert safecomm_core.reports.watchlist is safecomm_core.reports.watch.watchlist
    for name in ("monthly_report", "self_assessment", "watchlist"):
        assert callable(getattr(safecomm_core.reports, name))
    assert callable(watchlist)


def test_no_module_of_the_reports_shares_its_name_with_a_function() -> None:
    package = Path(safecomm_core.reports.__file__).parent
    for path in package.glob("*.py"):
        module = importlib.import_module(f"safecomm_core.reports.{path.stem}")
        assert not inspect.isfunction(getattr(module, path.stem, None)), path.name


#: Modules whose docstring examples are part of their documentation: they must run.
DOCUMENTED = (
    safecomm_core.dates,
    safecomm_core.indicators,
    safecomm_core.domain.dispute,
    safecomm_core.domain.grid_alert,
    safecomm_core.domain.migrant,
    safecomm_core.reports.model,
    safecomm_core.reports.monthly,
    safecomm_core.reports.assessment,
    safecomm_core.reports.watch,
)


@pytest.mark.parametrize("module", DOCUMENTED, ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType) -> None:
    result: Any = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, "no example to run"
    assert result.failed == 0
