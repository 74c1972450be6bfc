"""``safecomm alerts``: deliver alerts to the linkage network's units, and their credentials.

Needs the ``notify`` extra (``pip install 'safecomm[notify]'``); the modules that use
aiomqtt and httpx are imported by the commands themselves.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click
from safecomm_cli.main import friendly, store_option

from safecomm_core import open_store

__all__ = ["alerts"]

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="SAFECOMM_ALERTS_CONFIG",
    default=None,
    help="The dispatcher's settings (TOML); without: MQTT on 127.0.0.1:1883.",
)


@click.group("alerts")
def alerts() -> None:
    """Deliver alerts to the units of the linkage network."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")


@alerts.command("dispatch")
@store_option
@config_option
@click.option("--follow", is_flag=True, help="Keep delivering new alerts until stopped.")
@friendly
def dispatch(store_url: str, config_file: Path | None, follow: bool) -> None:
    """Reach every recipient unit of every alert raised, record each step, escalate."""
    from safecomm_cli.stopping import until_stopped

    from safecomm_notify.config import load_settings
    from safecomm_notify.dispatcher import Dispatcher
    from safecomm_notify.lease import lease_for
    from safecomm_notify.listener import Listener

    try:
        settings = load_settings(config_file)
        channels = settings.build_channels()
    except (ValueError, LookupError, ImportError) as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    with open_store(store_url) as service:
        dispatcher = Dispatcher(
            service,
            channels,
            secret=settings.secret(),
            retry=settings.retry,
            lease=lease_for(service.config),
            name=settings.name,
        )

        async def run(stop: asyncio.Event) -> int:
            listener = None
            if settings.listen is not None:
                listener = Listener(dispatcher, *settings.listen, settings.sms_hook_token)
                port = await listener.start()
                click.echo(f"listening for acknowledgements on port {port}", err=True)
            try:
                return await dispatcher.run(follow=follow, stop=stop)
            finally:
                if listener is not None:
                    await listener.stop()

        try:
            position = until_stopped(run)
        finally:
            dispatcher.close()
    click.echo(
        f"sent {dispatcher.sent} attempts, {dispatcher.accepted} acknowledgements "
        f"recorded, {dispatcher.refused} refused; position {position}"
    )


@alerts.command("credential")
@config_option
@click.argument("unit")
@friendly
def credential(config_file: Path | None, unit: str) -> None:
    """Print UNIT's credential key (hex), for its duty app or system."""
    from safecomm_notify.config import load_settings
    from safecomm_notify.credentials import unit_key

    try:
        settings = load_settings(config_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    click.echo(unit_key(settings.secret(), unit).hex())
