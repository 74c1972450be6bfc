"""A three-node JetStream cluster: the stream's leader is killed while the store is published.

The test starts the servers itself (loopback ports nobody holds, a temporary directory
each), publishes to a stream of three replicas from a publisher process, kills the
stream's leader once some hundreds of events are in, and lets the publisher go on against
the two servers left. Every position must then be in the stream once. Every process the
test started is stopped by its pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import nats.js.errors

from tests.streaming import consume, filled_store, publisher_process


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


@contextlib.contextmanager
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen[bytes]]]]:
    """Three nats-server processes in one cluster: (their URLs, each process by name)."""
    ports = free_ports(6)
    clients, routes = ports[:3], ports[3:]
    servers: dict[str, subprocess.Popen[bytes]] = {}
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    try:
        for i in range(3):
            name = f"n{i}"
            others = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(routes) if j != i)
            servers[name] = subprocess.Popen(
                [
                    binary,
                    "-a", "127.0.0.1",
                    "-p", str(clients[i]),
                    "-n", name,
                    "-js",
                    "-sd", str(tmp_path / name),
                    "--cluster_name", f"c{os.getpid()}",
                    "--cluster", f"nats://127.0.0.1:{routes[i]}",
                    "--routes", others,
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"{name}.log").open("wb"),
            )  # fmt: skip
        yield ",".join(f"nats://127.0.0.1:{p}" for p in clients), servers
    finally:
        for process in servers.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in servers.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


async def stream_state(servers: str, stream: str) -> tuple[int, str | None]:
    """(messages, leader's name) of ``stream``; (0, None) while it is not there."""
    nc = await nats.connect(servers.split(","), connect_timeout=2)
    try:
        info = await nc.jetstream(timeout=2).stream_info(stream)
    except (nats.js.errors.NotFoundError, nats.js.errors.ServiceUnavailableError,
            nats.errors.TimeoutError, nats.errors.NoRespondersError):  # fmt: skip
        return 0, None
    finally:
        await nc.close()
    return int(info.state.messages), info.cluster.leader if info.cluster else None


def test_the_stream_leader_killed_mid_publish_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    url, name, head = filled_store(tmp_path, 1000)
    stream = f"SAFECOMM_{name.upper()}"
    with cluster(tmp_path) as (servers, processes):
        publisher = publisher_process(
            url, servers, replicas=3, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            messages, leader = 0, None
            deadline = time.monotonic() + 120
            while (messages < 300 or leader is None) and time.monotonic() < deadline:
                assert publisher.poll() is None, publisher.communicate()
                messages, leader = asyncio.run(stream_state(servers, stream))
                time.sleep(0.05)
            assert leader in processes, (messages, leader)
            os.kill(processes[leader].pid, signal.SIGKILL)
            processes[leader].wait()
            out, err = publisher.communicate(timeout=240)
        finally:
            if publisher.poll() is None:
                os.kill(publisher.pid, signal.SIGKILL)
                publisher.wait()
        assert publisher.returncode == 0, err
        assert out.strip().endswith(f", {head})")  # (published, position)
        messages, new_leader = asyncio.run(stream_state(servers, stream))
        assert new_leader not in (None, leader)
        assert messages == head
        envelopes = consume(name, servers=servers, idle=3.0)
    assert [e.position for e in envelopes] == list(range(1, head + 1))
