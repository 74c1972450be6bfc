"""``safecomm serve`` (the HTTP service) and ``safecomm token`` (its bearer tokens).

Both need the ``http`` extra (``pip install 'safecomm[http]'``); without it they say so.
Exit statuses: 0 when done; 2 for bad input (a TTL, a role, an existing key file); the
others as every command (:mod:`safecomm_cli.exit_status`).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from safecomm_cli.main import friendly, store_option
from safecomm_core.access import ALL_COMMUNITIES, ALL_SUBDISTRICTS, Principal
from safecomm_core.values import Role

__all__ = ["serve", "token"]

_TTL = re.compile(r"([1-9][0-9]*)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
#: The demo's key file, made in the working directory by ``serve --demo``.
DEMO_KEY = "safecomm-demo.key"
_FILE = click.Path(dir_okay=False, path_type=Path)
#: A file read (a key): one that does not exist is a usage error naming it.
_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


def _http() -> Any:
    try:
        import safecomm_http
    except ImportError as exc:  # the extra is not installed
        raise click.ClickException(
            f"the HTTP service needs the http extra: pip install 'safecomm[http]' ({exc.name})"
        ) from None
    return safecomm_http


def _tokens() -> None:
    try:
        import safecomm_tokens  # noqa: F401  (PyJWT, with the http or the nats extra)
    except ImportError as exc:
        raise click.ClickException(
            f"tokens need the http or the nats extra: pip install 'safecomm[http]' ({exc.name})"
        ) from None


def _ttl(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    match = _TTL.fullmatch(value)
    if match is None:
        raise click.BadParameter(f"{value!r}: write a number and s, m, h or d, e.g. 8h")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@click.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--auth-key", type=_EXISTING, help="Accept HS256 tokens signed with this key file.")
@click.option(
    "--jwks", type=_EXISTING, help="Accept RS256/EdDSA tokens signed by a key of this JWKS."
)
@click.option("--seal-key", type=_EXISTING, help="Private key POST /v1/audit/seal signs with.")
@click.option(
    "--city",
    "city_file",
    type=_FILE,
    help="Serve a city (a TOML file of its subdistricts and their stores, instead of --store): "
    "each subdistrict's API under /subdistricts/ID, the roll-up at /v1/city/reports/monthly "
    "and the events behind its figures at /v1/city/reports/explain/ID; "
    "tokens name their subdistricts; no pages.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve the demo store for a look around: pages dated the demo's last day, a key "
    f"file {DEMO_KEY} made if missing (unless --auth-key is given), and a sign-in link "
    "printed for each demo role.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.1),
    default=50.0,
    show_default=True,
    help="Requests per second per principal, after a burst of four times as many.",
)
@friendly
def serve(
    store_url: str,
    host: str,
    port: int,
    auth_key: Path | None,
    jwks: Path | None,
    seal_key: Path | None,
    city_file: Path | None,
    demo: bool,
    rate: float,
) -> None:
    """Serve the HTTP API (OpenAPI at /schema/openapi.json) and the staff's pages (/)
    until interrupted.

    Every API request but /healthz, /readyz and the schema carries a bearer token, and
    every page a session signed in with one: give exactly one of --auth-key (see
    `safecomm token`) or --jwks; --demo makes a key of its own.
    """
    _http()
    if demo and auth_key is None and jwks is None:
        auth_key = _demo_key()
    if (auth_key is None) == (jwks is None):
        raise click.UsageError("give exactly one of --auth-key, --jwks")
    import uvicorn
    from safecomm_http import Backend, RateLimits, TokenVerifier, create_app

    verifier = (
        TokenVerifier.from_key_file(auth_key)
        if auth_key is not None
        else TokenVerifier.from_jwks_file(jwks)  # type: ignore[arg-type]  # one is given
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    limits = RateLimits(rate=rate, burst=4 * rate)
    if city_file is not None:
        if demo:
            raise click.UsageError("--demo serves one store: give --city or --demo, not both")
        from safecomm_http.city import create_city_app, open_backends

        from safecomm_core.city import City

        city = City.from_file(city_file)
        app: Any = create_city_app(
            city,
            open_backends(city),
            verifier,
            limits=limits,
            seal_key=str(seal_key) if seal_key else None,
        )
        served = f"the city {city.name} ({len(city.subdistricts)} subdistricts)"
    else:
        app = create_app(
            Backend.open(store_url),
            verifier,
            limits=limits,
            seal_key=str(seal_key) if seal_key else None,
            today=_demo_end() if demo else None,
            sign_in_links=demo,
        )
        served = store_url
    click.echo(
        f"serving {served} on http://{host}:{port} (OpenAPI: /schema/openapi.json)", err=True
    )
    if demo and auth_key is not None:
        _print_links(host, port, auth_key)
    # One line per request comes from the app itself (no body, no query); uvicorn's access
    # log would print each query string, which may carry a reason or a name.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


# The converter (tuple) leaves mypy's attrs plugin a type variable it cannot solve.
_ALL: Any = ALL_COMMUNITIES
_C1: Any = ("C1",)
#: The demo's people, one per role the pages serve (ids as the demo records them).
DEMO_ROLES = (
    ("office", Principal("staff-001", Role.STAFF, _ALL)),
    ("mediator of C1", Principal("staff-010", Role.MEDIATOR, _C1)),
    ("duty officer of unit U01 (C1)", Principal("U01", Role.UNIT, _C1, grid_unit="U01")),
    ("coordinator of C1", Principal("staff-100", Role.COORDINATOR, _C1)),
    ("evaluator", Principal("sc-review-team", Role.EVALUATOR, _ALL)),
    ("administrator", Principal("admin-1", Role.ADMIN, _ALL)),
)


def _demo_key() -> Path:
    path = Path(DEMO_KEY)
    if not path.exists():
        from safecomm_tokens import keygen as write_key

        click.echo(f"wrote {write_key(path)} (mode 0600) to sign the demo's tokens", err=True)
    return path


def _demo_end() -> Any:
    from safecomm_demo.builder import PROGRAMME_END

    return PROGRAMME_END


def _print_links(host: str, port: int, key_file: Path) -> None:
    from safecomm_tokens import issue_token, read_key

    key = read_key(key_file)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo("Sign in (each link is valid for 8 hours):")
    for name, principal in DEMO_ROLES:
        token = issue_token(principal, key, timedelta(hours=8))
        click.echo(f"  {name:<32} http://{shown}:{port}/signin?token={token}")


@click.group()
def token() -> None:
    """Keys and bearer tokens for `safecomm serve --auth-key` and `safecomm stream
    serve-commands --key-file`."""


@token.command()
@click.option("--out", required=True, type=_FILE, help="Key file to write (mode 0600).")
@friendly
def keygen(out: Path) -> None:
    """Write a new HS256 key to OUT (never overwrites a file); keep it on the server."""
    _tokens()
    from safecomm_tokens import keygen as write_key

    if out.exists():
        raise click.UsageError(f"{out} exists: choose another file")
    click.echo(f"wrote {write_key(out)} (mode 0600)")


@token.command()
@click.option("--sub", required=True, help="Staff or service id: the actor of its commands.")
@click.option("--role", required=True, type=click.Choice([str(r) for r in Role]))
@click.option(
    "--community",
    "communities",
    multiple=True,
    required=True,
    metavar="C",
    help="A community served (repeatable); * for the whole subdistrict.",
)
@click.option("--unit", help="The grid unit of a unit's duty officer.")
@click.option(
    "--subdistrict",
    "subdistricts",
    multiple=True,
    metavar="S",
    help="A subdistrict of a city served (repeatable; `serve --city`); * for the whole city. "
    "A token without one is for a server of one store.",
)
@click.option("--ttl", default="8h", show_default=True, callback=_ttl, help="Valid for (s/m/h/d).")
@click.option("--key", "key_file", required=True, type=_EXISTING, help="The HS256 key file.")
@friendly
def issue(
    sub: str,
    role: str,
    communities: tuple[str, ...],
    unit: str | None,
    subdistricts: tuple[str, ...],
    ttl: timedelta,
    key_file: Path,
) -> None:
    """Print a token for a principal, signed with the key file."""
    _tokens()
    from safecomm_tokens import issue_token, read_key

    # The converter (tuple) leaves mypy's attrs plugin a type variable it cannot solve.
    served: Any = ALL_COMMUNITIES if "*" in communities else communities
    named = (ALL_SUBDISTRICTS if "*" in subdistricts else subdistricts) or None
    principal = Principal(sub, Role(role), served, grid_unit=unit, subdistricts=named)
    click.echo(issue_token(principal, read_key(key_file), ttl))
