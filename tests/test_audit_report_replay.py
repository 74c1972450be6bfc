"""Reports replayed at a cut: known at T equals the report produced at T; as of T takes in
late entries."""

from __future__ import annotations

import json
import shutil
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import StoredEvent
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit import Cut, parse_moment, replay_monthly
from safecomm_core.audit.checkpoints import Checkpoint, Checkpoints, fingerprint
from safecomm_core.audit.prefix import RecordedPrefix, recorded_prefix
from safecomm_core.dates import micros
from safecomm_core.projections.database import open_views, views_path
from safecomm_core.reports import monthly_report
from safecomm_core.reports.model import Report
from safecomm_core.reports.register import PROJECTIONS
from tests.auditing import write_disputes

MONTH = "2014-03"
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
MOMENT = datetime(2020, 1, 1, tzinfo=UTC)


def _same(report: Report) -> Report:
    return attrs.evolve(report, generated_at=MOMENT)


def _figure(report: Report, indicator: str) -> tuple[float, float | None]:
    [f] = [f for f in report.figures if f.id == indicator and f.scope == "*"]
    return f.numerator, f.denominator


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_known_at_equals_the_report_produced_then_and_as_of_takes_late_entries(
    service: Safecomm,
) -> None:
    write_disputes(service, 2)
    first = monthly_report(service, MONTH, generated_at=MOMENT)
    produced_at = datetime.now(UTC)
    time.sleep(0.01)
    # more events, all of them late entries occurring in March (the sample's month)
    write_disputes(service, 2, first=3)
    later = monthly_report(service, MONTH, generated_at=MOMENT)
    assert later.figures != first.figures  # the late entries do move the figures

    known = replay_monthly(service, Cut.known_at(produced_at), MONTH, generated_at=MOMENT)
    as_of = replay_monthly(
        service, Cut.as_of(parse_moment("2014-03-31")), MONTH, generated_at=MOMENT
    )

    assert _same(known) == first
    assert known.figures == first.figures
    assert as_of.figures == later.figures
    assert _same(as_of) == later
    before, after = (
        _figure(known, "dispute_escalation_rate"),
        _figure(as_of, "dispute_escalation_rate"),
    )
    assert after[1] is not None
    assert before[1] is not None
    assert after[1] > before[1]  # the late disputes are counted as of March


def test_as_of_before_the_period_knows_nothing_of_it(memory_service: Safecomm) -> None:
    write_disputes(memory_service, 2)
    early = replay_monthly(memory_service, Cut.as_of(parse_moment("2014-02-28")), MONTH)
    full = replay_monthly(memory_service, Cut.as_of(parse_moment("2014-03-31")), MONTH)
    assert _figure(full, "dispute_escalation_rate")[1]
    assert not _figure(early, "dispute_escalation_rate")[1]


def test_cli_replay_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as service:
        write_disputes(service, 2)
        first = monthly_report(service, MONTH, generated_at=MOMENT)
        produced_at = datetime.now(UTC)
        time.sleep(0.01)
        write_disputes(service, 1, first=3)
    runner = CliRunner()
    cut = ["--known-at", produced_at.isoformat()]
    result = runner.invoke(
        main, ["audit", "replay", *cut, "--report", "monthly", "--period", MONTH, "--store", url]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the checkpoints kept are told on stderr
    assert data["period"] == MONTH
    figures = {(f["id"], f["scope"]): f["numerator"] for f in data["figures"]}
    assert figures == {(f.id, f.scope): f.numerator for f in first.figures}
    plain = runner.invoke(
        main,
        ["audit", "replay", *cut, "--report", "monthly", "--no-checkpoints", "--store", url],
    )
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["figures"] == data["figures"]
    both = runner.invoke(
        main, ["audit", "replay", *cut, "--report", "monthly", "--aggregate", "x", "--store", url]
    )
    assert both.exit_code == 2


def _recorded_times(service: Safecomm) -> list[datetime]:
    """The recorded time of every stored event, in log order."""
    recorder, mapper = service.log.application.recorder, service.log.application.mapper
    return [mapper.to_domain_event(n).timestamp for n in recorder.select_notifications(1, 10**6)]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_checkpoints_change_nothing_in_a_known_at_replay(service: Safecomm) -> None:
    write_disputes(service, 3)
    times = _recorded_times(service)
    for moment in times:  # read raw, the prefix is what decoding every event would say
        expected = next((i for i, t in enumerate(times) if t > moment), len(times))
        assert recorded_prefix(service, moment).end == expected
    # Moments before the first event, at a few events and after the last.
    moments = [times[0] - timedelta(seconds=1), times[4], times[17], times[-1]]
    for moment in moments:
        cut = Cut.known_at(moment)
        plain = replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoints=False)
        cold = replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoint_every=4)
        warm = replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoint_every=4)
        assert cold == plain
        assert warm == plain
    kept = Checkpoints(open_views(service.config), "monthly", fingerprint(PROJECTIONS))
    try:
        count, size = kept.size()
        if service.config.kind == "memory":
            assert (count, size) == (0, 0)  # a store in memory keeps none
        else:
            assert count == len(times) // 4  # one at every fourth position up to the end
            assert size > 0
            start = kept.latest(micros(times[9]))
            assert start is not None
            assert start.position == 8  # the furthest whose records were recorded by then
    finally:
        kept.views.close()


