"""What every workload shares: timing, results, targets, the table and the JSON."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Context",
    "Result",
    "Timing",
    "interleaved",
    "machine",
    "markdown_table",
    "print_table",
    "remove_database",
    "throughput",
    "timed",
    "to_json",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Wall-clock and this process's CPU seconds of one call."""

    wall: float
    cpu: float


def timed(func: Callable[[], T]) -> tuple[Timing, T]:
    """Run ``func`` once; its timing and its value."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), value


def remove_database(path: Path) -> None:
    """Delete a SQLite database file and its write-ahead log files, where they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def interleaved(
    ours: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> tuple[Timing, Timing]:
    """Best of ``repeat`` of each, alternating, so a noisy neighbour slows both alike."""
    best: list[Timing | None] = [None, None]
    for _ in range(repeat):
        for i, func in enumerate((baseline, ours)):
            t, _ = timed(func)
            current = best[i]
            if current is None or t.wall < current.wall:
                best[i] = t
    assert best[0] is not None
    assert best[1] is not None
    return best[1], best[0]


@dataclass(frozen=True)
class Context:
    """Where a workload writes and how large it runs."""

    workdir: Path
    quick: bool
    repeat: int
    pg: str | None = None
    run_id: str = field(default_factory=lambda: f"b{os.getpid()}_{int(time.time()) % 100000}")


@dataclass(frozen=True)
class Result:
    """One figure: ours beside the baseline on the same data, and the target it answers.

    ``ratio`` is always "ours relative to the baseline" in the direction the target reads:
    a speed ratio (>1: ours faster) for throughputs, a speed-up for replays and snapshots.
    """

    workload: str
    label: str
    events: int
    unit: str
    ours: float
    baseline: float | None
    ratio: float | None
    target: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def throughput(
    workload: str,
    label: str,
    events: int,
    ours_s: float,
    baseline_s: float,
    *,
    at_least: float,
    baseline: str,
    details: dict[str, Any],
) -> Result:
    """A throughput figure: events per second, ours ÷ the baseline's, held to ``at_least``."""
    ratio = baseline_s / ours_s
    return Result(
        workload=workload,
        label=label,
        events=events,
        unit="events/s",
        ours=events / ours_s,
        baseline=events / baseline_s,
        ratio=ratio,
        target=f"≥ {at_least}× {baseline}",
        met=ratio >= at_least,
        details={"ours_s": ours_s, "baseline_s": baseline_s, **details},
    )


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.machine()


def _ram_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return round(int(found.group(1)) / 1024 / 1024, 1) if found else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _postgres_version(pg: str | None) -> str | None:
    if not pg:
        return None
    try:
        import psycopg

        with psycopg.connect(pg, connect_timeout=5) as db:
            row = db.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else None
    except Exception as exc:  # reported, not raised: the machine line is informative only
        return f"unavailable ({type(exc).__name__})"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def machine(pg: str | None) -> dict[str, Any]:
    """The machine and software the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "eventsourcing": _version("eventsourcing"),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(pg),
        "psycopg": _version("psycopg"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "commit": _git("rev-parse", "--short", "HEAD") or None,
        # Files changed but not committed when the run began (a shared work tree).
        "uncommitted_files": len(
            (_git("status", "--porcelain", "--untracked-files=no") or "").splitlines()
        ),
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms") or abs(value) < 100:
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def print_table(results: list[Result], out: Any = None) -> None:
    """The figures as a plain-text table."""
    out = out or sys.stdout
    header = (
        f"{'workload':<44}{'events':>10}  {'ours':>10} {'baseline':>10} {'unit':<10}"
        f"{'ratio':>7}  {'target':<28}{'met':>4}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in results:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        print(
            f"{r.label:<44}{r.events:>10,}  {_fmt(r.ours, r.unit):>10} "
            f"{_fmt(r.baseline, r.unit):>10} {r.unit:<10}{_fmt(r.ratio):>7}  "
            f"{r.target:<28}{met:>4}",
            file=out,
        )


def markdown_table(results: list[Result]) -> str:
    """The figures as a Markdown table (README's Performance section)."""
    lines = [
        "| workload | events | ours | baseline | unit | ratio | target | met |",
        "|---|---:|---:|---:|---|---:|---|---|",
    ]
    for r in results:
        met = "–" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.label} | {r.events:,} | {_fmt(r.ours, r.unit)} | {_fmt(r.baseline, r.unit)} "
            f"| {r.unit} | {_fmt(r.ratio)} | {r.target} | {met} |"
        )
    return "\n".join(lines)


def to_json(
    results: list[Result],
    *,
    mode: str,
    started: str,
    seconds: float,
    pg: str | None,
    machine_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run as a JSON object: machine, mode, every result, and growth per workload."""
    growth: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        growth.setdefault(r.workload, []).append(
            {"events": r.events, "ours": r.ours, "baseline": r.baseline, "ratio": r.ratio}
        )
    return {
        # Taken when the run began, by the caller, so that the commit is the one measured.
        "machine": machine_info or machine(pg),
        "mode": mode,
        "started": started,
        "seconds": round(seconds, 1),
        "results": [asdict(r) for r in results],
        "growth": growth,
    }
