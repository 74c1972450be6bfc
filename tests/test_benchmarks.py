"""The benchmark workloads run, at trivial sizes, and the JSON has the shape README reads.

Figures are not checked (benchmarks are scripts, not timed tests): only that every
workload runs beside its baseline and reports a ratio and a verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import WORKLOADS, main
from benchmarks.alerts import alert_delivery
from benchmarks.audit import audit_verify
from benchmarks.city import city_rollup
from benchmarks.commands import commands_sqlite
from benchmarks.datasets import dataset
from benchmarks.follow import follow_latency
from benchmarks.harness import Context, Result, to_json
from benchmarks.http import http_commands, http_report
from benchmarks.imports import import_batch
from benchmarks.memory import bundle_rss, rebuild_rss
from benchmarks.pages import pages
from benchmarks.postgres import commands_postgres
from benchmarks.rebuild import rebuild
from benchmarks.rehydrate import rehydrate
from benchmarks.replay import report_replay
from benchmarks.stream import stream_publish
from tests.conftest import PG_URL

RESULT_KEYS = {
    "workload",
    "label",
    "events",
    "unit",
    "ours",
    "baseline",
    "ratio",
    "target",
    "met",
    "details",
}


def _check(results: list[Result], workload: str) -> None:
    assert results, workload
    for r in results:
        assert r.workload.startswith(workload)
        assert r.events > 0
        assert r.ours > 0
        assert r.target
        if r.baseline is not None:
            assert r.baseline > 0
            assert r.ratio is not None
            assert r.ratio > 0
            assert isinstance(r.met, bool)


def test_every_workload_runs_at_a_trivial_size_and_the_json_has_its_shape(
    tmp_path: Path,
) -> None:
    ctx = Context(workdir=tmp_path, quick=True, repeat=1)
    results = commands_sqlite(ctx, 12)
    _check(results, "commands_sqlite")
    data = dataset(tmp_path, 3000)
    assert data.events > 1000
    for name, workload in (
        ("rebuild", rebuild),
        ("audit_verify", audit_verify),
        ("report_replay", report_replay),
        ("rebuild_peak_rss", rebuild_rss),
        ("bundle_peak_rss", bundle_rss),
    ):
        found = workload(ctx, data.url, data.events)
        if name == "audit_verify":  # and the ledger's first catch-up, a figure of its own
            ledger = [r for r in found if r.workload == "ledger_catch_up"]
            _check(ledger, "ledger_catch_up")
            found = [r for r in found if r not in ledger]
            results += ledger
        if name == "bundle_peak_rss":  # the bundle, verified without the store
            assert found[0].details["verify_records"] == data.events
            assert found[0].details["catch_up_peak_rss_mb"] > 0  # caught up by a child first
        _check(found, name)
        results += found
    for name, workload in (("http_commands", http_commands), ("http_report", http_report)):
        found = workload(ctx, 40)
        _check(found, name)
        results += found
    found = pages(ctx, scale=0.05)  # the smallest scale with alerts
    _check(found, "pages")
    assert len(found) == 4
    results += found
    found = follow_latency(ctx)
    assert [r.workload for r in found] == ["follow_latency"]
    _check(found, "follow_latency")
    assert found[0].details["p50_s"] <= found[0].details["p99_s"]
    results += found
    found = import_batch(ctx, 150)
    assert [r.workload for r in found] == ["import_batch"]  # no --pg: SQLite only
    _check(found, "import_batch")
    results += found
    found = rehydrate(ctx, events=120)
    _check(found, "rehydrate")
    assert found[0].met  # survey waves are snapshotted
    results += found
    found = stream_publish(ctx, events=300)
    _check(found, "stream_publish")
    assert [r.unit for r in found] == ["events/s", "ms"]
    results += found
    found = alert_delivery(ctx, rounds=1, burst=2)
    _check(found, "alert_delivery")
    assert [r.events for r in found] == [1, 1, 2, 2]
    assert all(r.details["messages"] == 47 for r in found)
    results += found
    assert {r.workload for r in results} >= set(WORKLOADS) - {"commands_postgres", "city_rollup"}

    data_json = json.loads(
        json.dumps(to_json(results, mode="quick", started="now", seconds=1.0, pg=None))
    )
    assert set(data_json) == {"machine", "mode", "started", "seconds", "results", "growth"}
    assert {"cpu", "cores", "ram_gib", "python", "eventsourcing", "sqlite"} <= set(
        data_json["machine"]
    )
    for row in data_json["results"]:
        assert set(row) == RESULT_KEYS
    assert set(data_json["growth"]) == {r.workload for r in results}


@pytest.mark.postgres
def test_the_postgres_workload_runs_one_and_four_writers_and_drops_its_tables(
    tmp_path: Path,
) -> None:
    import psycopg

    ctx = Context(workdir=tmp_path, quick=True, repeat=1, pg=PG_URL)
    results = commands_postgres(ctx, 6)
    assert [r.workload for r in results] == [
        "commands_postgres_1w",
        "commands_postgres_4w",
        "commands_postgres_scaling",
    ]
    _check(results, "commands_postgres")
    followed = follow_latency(ctx)
    assert [r.workload for r in followed] == ["follow_latency", "follow_latency_postgres"]
    _check(followed, "follow_latency")
    imported = import_batch(ctx, 150)
    assert [r.workload for r in imported] == ["import_batch", "import_batch_postgres"]
    _check(imported, "import_batch")
    city = city_rollup(ctx, 3000, subdistricts=2)
    _check(city, "city_rollup")
    assert city[0].details["subdistricts"] == 2
    assert city[0].details["same_figures"]  # the city's figures are the one store's
    with psycopg.connect(PG_URL) as db:
        left = db.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE %s",
            (ctx.run_id.replace("_", "\\_") + "%",),
        ).fetchone()
    assert left == (0,)


def test_the_entry_point_writes_the_table_and_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    assert main(["--quick", "--only", "rehydrate", "--pg", "", "--json", str(out)]) == 0
    assert "rehydrate" in capsys.readouterr().out
    assert json.loads(out.read_text())["results"][0]["workload"] == "rehydrate"
    merged = tmp_path / "merged.json"
    assert main(["--merge", str(out), str(out), "--json", str(merged)]) == 0
    assert [r["workload"] for r in json.loads(merged.read_text())["results"]] == ["rehydrate"] * 2
