"""Choosing a store by URL: the one place that maps safecomm's URLs onto eventsourcing.

============================================  =========================================
``sqlite:///safecomm.db`` (default)           a file in the working directory; keys
                                              (wrapped) in ``safecomm.keys`` beside it
``sqlite:////abs/path/file.db``               an absolute path
``memory://``                                 in memory, for tests; gone at exit
``postgresql://user[:pw]@host[:port]/db``     tables named ``<name>_events``,
``postgresql://…/db?name=hemenkou``           ``<name>_wrapped_keys``; name defaults to
                                              ``safecomm``
============================================  =========================================

``SAFECOMM_STORE`` gives the URL when no argument does. ``SAFECOMM_CIPHER_KEY`` (a base64
AES key, see ``safecomm keygen-cipher``) encrypts every stored event with eventsourcing's
AES cipher as well. The keys need the master key (:mod:`safecomm_core.masterkey`).

A password in a URL is never shown: messages use :attr:`StoreConfig.display`, and the
libpq connection string is built by psycopg, which quotes every value.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import attrs
from eventsourcing.persistence import PersistenceError

from safecomm_core.errors import StoreError

__all__ = ["DEFAULT_STORE", "StoreConfig", "mask_url", "parse_store_url"]

DEFAULT_STORE = "sqlite:///safecomm.db"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


@attrs.frozen
class StoreConfig:
    """What a store URL means: eventsourcing's settings and where the keys live."""

    url: str
    kind: str  # "memory", "sqlite" or "postgresql"
    name: str
    env: dict[str, str]
    keys_path: str = ""  # SQLite only
    conninfo: str = ""  # PostgreSQL only

    @property
    def display(self) -> str:
        """The URL fit for messages and output: its password, if any, reads ``***``."""
        return mask_url(self.url)

    def exists(self) -> bool:
        """Whether the store was made (by an earlier opening), asked without making it: its
        SQLite file, its PostgreSQL event table. A memory store never exists beforehand.
        A database that cannot be reached raises :class:`StoreError` (see :meth:`opening`).
        """
        if self.kind == "sqlite":
            return Path(self.env["SQLITE_DBNAME"]).is_file()
        if self.kind != "postgresql":
            return False
        import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

        with self.opening(), psycopg.connect(self.conninfo, connect_timeout=10) as db:
            row = db.execute("SELECT to_regclass(%s)", (f"{self.name}_events",)).fetchone()
        return row is not None and row[0] is not None

    @contextlib.contextmanager
    def opening(self) -> Iterator[None]:
        """Turn the drivers' errors while opening into one :class:`StoreError`.

        The message names the store by :attr:`display` and never holds the password, not
        even where a driver's own message would.
        """
        try:
            yield
        except (PersistenceError, OSError, sqlite3.Error) as exc:
            raise self._cannot_open(exc) from exc
        except Exception as exc:  # psycopg's own errors, e.g. a refused connection
            if type(exc).__module__.startswith("psycopg"):
                raise self._cannot_open(exc) from exc
            raise

    def _cannot_open(self, exc: Exception) -> StoreError:
        text = str(exc)
        password = self.env.get("POSTGRES_PASSWORD")
        if password:
            text = text.replace(password, "***")
        return StoreError(f"cannot open store {self.display!r}: {text}")


def mask_url(url: str) -> str:
    """``url`` with the password (if it has one) replaced by ``***``.

    A URL cut inside its password (``postgresql://bob:se`` from ``bob:se,cret@host``, a
    list split at its commas) reads as a host and a port that is no number: that "port"
    is masked too.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at:
        if parts.password is None:
            return url
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    else:
        name, colon, port = host.rpartition(":")
        if not colon or port.isdigit() or host.endswith("]"):
            return url
        netloc = f"{name}:***"
    return urlunsplit(parts._replace(netloc=netloc))


def parse_store_url(url: str | None = None) -> StoreConfig:
    """Read a store URL (or ``SAFECOMM_STORE``, or the default) into a :class:`StoreConfig`."""
    url = url or os.environ.get("SAFECOMM_STORE") or DEFAULT_STORE
    shown = mask_url(url)
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    name = query.pop("name", "safecomm")
    if not _NAME.fullmatch(name):
        raise StoreError(
            f"store name {name!r} must be lower-case letters, digits and _ (at most 31)",
            field="store",
            rule="bad name",
        )
    if query:
        raise StoreError(f"unknown store option(s): {', '.join(sorted(query))}", field="store")
    env = {"CREATE_TABLE": "y"}
    cipher_key = os.environ.get("SAFECOMM_CIPHER_KEY")
    if cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = cipher_key
    if parts.scheme == "memory":
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
        return StoreConfig(url, "memory", name, env)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise StoreError(f"no file in store URL {shown!r}", field="store", rule="needs a path")
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        return StoreConfig(url, "sqlite", name, env, keys_path=str(Path(path).with_suffix(".keys")))
    if parts.scheme in ("postgresql", "postgres"):
        dbname = parts.path.lstrip("/")
        if not dbname or not parts.hostname:
            raise StoreError(
                f"store URL {shown!r} needs a host and a database", field="store", rule="incomplete"
            )
        user = unquote(parts.username or os.environ.get("USER", "postgres"))
        password = unquote(parts.password or "")
        port = str(parts.port or 5432)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": port,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": password,
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        conninfo = _conninfo(
            host=parts.hostname, port=port, dbname=dbname, user=user, password=password or None
        )
        return StoreConfig(url, "postgresql", name, env, conninfo=conninfo)
    raise StoreError(
        f"unknown store URL {shown!r}: use sqlite:///FILE, memory:// or postgresql://HOST/DB",
        field="store",
        rule="unknown scheme",
    )


def _conninfo(**params: Any) -> str:
    """A libpq connection string with every value quoted as libpq needs (psycopg's own)."""
    try:
        from psycopg.conninfo import make_conninfo
    except ImportError:
        raise StoreError(
            "PostgreSQL stores need psycopg: pip install 'safecomm[postgres]'",
            field="store",
            rule="needs psycopg",
        ) from None
    return make_conninfo(**params)
