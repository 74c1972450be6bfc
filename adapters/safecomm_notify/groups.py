"""Chat groups (DingTalk, WeCom, QQ or WeChat bridges) through apprise, optional.

The unit's contact on the channel is an apprise URL (``dingtalk://…``, ``wecom://…``,
``json://…``), sealed like every contact. apprise tries a notice once and answers whether
it went; it neither retries nor falls back, so safecomm does both, as for every channel.
Groups give no message id and no reply: a unit in a group acknowledges through its duty
app, a webhook or an SMS reply. Needs the ``notify-apprise`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import apprise

from safecomm_notify.channel import AckSink, DeliveryFailed, Outgoing, common_settings

__all__ = ["AppriseChannel"]


class AppriseChannel:
    """Notices to chat groups; settings ``serves`` (default DingTalk and WeCom)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.serves, self.timeout = common_settings(settings, ["dingtalk", "wecom"])

    async def start(self, acks: AckSink) -> None:
        """Nothing to connect: each notice is its own request."""

    async def send(self, message: Outgoing) -> str | None:
        """Post the notice to the group."""
        notifier = apprise.Apprise()
        if not notifier.add(message.contact):
            raise DeliveryFailed("the group's address is not one apprise knows", retry=False)
        sent = await notifier.async_notify(body=message.text, title="警情通报")
        if not sent:
            raise DeliveryFailed("the group's service did not take the notice")
        return None

    async def close(self) -> None:
        """Nothing to close."""
