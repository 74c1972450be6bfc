"""Populations as dated records (outside data), and incidence per 10,000 on the one in force.

Expected figures are worked out by hand beside each history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safecomm_core import Population, RuleViolation, Safecomm, SealedText, open_store
from safecomm_core.dates import Month
from safecomm_core.errors import InvalidCommand
from safecomm_core.history import shown
from safecomm_core.reports import monthly_report
from safecomm_core.reports.provenance import explain
from tests.test_golden import load
from tests.test_monthly import Desk, at, figures, nums, police

GOLDEN_DIR = Path(__file__).parent / "golden"


def population(
    desk: Desk, community: str, as_of: str, residents: int, migrants: int, **more: Any
) -> None:
    """Record a count; ``more`` overrides any field (``recorded``: when it was recorded)."""
    fields = {
        "population_id": f"{community}/{as_of}",
        "community": community,
        "as_of": as_of,
        "residents": residents,
        "migrants": migrants,
        "basis": "annual_update",
        "source": "街道年度人口统计",
    }
    recorded = more.pop("recorded", at(as_of))
    desk("population.record", recorded, **{**fields, **more})


def cases(desk: Desk, community: str, per_month: int) -> None:
    """The police's figures for the 24 months to March 2014."""
    for back in range(24):
        police(desk, Month(2014, 3).shift(-back), per_month, community)


def test_incidence_divides_by_the_population_in_force_at_the_month_end(
    memory_service: Safecomm,
) -> None:
    """C5: 10 cases a month, so 120 in every twelve months.

    Census 2010-11-01: 4,000 + 0. Annual update 2013-06-30: 5,000 + 1,000 (6,000).
    Annual update 2014-02-28: 7,000 + 1,000 (8,000), corrected later to 9,000 + 1,000.

    January 2014: 120 / 0.6 = 200. March 2014: 120 / 0.8 = 150; after the correction
    120 / 1.0 = 120. The census alone (October 2012): not applicable, no complete year of
    figures, and the population does not rescue it.
    """
    desk = Desk(memory_service)
    cases(desk, "C5", 10)
    population(desk, "C5", "2010-11-01", 4000, 0, basis="census")
    population(desk, "C5", "2013-06-30", 5000, 1000)
    population(desk, "C5", "2014-02-28", 7000, 1000)
    january = figures(monthly_report(memory_service, "2014-01"))
    assert nums(january["incidence_per_10k", "C5"]) == (120, pytest.approx(0.6), pytest.approx(200))
    march = figures(monthly_report(memory_service, "2014-03"))
    assert nums(march["incidence_per_10k", "C5"]) == (120, pytest.approx(0.8), pytest.approx(150))
    desk(
        "population.correct",
        at("2014-04-02"),
        population_id="C5/2014-02-28",
        residents=9000,
        migrants=1000,
        reason="migrant registry recount",
    )
    corrected = figures(monthly_report(memory_service, "2014-03"))
    assert corrected["incidence_per_10k", "C5"].value == pytest.approx(120)
    assert memory_service.get(Population, "C5/2014-02-28").people == 10_000
    # provenance: the police's figures over the population's latest count
    found = explain(memory_service, "incidence_per_10k", "2014-03", "C5")
    assert [(e.ref, e.event) for e in found.denominator] == [("C5/2014-02-28", "Corrected")]
    assert len(found.numerator) == 12
    assert {e.kind for e in found.numerator} == {"police_statistic"}