def test_a_checkpoint_of_other_projections_is_not_used(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as service:
        write_disputes(service, 1)
        replay_monthly(service, Cut.known_at(datetime.now(UTC)), MONTH, checkpoint_every=2)
        views = open_views(service.config)
        try:
            assert Checkpoints(views, "monthly", fingerprint(PROJECTIONS)).size()[0] > 0
            assert Checkpoints(views, "monthly", "another").latest(micros(MOMENT)) is None
        finally:
            views.close()


def _stored(moment: datetime) -> StoredEvent:
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": moment.isoformat()}}
    # As eventsourcing's transcoder writes it: compact, the timestamp first.
    compact = json.dumps(state, separators=(",", ":")).encode()
    return StoredEvent(uuid.uuid4(), 1, "test/Recorded", compact)


def test_the_recorded_prefix_ends_before_the_first_event_recorded_later() -> None:
    base = datetime(2014, 3, 1, tzinfo=UTC)
    at = [base + timedelta(minutes=m) for m in (1, 2, 5, 3, 6, 7)]
    with open_store("memory://") as service:
        service.log.application.recorder.insert_events([_stored(m) for m in at])
        # Position 4 was recorded by 04:00 but stored after position 3, recorded at 05:00:
        # it was still in flight then, and the prefix leaves it out.
        prefix = recorded_prefix(service, base + timedelta(minutes=4), marks_every=2)
        assert prefix.end == 2
        assert prefix.latest == {2: micros(at[1])}
        everything = recorded_prefix(service, base + timedelta(hours=1), marks_every=2)
        assert everything.end == 6
        assert everything.latest == {2: micros(at[1]), 4: micros(at[2]), 6: micros(at[5])}
        later = recorded_prefix(
            service, base + timedelta(hours=1), after=4, latest_before=micros(at[2])
        )
        assert later == RecordedPrefix(6, {6: micros(at[5])})
        assert recorded_prefix(service, base).end == 0


def test_a_ciphered_store_is_read_through_its_mapper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFECOMM_CIPHER_KEY", AESCipher.create_key(16))
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as service:
        write_disputes(service, 1)
        times = _recorded_times(service)
        for moment in times:
            expected = next((i for i, t in enumerate(times) if t > moment), len(times))
            assert recorded_prefix(service, moment).end == expected
        cut = Cut.known_at(times[-1])
        assert replay_monthly(service, cut, MONTH, generated_at=MOMENT) == replay_monthly(
            service, cut, MONTH, generated_at=MOMENT, checkpoints=False
        )


def test_a_checkpoint_of_another_store_is_not_used(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    with open_store(f"sqlite:///{first}") as service:
        write_disputes(service, 1)
        replay_monthly(service, Cut.known_at(datetime.now(UTC)), MONTH, checkpoint_every=2)
    with open_store(f"sqlite:///{second}") as service:
        write_disputes(service, 1, first=7)  # as many events, other records
    shutil.copy(views_path(str(first)), views_path(str(second)))  # its checkpoints with it
    with open_store(f"sqlite:///{second}") as service:
        cut = Cut.known_at(datetime.now(UTC))
        plain = replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoints=False)
        with pytest.warns(UserWarning, match="does not belong to this store"):
            assert (
                replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoint_every=2)
                == plain
            )
        # The fold replaced them with this store's own, which the next replay starts from.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert (
                replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoint_every=2)
                == plain
            )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_checkpoints_are_thinned_to_their_budget_and_stay_spread(
    service: Safecomm, backend: str
) -> None:
    write_disputes(service, 6)
    cut = Cut.known_at(datetime.now(UTC))
    plain = replay_monthly(service, cut, MONTH, generated_at=MOMENT, checkpoints=False)
    head = service.log.head()
    every = 2
    views = open_views(service.config)
    try:
        # One left by an older definition of the projections: it can never be used again.
        Checkpoints(views, "monthly", "an older definition").save(Checkpoint(2, 0, None, b"x"))
        # Unbounded first: what the checkpoints take, and all of them kept.
        replay_monthly(service, cut, MONTH, checkpoint_every=every, checkpoint_budget=10**12)
        assert Checkpoints(views, "monthly", "an older definition").size() == (0, 0)
        count, size = Checkpoints(views, "monthly", fingerprint(PROJECTIONS)).size()
        assert count == head // every
        # A budget for about a third of them: saving one applies it.
        budget = size // 3
        kept = Checkpoints(views, "monthly", fingerprint(PROJECTIONS), budget=budget)
        newest = kept.latest(micros(datetime.now(UTC)))
        assert newest is not None
        kept.save(newest)
        positions = [
            int(p)
            for (p,) in views.fetchall(
                f"SELECT position FROM {kept.table} WHERE report = 'monthly' ORDER BY position"
            )
        ]
        left, left_size = kept.size()
    finally:
        views.close()
    assert left_size <= budget
    assert 1 < left < count
    assert positions[-1] == newest.position  # the newest is always kept
    assert positions[0] <= head // 2  # spread over the log, not only its end
    # Replays from what is left still equal the one from the log alone.
    thinned = replay_monthly(
        service, cut, MONTH, generated_at=MOMENT, checkpoint_every=every, checkpoint_budget=budget
    )
    assert thinned == plain


def test_cli_replay_reports_the_checkpoints_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as service:
        write_disputes(service, 2)
    cut = ["--known-at", datetime.now(UTC).isoformat()]
    args = ["audit", "replay", *cut, "--report", "monthly", "--period", MONTH, "--store", url]
    result = CliRunner().invoke(main, [*args, "--checkpoint-budget", "1"])
    assert result.exit_code == 0, result.output
    assert "replay checkpoints: 0 kept, 0.0 MB (budget 1 MB)" in result.stderr
    json.loads(result.stdout)
