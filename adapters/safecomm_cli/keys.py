"""``safecomm keys``: the master key that wraps every store's keys (``docs/personal-data.md``).

``init`` writes a new master key file (never over an existing one); ``rotate`` replaces it
and re-wraps the live keys of the stores given, which completes every erasure made before;
``complete-erasures`` destroys keys whose erasure is recorded but was not finished.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from safecomm_cli.main import friendly, store_option
from safecomm_core import open_store
from safecomm_core.errors import StoreError
from safecomm_core.keystore import open_key_store
from safecomm_core.masterkey import (
    ENV_KEY,
    LocalMasterKey,
    create_key_file,
    key_file,
    rotate_key_file,
)
from safecomm_core.store import DEFAULT_STORE, parse_store_url


@click.group()
def keys() -> None:
    """The master key: it wraps every person key, and is kept outside every store."""


@keys.command()
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: $SAFECOMM_MASTER_KEY_FILE, else the user's "
    "configuration folder).",
)
@friendly
def init(path: Path | None) -> None:
    """Write a new master key file (mode 0600); refuses to overwrite one."""
    path = path or key_file()
    create_key_file(path)
    click.echo(f"master key written to {path} (mode 0600)")
    click.echo(
        "Keep it, and back it up apart from the stores: without it their personal data "
        "cannot be read, and a copy beside a store's backup would open it."
    )
    if ENV_KEY in os.environ:
        click.echo(f"note: {ENV_KEY} is set and takes precedence over this file", err=True)


@keys.command()
@click.option(
    "--store",
    "store_urls",
    multiple=True,
    envvar="SAFECOMM_STORE",
    help="A store whose keys to re-wrap; repeat it for every store the key file serves. "
    f"[default: {DEFAULT_STORE}]",
)
@friendly
def rotate(store_urls: tuple[str, ...]) -> None:
    """Make a new master key, re-wrap every live key of the stores with it, retire the old.

    Stop the stores' other processes first: they hold the old key. Every store that the
    key file serves must be named: one left out cannot be opened with the new key.
    """
    configs = [parse_store_url(url) for url in store_urls or (DEFAULT_STORE,)]
    for config in configs:
        if config.kind == "memory":
            raise StoreError("a memory:// store has no key file to rotate", field="store")
        if config.kind == "sqlite" and not Path(config.keys_path).exists():
            raise StoreError(f"no key store at {config.keys_path}", field="store")
    done: list[str] = []

    def rewrap(old: LocalMasterKey, new: LocalMasterKey) -> None:
        for config in configs:
            with config.opening():
                store_keys = open_key_store(config, old)
            try:
                count = store_keys.rotate(new)
            finally:
                store_keys.close()
            done.append(f"{config.display}: {count} person keys re-wrapped")

    path = key_file()
    rotate_key_file(path, rewrap)
    for line in done:
        click.echo(line)
    click.echo(
        f"new master key in {path}; the old one is retired. Copies of erased people's keys "
        "(backups, logs, dead rows) can no longer be opened: destroy any copy of the old "
        "key file too."
    )


@keys.command("complete-erasures")
@store_option
@friendly
def complete_erasures(store_url: str | None) -> None:
    """Destroy the stored keys of people whose erasure is recorded but whose key is not.

    An erasure whose key could not be destroyed when it was recorded (the key store was
    busy, say) leaves the person reading as erased; this finishes the job. The next
    erasure, or a repeat of the same command, does it too.
    """
    with open_store(store_url) as service:
        count = service.keys.complete_erasures()
    click.echo(f"{count} erased people's keys destroyed")
