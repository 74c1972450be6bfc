"""The composition root: :func:`open_store` builds a service from a store URL.

It maps the URL onto eventsourcing (through :mod:`safecomm_core.store` and
:mod:`safecomm_core.eventlog`), opens the key store that belongs with it under the master
key, and registers every command and record. Tests inject a key store here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from safecomm_core.errors import StoreError
from safecomm_core.eventlog import open_event_store
from safecomm_core.keystore import open_key_store
from safecomm_core.masterkey import load_master_key
from safecomm_core.personal import KeyStore
from safecomm_core.private import create_private
from safecomm_core.service import Safecomm
from safecomm_core.store import StoreConfig, parse_store_url

__all__ = ["open_store"]


def open_store(url: str | None = None, *, keys: KeyStore | None = None) -> Safecomm:
    """Open the store named by ``url`` (or ``SAFECOMM_STORE``, or ``./safecomm.db``)."""
    import safecomm_core.commands  # noqa: F401  (registers every command type)

    config = parse_store_url(url)
    # Before anything is created: without its master key a store is not opened at all.
    master = load_master_key() if keys is None and config.kind != "memory" else None
    with config.opening(), _schema_lock(config):
        if config.kind == "sqlite":
            create_private(config.env["SQLITE_DBNAME"])
        log = open_event_store(config)
        if keys is None:
            try:
                keys = open_key_store(config, master)
            except BaseException:  # e.g. the wrong master key: nothing is left open
                log.close()
                raise
    return Safecomm(log, keys, config)


#: Advisory lock held while a PostgreSQL store creates its tables and functions.
_SCHEMA_LOCK = 0x5AFEC0
#: How long an opening waits for another process's opening before it gives up, in
#: seconds: an opening stuck behind a lock of its own (a transaction left open elsewhere)
#: then fails with a clear error instead of holding up every store opening on the server.
SCHEMA_LOCK_TIMEOUT_S = 120


@contextlib.contextmanager
def _schema_lock(config: StoreConfig) -> Iterator[None]:
    """Serialise opening PostgreSQL stores.

    eventsourcing creates its tables and replaces its functions in the shared schema each
    time a store opens; processes opening at the same moment (API workers, projection
    runners) would otherwise fail with "tuple concurrently updated".
    """
    if config.kind != "postgresql":
        yield
        return
    import psycopg  # the 'postgres' extra; imported only when PostgreSQL is used

    with psycopg.connect(config.conninfo, autocommit=True, connect_timeout=10) as db:
        db.execute(f"SET lock_timeout = '{int(SCHEMA_LOCK_TIMEOUT_S * 1000)}ms'")
        try:
            db.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        except psycopg.errors.LockNotAvailable:
            raise StoreError(
                f"cannot open store {config.display!r}: another process has been opening a "
                f"store on the same server for over {SCHEMA_LOCK_TIMEOUT_S} s (it holds "
                "safecomm's schema lock, pg_advisory_lock "
                f"{_SCHEMA_LOCK}); see pg_stat_activity for what it waits on"
            ) from None
        try:
            yield
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
