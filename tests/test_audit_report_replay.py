"""Reports replayed at a cut: known at T equals the report produced at T; as of T takes in
late entries."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit import Cut, parse_moment, replay_monthly
from safecomm_core.reports.model import Report
from safecomm_core.reports.monthly import monthly_report
from tests.auditing import write_disputes

MONTH = "2014-03"
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
MOMENT = datetime(2020, 1, 1, tzinfo=UTC)


def _same(report: Report) -> Report:
    return attrs.evolve(report, generated_at=MOMENT)


def _figure(report: Report, indicator: str) -> tuple[float, float | None]:
    [f] = [f for f in report.figures if f.id == indicator and f.scope == "*"]
    return f.numerator, f.denominator


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_known_at_equals_the_report_produced_then_and_as_of_takes_late_entries(
    store: Safecomm,
) -> None:
    write_disputes(store, 2)
    first = monthly_report(store, MONTH, generated_at=MOMENT)
    produced_at = datetime.now(UTC)
    time.sleep(0.01)
    # more events, all of them late entries occurring in March (the sample's month)
    write_disputes(store, 2, first=3)
    later = monthly_report(store, MONTH, generated_at=MOMENT)
    assert later.figures != first.figures  # the late entries do move the figures

    known = replay_monthly(store, Cut.known_at(produced_at), MONTH, generated_at=MOMENT)
    as_of = replay_monthly(store, Cut.as_of(parse_moment("2014-03-31")), MONTH, generated_at=MOMENT)

    assert _same(known) == first
    assert known.figures == first.figures
    assert as_of.figures == later.figures
    assert _same(as_of) == later
    before, after = (
        _figure(known, "dispute_escalation_rate"),
        _figure(as_of, "dispute_escalation_rate"),
    )
    assert after[1] is not None
    assert before[1] is not None
    assert after[1] > before[1]  # the late disputes are counted as of March


def test_as_of_before_the_period_knows_nothing_of_it(memory_store: Safecomm) -> None:
    write_disputes(memory_store, 2)
    early = replay_monthly(memory_store, Cut.as_of(parse_moment("2014-02-28")), MONTH)
    full = replay_monthly(memory_store, Cut.as_of(parse_moment("2014-03-31")), MONTH)
    assert _figure(full, "dispute_escalation_rate")[1]
    assert not _figure(early, "dispute_escalation_rate")[1]


def test_cli_replay_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as store:
        write_disputes(store, 2)
        first = monthly_report(store, MONTH, generated_at=MOMENT)
        produced_at = datetime.now(UTC)
        time.sleep(0.01)
        write_disputes(store, 1, first=3)
    runner = CliRunner()
    cut = ["--known-at", produced_at.isoformat()]
    result = runner.invoke(
        main, ["audit", "replay", *cut, "--report", "monthly", "--period", MONTH, "--store", url]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == MONTH
    figures = {(f["id"], f["scope"]): f["numerator"] for f in data["figures"]}
    assert figures == {(f.id, f.scope): f.numerator for f in first.figures}
    both = runner.invoke(
        main, ["audit", "replay", *cut, "--report", "monthly", "--aggregate", "x", "--store", url]
    )
    assert both.exit_code == 2
