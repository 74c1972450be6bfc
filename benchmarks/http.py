"""The HTTP service beside the in-process API, on the same kind of store, in the same run.

``http_commands``
    Ours: dispute workflows (the CLI sample's five commands, each dispute its own ids)
    posted to ``safecomm serve``'s app, served by uvicorn on loopback, by 8 concurrent
    clients, each sending its disputes' commands in order, one request per command.
    Baseline: the very same commands through :meth:`Safecomm.handle` in process, one
    after another, into a fresh SQLite store. Ratio: commands/s over HTTP ÷ in process.
``http_report``
    The monthly report over HTTP on the same store: asked again with ``If-None-Match``
    (answered 304 without building it) ÷ asked fresh (built and rendered each time).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app
from safecomm_http.in_thread import serve_in_thread
from safecomm_tokens import issue_token

from benchmarks.harness import Context, Result
from safecomm_core import open_store
from safecomm_core.access import ALL_COMMUNITIES, Principal
from safecomm_core.values import Role

__all__ = ["dispute_commands", "http_commands", "http_report", "serve_store"]

CLIENTS = 8
#: What the HTTP layer may cost at most: half the in-process throughput.
COMMANDS_AT_LEAST = 0.5
#: A repeated report answered 304 is not built again: at least this many times faster.
CACHED_AT_LEAST = 2.0
KEY = b"benchmark-key-" + b"k" * 40
SAMPLE = Path(__file__).parents[1] / "adapters" / "safecomm_cli" / "sample.jsonl"


def dispute_commands(lanes: int, per_lane: int) -> list[list[dict[str, Any]]]:
    """Per lane, ``per_lane`` disputes' workflows (five commands each), ids of their own."""
    sample = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    return [
        [
            {**data, "command_id": f"{lane}-{n}-{step}", "dispute_id": f"d-{lane}-{n}"}
            for n in range(per_lane)
            for step, data in enumerate(sample)
        ]
        for lane in range(lanes)
    ]


@contextmanager
def serve_store(store_url: str) -> Iterator[str]:
    """The HTTP service over ``store_url``, served by uvicorn on loopback; its base URL."""
    app = create_app(
        Backend.open(store_url),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=1e9, burst=1e9),
    )
    with serve_in_thread(app) as base:
        yield base


def _headers(data: dict[str, Any], tokens: dict[tuple[str, str], str]) -> dict[str, str]:
    actor = (data["actor"]["id"], data["actor"]["role"])
    if actor not in tokens:
        who = Principal(actor[0], Role(actor[1]), ALL_COMMUNITIES)
        tokens[actor] = issue_token(who, KEY, timedelta(hours=1))
    return {"Authorization": f"Bearer {tokens[actor]}"}


def _post_lane(base: str, lane: list[dict[str, Any]]) -> None:
    tokens: dict[tuple[str, str], str] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for data in lane:
            response = client.post("/v1/commands", json=data, headers=_headers(data, tokens))
            if response.status_code != 201:
                raise RuntimeError(f"{data['command_id']}: {response.status_code} {response.text}")


def _fresh(workdir: Path, name: str) -> str:
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return f"sqlite:///{folder}/store.db"


def _in_process(url: str, lanes: list[list[dict[str, Any]]]) -> float:
    with open_store(url) as service:
        began = time.perf_counter()
        for lane in lanes:
            for data in lane:
                service.handle_json(data)
        return time.perf_counter() - began


def _over_http(url: str, lanes: list[list[dict[str, Any]]]) -> float:
    with serve_store(url) as base, ThreadPoolExecutor(len(lanes)) as pool:
        began = time.perf_counter()
        for done in [pool.submit(_post_lane, base, lane) for lane in lanes]:
            done.result()
        return time.perf_counter() - began


def http_commands(ctx: Context, count: int) -> list[Result]:
    """Commands over HTTP from 8 clients ÷ the same commands in process; best of repeat."""
    lanes = dispute_commands(CLIENTS, max(1, count // (5 * CLIENTS)))
    commands = sum(len(lane) for lane in lanes)
    ours_s = min(
        _over_http(_fresh(ctx.workdir, f"http-ours-{n}"), lanes) for n in range(ctx.repeat)
    )
    base_s = min(
        _in_process(_fresh(ctx.workdir, f"http-base-{n}"), lanes) for n in range(ctx.repeat)
    )
    ratio = base_s / ours_s
    return [
        Result(
            workload="http_commands",
            label=f"commands over HTTP, {CLIENTS} clients, SQLite file",
            events=commands,
            unit="commands/s",
            ours=commands / ours_s,
            baseline=commands / base_s,
            ratio=ratio,
            target=f"≥ {COMMANDS_AT_LEAST}× in-process handle()",
            met=ratio >= COMMANDS_AT_LEAST,
            details={"clients": CLIENTS, "ours_s": ours_s, "baseline_s": base_s},
        )
    ]


def _rate(client: httpx.Client, headers: dict[str, str], seconds: float, status: int) -> float:
    done, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds or done < 3:
        response = client.get("/v1/reports/monthly", headers=headers)
        if response.status_code != status:
            raise RuntimeError(f"expected {status}, got {response.status_code}")
        done += 1
    return done / elapsed


def http_report(ctx: Context, count: int) -> list[Result]:
    """The monthly report per second: cached (304) ÷ fresh, on a store of disputes."""
    url = _fresh(ctx.workdir, "http-report")
    lanes = dispute_commands(CLIENTS, max(1, count // (5 * CLIENTS)))
    _in_process(url, lanes)
    office = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)
    headers = {"Authorization": f"Bearer {issue_token(office, KEY, timedelta(hours=1))}"}
    seconds = 1.0 if ctx.quick else 5.0
    with serve_store(url) as base, httpx.Client(base_url=base, timeout=60) as client:
        etag = client.get("/v1/reports/monthly", headers=headers).headers["etag"]
        fresh = _rate(client, headers, seconds, 200)
        cached = _rate(client, {**headers, "If-None-Match": etag}, seconds, 304)
    events = sum(len(lane) for lane in lanes)
    return [
        Result(
            workload="http_report",
            label="monthly report over HTTP: 304 with ETag ÷ built fresh",
            events=events,
            unit="reports/s",
            ours=cached,
            baseline=fresh,
            ratio=cached / fresh,
            target=f"≥ {CACHED_AT_LEAST}× fresh",
            met=cached / fresh >= CACHED_AT_LEAST,
            details={"cached_per_s": cached, "fresh_per_s": fresh},
        )
    ]
