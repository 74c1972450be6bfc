"""Traceability: every plan measure has a command; the matrix and ``safecomm coverage``."""

from __future__ import annotations

import json
from typing import Any

import attrs
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core import COMMANDS, Command
from safecomm_core.commands.base import Context
from safecomm_core.coverage import (
    PLAN_MEASURES,
    Coverage,
    command_records,
    coverage,
    record_events,
)
from safecomm_core.domain.prevention_asset import PreventionAsset
from safecomm_core.domain.survey import Survey
from safecomm_core.domain.targets import Target

#: The plan's measures as the plan numbers them (docs/domain.md, *Plan measures*).
EXPECTED = (
    [f"M1.{i}" for i in range(1, 6)]
    + [f"M2.{i}" for i in range(1, 5)]
    + [f"M3.{i}" for i in range(1, 6)]
    + [f"P{i}" for i in range(1, 8)]
    + [f"S{i}" for i in range(1, 7)]
)


def test_the_plan_measures_are_all_there_in_order() -> None:
    assert [m.id for m in PLAN_MEASURES] == EXPECTED
    assert all(m.title.strip() for m in PLAN_MEASURES)


def test_every_plan_measure_has_a_command() -> None:
    missing = coverage().missing
    assert missing == (), f"plan measures with no command: {', '.join(missing)}"


def test_every_served_measure_is_in_the_plan() -> None:
    assert coverage().unplanned == ()


def test_each_command_is_listed_under_each_measure_it_serves() -> None:
    matrix = coverage()
    listed = {(m.measure, c.type) for m in matrix.measures for c in m.commands}
    served = {(s, t) for t, cls in COMMANDS.items() for s in cls.SERVES}
    assert listed == served


def test_a_survey_command_traces_to_the_survey_events() -> None:
    s6 = next(m for m in coverage().measures if m.measure == "S6")
    trace = next(c for c in s6.commands if c.type == "survey.record_response")
    assert trace.command == "RecordSurveyResponse"
    assert trace.records == ("safecomm/Survey",)
    assert trace.events == (
        "safecomm/Survey/WaveOpened",
        "safecomm/Survey/ResponseRecorded",
        "safecomm/Survey/WaveClosed",
    )


def test_record_events_lists_every_event_and_not_the_unused_generic_one() -> None:
    names = [e.__name__ for e in record_events(PreventionAsset)]
    assert names == [
        "Installed",
        "Built",
        "CustodianAssigned",
        "Inspected",
        "FaultReported",
        "Repaired",
        "Decommissioned",
        "RegisterCounted",
    ]


# Commands defined here, to show how records are found without any registry.


@attrs.frozen(kw_only=True)
class _TwoRecords(Command):
    SERVES = ("X9",)

    def run(self, ctx: Context) -> None:
        ctx.load(Survey, "s")
        ctx.load(Target, "t")


def _helper(ctx: Context) -> PreventionAsset:
    return ctx.load(PreventionAsset, "a")


@attrs.frozen(kw_only=True)
class _Delegating(Command):
    SERVES = ("M2.1",)

    def run(self, ctx: Context) -> None:
        _helper(ctx).repair(ctx.meta, "")


@attrs.frozen(kw_only=True)
class _Silent(Command):
    SERVES = ("S6",)

    def run(self, ctx: Context) -> None:
        pass


def test_records_are_found_in_run_and_in_the_helpers_it_calls() -> None:
    assert command_records(_TwoRecords) == (Survey, Target)
    assert command_records(_Delegating) == (PreventionAsset,)
    # Naming none, a command gets every aggregate its module imports.
    assert set(command_records(_Silent)) == {PreventionAsset, Survey, Target}


def test_a_measure_without_a_command_is_missing_and_a_stray_id_unplanned() -> None:
    fake = {"x.two": _TwoRecords, "x.delegating": _Delegating}
    matrix = coverage(fake)
    assert "M2.1" not in matrix.missing
    assert set(matrix.missing) == set(EXPECTED) - {"M2.1"}
    assert matrix.unplanned == (("x.two", "X9"),)


# -- the CLI ----------------------------------------------------------------------------


def test_cli_prints_every_measure_with_its_commands() -> None:
    result = CliRunner().invoke(main, ["coverage"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for measure in EXPECTED:
        assert any(line.startswith(f"{measure} ") for line in lines), measure
    assert "Survey: survey.close_wave survey.open_wave survey.record_response" in result.output
    assert "events: Survey: WaveOpened ResponseRecorded WaveClosed" in result.output
    assert lines[-1].startswith(f"{len(EXPECTED) - len(coverage().missing)} of {len(EXPECTED)}")


def test_cli_json_is_the_matrix() -> None:
    result = CliRunner().invoke(main, ["coverage", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [m["measure"] for m in data["measures"]] == EXPECTED
    assert data["missing"] == list(coverage().missing)


def test_cli_strict_fails_when_a_measure_has_no_command(monkeypatch: Any) -> None:
    import safecomm_cli.coverage as cli

    def partial() -> Coverage:
        return coverage({"x.delegating": _Delegating})

    monkeypatch.setattr(cli, "coverage", partial)
    result = CliRunner().invoke(main, ["coverage", "--strict", "--no-events"])
    assert result.exit_code == 1
    assert "(no command)" in result.output
    assert result.output.splitlines()[-1].startswith(f"1 of {len(EXPECTED)} plan measures")
    assert CliRunner().invoke(main, ["coverage"]).exit_code == 0
