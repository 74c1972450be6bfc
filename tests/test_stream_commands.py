"""Commands over NATS: a service token, one command, the outcome or the typed error."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from safecomm_nats.broker import connect
from safecomm_nats.intake import commands_subject, open_intake
from safecomm_tokens import TokenVerifier, issue_token

from safecomm_core import Principal, Role, Safecomm, open_store
from tests.commanding import sample_commands
from tests.streaming import NATS_URL, unique_name

ROOT = Path(__file__).resolve().parents[1]
KEY = b"k" * 40
REPORT = sample_commands()[0]  # staff-017, a mediator, reports a dispute in C1


def token(
    key: bytes = KEY, subject: str = "staff-017", communities: tuple[str, ...] = ("C1",), ttl=3600
) -> str:
    principal = Principal(subject, Role.MEDIATOR, communities)
    return issue_token(principal, key, timedelta(seconds=ttl))


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[Safecomm, str, Path]]:
    """A store, its name, and the key file its intake checks tokens against."""
    name = unique_name()
    key_file = tmp_path / "service.key"
    key_file.write_bytes(KEY + b"\n")
    with open_store(f"sqlite:///{tmp_path / 'safecomm.db'}?name={name}") as service:
        yield service, name, key_file


def ask(intake: tuple[Safecomm, str, Path], *requests: dict[str, Any]) -> list[dict[str, Any]]:
    """The intake's replies to ``requests``, sent in turn."""
    service, name, key_file = intake

    async def run() -> list[dict[str, Any]]:
        nc = await connect(NATS_URL)
        sub = await open_intake(service, nc, name, TokenVerifier.from_key_file(key_file).principal)
        try:
            replies = []
            for request in requests:
                msg = await nc.request(
                    commands_subject(name), json.dumps(request).encode(), timeout=10
                )
                replies.append(json.loads(msg.data))
            return replies
        finally:
            await sub.unsubscribe()
            await nc.close()

    return asyncio.run(run())


def test_a_command_is_handled_once_and_a_repeat_gets_the_first_outcome(intake) -> None:
    service = intake[0]
    first, repeat = ask(intake, *[{"token": token(), "command": REPORT}] * 2)
    assert first == {
        "ok": True,
        "outcome": {
            "command_id": "c-1",
            "type": "dispute.report",
            "records": ["dispute:d-2014-0001"],
            "duplicate": False,
        },
    }
    assert repeat == {"ok": True, "outcome": {**first["outcome"], "duplicate": True}}
    assert [e.event for e in service.history("d-2014-0001", "dispute")] == ["Reported"]


def test_a_refused_command_writes_nothing_and_says_which_field(intake) -> None:
    service = intake[0]
    head = service.log.head()
    bad = {**REPORT, "occurred_at": "yesterday"}
    (reply,) = ask(intake, {"token": token(), "command": bad})
    assert reply["ok"] is False
    assert reply["error"]["type"] == "InvalidCommand"
    assert reply["error"]["field"] == "occurred_at"
    assert reply["error"]["rule"] == "must be an ISO 8601 date-time"
    assert service.log.head() == head


@pytest.mark.parametrize(
    ("credential", "error", "field"),
    [
        (token(key=b"x" * 40), "InvalidToken", "token"),
        (token(ttl=-10), "InvalidToken", "exp"),
        ("not a token", "InvalidToken", "token"),
        (token(communities=("C2",)), "Forbidden", ""),
        (token(subject="staff-002"), "Forbidden", ""),
    ],
    ids=["other key", "expired", "malformed", "other community", "other actor"],
)
def test_a_wrong_token_is_refused_and_writes_nothing(intake, credential, error, field) -> None:
    service = intake[0]
    head = service.log.head()
    (reply,) = ask(intake, {"token": credential, "command": REPORT})
    assert reply["ok"] is False
    assert reply["error"]["type"] == error
    if field:
        assert reply["error"]["field"] == field
    assert service.log.head() == head
    assert service.receipt("c-1") is None


def test_the_command_line_serves_commands_until_stopped(tmp_path: Path) -> None:
    name = unique_name()
    key_file = tmp_path / "service.key"
    key_file.write_bytes(KEY)
    url = f"sqlite:///{tmp_path / 'safecomm.db'}?name={name}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from safecomm_cli.main import main; main()",
            "stream",
            "serve-commands",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "SAFECOMM_STORE": url,
            "SAFECOMM_TOKEN_KEY_FILE": str(key_file),
            "SAFECOMM_NATS": NATS_URL,
        },
    )
    try:
        reply = asyncio.run(_request_until_served(name, {"token": token(), "command": REPORT}))
    finally:
        server.send_signal(signal.SIGTERM)
        status = server.wait(timeout=30)
    assert reply["ok"] is True
    assert status == 0
    with open_store(url) as service:
        assert service.receipt("c-1") is not None


async def _request_until_served(name: str, request: dict[str, Any]) -> dict[str, Any]:
    nc = await nats.connect(NATS_URL)
    try:
        for _ in range(600):  # the server process takes a few seconds to start
            try:
                msg = await nc.request(
                    commands_subject(name), json.dumps(request).encode(), timeout=10
                )
            except nats.errors.NoRespondersError:
                await asyncio.sleep(0.1)
                continue
            return dict(json.loads(msg.data))
        raise AssertionError("the intake never answered")
    finally:
        await nc.close()
