"""Bearer tokens: who is asking, as a signed JWT, mapped to a :class:`Principal`.

One scheme for every adapter that takes a credential: the HTTP service and its pages
(``safecomm serve``) and the command intake over NATS (``safecomm stream
serve-commands``) check tokens with the same :class:`TokenVerifier`, so a token means the
same principal wherever it is shown. Two ways to check a token's signature, one per server:

- ``HS256`` with a shared key file (``safecomm token keygen`` writes one, mode 0600;
  ``safecomm token issue`` signs with it): for one office running its own server;
- ``RS256`` or ``EdDSA`` against a JWKS file (the public keys of an identity provider),
  the key chosen by the token's ``kid``.

A token's claims name the principal: ``sub`` (staff or service id), ``role`` (one of
:class:`~safecomm_core.values.Role`), ``communities`` (a list; ``["*"]`` for the whole
subdistrict) and, for a grid unit's duty officer, ``unit``; on a city's server,
``subdistricts`` (a list of the city's subdistrict ids; ``["*"]`` for the whole city; see
docs/access.md). ``exp`` is required. Any
token that is expired, signed with another key or algorithm (``alg: none`` included), or
lacks a claim is refused with :class:`InvalidToken`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import jwt

from safecomm_core.access import POLICY, Principal
from safecomm_core.errors import SafecommError
from safecomm_core.values import Role

__all__ = [
    "ASYMMETRIC",
    "REQUIRED_CLAIMS",
    "InvalidToken",
    "TokenVerifier",
    "claims_of",
    "issue_token",
    "keygen",
    "principal_of",
    "read_key",
]

#: Claims every token must carry.
REQUIRED_CLAIMS = ("sub", "role", "communities", "exp")
#: Algorithms accepted against a JWKS file.
ASYMMETRIC = ("RS256", "EdDSA")
#: Bytes of randomness in a generated HS256 key (RFC 7518 asks for at least 32).
KEY_BYTES = 48


class InvalidToken(SafecommError, PermissionError):
    """The request carries no token, or one that cannot be trusted."""


def keygen(out: Path) -> Path:
    """Write a fresh HS256 key to ``out`` (mode 0600); refuse to overwrite a file."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
    return out


def read_key(path: Path) -> bytes:
    """The HS256 key stored in ``path``."""
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise InvalidToken(f"{path} holds no key of at least 32 bytes", field="key")
    return key


def claims_of(principal: Principal, ttl: timedelta, now: datetime | None = None) -> dict[str, Any]:
    """The claims of a token for ``principal`` valid for ``ttl`` from ``now``."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": str(principal.role),
        "communities": list(principal.communities),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if principal.grid_unit is not None:
        claims["unit"] = principal.grid_unit
    if principal.subdistricts is not None:
        claims["subdistricts"] = list(principal.subdistricts)
    return claims


def issue_token(principal: Principal, key: bytes, ttl: timedelta) -> str:
    """A token for ``principal`` signed with the HS256 ``key``."""
    return jwt.encode(claims_of(principal, ttl), key, algorithm="HS256")


def principal_of(claims: Mapping[str, Any]) -> Principal:
    """The principal a verified token's claims name; :class:`InvalidToken` if malformed."""
    communities = claims.get("communities")
    unit = claims.get("unit")
    subdistricts = claims.get("subdistricts")
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise InvalidToken("the token's role is not one safecomm knows", field="role") from None
    if (
        not isinstance(claims.get("sub"), str)
        or not claims["sub"]
        or not isinstance(communities, list)
        or not communities
        or not all(isinstance(c, str) and c for c in communities)
        or (unit is not None and not isinstance(unit, str))
    ):
        raise InvalidToken("the token's claims do not name a principal", field="claims")
    if subdistricts is not None and (
        not isinstance(subdistricts, list)
        or not subdistricts
        or not all(isinstance(s, str) and s for s in subdistricts)
    ):
        raise InvalidToken(
            "the token's subdistricts claim is not a list of subdistrict ids",
            field="subdistricts",
        )
    return Principal(
        claims["sub"], role, tuple(communities), grid_unit=unit, subdistricts=subdistricts
    )


@attrs.frozen
class TokenVerifier:
    """Checks a token's signature and claims against one key or one key set."""

    #: The HS256 key, when the server has one.
    secret: bytes | None = None
    #: The public keys by ``kid``, when the server reads a JWKS file.
    keys: Mapping[str, jwt.PyJWK] = attrs.field(factory=dict)
    #: Whether the server serves a city: a token must then name its ``subdistricts``;
    #: else (a server of one store) it must name none, or the whole city.
    city: bool = False

    @classmethod
    def from_key_file(cls, path: Path) -> TokenVerifier:
        """Accept tokens signed with the HS256 key in ``path``."""
        return cls(secret=read_key(path))

    @classmethod
    def from_jwks_file(cls, path: Path) -> TokenVerifier:
        """Accept tokens signed with one of the RS256 or EdDSA keys in the JWKS ``path``."""
        try:
            found = jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as exc:
            raise InvalidToken(f"{path} is not a JWKS file: {exc}", field="jwks") from None
        keys = {k.key_id: k for k in found.keys if k.key_id}
        if not keys:
            raise InvalidToken(f"{path} holds no key with a kid", field="jwks")
        return cls(keys=keys)

    def principal(self, token: str) -> Principal:
        """The principal ``token`` names, once its signature and claims are checked."""
        return self.admitted(self.claims(token))

    def admitted(self, claims: Mapping[str, Any]) -> Principal:
        """The principal verified ``claims`` name, if this server serves it.

        On a city's server, a token without the ``subdistricts`` claim is refused
        (:class:`InvalidToken`); on a server of one store, the policy refuses a principal
        held to named subdistricts (:class:`~safecomm_core.errors.Forbidden`).
        """
        who = principal_of(claims)
        if self.city and who.subdistricts is None:
            raise InvalidToken(
                "the token lacks the 'subdistricts' claim, which a city's server needs",
                field="subdistricts",
                rule="must name the principal's subdistricts",
            )
        if not self.city:
            POLICY.check_subdistrict(who, None)
        return who

    def claims(self, token: str) -> dict[str, Any]:
        """The claims of ``token``, once its signature and required claims are checked."""
        options: Any = {"require": list(REQUIRED_CLAIMS)}
        try:
            if self.secret is not None:
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], options=options)
            else:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self.keys.get(kid) if isinstance(kid, str) else None
                if key is None:
                    raise InvalidToken("the token names no key of this server", field="kid")
                claims = jwt.decode(token, key, algorithms=list(ASYMMETRIC), options=options)
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired", field="exp") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(
                f"the token lacks the {exc.claim!r} claim", field=exc.claim
            ) from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the token is not valid: {exc}", field="token") from None
        return dict(claims)