def test_the_subdistrict_waits_for_every_community_with_cases(memory_service: Safecomm) -> None:
    """C5: 10 a month (120 a year), 6,000 people. C6: 5 a month (60 a year), no population
    yet: C6 and the subdistrict are not applicable (numerators kept). Once C6 records
    3,000 people: C6 60 / 0.3 = 200; the subdistrict (120 + 60) / 0.9 = 200.
    """
    desk = Desk(memory_service)
    cases(desk, "C5", 10)
    cases(desk, "C6", 5)
    population(desk, "C5", "2013-06-30", 5000, 1000)
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["incidence_per_10k", "C5"]) == (120, pytest.approx(0.6), pytest.approx(200))
    assert nums(got["incidence_per_10k", "C6"]) == (60, 0, None)
    assert nums(got["incidence_per_10k", "*"]) == (180, 0, None)
    population(desk, "C6", "2013-06-30", 2500, 500)
    got = figures(monthly_report(memory_service, "2014-03"))
    assert got["incidence_per_10k", "C6"].value == pytest.approx(200)
    assert nums(got["incidence_per_10k", "*"]) == (180, pytest.approx(0.9), pytest.approx(200))


def test_without_a_population_the_figure_is_left_out(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    cases(desk, "C5", 10)
    report = monthly_report(memory_service, "2014-03")
    assert ("incidence_per_10k", "C5") not in figures(report)
    assert any("No population is recorded" in note for note in report.notes)


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"community": "*", "population_id": "*/2013-12-31"}, RuleViolation, "community"),
        ({"recorded": at("2013-12-30")}, RuleViolation, "as_of"),
        ({"population_id": "C1/2013-12-30"}, InvalidCommand, "population_id"),
        ({"migrants": -1}, InvalidCommand, "migrants"),
        ({"basis": "guess"}, InvalidCommand, "basis"),
    ],
)
def test_a_population_is_a_community_s_count_on_a_day_that_has_come(
    fields: dict[str, Any], error: type[Exception], field: str, memory_service: Safecomm
) -> None:
    desk = Desk(memory_service)
    community = fields.pop("community", "C1")
    with pytest.raises(error) as refused:
        population(desk, community, "2013-12-31", 5000, fields.pop("migrants", 1000), **fields)
    errors = getattr(refused.value, "errors", None)
    assert (errors[0].field if errors else refused.value.field) == field
    assert memory_service.log.head() == 0  # nothing written


def test_a_correction_must_change_the_count(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    population(desk, "C1", "2013-12-31", 5000, 1000)
    with pytest.raises(RuleViolation, match="already stands"):
        desk(
            "population.correct",
            at("2014-01-02"),
            population_id="C1/2013-12-31",
            residents=5000,
            migrants=1000,
            reason="same",
        )


def test_a_corrections_reason_is_sealed_like_every_free_text(memory_service: Safecomm) -> None:
    """Staff may name the person who gave the new count: the reason is kept sealed under
    the population's own key, shown ``[sealed]`` in its history, and opened by a role that
    may open personal data (docs/personal-data.md, *Free text*)."""
    desk = Desk(memory_service)
    population(desk, "C1", "2013-12-31", 5000, 1000)
    reason = "王建国 (13800001001) recounted the migrant registry"
    desk(
        "population.correct",
        at("2014-01-02"),
        population_id="C1/2013-12-31",
        residents=5000,
        migrants=1200,
        reason=reason,
    )
    for n in memory_service.log.read(0, 100):
        assert "王建国".encode() not in n.state
        assert b"13800001001" not in n.state
    details = [e.details for e in memory_service.history("C1/2013-12-31", "population")]
    assert details[-1]["reason"] == "[sealed]"
    opened = memory_service.texts(Population, "C1/2013-12-31")
    assert [(t.event, t.field, t.text) for t in opened] == [("Corrected", "reason", reason)]


def test_a_reason_stored_in_clear_by_an_earlier_version_loads_as_legacy_text() -> None:
    service = open_store("memory://")
    mapper = service.log.application.mapper
    events = [mapper.to_domain_event(s) for s in load(GOLDEN_DIR / "v0_3_population.jsonl")]
    service.close()
    (corrected,) = [e for e in events if isinstance(e, Population.Corrected)]
    assert isinstance(corrected.reason, SealedText)
    assert corrected.reason.clear == "流动人口复核"
    assert shown(corrected.reason) == "[sealed]"
