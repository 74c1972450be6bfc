"""The projections behind the self-assessment and the watchlist (phases, meetings, migrants,
evidence): caught up in small batches with restarts they equal a rebuild from zero, on
every backend, and their rows agree with the records."""

from __future__ import annotations

import random
from datetime import date

from safecomm_core import Safecomm
from safecomm_core.commands import migrant as wc
from safecomm_core.domain.migrant import MigrantWorker
from safecomm_core.domain.receipt import CommandReceipt
from safecomm_core.projections import Projector
from safecomm_core.projections.evidence import EVIDENCE, EVIDENCE_ROWS
from safecomm_core.projections.meetings import MEETING_ACTIONS, MEETINGS
from safecomm_core.projections.migrants import MIGRANT_FACTS, MIGRANT_ROWS, MIGRANTS
from safecomm_core.projections.phases import PHASE_FACTS, PHASE_ROWS, PHASES
from tests.assessing import at, full_history

MINE = (PHASES, MEETINGS, MIGRANTS, EVIDENCE)


def test_caught_up_in_random_batches_with_restarts_equals_a_rebuild(service: Safecomm) -> None:
    h = full_history(service)
    chance = random.Random(7)
    with Projector(service) as projector:
        for projection in MINE:
            # part of the history, in batches of 1-5, stopping and starting again
            for _ in range(3):
                projector.catch_up(
                    projection, batch_size=chance.randint(1, 5), max_batches=chance.randint(1, 4)
                )
        h.do(wc.EndorseResidencePermit, at(2014, 6, 21), worker_id="w-2013-0007")
        h.close_action("m-2014-05", "a-1", at(2014, 6, 22))
        for projection in MINE:
            while projector.catch_up(projection, batch_size=chance.randint(1, 7)).handled:
                pass
            live = projector.digest(projection)
            assert projector.rebuild_check(projection) == [], projection.name
            assert projector.dead_letters(projection) == [], projection.name
            assert projector.rebuild(projection).position == live.position
            assert projector.digest(projection).tables == live.tables, projection.name


def test_the_evidence_view_counts_every_command_and_event_of_the_store(
    memory_service: Safecomm,
) -> None:
    full_history(memory_service)
    receipts = events = 0
    for notification in memory_service.log.read(0, 100_000):
        if notification.topic == CommandReceipt.Handled.TOPIC:
            receipts += 1
        else:
            events += 1
    with Projector(memory_service) as projector:
        projector.catch_up(EVIDENCE)
        rows = projector.rows(EVIDENCE, EVIDENCE_ROWS)
    assert len(rows) == receipts
    assert sum(r["events"] for r in rows) == events
    assert all(r["command_type"] for r in rows)
    assert {r["phase"] for r in rows if r["command_type"].startswith("phase.")} == {"P1"}


def test_the_migrants_view_follows_the_permit_as_the_record_does(memory_service: Safecomm) -> None:
    h = full_history(memory_service)
    h.do(wc.EndorseResidencePermit, at(2014, 7, 20), worker_id="w-2013-0007")  # late
    with Projector(memory_service) as projector:
        projector.catch_up(MIGRANTS)
        workers = {r["ref"]: r for r in projector.rows(MIGRANTS, MIGRANT_ROWS)}
        facts = projector.rows(MIGRANTS, MIGRANT_FACTS)
    record = memory_service.get(MigrantWorker, "w-2013-0007")
    row = workers["w-2013-0007"]
    assert row["endorsement_due_on"] == record.endorsement_due_on == date(2015, 7, 20)
    assert row["residence_since"] == record.residence_since == date(2014, 7, 20)
    assert (row["permit"], row["endorsements"]) == ("issued", 1)
    assert [f["fact"] for f in facts if f["ref"] == "w-2013-0007"] == [
        "registered",
        "permit_applied",
        "permit_issued",
        "permit_endorsed",
    ]
    # each fact row holds the worker's state after it: before the endorsement, due a year on
    issued = next(f for f in facts if f["fact"] == "permit_issued")
    assert issued["endorsement_due_on"] == date(2014, 7, 5)
    assert "person" not in row
    assert "dwelling" not in row


def test_phases_and_meetings_keep_the_event_behind_each_fact(memory_service: Safecomm) -> None:
    full_history(memory_service)
    with Projector(memory_service) as projector:
        projector.catch_up(PHASES)
        projector.catch_up(MEETINGS)
        [phase] = projector.rows(PHASES, PHASE_ROWS)
        facts = projector.rows(PHASES, PHASE_FACTS)
        [action] = projector.rows(MEETINGS, MEETING_ACTIONS)
    assert (phase["phase"], phase["status"], phase["deliverables"], phase["documents"]) == (
        "P1",
        "started",
        1,
        1,
    )
    assert [f["fact"] for f in facts] == ["planned", "started", "deliverable"]
    topics = {f["topic"] for f in facts}
    assert "safecomm/ProjectPhase/DeliverableRecorded" in topics
    history = memory_service.history("P1", "phase")
    assert [f["command_id"] for f in facts] == [e.command_id for e in history]
    assert (action["measure"], action["owner"], action["closed_at"]) == ("M2.2", "staff-040", None)
