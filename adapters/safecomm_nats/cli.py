"""``safecomm stream``: publish a store's events to NATS JetStream, take commands from it.

Needs the ``nats`` extra (``pip install 'safecomm[nats]'``); the modules that use nats-py
are imported by the commands themselves, so the rest of the CLI works without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from safecomm_cli.main import friendly, store_option
from safecomm_cli.stopping import until_stopped

from safecomm_core import open_store

__all__ = ["stream"]

nats_option = click.option(
    "--nats",
    "servers",
    envvar="SAFECOMM_NATS",
    default="nats://127.0.0.1:4222",
    show_default=True,
    help="NATS server URL(s), comma-separated.",
)


@click.group("stream")
def stream() -> None:
    """Publish the store's events to NATS JetStream, and take commands over NATS."""
    # The first of a run of broker outages is said on stderr (see safecomm_nats.broker).
    logging.basicConfig(level=logging.WARNING, format="%(message)s")


@stream.command("publish")
@store_option
@nats_option
@click.option("--follow", is_flag=True, help="Keep publishing new events until stopped.")
@click.option("--stream", "stream_name", default="", help="Stream name [SAFECOMM_<STORE>].")
@click.option(
    "--subject",
    "subjects",
    multiple=True,
    help="A subject the stream holds, if it is created [safecomm.<store>.*.*].",
)
@click.option("--replicas", type=int, default=1, show_default=True, help="If created.")
@click.option(
    "--duplicate-window",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds the stream drops a repeated message id, if created.",
)
@click.option("--kind", "kinds", multiple=True, help="Publish only records of this kind.")
@friendly
def publish(
    store_url: str,
    servers: str,
    follow: bool,
    stream_name: str,
    subjects: tuple[str, ...],
    replicas: int,
    duplicate_window: float,
    kinds: tuple[str, ...],
) -> None:
    """Publish every stored event, once each and in order, from where the last run stopped."""
    from safecomm_nats.broker import StreamSettings, connect
    from safecomm_nats.publisher import Publisher, topics_of

    try:
        topics = topics_of(kinds)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--kind") from None

    with open_store(store_url) as service:
        settings = StreamSettings(
            store=service.config.name,
            name=stream_name,
            subjects=subjects,
            replicas=replicas,
            duplicate_window=duplicate_window,
        )

        async def run(stop: asyncio.Event) -> tuple[int, int]:
            nc = await connect(servers)
            publisher = Publisher(service.log, nc.jetstream(), settings, topics=topics)
            try:
                position = await publisher.run(follow=follow, stop=stop)
            finally:
                publisher.close()
                await nc.close()
            return publisher.published, position

        published, position = _until_stopped(run)
    click.echo(f"published {published} events to {settings.stream}; position {position}")


@stream.command("serve-commands")
@store_option
@nats_option
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="SAFECOMM_TOKEN_KEY_FILE",
    required=True,
    help="The HS256 key service tokens are signed with (safecomm token keygen / issue).",
)
@friendly
def serve_commands_command(store_url: str, servers: str, key_file: Path) -> None:
    """Answer commands sent on safecomm.<store>.commands until stopped."""
    from safecomm_tokens import TokenVerifier

    from safecomm_nats.broker import connect
    from safecomm_nats.intake import commands_subject, serve_commands

    verify = TokenVerifier.from_key_file(key_file).principal
    with open_store(store_url) as service:
        name = service.config.name

        async def run(stop: asyncio.Event) -> None:
            nc = await connect(servers)
            click.echo(f"taking commands on {commands_subject(name)}", err=True)
            try:
                await serve_commands(service, nc, name, verify, stop)
            finally:
                await nc.drain()

        _until_stopped(run)


def _until_stopped(main: Callable[[asyncio.Event], Awaitable[Any]]) -> Any:
    """Run ``main`` until it ends or is stopped (:func:`safecomm_cli.stopping.until_stopped`);
    a publisher still waiting for its broker after the grace period loses nothing: what it
    had not committed is sent again by the next run."""

    def overdue() -> Exception:
        from safecomm_nats.broker import BrokerError

        return BrokerError(
            "stopped while waiting for the broker; the next run goes on from the committed position"
        )

    return until_stopped(main, overdue)
