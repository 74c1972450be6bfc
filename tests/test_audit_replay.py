"""Replay as known at a time (recorded by it) and as of a time (occurred by it), with late
entries; and the hook through which reports will replay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from safecomm_core import InvalidCommand, NotFound, Safecomm, parse_command
from safecomm_core.audit import (
    Cut,
    ReplayedEvent,
    identify,
    parse_moment,
    replay_events,
    replay_record,
    replay_report,
)
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.dispute import Dispute, DisputeStatus

ACTOR = {"id": "staff-017", "role": "mediator"}


def _do(service: Safecomm, type_: str, cid: str, at: str, dispute: str, **fields: Any) -> None:
    service.handle(
        parse_command(
            {
                "type": type_,
                "command_id": cid,
                "occurred_at": at,
                "actor": ACTOR,
                "dispute_id": dispute,
                **fields,
            }
        )
    )


def _report(service: Safecomm, dispute: str, at: str) -> None:
    _do(
        service,
        "dispute.report",
        f"{dispute}-r",
        at,
        dispute,
        community="C1",
        kind="neighbour",
        summary="noise at night",
        parties=[{"ref": f"{dispute}-p", "role": "applicant", "name": "王建国"}],
    )


def _accepted_with_mediator(service: Safecomm, dispute: str, at: str) -> None:
    _do(service, "dispute.accept", f"{dispute}-a", at, dispute)
    _do(service, "dispute.assign_mediator", f"{dispute}-m", at, dispute, mediator="staff-017")


def _moment() -> datetime:
    """A recording time strictly between what was written before and what comes after."""
    time.sleep(0.002)
    now = datetime.now(UTC)
    time.sleep(0.002)
    return now


def test_known_at_shows_what_the_office_knew_and_as_of_includes_late_entries(
    service: Safecomm,
) -> None:
    _report(service, "d-1", "2014-03-03T09:10:00+08:00")
    _accepted_with_mediator(service, "d-1", "2014-03-03T09:30:00+08:00")
    then = _moment()
    # Entered late, from paper: a session on 4 March, and a dispute of 2 March.
    _do(service, "dispute.hold_session", "d-1-s", "2014-03-04T15:00:00+08:00", "d-1", notes="x")
    _report(service, "d-2", "2014-03-02T10:00:00+08:00")

    known = replay_record(service, "d-1", Cut.known_at(then))
    assert known.version == 3
    assert known.versions_today == 4
    assert known.record is not None
    assert isinstance(known.record, Dispute)
    assert known.record.sessions == 0
    assert [e.event for e in known.events] == ["Reported", "Accepted", "MediatorAssigned"]
    assert not replay_record(service, "d-2", Cut.known_at(then)).record  # not yet entered

    as_of = replay_record(service, "d-1", Cut.as_of(parse_moment("2014-03-05")))
    assert as_of.version == 4
    assert as_of.record is not None
    assert as_of.record.sessions == 1  # type: ignore[attr-defined]
    assert replay_record(service, "d-2", Cut.as_of(parse_moment("2014-03-02"))).version == 1
    assert replay_record(service, "d-1", Cut.as_of(parse_moment("2014-03-03"))).version == 3
    assert replay_record(service, "d-1", Cut.as_of(parse_moment("2014-03-02"))).record is None


def test_a_replay_up_to_now_equals_the_live_record(service: Safecomm) -> None:
    _report(service, "d-1", "2014-03-03T09:10:00+08:00")
    _accepted_with_mediator(service, "d-1", "2014-03-03T09:30:00+08:00")
    live = service.get(Dispute, "d-1")
    for cut in (Cut.known_at(datetime.now(UTC)), Cut.as_of(parse_moment("2099-01-01"))):
        replayed = replay_record(service, "d-1", cut)
        assert replayed.record is not None
        assert replayed.record.__dict__ == live.__dict__
        assert replayed.events == tuple(service.history("d-1", "dispute"))


def test_events_out_of_order_in_the_world_are_listed_not_applied(service: Safecomm) -> None:
    """Accepted on the 5th, but a session is entered as held on the 4th: as of the 4th the
    session cannot be applied without the acceptance before it, and says so."""
    _report(service, "d-3", "2014-03-03T09:10:00+08:00")
    _accepted_with_mediator(service, "d-3", "2014-03-05T09:00:00+08:00")
    _do(service, "dispute.hold_session", "d-3-s", "2014-03-04T15:00:00+08:00", "d-3", notes="x")
    replayed = replay_record(service, "d-3", Cut.as_of(parse_moment("2014-03-04")))
    assert replayed.version == 1
    assert replayed.record is not None
    assert replayed.record.status is DisputeStatus.REPORTED  # type: ignore[attr-defined]
    assert [e.event for e in replayed.not_applied] == ["SessionHeld"]
    assert replayed.to_dict()["not_applied"][0]["version"] == 4


def test_a_record_is_found_by_its_uuid_as_verification_names_it(service: Safecomm) -> None:
    _report(service, "d-1", "2014-03-03T09:10:00+08:00")
    by_ref = replay_record(service, "d-1", Cut.as_of(parse_moment("2014-03-04")), kind="dispute")
    by_id = replay_record(service, str(by_ref.aggregate_id), Cut.as_of(parse_moment("2014-03-04")))
    assert by_id == by_ref
    assert identify(service, by_ref.aggregate_id) == ("dispute", "d-1")
    data = by_id.to_dict()
    assert data["state"]["status"] == "reported"
    assert data["state"]["parties"][0]["person"] == {"person": "d-1-p"}  # never the name
    assert "王建国" not in str(data)


def test_unknown_or_ambiguous_records_are_refused(service: Safecomm) -> None:
    cut = Cut.as_of(parse_moment("2014-03-04"))
    with pytest.raises(NotFound):
        replay_record(service, "d-9", cut)
    with pytest.raises(InvalidCommand, match="kind"):
        replay_record(service, "d-9", cut, kind="no-such-kind")


def test_a_report_replayed_as_known_at_equals_the_one_produced_then(service: Safecomm) -> None:
    def disputes_by_month(events: Iterator[ReplayedEvent]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for replayed in events:
            if isinstance(replayed.event, Dispute.Reported):
                month = replayed.event.meta.occurred_at.astimezone(SUBDISTRICT_TZ).strftime("%Y-%m")
                counts[month] = counts.get(month, 0) + 1
        return counts

    _report(service, "d-1", "2014-03-03T09:10:00+08:00")
    _report(service, "d-2", "2014-04-01T09:10:00+08:00")
    produced = replay_report(service, Cut.known_at(datetime.now(UTC)), disputes_by_month)
    then = _moment()
    _report(service, "d-3", "2014-03-20T09:10:00+08:00")  # a late entry for March
    assert replay_report(service, Cut.known_at(then), disputes_by_month) == produced
    assert produced == {"2014-03": 1, "2014-04": 1}
    assert replay_report(service, Cut.as_of(parse_moment("2014-03-31")), disputes_by_month) == {
        "2014-03": 2
    }
    positions = [r.position for r in replay_events(service, Cut.known_at(datetime.now(UTC)))]
    assert positions == sorted(positions)
    assert len(positions) == 6  # three disputes and three receipts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-08-31", datetime(2014, 8, 31, 23, 59, 59, 999999, tzinfo=SUBDISTRICT_TZ)),
        ("2014-08-31T10:00:00", datetime(2014, 8, 31, 10, tzinfo=SUBDISTRICT_TZ)),
        ("2014-08-31T10:00:00+00:00", datetime(2014, 8, 31, 10, tzinfo=UTC)),
    ],
)
def test_moments_are_read_in_the_subdistrict(text: str, expected: datetime) -> None:
    assert parse_moment(text) == expected


def test_a_bad_moment_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="known_at"):
        parse_moment("last tuesday", field="known_at")
