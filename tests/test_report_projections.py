"""The monthly report's projections: caught up bit by bit, with restarts and commands arriving
meanwhile, they equal a rebuild from zero; and their rows say what the events said."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import store_url
from safecomm_demo import scenario_commands

from safecomm_core import Safecomm, open_store
from safecomm_core.commands.base import Command
from safecomm_core.dates import Month
from safecomm_core.projections import Projector, builtin_projections
from safecomm_core.projections.police_statistics import POLICE, POLICE_FACTS, POLICE_ROWS
from safecomm_core.reports.register import PROJECTIONS
from tests.test_monthly import (
    BASELINE,
    Desk,
    alert_history,
    at,
    disputes,
    migrants,
    police,
    survey,
)

MINE = [p for p in PROJECTIONS if p.name not in ("disputes", "migrants")]


def test_report_projections_are_shipped() -> None:
    shipped = {p.name for p in builtin_projections()}
    assert {p.name for p in MINE} <= shipped


class Recorder(Desk):
    """A desk that keeps the commands instead of sending them."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.service = self  # type: ignore[assignment]

    def handle(self, command: Command) -> None:
        self.commands.append(command)


def history() -> list[Command]:
    """Every kind of record the report projections read, and the scenario's own."""
    desk = Recorder()
    disputes(desk)
    alert_history(desk)
    migrants(desk)
    survey(desk, "s-1", "baseline", "2014-02-10", BASELINE)
    desk(
        "rules.adopt",
        at("2014-03-25"),
        effective_from="2014-03-01",
        changes={"alert_ack_minutes": 60},
    )
    for back in range(3):
        police(desk, Month(2014, 3).shift(-back), 5 + back, community="C9")
    desk(
        "asset.install",
        at("2014-02-01"),
        asset_id="dev-1",
        community="C4",
        compound="X",
        description="alarm",
        funding_source="district fund",
    )
    desk("asset.report_fault", at("2014-03-10"), asset_id="dev-1", fault="no power")
    desk(
        "campaign.plan",
        at("2014-03-01"),
        campaign_id="cp-1",
        community="C6",
        title="宣传",
        theme="legal",
        measures=["M1.1"],
        planned_on="2014-03-08",
    )
    desk(
        "campaign.hold",
        at("2014-03-08"),
        campaign_id="cp-1",
        place="广场",
        audiences=["residents"],
        attendance=80,
    )
    desk(
        "broadcast.publish",
        at("2014-03-10"),
        broadcast_id="b-1",
        community="C6",
        category="anti_theft",
        period="ordinary",
        text="锁好电动车",
        outlets=[{"outlet": {"medium": "sms"}, "recipients": 900}],
    )
    desk(
        "target.set",
        at("2014-01-05"),
        indicator="alert_ack_rate",
        direction="increase",
        baseline=0.0,
        baseline_source="new",
        target=90.0,
        due="2014-12-31",
        community="C9",
    )
    return [*scenario_commands(seed=11, scale=0.03), *desk.commands]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_incremental_catch_up_with_restarts_equals_rebuild(backend: str, tmp_path: Path) -> None:
    """Every kind of record, projected in random bites while the commands arrive, with the
    projector closed and reopened at random; then every view must equal a rebuild."""
    rng = random.Random(7)
    commands = history()
    url, _name = store_url(backend, tmp_path)
    with open_store(url) as service:
        projector = Projector(service)
        try:
            for i, command in enumerate(commands):
                service.handle(command)
                if rng.random() < 0.05 or i == len(commands) - 1:
                    if rng.random() < 0.3:
                        projector.close()
                        projector = Projector(service)
                    for projection in MINE:
                        projector.catch_up(
                            projection,
                            batch_size=rng.choice([1, 7, 50, 500]),
                            max_batches=rng.choice([None, 1, 3]),
                        )
            for projection in MINE:
                projector.catch_up(projection)
                assert projector.status(projection).dead_letters == 0, projection.name
                assert projector.rebuild_check(projection) == [], projection.name
                assert projector.rows(projection, projection.tables[0]), projection.name
        finally:
            projector.close()


def test_police_latest_correction_wins_and_first_count_is_kept(memory_service: Safecomm) -> None:
    desk = Desk(memory_service)
    desk(
        "police_statistic.report",
        at("2014-04-03"),
        statistic_id="2014-03/C1/theft",
        month="2014-03",
        community="C1",
        category="theft",
        cases=5,
        source="派出所",
    )
    desk(
        "police_statistic.correct",
        at("2014-04-10"),
        statistic_id="2014-03/C1/theft",
        cases=7,
        reason="late-filed",
    )
    desk(
        "police_statistic.correct",
        at("2014-04-20"),
        statistic_id="2014-03/C1/theft",
        cases=6,
        reason="reclassified",
    )
    with Projector(memory_service) as projector:
        projector.catch_up(POLICE)
        (row,) = projector.rows(POLICE, POLICE_ROWS)
        facts = {f["fact"]: f for f in projector.rows(POLICE, POLICE_FACTS)}
    assert (row["first_cases"], row["cases"], row["corrections"]) == (5, 6, 2)
    assert facts["reported"]["originator_version"] == 1
    assert facts["cases"]["originator_version"] == 3  # the event the count comes from
