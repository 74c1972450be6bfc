"""``GET /v1/events``: the stored events' public envelopes, as server-sent events.

An envelope says where an event stands in the log (``position``, the SSE id), which
record it belongs to (kind, ref, community), what happened and when (occurred and
recorded); never the event's fields, which may hold personal data. Only events of the
principal's communities are sent. ``after`` (or the ``Last-Event-ID`` header) resumes;
``follow`` keeps the stream open and sends new events as they are stored.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from functools import partial
from typing import Any
from uuid import UUID

import anyio
import attrs
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from safecomm_core import Safecomm
from safecomm_core.access import POLICY, Principal, Read
from safecomm_core.audit.replay import identify
from safecomm_http.context import principal, server
from safecomm_http.problems import responses

__all__ = ["Envelope", "Envelopes", "events"]

BATCH = 500
#: Records whose kind, ref and community are remembered between events.
REMEMBERED = 10_000


@attrs.frozen
class Envelope:
    """A stored event as the stream shows it."""

    position: int
    kind: str
    ref: str
    event: str
    occurred_at: str
    recorded_at: str
    community: str


class Envelopes:
    """Reads the log's envelopes; remembers each record's kind, ref and community."""

    def __init__(self) -> None:
        self._records: OrderedDict[UUID, tuple[str, str, str]] = OrderedDict()

    def _record(self, service: Safecomm, event: Any) -> tuple[str, str, str]:
        aggregate: UUID = event.originator_id
        found = self._records.get(aggregate)
        if found is None:
            # Only a record's first event names its ref and community.
            first = (
                event
                if event.originator_version == 1
                else service.log.events_of(aggregate, upto=1)[0]
            )
            found = (identify(service, aggregate)[0], first.ref, first.community)
            self._records[aggregate] = found
            if len(self._records) > REMEMBERED:
                self._records.popitem(last=False)
        return found

    def read(self, service: Safecomm, after: int, who: Principal) -> tuple[int, list[Envelope]]:
        """The envelopes ``who`` may see after ``after``, and the last position read."""
        batch = service.log.read(after, BATCH)
        found = []
        for notification in batch:
            event = service.log.decode(notification)
            kind, ref, community = self._record(service, event)
            if POLICY.may_read(who, Read.EVENTS, community):
                found.append(
                    Envelope(
                        position=notification.id,
                        kind=kind,
                        ref=ref,
                        event=type(event).__name__,
                        occurred_at=event.meta.occurred_at.isoformat(),
                        recorded_at=event.timestamp.isoformat(),
                        community=community,
                    )
                )
        return (batch[-1].id if batch else after), found


@get(
    "/v1/events",
    summary="Stored events, as server-sent events",
    responses=responses(403),
    media_type="text/event-stream",
)
async def events(
    request: Request[Any, Any, Any],
    after: FromQuery[int] = 0,
    follow: FromQuery[bool] = False,
    poll: FromQuery[float] = 1.0,
) -> ServerSentEvent:
    """Each stored event's envelope after position ``after`` (or ``Last-Event-ID``), of
    the principal's communities; with ``follow``, new events as they are stored."""
    who = principal(request)
    POLICY.check_read(who, Read.EVENTS)
    resume = request.headers.get("last-event-id", "")
    start = int(resume) if resume.isdecimal() else max(0, after)
    backend = server(request).backend
    pause = min(max(poll, 0.05), 60.0)
    envelopes = Envelopes()

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        position = start
        while True:
            read, found = await backend.read(partial(envelopes.read, after=position, who=who))
            for envelope in found:
                yield ServerSentEventMessage(
                    data=json.dumps(attrs.asdict(envelope), ensure_ascii=False),
                    event="stored",
                    id=envelope.position,
                )
            if read == position:
                if not follow:
                    return
                await anyio.sleep(pause)
            position = read

    return ServerSentEvent(stream())
