"""Broker outages while a store is published: a server away, a cluster's leader killed.

The tests start the servers themselves (loopback ports nobody holds, a temporary directory
each), publishes to a stream of three replicas from a publisher process, kills the
stream's leader once some hundreds of events are in, and lets the publisher go on against
the two servers left; or start the publisher with no server up, then kill the server and
start it again mid-publish. Every position must then be in the stream once. Every process
a test started is stopped by its pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import nats.js.errors

from tests.streaming import ROOT, consume, filled_store


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (each bound once, then let go)."""
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_server(folder: Path, name: str, port: int, *cluster: str) -> subprocess.Popen[bytes]:
    """A JetStream server ``name`` on ``port``, storing under ``folder / name``."""
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    return subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-n", name, "-js",
         "-sd", str(folder / name), *cluster],
        stdout=subprocess.DEVNULL,
        stderr=(folder / f"{name}.log").open("ab"),
    )  # fmt: skip


@contextlib.contextmanager
def stopping(processes: dict[str, subprocess.Popen[bytes]]) -> Iterator[None]:
    """Stop every process of ``processes`` (as it is at the end) by its pid, at the end."""
    try:
        yield
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen[bytes]]]]:
    """Three nats-server processes in one cluster: (their URLs, each process by name)."""
    ports = free_ports(6)
    clients, routes = ports[:3], ports[3:]
    servers: dict[str, subprocess.Popen[bytes]] = {}
    with stopping(servers):
        for i in range(3):
            others = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(routes) if j != i)
            servers[f"n{i}"] = start_server(
                tmp_path,
                f"n{i}",
                clients[i],
                *("--cluster_name", f"c{os.getpid()}", "--cluster"),
                *(f"nats://127.0.0.1:{routes[i]}", "--routes", others),
            )
        yield ",".join(f"nats://127.0.0.1:{p}" for p in clients), servers


async def ready(servers: str) -> None:
    """Return once JetStream answers on ``servers`` (a cluster has elected its leader).

    The ports are polled first, at short intervals: nats-py's own first connection waits
    seconds between attempts, by when a publisher may be done.
    """
    for url in servers.split(","):
        port = int(url.rpartition(":")[2])
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.01)
    while True:
        nc = await nats.connect(servers.split(","), allow_reconnect=False)
        try:
            await nc.jetstream(timeout=1).account_info()
            return
        except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError,
                nats.errors.NoRespondersError):  # fmt: skip
            await asyncio.sleep(0.05)
        finally:
            await nc.close()


async def stream_state(
    servers: str, stream: str, at_least: int = 0, *, led: bool = True
) -> tuple[int, str | None]:
    """(messages, leader's name) of ``stream`` once it holds ``at_least`` messages (and,
    if ``led``, has a leader), asked on one connection; the servers must be up."""
    nc = await nats.connect(servers.split(","), allow_reconnect=False)
    js = nc.jetstream(timeout=2)
    try:
        while True:
            with contextlib.suppress(
                nats.js.errors.NotFoundError,
                nats.js.errors.ServiceUnavailableError,
                nats.errors.TimeoutError,
                nats.errors.NoRespondersError,
            ):
                info = await js.stream_info(stream)
                leader = info.cluster.leader if info.cluster else None
                if info.state.messages >= at_least and (leader or not led):
                    return int(info.state.messages), leader
            await asyncio.sleep(0.01)
    finally:
        await nc.close()


