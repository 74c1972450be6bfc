"""``python -m benchmarks [--quick] [--json FILE] [--pg URL] [--only NAME ...]``.

Quick mode (under two minutes on a 2-core machine): one scenario of about 10,000 events
and short command runs. Full mode: scenarios of about 10k, 100k and 1M events (the 1M
one takes a long while: run it under nohup), longer command runs, best of three.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Result, machine, markdown_table, print_table, to_json

WORKLOADS = (
    "commands_sqlite",
    "commands_postgres",
    "import_batch",
    "rebuild",
    "audit_verify",
    "report_replay",
    "rebuild_peak_rss",
    "bundle_peak_rss",
    "follow_latency",
    "rehydrate",
    "http_commands",
    "http_report",
    "stream_publish",
    "alert_delivery",
    "pages",
    "city_rollup",
)


def _sizes(quick: bool) -> tuple[int, ...]:
    return (10_000,) if quick else (10_000, 100_000, 1_000_000)


def run(
    ctx: Context,
    only: tuple[str, ...] = WORKLOADS,
    sizes: tuple[int, ...] | None = None,
    commands: int | None = None,
    log: Callable[[str], None] = print,
) -> list[Result]:
    """Every selected workload at every size; the results in table order."""
    from benchmarks.audit import audit_verify
    from benchmarks.commands import commands_sqlite
    from benchmarks.datasets import dataset
    from benchmarks.imports import import_batch
    from benchmarks.memory import bundle_rss, rebuild_rss
    from benchmarks.postgres import commands_postgres
    from benchmarks.rebuild import rebuild
    from benchmarks.rehydrate import rehydrate
    from benchmarks.replay import report_replay
    from benchmarks.stream import stream_publish

    results: list[Result] = []

    def add(found: list[Result]) -> None:
        results.extend(found)
        for r in found:
            log(f"  {r.label} @ {r.events:,}: ours {r.ours:,.4g} {r.unit}, ratio {r.ratio}")

    n_commands = commands or (300 if ctx.quick else 3000)
    if "commands_sqlite" in only:
        log(f"commands on SQLite ({n_commands} commands)")
        add(commands_sqlite(ctx, n_commands))
    if "commands_postgres" in only:
        if ctx.pg:
            per_writer = max(50, n_commands // 3)
            log(f"commands on PostgreSQL ({per_writer} commands per writer)")
            add(commands_postgres(ctx, per_writer))
        else:
            log("commands on PostgreSQL: skipped (no --pg)")
    if "import_batch" in only:
        log(f"bulk import in batches ({n_commands * 3} commands)")
        add(import_batch(ctx, n_commands * 3))
    if "follow_latency" in only:
        from benchmarks.follow import follow_latency

        log("projections following the store: stored → visible")
        add(follow_latency(ctx))
    if "rehydrate" in only:
        log("rehydrate")
        add(rehydrate(ctx))
    if "http_commands" in only or "http_report" in only:
        from benchmarks.http import http_commands, http_report

        if "http_commands" in only:
            log(f"commands over HTTP ({n_commands} commands, 8 clients)")
            add(http_commands(ctx, n_commands))
        if "http_report" in only:
            log("the monthly report over HTTP, cached and fresh")
            add(http_report(ctx, n_commands))
    if "pages" in only:
        from benchmarks.pages import pages

        log("the staff's pages beside the API's answers (demo scenario at scale 5; quick: 1)")
        add(pages(ctx))
    if "stream_publish" in only:
        log("stream_publish (NATS JetStream)")
        add(stream_publish(ctx))
    if "alert_delivery" in only:
        from benchmarks.alerts import alert_delivery

        log("alert_delivery (MQTT)")
        add(alert_delivery(ctx))
    if "city_rollup" in only:
        if ctx.pg:
            from benchmarks.city import SUBDISTRICTS, city_rollup

            for size in sizes or ((20_000,) if ctx.quick else (200_000, 2_000_000)):
                log(f"the city's report: {SUBDISTRICTS} subdistricts, about {size:,} events in all")
                add(city_rollup(ctx, size))
        else:
            log("city_rollup: skipped (no --pg)")
    readers = {
        "rebuild": rebuild,
        "audit_verify": audit_verify,
        "report_replay": report_replay,
        "rebuild_peak_rss": rebuild_rss,
        "bundle_peak_rss": bundle_rss,
    }
    for size in sizes or _sizes(ctx.quick):
        if not any(name in only for name in readers):
            break
        log(f"scenario of about {size:,} events")
        data = dataset(ctx.workdir, size, log=True)
        log(f"  built {data.events:,} events ({data.commands:,} commands)")
        for name, workload in readers.items():
            if name in only:
                add(workload(ctx, data.url, data.events))
    results.sort(key=_rank)
    return results


def _rank(r: Result) -> tuple[int, str, int]:
    order = {name: i for i, name in enumerate(WORKLOADS)}
    # Workloads that give more than one figure: each figure sorts with its workload.
    family = next(
        (
            f
            for f in ("commands_postgres", "import_batch", "follow_latency")
            if r.workload.startswith(f)
        ),
        "audit_verify" if r.workload == "ledger_catch_up" else r.workload,
    )
    return order.get(family, len(order)), r.workload, r.events


def merge(files: list[str]) -> dict[str, Any]:
    """Runs written by ``--json`` (parts of one full run, say) as one JSON object."""
    runs = [json.loads(Path(f).read_text()) for f in files]
    results = sorted((Result(**r) for run in runs for r in run["results"]), key=_rank)
    merged = to_json(
        results,
        mode=runs[0]["mode"],
        started=min(run["started"] for run in runs),
        seconds=sum(run["seconds"] for run in runs),
        pg=None,
    )
    merged["machine"] = runs[0]["machine"]
    merged["parts"] = [
        {"started": run["started"], "seconds": run["seconds"], "machine": run["machine"]}
        for run in runs
    ]
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--pg",
        default=os.environ.get("SAFECOMM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for the PostgreSQL workloads ('' to skip)",
    )
    parser.add_argument("--only", nargs="*", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--sizes", nargs="*", type=int, help="scenario sizes in events")
    parser.add_argument("--commands", type=int, help="commands in the command workloads")
    parser.add_argument("--repeat", type=int, help="best of this many (default 1 quick, 3 full)")
    parser.add_argument("--workdir", help="where to write stores (default: a temporary folder)")
    parser.add_argument("--markdown", action="store_true", help="with --merge: a Markdown table")
    parser.add_argument(
        "--merge", nargs="+", metavar="FILE", help="merge runs' JSON files (with --json) and stop"
    )
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge(args.merge)
        found = [Result(**r) for r in merged["results"]]
        if args.markdown:
            print(markdown_table(found))
        else:
            print_table(found)
        if args.json:
            Path(args.json).write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
        return 0
    started = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.perf_counter()
    pg = args.pg or None
    if pg is not None and not _reachable(pg):
        print(f"PostgreSQL at {pg} does not answer: its workloads are skipped", file=sys.stderr)
        pg = None
    info = machine(pg)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        ctx = Context(
            workdir=Path(tmp),
            quick=args.quick,
            repeat=args.repeat or (1 if args.quick else 3),
            pg=pg,
        )
        results = run(
            ctx,
            tuple(args.only),
            tuple(args.sizes) if args.sizes else None,
            args.commands,
            log=lambda line: print(line, flush=True),
        )
    seconds = time.perf_counter() - began
    print()
    print_table(results)
    print(f"\n{'quick' if args.quick else 'full'} run: {seconds:.0f} s")
    if args.json:
        data = to_json(
            results,
            mode="quick" if args.quick else "full",
            started=started,
            seconds=seconds,
            pg=pg,
            machine_info=info,
        )
        Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return 0


def _reachable(pg: str) -> bool:
    try:
        import psycopg

        psycopg.connect(pg, connect_timeout=3).close()
    except Exception:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
