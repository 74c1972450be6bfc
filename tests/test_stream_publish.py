"""Publishing a store to NATS JetStream: every position once, in order; nothing twice.

Against the NATS server at 127.0.0.1:4222 (``SAFECOMM_TEST_NATS``), which CI starts.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import nats.js.errors
import pytest
from click.testing import CliRunner
from safecomm_cli.main import main
from safecomm_nats import Envelope
from safecomm_nats.broker import BrokerError, StreamSettings, ensure_stream
from safecomm_nats.positions import PublishedPositions

from safecomm_core import open_store
from safecomm_core.projections.database import open_views
from safecomm_core.store import parse_store_url
from tests.conftest import PG_URL, drop_pg_tables
from tests.streaming import (
    NATS_URL,
    ROOT,
    consume,
    drop_streams,
    fill,
    publish,
    stream_messages,
    unique_name,
)
from tests.test_migrant import ERASE, REGISTER


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def named(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh store's URL and its name, unique to the test, on SQLite and on PostgreSQL
    (where the publisher's position lives in the same database); its streams go after."""
    name = unique_name()
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'safecomm.db'}?name={name}", name
    else:
        yield f"{PG_URL}?name={name}", name
        drop_pg_tables(name)
    drop_streams([f"SAFECOMM_{name.upper()}", f"SAFECOMM_{name.upper()}_DEAD"])


