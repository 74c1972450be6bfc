"""``/v1/records/{kind}/{ref}``: a record, its history and its people, as the principal may.

A record of a community the principal does not serve is *not found* (404), never
forbidden: whether it exists is not disclosed. Both times of every event can be cut:
``?known_at=`` (what the office knew then) or ``?as_of=`` (what had happened by then,
late entries included); see :mod:`safecomm_core.audit.replay`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery

from safecomm_core import Safecomm
from safecomm_core.access import Principal
from safecomm_core.audit import Cut, parse_moment, replay_record
from safecomm_core.audit.replay import ReplayedRecord
from safecomm_core.converter import converter
from safecomm_core.domain.access import PersonalDataOpening
from safecomm_core.domain.base import KINDS, Record
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.errors import FieldError, InvalidCommand, NotFound
from safecomm_core.personal import sealed_people
from safecomm_http.context import principal, server
from safecomm_http.problems import responses

__all__ = ["history", "open_person", "person", "record", "record_kinds", "texts"]

#: Kinds kept out of the records API: command receipts and openings of personal data
#: belong to the audit, not to the programme's records.
_HIDDEN = frozenset({CommandReceipt.KIND, PersonalDataOpening.KIND})


def record_kinds() -> list[str]:
    """The kinds of record ``/v1/records/{kind}`` serves."""
    return sorted(k for k in KINDS if k not in _HIDDEN)


def _record_class(kind: str, ref: str) -> type[Record]:
    if kind not in KINDS or kind in _HIDDEN:
        raise NotFound(kind, ref, "kind")
    return KINDS[kind]


def _cut(known_at: str | None, as_of: str | None) -> Cut | None:
    if known_at is not None and as_of is not None:
        raise InvalidCommand([FieldError("known_at", "give known_at or as_of, not both")])
    if known_at is not None:
        return Cut.known_at(parse_moment(known_at, field="known_at"))
    if as_of is not None:
        return Cut.as_of(parse_moment(as_of, field="as_of"))
    return None


def _readable(service: Safecomm, kind: str, ref: str, who: Principal) -> Record:
    """The live record, if the principal may read it (else :class:`NotFound`)."""
    return service.get(_record_class(kind, ref), ref, who)


def _state(
    service: Safecomm, kind: str, ref: str, who: Principal, cut: Cut | None
) -> dict[str, Any]:
    found = _readable(service, kind, ref, who)
    if cut is not None:
        return replay_record(service, ref, cut, kind=kind).to_dict()
    # The live record, shown as a replay shows one (people by their ref only).
    live = ReplayedRecord(
        kind=kind,
        ref=ref,
        aggregate_id=found.id,
        cut=Cut.known_at(datetime.now(UTC)),
        record=found,
        events=(),
        not_applied=(),
        versions_today=found.version,
    )
    return {"kind": kind, "ref": ref, "version": found.version, "state": live.state()}


@get("/v1/records/{kind:str}/{ref:str}", summary="A record", responses=responses(404))
async def record(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    ref: FromPath[str],
    known_at: FromQuery[str | None] = None,
    as_of: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The record's state now, or at a cut (``known_at`` or ``as_of``, ISO date or time)."""
    who, cut = principal(request), _cut(known_at, as_of)
    return await server(request).backend.read(lambda s: _state(s, kind, ref, who, cut))


def _history(
    service: Safecomm, kind: str, ref: str, who: Principal, cut: Cut | None
) -> list[dict[str, Any]]:
    if cut is None:
        _record_class(kind, ref)
        entries = service.history(ref, kind, who)
    else:
        _readable(service, kind, ref, who)
        entries = list(replay_record(service, ref, cut, kind=kind).events)
    return [converter.unstructure(e) for e in entries]


@get(
    "/v1/records/{kind:str}/{ref:str}/history",
    summary="A record's events",
    responses=responses(404),
)
async def history(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    ref: FromPath[str],
    known_at: FromQuery[str | None] = None,
    as_of: FromQuery[str | None] = None,
) -> list[dict[str, Any]]:
    """Every event of the record, with when it occurred and when it was recorded, and who."""
    who, cut = principal(request), _cut(known_at, as_of)
    return await server(request).backend.read(lambda s: _history(s, kind, ref, who, cut))


def open_person(
    service: Safecomm, kind: str, ref: str, person: str, who: Principal, why: str
) -> Any:
    """A person of the record ``kind``/``ref`` opened for ``who`` (the opening recorded)."""
    found = _readable(service, kind, ref, who)
    held = sealed_people([v for k, v in vars(found).items() if not k.startswith("_")])
    sealed = next((p for p in held if p.ref == person), None)
    if sealed is None:
        raise NotFound("person", person, "person")
    return converter.unstructure(service.person(sealed, who, record=found, why=why))


@get(
    "/v1/records/{kind:str}/{ref:str}/people/{person:str}",
    summary="Open a person of a record",
    responses=responses(403, 404, 410),
)
async def person(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    ref: FromPath[str],
    person: FromPath[str],
    why: FromQuery[str],
) -> dict[str, Any]:
    """A person's name, ID number, phone and address, for a reason given in ``why``.

    Only roles that must reach people may; each opening is recorded first (who, whose,
    from which record, why, when) in the audited record.
    """
    who = principal(request)
    # An opening is written: one writer at a time, as commands.
    opened: dict[str, Any] = await server(request).backend.write(
        lambda s: open_person(s, kind, ref, person, who, why)
    )
    return opened


def _texts(service: Safecomm, kind: str, ref: str, who: Principal, why: str) -> Any:
    return converter.unstructure(service.texts(_record_class(kind, ref), ref, who, why=why))


@get(
    "/v1/records/{kind:str}/{ref:str}/texts",
    summary="Open a record's free text",
    responses=responses(403, 404),
)
async def texts(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    ref: FromPath[str],
    why: FromQuery[str],
) -> list[dict[str, Any]]:
    """Every free text of the record (summary, notes, terms, reasons...), each with the
    event and field it belongs to, for a reason given in ``why``.

    Free text may name people: only roles that may open personal data may, and each
    opening is recorded first, as an opening of a person is. Elsewhere (the record, its
    history, the event stream) free text shows as ``[sealed]``.
    """
    who = principal(request)
    opened: list[dict[str, Any]] = await server(request).backend.write(
        lambda s: _texts(s, kind, ref, who, why)
    )
    return opened
