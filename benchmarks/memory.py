"""Peak memory of rebuilding every projection, measured in a process of its own.

The child (``python -m benchmarks.memory STORE_URL VIEWS_FILE``) rebuilds every shipped
projection from zero and prints its peak resident set size (``getrusage``'s ``ru_maxrss``;
``VmHWM`` from ``/proc/self/status`` where it exists, which is the same figure). Run at
each size, the figures show whether memory stays flat as the history grows.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Context, Result

__all__ = ["LIMIT_MB", "peak_rss", "rebuild_rss"]

LIMIT_MB = 400.0


def peak_rss() -> float:
    """This process's peak resident set size so far, in MB (MiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rebuild_rss(ctx: Context, url: str, events: int) -> list[Result]:
    """Peak RSS of a child process that rebuilds every projection over ``url``."""
    views = ctx.workdir / f"views-rss-{events}.db"
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", url, str(views)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    mb = float(found["peak_rss_mb"])
    return [
        Result(
            workload="rebuild_peak_rss",
            label="peak RSS of the rebuild",
            events=events,
            unit="MB",
            ours=mb,
            baseline=None,
            ratio=None,
            target=f"≤ {LIMIT_MB:.0f} MB, flat",
            met=mb <= LIMIT_MB,
            details={"before_rebuild_mb": found["before_mb"], "handled": found["handled"]},
        )
    ]


def _main(url: str, views: str) -> None:
    # Imports loaded before the baseline reading, so the figure is the rebuild's own growth.
    import safecomm_core.projections  # noqa: F401
    from benchmarks.rebuild import rebuild_all

    before = peak_rss()
    done = rebuild_all(url, Path(views))
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss(),
                "before_mb": before,
                "handled": sum(h for h, _, _ in done.values()),
            }
        )
    )


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
