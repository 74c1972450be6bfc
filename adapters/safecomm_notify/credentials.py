"""Units' credentials: a key per unit, and the signatures made with it.

Each unit's key is derived from the dispatcher's secret (HMAC-SHA256 of the unit id), so
the secret is the one thing to keep, and ``safecomm alerts credential UNIT`` prints a
unit's key for its duty app or system. What a unit sends back (an acknowledgement, over
MQTT or HTTP) is signed with its key; what the dispatcher sends a unit's system (a webhook)
is signed with the same key, so each side knows the other (docs/alerts.md,
*Acknowledgements*).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

__all__ = [
    "SKEW",
    "ack_signature",
    "body_signature",
    "new_secret",
    "read_secret",
    "unit_key",
    "valid",
]

#: Seconds a signed message's timestamp may be away from the dispatcher's clock.
SKEW = 600


def unit_key(secret: bytes, unit: str) -> bytes:
    """The credential key of ``unit``."""
    return hmac.new(secret, b"safecomm unit credential v1\n" + unit.encode(), "sha256").digest()


def ack_signature(key: bytes, alert_id: str, unit: str, ts: int) -> str:
    """The signature of ``unit``'s acknowledgement of ``alert_id`` made at ``ts``."""
    text = f"safecomm ack v1\n{alert_id}\n{unit}\n{ts}".encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def body_signature(key: bytes, ts: int, body: bytes) -> str:
    """The signature of a webhook body sent at ``ts`` (header ``X-Safecomm-Signature``)."""
    return hmac.new(key, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def valid(expected: str, given: str, ts: int, now: float) -> bool:
    """Whether ``given`` is ``expected`` (in constant time) and ``ts`` is recent."""
    return abs(now - ts) <= SKEW and hmac.compare_digest(expected, given)


def new_secret(path: Path) -> bytes:
    """Write a new random secret to ``path`` (the owner's only) and return it."""
    secret = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret.hex() + "\n")
    return secret


def read_secret(path: Path) -> bytes:
    """The dispatcher's secret, from the hex in ``path``."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValueError(f"{path} does not hold a hex secret") from None
