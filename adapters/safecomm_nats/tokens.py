"""Service tokens: who sends a command over the stream, as a :class:`Principal`.

A :data:`TokenVerifier` is any callable from a token to a principal that raises
:class:`InvalidToken` when it cannot vouch for it. The one provided checks an HS256 JWT
with PyJWT against a key file; its claims are ``sub`` (the actor id), ``role``,
``communities`` (a list; ``["*"]`` for the whole subdistrict), ``unit`` for a grid unit's
duty officer, and ``exp``, which is required.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jwt

from safecomm_core.access import Principal
from safecomm_core.errors import SafecommError
from safecomm_core.values import Role

__all__ = ["InvalidToken", "TokenVerifier", "hs256_verifier", "issue_token", "read_key"]

#: From a token to the principal it was issued to; raises :class:`InvalidToken`.
TokenVerifier = Callable[[str], Principal]


class InvalidToken(SafecommError, PermissionError):
    """The token is missing, malformed, expired or not signed with the service key."""


def read_key(key_file: str | Path) -> bytes:
    """The HS256 key kept in ``key_file`` (surrounding white space ignored)."""
    key = Path(key_file).read_bytes().strip()
    if len(key) < 32:
        raise InvalidToken(
            f"the key in {key_file} is shorter than 32 bytes", field="key", rule="too short"
        )
    return key


def hs256_verifier(key_file: str | Path) -> TokenVerifier:
    """A verifier of HS256 tokens signed with the key in ``key_file``."""
    key = read_key(key_file)

    def verify(token: str) -> Principal:
        try:
            claims = jwt.decode(
                token, key, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]}
            )
            communities = claims.get("communities", [])
            if not isinstance(communities, list) or not all(
                isinstance(c, str) for c in communities
            ):
                raise InvalidToken("claim 'communities' must be a list of names")
            return Principal(
                subject=str(claims["sub"]),
                role=Role(claims["role"]),
                communities=tuple(communities),
                grid_unit=claims.get("unit"),
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token refused: {exc}", field="token", rule="invalid") from None
        except ValueError as exc:  # an unknown role
            raise InvalidToken(f"token refused: {exc}", field="token", rule="invalid") from None

    return verify


def issue_token(
    key: bytes,
    subject: str,
    role: str,
    communities: Sequence[str],
    *,
    unit: str | None = None,
    ttl: float = 3600.0,
) -> str:
    """An HS256 token for a service, valid for ``ttl`` seconds."""
    claims: dict[str, object] = {
        "sub": subject,
        "role": str(Role(role)),
        "communities": list(communities),
        "exp": int(time.time() + ttl),
    }
    if unit is not None:
        claims["unit"] = unit
    return jwt.encode(claims, key, algorithm="HS256")
