"""The city's monthly report rolled up from its subdistricts' stores, beside the same report
from one store holding every subdistrict's events.

Each subdistrict is the demo scenario with a seed of its own (2014 + k) at the scale that
writes the subdistrict's share of the events, every record id, person ref, unit and
community prefixed with the subdistrict's code (``s03``), so that no two subdistricts name
the same record and one store can hold them all. The programme's phases (ids P1–P7, one
set per subdistrict) are kept in the first subdistrict only: the monthly report does not
read them and one store could not hold twenty; for the same reason the union's store keeps
the first subdistrict's rulebook and targets only (one store holds one rulebook, and a
subdistrict's own targets are named by indicator and ``*``). Commands are handled in memory, one
subdistrict per worker process, and the stored events copied byte for byte
(:mod:`benchmarks.datasets`) into a PostgreSQL application per subdistrict (``?name=``)
and into one application holding all of them (the baseline's store).

Measured, each in a child process of its own (time and peak RSS, ``VmHWM``):

- **ours**: :func:`~safecomm_core.reports.city.city_report` after every subdistrict's views
  are caught up (the catch-up timed apart, ``catch_up_s``);
- **baseline**: :func:`~safecomm_core.reports.monthly.monthly_report` of the one store
  after its views are caught up, for the same month.

The ratio is baseline s ÷ ours s (above 1: the roll-up is faster); the peak RSS of each is
in the details, and whether the city's figures equal the one store's (``same_figures``).
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import subprocess
import sys
import time
from typing import Any

from eventsourcing.persistence import StoredEvent

from benchmarks.harness import Context, Result
from benchmarks.memory import peak_rss
from benchmarks.postgres import drop_tables

__all__ = ["SUBDISTRICTS", "city_rollup", "subdistrict_commands"]

SUBDISTRICTS = 20
SEED = 2014
PERIOD = "2014-12"
#: Events per insert: 10,000 at once left eventsourcing's pipelined insert waiting on a
#: server that waited on it (ClientRead), seen twice on this machine's psycopg 3.3.
_COPY_BATCH = 1_000
#: Keys whose values name records, units, people or communities: prefixed per subdistrict.
_NAMED = ("community", "raised_by", "ref", "keep", "network_id")


def _prefixed(key: str, value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {k: _prefixed(k, v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [_prefixed(key, v, prefix) for v in value]
    if not isinstance(value, str) or value == "*" or key in ("phase_id",):
        return value
    if key in ("statistic_id", "population_id"):  # <month>/<community>/… and <community>/…
        parts = value.split("/")
        at = 1 if key == "statistic_id" else 0
        parts[at] = prefix + parts[at]
        return "/".join(parts)
    if key.endswith("_id") or key in _NAMED:
        return prefix + value
    return value


def subdistrict_commands(k: int, scale: float) -> list[Any]:
    """The commands of subdistrict ``k`` (0-based): the scenario of seed 2014 + k at
    ``scale``, every name prefixed ``s{k+1:02d}``; phases only in the first."""
    from safecomm_demo import scenario_commands

    from safecomm_core import parse_command
    from safecomm_core.commands.base import command_to_json

    prefix = f"s{k + 1:02d}"
    found = []
    for command in scenario_commands(SEED + k, scale):
        data = command_to_json(command)
        if k and str(data["type"]).startswith("phase."):
            continue
        found.append(parse_command({key: _prefixed(key, v, prefix) for key, v in data.items()}))
    return found


def _build(k: int, scale: float, url: str) -> tuple[int, float]:
    """Subdistrict ``k`` handled in memory, its events copied to ``url``."""
    from safecomm_core import open_store
    from safecomm_core.keystore import MemoryKeyStore

    began = time.perf_counter()
    commands = subdistrict_commands(k, scale)
    with open_store("memory://", keys=MemoryKeyStore()) as memory:
        for command in commands:
            memory.handle(command)
        written = _copy(memory.log.application.recorder, url)
    return written, time.perf_counter() - began


def _copy(source: Any, url: str, skip: tuple[str, ...] = ()) -> int:
    """The events of ``source`` (a recorder) copied byte for byte into the store ``url``,
    but those of the topics ``skip`` starts."""
    from safecomm_core import open_store
    from safecomm_core.keystore import MemoryKeyStore

    copied = 0
    with open_store(url, keys=MemoryKeyStore()) as target:
        recorder = target.log.application.recorder
        while True:
            page = source.select_notifications(
                start=copied, limit=_COPY_BATCH, inclusive_of_start=False
            )
            if not page:
                return copied
            recorder.insert_events(
                [
                    StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                    for n in page
                    if not n.topic.startswith(skip)
                ]
            )
            copied = page[-1].id


def build_city(
    base: str, prefix: str, events: int, subdistricts: int = SUBDISTRICTS
) -> tuple[list[str], str, int, float]:
    """Every subdistrict's store and the union's (PostgreSQL applications named
    ``{prefix}s01``… and ``{prefix}all``): their URLs, the events and the build seconds."""
    from benchmarks.datasets import scale_for
    from safecomm_core import open_store
    from safecomm_core.keystore import MemoryKeyStore

    scale = scale_for(events / subdistricts)
    urls = [f"{base}?name={prefix}s{k + 1:02d}" for k in range(subdistricts)]
    union = f"{base}?name={prefix}all"
    began = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:  # two subdistricts built at a time, each into its own store
        built = pool.starmap(_build, [(k, scale, urls[k]) for k in range(subdistricts)], 1)
    # Then the union, from the subdistricts' stores in turn, by this process alone. One
    # store holds one rulebook, and the subdistricts' own targets (scope *) would be one
    # record: the union keeps the first subdistrict's.
    for k, url in enumerate(urls):
        with open_store(url, keys=MemoryKeyStore()) as source:
            skip = ("safecomm/Rulebook/", "safecomm/Target/") if k else ()
            _copy(source.log.application.recorder, union, skip)
    return urls, union, sum(n for n, _ in built), time.perf_counter() - began


def city_rollup(ctx: Context, events: int, subdistricts: int = SUBDISTRICTS) -> list[Result]:
    """The city's report of ``subdistricts`` stores holding about ``events`` in all, beside
    the one store's report of the same events."""
    assert ctx.pg, "needs --pg"
    base = ctx.pg.split("?")[0]
    prefix = f"{ctx.run_id}c{events}_"
    try:
        urls, union, written, build_s = build_city(base, prefix, events, subdistricts)
        city_file = ctx.workdir / f"city-{events}.toml"
        lines = ['name = "benchmark city"']
        for n, url in enumerate(urls, 1):
            lines += [
                "[[subdistrict]]",
                f'id = "S{n:02d}"',
                f'name = "S{n:02d}"',
                f'store = "{url}"',
            ]
        city_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ours = _child("city", str(city_file))
        baseline = _child("one", union)
    finally:
        drop_tables(base, prefix)
    return [
        Result(
            workload="city_rollup",
            label=f"city's monthly report, {subdistricts} subdistricts ÷ one store",
            events=written,
            unit="s",
            ours=ours["report_s"],
            baseline=baseline["report_s"],
            ratio=round(baseline["report_s"] / ours["report_s"], 3),
            target="report ≤ 2× one store's, peak RSS ≤ one store's",
            met=ours["report_s"] <= 2 * baseline["report_s"]
            and ours["peak_rss_mb"] <= baseline["peak_rss_mb"],
            details={
                "subdistricts": subdistricts,
                "period": PERIOD,
                "build_s": round(build_s, 1),
                "catch_up_s": ours["catch_up_s"],
                "baseline_catch_up_s": baseline["catch_up_s"],
                "peak_rss_mb": ours["peak_rss_mb"],
                "baseline_peak_rss_mb": baseline["peak_rss_mb"],
                "same_figures": ours["figures"] == baseline["figures"],
                "differing": {
                    i: [found, baseline["figures"].get(i)]
                    for i, found in ours["figures"].items()
                    if found != baseline["figures"].get(i)
                },
            },
        )
    ]


