"""Retention: records past their period lose their personal data; figures and chain stay.

A small hand-made history, with the expected cases written first: disputes archived on
known days, migrant workers who left on known days, a person shared by a worker and a
live dispute, and a dated rule that shortens the period in one community.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from safecomm_cli.main import main

from safecomm_core import (
    Dispute,
    ErasureGround,
    MigrantWorker,
    RuleViolation,
    Safecomm,
    monthly_report,
    open_store,
    self_assessment,
)
from safecomm_core.audit import Ledger, verify
from safecomm_core.converter import converter
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.retention import Verdict, retention_due, run_retention

ADMIN = {"id": "admin-1", "role": "admin"}
MEDIATOR = {"id": "staff-017", "role": "mediator"}
COORDINATOR = {"id": "coord-1", "role": "coordinator"}
AT = "T10:00:00+08:00"


def send(
    service: Safecomm, type_: str, cid: str, day: str, actor: dict[str, str], **f: Any
) -> None:
    service.handle_json(
        {"type": type_, "command_id": cid, "occurred_at": day + AT, "actor": actor, **f}
    )


def dispute(
    service: Safecomm, ref: str, community: str, parties: list[str], archived: str | None
) -> None:
    """A dispute reported, mediated and agreed in March 2014, archived on ``archived``."""
    on = {"dispute_id": ref}
    send(
        service,
        "dispute.report",
        f"{ref}-1",
        "2014-03-03",
        MEDIATOR,
        community=community,
        kind="neighbour",
        summary=f"{ref}: 王建国 13800001001 says the neighbour is loud",
        parties=[{"ref": p, "name": "王建国", "role": "applicant"} for p in parties],
        **on,
    )
    send(service, "dispute.accept", f"{ref}-2", "2014-03-03", MEDIATOR, **on)
    send(service, "dispute.assign_mediator", f"{ref}-3", "2014-03-03", MEDIATOR, mediator="m", **on)
    send(service, "dispute.hold_session", f"{ref}-4", "2014-03-04", MEDIATOR, notes="met", **on)
    send(
        service,
        "dispute.reach_agreement",
        f"{ref}-5",
        "2014-03-05",
        MEDIATOR,
        form="written",
        terms="quiet after ten",
        **on,
    )
    if archived is not None:
        send(service, "dispute.archive", f"{ref}-6", archived, MEDIATOR, **on)


def worker(service: Safecomm, ref: str, person: str, left: str | None) -> None:
    """A migrant worker registered in C2 in March 2014, who left on ``left``."""
    send(
        service,
        "migrant.register",
        f"{ref}-1",
        "2014-03-05",
        COORDINATOR,
        channel="door-to-door",
        worker_id=ref,
        community="C2",
        person={"ref": person, "name": "张伟"},
        arrived_on="2014-03-04",
        dwelling="C2-12-3-401",
    )
    if left is not None:
        send(service, "migrant.leave", f"{ref}-2", left, COORDINATOR, worker_id=ref)


def history(service: Safecomm) -> None:
    # d-a archived 2014-04-04: 5 years (default) end 2019-04-04.
    dispute(service, "d-a", "C1", ["p-a"], "2014-04-04")
    # d-b archived 2016-06-01: ends 2021-06-01; its party p-shared is also worker m-n.
    dispute(service, "d-b", "C1", ["p-shared"], "2016-06-01")
    # d-c never archived: an open file is not past any period.
    dispute(service, "d-c", "C1", ["p-c"], None)
    # d-d in C3, archived 2014-04-10 under a 2-year rule adopted for C3 from 2014-01-01.
    send(
        service,
        "rules.adopt",
        "r-1",
        "2014-01-02",
        ADMIN,
        community="C3",
        effective_from="2014-01-01",
        changes={"dispute_retention_years": 2},
    )
    dispute(service, "d-d", "C3", ["p-d"], "2014-04-10")
    # m-m left 2014-05-01: 3 years (default) end 2017-05-01; m-n left too, but its person
    # is a party of d-b, which is kept.
    worker(service, "m-m", "p-m", "2014-05-01")
    worker(service, "m-n", "p-shared", "2014-05-01")
    # m-o has not left.
    worker(service, "m-o", "p-o", None)


@pytest.fixture
def service() -> Iterator[Safecomm]:
    opened = open_store("memory://")
    history(opened)
    yield opened
    opened.close()


def test_the_cases_past_their_period_on_a_day(service: Safecomm) -> None:
    cases = {(c.kind, c.ref): c for c in retention_due(service, date(2019, 5, 1))}
    assert sorted(cases) == [
        ("dispute", "d-a"),
        ("dispute", "d-d"),
        ("migrant", "m-m"),
        ("migrant", "m-n"),
    ]
    assert (cases["dispute", "d-a"].ends, cases["dispute", "d-a"].years) == (date(2019, 4, 4), 5)
    assert (cases["dispute", "d-d"].ends, cases["dispute", "d-d"].years) == (date(2016, 4, 10), 2)
    assert cases["migrant", "m-m"].ends == date(2017, 5, 1)
    assert cases["migrant", "m-n"].verdict is Verdict.WAIT
    assert cases["migrant", "m-n"].held == ("dispute:d-b",)
    # The day before a period ends, the record is kept.
    assert [c.ref for c in retention_due(service, date(2016, 4, 9))] == []
    assert [c.ref for c in retention_due(service, date(2016, 4, 10))] == ["d-d"]


def test_a_dry_run_erases_nothing(service: Safecomm) -> None:
    head = service.log.head()
    run = run_retention(service, date(2019, 5, 1))
    assert run.dry_run
    assert run.erased == ()
    assert run.summary()[0].startswith("Dry run: nothing erased. 3 record(s)")
    assert service.log.head() == head
    assert service.texts(Dispute, "d-a")[0].text.startswith("d-a: 王建国")


def test_a_run_erases_records_what_it_erased_and_a_repeat_changes_nothing(
    service: Safecomm,
) -> None:
    run = run_retention(service, date(2019, 5, 1), dry_run=False)
    assert run.erased == (
        "retention:dispute:d-d",
        "retention:migrant:m-m",
        "retention:dispute:d-a",
    )
    a = service.get(Dispute, "d-a")
    assert a.erasure_ground is ErasureGround.RETENTION_ENDED
    assert {t.text for t in service.texts(Dispute, "d-a")} == {"[erased]"}
    assert service.person(a.parties[0].person).name == "[erased]"
    assert service.get(MigrantWorker, "m-m").erasure_ground is ErasureGround.RETENTION_ENDED
    assert service.person(service.get(MigrantWorker, "m-m").person).name == "[erased]"
    # What waits or is kept still reads.
    b = service.get(Dispute, "d-b")
    assert service.person(b.parties[0].person).name == "王建国"
    assert service.get(MigrantWorker, "m-n").erasure_ground is None
    assert service.texts(Dispute, "d-c")[0].text.startswith("d-c:")
    head = service.log.head()
    again = run_retention(service, date(2019, 5, 1), dry_run=False)
    assert again.erased == ()
    assert [c.ref for c in again.cases] == ["m-n"]
    assert service.log.head() == head


def test_figures_and_the_audit_chain_are_the_same_after_a_run(service: Safecomm) -> None:
    def reports() -> list[Any]:
        found = [monthly_report(service, p, generated_at=None) for p in ("2014-03", "2014-05")]
        found.append(self_assessment(service, as_of=date(2014, 12, 31)))
        return [
            {k: v for k, v in converter.unstructure(r).items() if k != "generated_at"}
            for r in found
        ]

    key = Ed25519PrivateKey.generate()
    with Ledger(service) as ledger:
        ledger.seal(key)
    before, checked = reports(), verify(service, public_key=key.public_key())
    assert checked.intact
    run_retention(service, date(2019, 5, 1), dry_run=False)
    after = verify(service, public_key=key.public_key())
    assert reports() == before
    assert after.intact
    assert (after.seals_holding, after.sealed_position) == (1, checked.last_position)
    assert after.records > checked.records  # the erasures are events of their own


def test_the_command_line_is_a_dry_run_unless_told_to_apply(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as opened:
        history(opened)
        head = opened.log.head()
    runner = CliRunner()
    for args in ([], ["--dry-run"]):
        dry = runner.invoke(main, ["retention", "run", *args, "--on", "2019-05-01", "--store", url])
        assert dry.exit_code == 0, dry.output
        assert dry.output.startswith("Dry run: nothing erased.")
        assert "dispute d-a (C1): since 2014-04-04, 5 year(s), ended 2019-04-04" in dry.output
        assert "waits: migrant m-n (C2): its person is still held by dispute:d-b" in dry.output
    with open_store(url) as opened:
        assert opened.log.head() == head
    done = runner.invoke(
        main, ["retention", "run", "--apply", "--on", "2019-05-01", "--store", url]
    )
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Erased the personal data of 3 record(s)")
    with open_store(url) as opened:
        assert opened.get(Dispute, "d-a").erasure_ground is ErasureGround.RETENTION_ENDED


def test_a_worker_who_moved_keeps_the_rules_of_the_community_they_left_from() -> None:
    """m-v registered in C2, moved to C4 and left from there on 2015-01-10. C4 keeps a
    registration 1 year (adopted from 2014-01-01), C2 the default 3: the period began in
    C4, so it ends 2016-01-10, and the case names C4."""
    service = open_store("memory://")
    send(
        service,
        "rules.adopt",
        "r-c4",
        "2014-01-02",
        ADMIN,
        community="C4",
        effective_from="2014-01-01",
        changes={"migrant_retention_years": 1},
    )
    worker(service, "m-v", "p-v", None)
    send(
        service,
        "migrant.move",
        "m-v-move",
        "2014-06-01",
        COORDINATOR,
        worker_id="m-v",
        dwelling="C4-1-1-101",
        community="C4",
    )
    send(service, "migrant.leave", "m-v-left", "2015-01-10", COORDINATOR, worker_id="m-v")
    assert retention_due(service, date(2016, 1, 9)) == []
    (case,) = retention_due(service, date(2016, 1, 10))
    assert (case.ref, case.community, case.years, case.ends) == (
        "m-v",
        "C4",
        1,
        date(2016, 1, 10),
    )
    service.close()


def test_a_run_erases_nothing_before_its_period_has_ended(service: Safecomm) -> None:
    """A day still to come may be asked about in a dry run (what falls due by then), but
    an erasure cannot be undone: a run that erases judges on a day that has come."""
    at = datetime(2017, 6, 1, 10, tzinfo=SUBDISTRICT_TZ)
    head = service.log.head()
    ahead = run_retention(service, date(2019, 5, 1), dry_run=True, at=at)
    assert [c.ref for c in ahead.cases] == ["d-d", "m-m", "m-n", "d-a"]
    with pytest.raises(RuleViolation, match="2019-05-01") as refused:
        run_retention(service, date(2019, 5, 1), dry_run=False, at=at)
    assert refused.value.field == "on"
    assert service.log.head() == head
    assert service.get(Dispute, "d-a").erased_on is None
    run = run_retention(service, date(2017, 6, 1), dry_run=False, at=at)
    assert run.erased == ("retention:dispute:d-d", "retention:migrant:m-m")


def test_the_command_line_refuses_to_erase_on_a_day_to_come(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as opened:
        history(opened)
        head = opened.log.head()
    later = (datetime.now(SUBDISTRICT_TZ).date() + timedelta(days=1)).isoformat()
    runner = CliRunner()
    preview = runner.invoke(main, ["retention", "run", "--on", later, "--store", url])
    assert preview.exit_code == 0, preview.output
    refused = runner.invoke(main, ["retention", "run", "--apply", "--on", later, "--store", url])
    assert refused.exit_code != 0
    assert refused.stderr.startswith("error: ")
    assert len(refused.stderr.strip().splitlines()) == 1
    with open_store(url) as opened:
        assert opened.log.head() == head
