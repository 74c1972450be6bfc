"""Peak memory of rebuilding every projection, and of writing an evidence bundle, each
measured in a process of its own.

The child (``python -m benchmarks.memory rebuild STORE_URL VIEWS_FILE``) rebuilds every
shipped projection from zero; ``python -m benchmarks.memory catch-up STORE_URL`` catches
every projection and the ledger up, as ``safecomm project`` and a seal would have;
``python -m benchmarks.memory bundle STORE_URL ZIP_FILE`` then writes the evidence bundle
of the latest month (the reports, every stored row and ledger entry streamed into the
zip), and
``python -m benchmarks.memory verify ZIP_FILE`` verifies that bundle without the store
(in the bundle figure's details). Each prints its peak
resident set size (``getrusage``'s ``ru_maxrss``; ``VmHWM`` from ``/proc/self/status``
where it exists, which is the same figure). Run at each size, the figures show whether
memory stays flat as the history grows.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Result

__all__ = ["BUNDLE_LIMIT_MB", "LIMIT_MB", "bundle_rss", "peak_rss", "rebuild_rss"]

LIMIT_MB = 400.0
BUNDLE_LIMIT_MB = 200.0


def peak_rss() -> float:
    """This process's peak resident set size so far, in MB (MiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def _peak(
    workload: str, label: str, events: int, mb: float, limit: float, details: dict[str, Any]
) -> list[Result]:
    return [
        Result(
            workload=workload,
            label=label,
            events=events,
            unit="MB",
            ours=mb,
            baseline=None,
            ratio=None,
            target=f"≤ {limit:.0f} MB, flat",
            met=mb <= limit,
            details=details,
        )
    ]


def rebuild_rss(ctx: Context, url: str, events: int) -> list[Result]:
    """Peak RSS of a child process that rebuilds every projection over ``url``."""
    found = _child("rebuild", url, str(ctx.workdir / f"views-rss-{events}.db"))
    details = {"before_rebuild_mb": found["before_mb"], "handled": found["handled"]}
    label = "peak RSS of the rebuild"
    return _peak("rebuild_peak_rss", label, events, found["peak_rss_mb"], LIMIT_MB, details)


def bundle_rss(ctx: Context, url: str, events: int) -> list[Result]:
    """Peak RSS of a child process that writes the evidence bundle of ``url``, its views
    and ledger caught up first by another (whose peak is in the details: on a store
    whose views were never built, that is a rebuild's)."""
    out = ctx.workdir / f"bundle-{events}.zip"
    caught_up = _child("catch-up", url)
    found = _child("bundle", url, str(out))
    verified = _child("verify", str(out))
    details = {
        "catch_up_peak_rss_mb": caught_up["peak_rss_mb"],
        "catch_up_seconds": caught_up["seconds"],
        "before_bundle_mb": found["before_mb"],
        "seconds": found["seconds"],
        "bundle_bytes": out.stat().st_size,
        "verify_peak_rss_mb": verified["peak_rss_mb"],
        "verify_seconds": verified["seconds"],
        "verify_records": verified["records"],
    }
    out.unlink()
    label = "peak RSS of writing an evidence bundle"
    return _peak("bundle_peak_rss", label, events, found["peak_rss_mb"], BUNDLE_LIMIT_MB, details)


def _rebuild(url: str, views: str) -> None:
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
                "handled": sum(h for h, _ in done.values()),
            }
        )
    )


def _catch_up(url: str) -> None:
    import time

    from safecomm_core import open_store
    from safecomm_core.audit.ledger import Ledger
    from safecomm_core.keystore import MemoryKeyStore
    from safecomm_core.projections import Projector, builtin_projections

    before = peak_rss()
    began = time.perf_counter()
    with open_store(url, keys=MemoryKeyStore()) as service:
        with Projector(service) as projector:
            projector.catch_up_all(builtin_projections())
        with Ledger(service) as ledger:
            ledger.catch_up()
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss(),
                "before_mb": before,
                "seconds": time.perf_counter() - began,
            }
        )
    )


def _bundle(url: str, out: str) -> None:
    import time

    import safecomm_core.projections  # noqa: F401
    from safecomm_core import open_store
    from safecomm_core.audit import write_bundle
    from safecomm_core.keystore import MemoryKeyStore

    before = peak_rss()
    began = time.perf_counter()
    with open_store(url, keys=MemoryKeyStore()) as service:
        write_bundle(service, out)
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss(),
                "before_mb": before,
                "seconds": time.perf_counter() - began,
            }
        )
    )


def _verify(bundle: str) -> None:
    import time

    from safecomm_core.audit import verify_bundle

    before = peak_rss()
    began = time.perf_counter()
    result = verify_bundle(bundle)
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss(),
                "before_mb": before,
                "seconds": time.perf_counter() - began,
                "records": result.records,
            }
        )
    )


if __name__ == "__main__":
    steps: dict[str, Callable[..., None]] = {
        "rebuild": _rebuild,
        "catch-up": _catch_up,
        "bundle": _bundle,
        "verify": _verify,
    }
    steps[sys.argv[1]](*sys.argv[2:])