def follower(url: str, servers: str, *options: str) -> subprocess.Popen[str]:
    """``safecomm stream publish --follow``: it never ends by itself, so however slowly a
    test watches on a loaded machine, what it does to the servers happens mid-publish."""
    return subprocess.Popen(
        [sys.executable, "-c", "from safecomm_cli.main import main; main()", "stream",
         "publish", "--follow", "--store", url, "--nats", servers, *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def filled(
    publisher: subprocess.Popen[str],
    servers: str,
    stream: str,
    at_least: int,
    within: float,
    *,
    led: bool = True,
) -> tuple[int, str | None]:
    """:func:`stream_state` once the stream holds ``at_least`` messages; if it does not
    within ``within`` seconds, the failure says what the publisher said (a publisher that
    gave up, and why, is the first thing to know)."""
    try:
        return asyncio.run(
            asyncio.wait_for(stream_state(servers, stream, at_least, led=led), within)
        )
    except TimeoutError:
        alive = publisher.poll() is None
        out, err = stop(publisher) if alive else publisher.communicate(timeout=60)
        raise AssertionError(
            f"{stream} did not hold {at_least} messages within {within:g} s; the publisher "
            f"{'was still running' if alive else f'had ended ({publisher.returncode})'}; "
            f"it said: {out[-1000:]!r} {err[-3000:]!r}"
        ) from None


def stop(publisher: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop a following publisher as an operator would (SIGTERM): its output."""
    publisher.send_signal(signal.SIGTERM)
    return publisher.communicate(timeout=60)


def test_the_stream_leader_killed_mid_publish_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    url, name, head = filled_store(tmp_path, 1000)
    stream = f"SAFECOMM_{name.upper()}"
    with cluster(tmp_path) as (servers, processes):
        asyncio.run(asyncio.wait_for(ready(servers), 120))
        publisher = follower(url, servers, "--replicas", "3")
        try:
            messages, leader = filled(publisher, servers, stream, 300, 120)
            assert publisher.poll() is None  # killed mid-publish
            assert leader in processes, (messages, leader)
            os.kill(processes[leader].pid, signal.SIGKILL)
            processes[leader].wait()
            messages, new_leader = filled(publisher, servers, stream, head, 240)
            assert publisher.poll() is None  # still following: nothing made it give up
        finally:
            out, err = stop(publisher)
        assert publisher.returncode == 0, err
        assert f"; position {head}" in out  # (a resent message may count twice)
        assert new_leader not in (None, leader)
        assert messages == head
        # A consumer of the stream (its leader elected among the two left) may take a while.
        envelopes = consume(name, servers=servers, idle=10.0)
    assert [e.position for e in envelopes] == list(range(1, head + 1))


def test_publishing_waits_for_an_absent_broker_and_goes_on_after_a_restart(
    tmp_path: Path,
) -> None:
    url, name, head = filled_store(tmp_path, 1000)
    stream = f"SAFECOMM_{name.upper()}"
    (port,) = free_ports(1)
    servers = f"nats://127.0.0.1:{port}"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with stopping(processes):
        publisher = follower(url, servers)
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                publisher.wait(timeout=3)
            assert publisher.poll() is None, publisher.communicate()  # waiting, not failed
            processes["server"] = start_server(tmp_path, "solo", port)
            asyncio.run(asyncio.wait_for(ready(servers), 120))
            filled(publisher, servers, stream, 100, 120, led=False)
            os.kill(processes["server"].pid, signal.SIGKILL)
            processes["server"].wait()
            assert publisher.poll() is None
            processes["server"] = start_server(tmp_path, "solo", port)
            filled(publisher, servers, stream, head, 240, led=False)
        finally:
            out, err = stop(publisher)
        assert publisher.returncode == 0, err
        assert f"; position {head}" in out  # (a resent message may count twice)
        assert asyncio.run(stream_state(servers, stream, led=False))[0] == head
        envelopes = consume(name, servers=servers)
    assert [e.position for e in envelopes] == list(range(1, head + 1))


def test_a_publisher_waiting_for_its_broker_stops_when_asked(tmp_path: Path) -> None:
    url, _, _ = filled_store(tmp_path, 5)
    (port,) = free_ports(1)
    publisher = subprocess.Popen(
        [sys.executable, "-c", "from safecomm_cli.main import main; main()", "stream",
         "publish", "--store", url, "--nats", f"nats://127.0.0.1:{port}"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert publisher.stderr is not None
        assert select.select([publisher.stderr], [], [], 60)[0], "the publisher said nothing"
        said = publisher.stderr.readline()
        assert "broker not answering" in said, said
        publisher.send_signal(signal.SIGTERM)
        _, err = publisher.communicate(timeout=60)
    finally:
        if publisher.poll() is None:
            os.kill(publisher.pid, signal.SIGKILL)
            publisher.wait()
    assert publisher.returncode == 1
    assert "error: stopped while waiting for the broker" in err
