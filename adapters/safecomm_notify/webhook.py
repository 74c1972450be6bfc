"""Webhooks to a unit's own system (httpx): a signed JSON body, retried on 5xx and timeouts.

The body is the alert as JSON; ``X-Safecomm-Timestamp`` is the Unix time of the send and
``X-Safecomm-Signature`` is ``sha256=`` the hex HMAC-SHA256 of ``"<timestamp>." + body``
by the unit's key, so the unit's system knows the alert came from the dispatcher and is
fresh. A 2xx is delivered (its JSON ``id``, if any, is the message id); a 5xx, a timeout or
a connection error fails and may be retried; any other status fails for good on this
channel. The unit's system acknowledges by calling back (docs/alerts.md, *Acknowledgements*).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from safecomm_notify.channel import AckSink, DeliveryFailed, Outgoing, common_settings
from safecomm_notify.credentials import body_signature

__all__ = ["WebhookChannel"]


class WebhookChannel:
    """Alerts to units' systems over HTTP; settings ``timeout``, ``serves``."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.serves, self.timeout = common_settings(settings, ["webhook"])
        self._client: httpx.AsyncClient | None = None

    async def start(self, acks: AckSink) -> None:
        """Open the HTTP client (acknowledgements come through the dispatcher's listener)."""
        self._client = httpx.AsyncClient(timeout=self.timeout or 10.0)

    async def send(self, message: Outgoing) -> str | None:
        """POST the signed alert to the unit's URL."""
        if self._client is None:
            raise DeliveryFailed("the webhook channel was not started")
        body = json.dumps(dict(message.payload), ensure_ascii=False).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Safecomm-Timestamp": str(ts),
            "X-Safecomm-Signature": "sha256=" + body_signature(message.key, ts, body),
        }
        try:
            response = await self._client.post(message.contact, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed("the unit's system did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook failed: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise DeliveryFailed(f"the unit's system answered {response.status_code}")
        if not response.is_success:
            raise DeliveryFailed(
                f"the unit's system refused the alert ({response.status_code})", retry=False
            )
        return _message_id(response)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()


def _message_id(response: httpx.Response) -> str | None:
    try:
        found = response.json().get("id")
    except (ValueError, AttributeError):
        return None
    return None if found is None else str(found)[:200]
