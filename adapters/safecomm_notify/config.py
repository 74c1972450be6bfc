"""The dispatcher's settings file (TOML), and building the dispatcher from it.

::

    [dispatch]
    name = "dispatcher"          # whose committed position this is
    secret_file = "units.key"    # the secret units' credentials derive from
    listen = "127.0.0.1:8470"    # acknowledgements over HTTP, SMS replies; omit for none
    sms_hook_token_env = "SAFECOMM_SMS_HOOK_TOKEN"   # the secret path of the SMS hook
    attempts = 3                 # per channel
    first_pause = 1.0            # seconds, doubled per attempt, with jitter
    longest_pause = 30.0
    timeout = 10.0               # seconds per send

    [channels.mqtt]              # each table names a channel's entry point
    host = "127.0.0.1"
    port = 1883
    prefix = "safecomm"

Without a file: MQTT on the local broker only, the secret in ``units.key`` beside the
working directory (made on first use). docs/alerts.md, *Settings*, lists every channel's
settings.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from safecomm_notify.channel import Channel, find_channel
from safecomm_notify.credentials import new_secret, read_secret
from safecomm_notify.dispatcher import Retry

__all__ = ["Settings", "load_settings"]

_DEFAULT_CHANNELS: Mapping[str, Mapping[str, Any]] = {"mqtt": {}}


@attrs.frozen
class Settings:
    """What a settings file says."""

    name: str = "dispatcher"
    secret_file: Path = Path("units.key")
    listen: tuple[str, int] | None = None
    sms_hook_token: str | None = None
    retry: Retry = attrs.Factory(Retry)
    channels: Mapping[str, Mapping[str, Any]] = _DEFAULT_CHANNELS

    def secret(self) -> bytes:
        """The secret units' credentials derive from (made on first use)."""
        if not self.secret_file.exists():
            return new_secret(self.secret_file)
        return read_secret(self.secret_file)

    def build_channels(self) -> list[Channel]:
        """Every channel the settings name, built through its entry point."""
        return [find_channel(name)(table) for name, table in self.channels.items()]


def load_settings(path: Path | None) -> Settings:
    """The settings in ``path`` (the defaults without one); ValueError names what is wrong."""
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    dispatch = data.get("dispatch", {})
    listen = None
    if "listen" in dispatch:
        host, _, port = str(dispatch["listen"]).rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{path}: dispatch.listen must be HOST:PORT")
        listen = (host, int(port))
    token_env = dispatch.get("sms_hook_token_env")
    secret_file = Path(dispatch.get("secret_file", "units.key"))
    if not secret_file.is_absolute():
        secret_file = path.parent / secret_file
    try:
        retry = Retry(
            attempts=int(dispatch.get("attempts", 3)),
            first_pause=float(dispatch.get("first_pause", 1.0)),
            longest_pause=float(dispatch.get("longest_pause", 30.0)),
            timeout=float(dispatch.get("timeout", 10.0)),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return Settings(
        name=str(dispatch.get("name", "dispatcher")),
        secret_file=secret_file,
        listen=listen,
        sms_hook_token=os.environ.get(str(token_env)) if token_env else None,
        retry=retry,
        channels=data.get("channels", _DEFAULT_CHANNELS),
    )
