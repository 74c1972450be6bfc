"""The consumer side: typed envelopes, redelivery, dead letters, a position that persists."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from safecomm_nats import Envelope, subscribe

from safecomm_core import open_store
from tests.streaming import (
    NATS_URL,
    consume,
    drop_streams,
    fill,
    filled_store,
    publish,
    unique_name,
)
from tests.test_examples import EXAMPLES, run
from tests.test_migrant import ERASE, REGISTER


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A store's name and head, its 60 first scenario commands published."""
    url, name, head = filled_store(tmp_path, 60)
    publish(url)
    yield name, head
    drop_streams([f"SAFECOMM_{name.upper()}", f"SAFECOMM_{name.upper()}_DEAD"])


def test_a_rejected_envelope_comes_again_then_goes_to_the_dead_letters(
    published: tuple[str, int],
) -> None:
    name, head = published

    async def run() -> tuple[list[int], list[Envelope]]:
        seen: list[int] = []
        kept: list[Envelope] = []
        async with subscribe(
            NATS_URL, store=name, durable="picky", max_deliver=3, redeliver_after=0.05, idle=2
        ) as sub:
            async for envelope in sub:
                seen.append(envelope.position)
                if envelope.position == 2:
                    await sub.reject(envelope, ValueError("no room for it"))
                else:
                    kept.append(envelope)
        return seen, kept

    seen, kept = asyncio.run(run())
    assert seen.count(2) == 3
    assert sorted(e.position for e in kept) == [p for p in range(1, head + 1) if p != 2]

    async def dead() -> tuple[bytes, dict[str, str]]:
        nc = await nats.connect(NATS_URL)
        try:
            msg = await nc.jetstream().get_last_msg(
                f"SAFECOMM_{name.upper()}_DEAD", f"safecomm-dead.{name}.picky"
            )
        finally:
            await nc.close()
        return msg.data or b"", dict(msg.headers or {})

    data, headers = asyncio.run(dead())
    assert Envelope.from_json(data).position == 2
    assert headers["Safecomm-Error"] == "ValueError: no room for it"
    assert headers["Safecomm-Deliveries"] == "3"
    assert consume(name, durable="picky") == []  # nothing left to deliver


def test_the_consumer_position_survives_a_restart(published: tuple[str, int]) -> None:
    name, head = published

    async def first(count: int) -> list[int]:
        positions = []
        async with subscribe(NATS_URL, store=name, durable="restarting") as sub:
            async for envelope in sub:
                positions.append(envelope.position)
                if len(positions) == count:
                    break  # leaving normally: the envelope in hand was dealt with
        return positions

    assert asyncio.run(first(10)) == list(range(1, 11))
    assert [e.position for e in consume(name, durable="restarting")] == list(range(11, head + 1))


def test_an_envelope_whose_handling_failed_comes_again_after_a_restart(
    published: tuple[str, int],
) -> None:
    name, head = published

    async def crash() -> None:
        async with subscribe(NATS_URL, store=name, durable="crashing") as sub:
            async for envelope in sub:
                if envelope.position == 5:
                    raise RuntimeError("the service failed on it")

    with pytest.raises(RuntimeError):
        asyncio.run(crash())
    assert [e.position for e in consume(name, durable="crashing")] == list(range(5, head + 1))


def test_the_example_service_keeps_its_table_from_the_stream(tmp_path: Path) -> None:
    name = unique_name()
    url = f"sqlite:///{tmp_path / 'safecomm.db'}?name={name}"
    with open_store(url) as service:
        fill(service, 60)
        service.handle_json(REGISTER)
        service.handle_json(ERASE)
        head = service.log.head()
    publish(url)
    script = str(EXAMPLES / "stream_consumer.py")
    try:
        first = run(script, name, "copy.db", NATS_URL, cwd=tmp_path)
        again = run(script, name, "copy.db", NATS_URL, cwd=tmp_path)
        envelopes = consume(name, durable="check")
    finally:
        drop_streams([f"SAFECOMM_{name.upper()}"])
    assert f"received {head} envelopes" in first
    assert "received 0 envelopes" in again  # the consumer went on where it stopped

    latest: dict[tuple[str, str], Envelope] = {}
    for e in envelopes:
        latest[(e.kind, e.ref)] = e
    expected = {
        (e.kind, e.ref, e.community, e.event, e.record_version)
        for e in latest.values()
        if e.kind != "command" and e.event != "Erased"
    }
    with sqlite3.connect(tmp_path / "copy.db") as db:
        rows = set(db.execute("SELECT kind, ref, community, last_event, version FROM records"))
    assert rows == expected
    assert ("migrant", "m-0001") in latest  # published, and its copy dropped
    assert not [row for row in rows if row[:2] == ("migrant", "m-0001")]