def _child(*args: str) -> dict[str, Any]:
    # The subdistricts' stores are opened as the CLI opens them, with a master key (reports
    # open no person: any key will do where none is set).
    env = {"SAFECOMM_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), **os.environ}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.city", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def _figures(report: Any) -> dict[str, list[float | None]]:
    return {f.id: [f.numerator, f.denominator, f.value] for f in report.figures if f.scope == "*"}


def _city(path: str) -> None:
    from safecomm_core.city import City
    from safecomm_core.reports.city import city_report, live_views

    city = City.from_file(path)
    began = time.perf_counter()
    for sub in city.subdistricts:
        live_views(sub, lambda _projector: None)
    caught = time.perf_counter()
    report = city_report(city, PERIOD)
    done = time.perf_counter()
    _print(caught - began, done - caught, _figures(report))


def _one(url: str) -> None:
    from safecomm_core import open_store
    from safecomm_core.keystore import MemoryKeyStore
    from safecomm_core.projections import Projector
    from safecomm_core.reports import monthly_report
    from safecomm_core.reports.register import PROJECTIONS

    with open_store(url, keys=MemoryKeyStore()) as service, Projector(service) as projector:
        began = time.perf_counter()
        for projection in PROJECTIONS:
            projector.catch_up(projection)
        caught = time.perf_counter()
        report = monthly_report(projector, PERIOD)
        done = time.perf_counter()
    _print(caught - began, done - caught, _figures(report))


def _print(catch_up_s: float, report_s: float, figures: dict[str, Any]) -> None:
    print(
        json.dumps(
            {
                "catch_up_s": round(catch_up_s, 3),
                "report_s": round(report_s, 3),
                "peak_rss_mb": round(peak_rss(), 1),
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    {"city": _city, "one": _one}[sys.argv[1]](sys.argv[2])