def cli_publish(url: str, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["stream", "publish", "--store", url, "--nats", NATS_URL, *args]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_every_position_once_in_order_then_nothing_new(named: tuple[str, str]) -> None:
    url, name = named
    with open_store(url) as service:
        head = fill(service, 150)
    assert f"published {head} events to SAFECOMM_{name.upper()}" in cli_publish(url)

    envelopes = consume(name)
    assert [e.position for e in envelopes] == list(range(1, head + 1))
    versions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for e in envelopes:
        versions[(e.kind, e.ref)].append(e.record_version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())

    assert "published 0 events" in cli_publish(url)
    assert asyncio.run(stream_messages(f"SAFECOMM_{name.upper()}")) == head
    assert consume(name) == []  # the durable consumer has seen them all


def test_the_envelope_says_what_the_history_says(named: tuple[str, str]) -> None:
    url, name = named
    with open_store(url) as service:
        fill(service, 60)
        publish(url)
        envelopes = consume(name)
        for e in envelopes:
            assert e.id == f"{name}:{e.position}"
            assert e.type == f"safecomm.{e.kind}.{e.event}"
            assert e.source == f"safecomm/{name}"
            (entry,) = [h for h in service.history(e.ref, e.kind) if h.version == e.record_version]
            assert (entry.event, entry.occurred_at, entry.recorded_at) == (
                e.event,
                e.occurred_at,
                e.time,
            )
            assert (entry.actor, entry.role, entry.channel, entry.command_id) == (
                e.actor,
                e.role,
                e.channel,
                e.command_id,
            )
            assert json.loads(json.dumps(entry.details, default=str)) == e.data
            assert Envelope.from_json(e.to_json()) == e
    assert {e.kind for e in envelopes} >= {"command", "rulebook"}


def test_erasure_is_published_and_no_personal_data_leaves_in_clear(
    named: tuple[str, str],
) -> None:
    url, name = named
    with open_store(url) as service:
        fill(service, 5)  # the rules a registration needs
        service.handle_json(REGISTER)
    publish(url)
    with open_store(url) as service:
        service.handle_json(ERASE)
    publish(url)

    envelopes = consume(name)
    worker = [e for e in envelopes if e.subject == "migrant/m-0001"]
    assert [e.event for e in worker] == ["Registered", "Erased"]
    assert worker[0].data["person"] == {"person": "p-2001"}
    sent = b"".join(e.to_json() for e in envelopes).decode()
    for secret in ("张伟", "51040219900101123X", "13900002001", "C2-12-3-401"):
        assert secret not in sent


def test_a_restart_after_the_duplicate_window_publishes_nothing_twice(
    named: tuple[str, str],
) -> None:
    url, name = named
    with open_store(url) as service:
        head = fill(service, 40)
    assert publish(url, duplicate_window=0.5) == (head, head)
    # The committed position is lost (a views file restored from an old copy) and the
    # broker's duplicate window has passed: the stream's own last message says where to go on.
    positions = PublishedPositions(open_views(parse_store_url(url)))
    positions.commit(f"SAFECOMM_{name.upper()}", 0)
    positions.close()
    time.sleep(1.0)
    assert publish(url) == (0, head)
    assert asyncio.run(stream_messages(f"SAFECOMM_{name.upper()}")) == head


def test_only_the_chosen_kinds_are_published(named: tuple[str, str]) -> None:
    url, name = named
    with open_store(url) as service:
        head = fill(service, 60)
    assert f"position {head}" in cli_publish(url, "--kind", "rulebook")
    envelopes = consume(name)
    assert envelopes
    assert {e.kind for e in envelopes} == {"rulebook"}
    unknown = CliRunner().invoke(main, ["stream", "publish", "--store", url, "--kind", "nope"])
    assert unknown.exit_code == 2
    assert "unknown record kind 'nope'" in unknown.output


def test_a_stream_that_cannot_be_created_is_one_line_of_error(named: tuple[str, str]) -> None:
    url, name = named
    with open_store(url) as service:
        fill(service, 5)
    cli_publish(url)  # SAFECOMM_<NAME> now holds the store's subjects
    other = f"OTHER_{name.upper()}"
    try:
        refused = CliRunner().invoke(
            main, ["stream", "publish", "--store", url, "--nats", NATS_URL, "--stream", other]
        )
    finally:
        drop_streams([other])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: stream {other} (safecomm.{name}.*.*) could not be")
    assert "subjects overlap" in refused.output


def test_publish_follow_sends_new_events_until_stopped(named: tuple[str, str]) -> None:
    url, name = named
    with open_store(url) as service:
        first = fill(service, 10)
    follower = subprocess.Popen(
        [sys.executable, "-c", "from safecomm_cli.main import main; main()", "stream",
         "publish", "--follow", "--store", url, "--nats", NATS_URL],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert [e.position for e in consume(name, idle=30.0, until=first)] == list(
            range(1, first + 1)
        )
        with open_store(url) as service:
            service.handle_json(REGISTER)
            head = service.log.head()
        later = consume(name, idle=30.0, until=head - first)
        assert [e.position for e in later] == list(range(first + 1, head + 1))
    finally:
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert f"published {head} events to SAFECOMM_{name.upper()}; position {head}" in out


class _FormingCluster:
    """A JetStream context whose cluster cannot place replicas for its first ``refusals``
    asks ("no suitable peers for placement", as while a peer is not yet heard from)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.created: list[object] = []

    async def stream_info(self, _name: str) -> object:
        raise nats.js.errors.NotFoundError(code=404, err_code=10059, description="not found")

    async def add_stream(self, config: object) -> object:
        if self.refusals:
            self.refusals -= 1
            raise nats.js.errors.BadRequestError(
                code=400, err_code=10005, description="no suitable peers for placement"
            )
        self.created.append(config)
        return config


def test_a_forming_cluster_is_given_time_to_place_the_replicas() -> None:
    settings = StreamSettings("grace", replicas=3)
    forming = _FormingCluster(refusals=2)
    asyncio.run(ensure_stream(forming, settings))  # type: ignore[arg-type]
    assert len(forming.created) == 1
    # One that never can (fewer servers than replicas) is refused once the grace is over.
    never = _FormingCluster(refusals=10**6)
    with pytest.raises(BrokerError, match="no suitable peers for placement"):
        asyncio.run(ensure_stream(never, settings, placement_grace=1.0))  # type: ignore[arg-type]
    assert never.created == []
