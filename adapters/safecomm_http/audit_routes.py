"""``/v1/audit/...``: verify the record, list and make seals, download an evidence bundle.

Verification and seals name positions and hashes, never a record's content. A bundle
holds every community's records (personal data still encrypted) and reports, so only a
principal of the whole subdistrict may take one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Stream
from safecomm_reports.render import render

from safecomm_core import Safecomm
from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.audit import Ledger, load_private_key, verify, write_bundle
from safecomm_core.errors import Forbidden, StoreError
from safecomm_core.reports.model import Report
from safecomm_http.context import principal, server
from safecomm_http.problems import responses
from safecomm_http.reporting import check_period

__all__ = ["bundle", "seal", "seals", "verify_record"]

CHUNK = 1 << 16


def _auditor(request: Request[Any, Any, Any], read: Read = Read.AUDIT) -> Principal:
    who = principal(request)
    POLICY.check_read(who, read)
    return who


@get("/v1/audit/verify", summary="Verify the stored record", responses=responses(403))
async def verify_record(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Recompute the hash chain from the stored records and check every stored seal.

    ``intact`` says whether the record is unaltered; ``findings`` name the first
    altered record (position, aggregate, version) and any seal that does not hold.
    """
    _auditor(request)
    # Never forked from a server's thread: the chain is recomputed in this process.
    found: dict[str, Any] = await server(request).backend.serial(
        lambda s: verify(s, parallel_from=None).to_dict()
    )
    return found


def _seals(service: Safecomm) -> list[dict[str, Any]]:
    with Ledger(service) as ledger:
        return [s.to_dict() for s in ledger.seals()]


@get("/v1/audit/seals", summary="The stored seals", responses=responses(403))
async def seals(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """Every seal stored: the chain's head at a position, signed, with its key id."""
    _auditor(request)
    return await server(request).backend.serial(_seals)


@post("/v1/audit/seal", summary="Seal the chain's head", responses=responses(403), status_code=201)
async def seal(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Catch the ledger up and sign its head with the server's sealing key (admin only)."""
    _auditor(request, Read.SEAL)
    key_file = server(request).seal_key
    if key_file is None:
        raise StoreError(
            "this server has no sealing key",
            field="seal_key",
            rule="start the server with --seal-key FILE",
        )
    key = load_private_key(key_file)

    def sealed(service: Safecomm) -> dict[str, Any]:
        with Ledger(service) as ledger:
            return ledger.seal(key).to_dict()

    return await server(request).backend.serial(sealed)


def _html(stem: str, report: Report) -> dict[str, bytes]:
    return {f"{stem}.html": render(report, "html")}


@get(
    "/v1/audit/bundle",
    summary="An evidence bundle (zip)",
    responses=responses(403),
    media_type="application/zip",
)
async def bundle(request: Request[Any, Any, Any], period: FromQuery[str | None] = None) -> Stream:
    """A zip for an inspection: reports (JSON and HTML), the stored records with personal
    data still encrypted, the ledger, the seals and a manifest of hashes; streamed."""
    who = _auditor(request, Read.EVIDENCE)
    if not POLICY.may_read(who, Read.EVIDENCE):
        raise Forbidden(
            "an evidence bundle holds every community's records",
            field="community",
            rule="only for a principal of the whole subdistrict",
        )
    check_period(period)
    fd, name = tempfile.mkstemp(prefix="safecomm-bundle-", suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        await server(request).backend.serial(
            lambda s: write_bundle(s, path, period=period, render=_html)
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Stream(
        _chunks(path),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="safecomm-bundle.zip"'},
    )


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    try:
        async with await anyio.open_file(path, "rb") as file:
            while chunk := await file.read(CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)
