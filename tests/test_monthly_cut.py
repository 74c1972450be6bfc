"""A register cut to one month (what the monthly report reads now, a month at a time) gives
that month's figures, tables and notes exactly as the register of every row does, on a
history of more than two years: the demo's, records of the tests', and disputes of 2016
after them (one open across the turn of the year)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import drop_pg_tables, store_url

from safecomm_core import open_store
from safecomm_core.dates import Month, local_date
from safecomm_core.projections import Projector
from safecomm_core.reports import monthly_report
from safecomm_core.reports.counting import measure
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Figure, Section
from safecomm_core.reports.monthly import (
    MAX_SERIES_MONTHS,
    _notes,
    _Sections,
    figure_for,
    latest_month,
    tallies,
)
from safecomm_core.reports.reading import caught_up
from safecomm_core.reports.register import PROJECTIONS, Register, load
from tests.test_monthly import Desk, at
from tests.test_report_projections import history

PERIOD = Month(2016, 3)


def _figures(reg: Register, month: Month) -> list[Figure]:
    scopes = ["*", *reg.communities()]
    return [
        figure_for(DEFINITIONS[i], tally, month, s, reg)
        for i, tally in tallies(reg, month).items()
        for s in scopes
    ]


def _tables(reg: Register, month: Month, projector: Projector) -> tuple[Section, ...]:
    figures = _figures(reg, month)
    return _Sections(reg, month, "*", reg.communities(), figures, projector).all()


@pytest.fixture(scope="module")
def projector() -> Iterator[Projector]:
    with open_store("memory://") as service:
        for command in history():
            service.handle(command)
        desk = Desk(service)
        desk.dispute("d-2015", "C1", at("2015-11-20"))
        desk.mediate("d-2015", at("2015-11-20", 10), at("2015-11-23"))
        desk.agree("d-2015", at("2016-02-03"))
        desk.dispute("d-2016", "C2", at("2016-02-10"))
        with caught_up(service, PROJECTIONS) as found:
            yield found


def test_each_month_cut_gives_what_every_row_gives(projector: Projector) -> None:
    whole = load(projector)
    assert latest_month(whole) == Month(2016, 2)
    for month in PERIOD.since(Month(2013, 9)):
        cut = load(projector, month)
        assert cut.month == month
        assert cut.communities() == whole.communities()
        assert latest_month(cut) == latest_month(whole)
        assert _figures(cut, month) == _figures(whole, month), month
        assert _tables(cut, month, projector) == _tables(whole, month, projector), month
        scopes = ["*", *whole.communities()]
        assert list(_notes(cut, month, scopes, whole.communities())) == list(
            _notes(whole, month, scopes, whole.communities())
        )
        # A cut leaves rows out: the months of the demo keep far fewer than every row.
        if month == Month(2014, 6):
            assert len(cut.disputes) < len(whole.disputes)
            assert len(cut.alert_units) < len(whole.alert_units)


def test_the_report_reads_its_series_month_by_month_as_every_row_gives_it(
    projector: Projector,
) -> None:
    whole = load(projector)
    report = monthly_report(projector, str(PERIOD), generated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert report.figures == tuple(_figures(whole, PERIOD))
    months = [str(m) for m in PERIOD.since(PERIOD.shift(1 - MAX_SERIES_MONTHS))]
    assert report.series
    for series in report.series:
        assert [m for m, _ in series.points] == months
        kind = DEFINITIONS[series.indicator].kind
        for m, value in series.points:
            month = Month.parse(m)
            tally = tallies(whole, month, [series.indicator])[series.indicator]
            assert value == measure(kind, tally.scoped(series.scope))[2], (series.indicator, m)


def test_a_register_cut_to_one_month_gives_no_other_months_tallies(
    projector: Projector,
) -> None:
    with pytest.raises(ValueError, match="cut to 2014-06"):
        tallies(load(projector, Month(2014, 6)), Month(2014, 7))


def test_a_month_read_as_a_stream_gives_what_every_row_gives(projector: Projector) -> None:
    from safecomm_core.reports.reading import read_views
    from safecomm_core.reports.register import read_register

    whole = load(projector)
    workers = ("registration_coverage", "timely_registration_rate", "proactive_service_rate")
    counted = 0
    for month in PERIOD.since(Month(2013, 9)):
        with read_views(projector, PROJECTIONS) as read:
            streamed = read_register(read, month, streamed=True)
            figures = _figures(streamed, month)
            found = tallies(streamed, month, workers)
        assert figures == _figures(whole, month), month
        assert _tables(streamed, month, projector) == _tables(whole, month, projector), month
        # No worker is held: the month's facts only, and each figure's sums per community.
        assert streamed.migrants == []
        day = timedelta(days=1)
        for fact in streamed.migrant_facts:  # a day either side
            assert month.first - day <= local_date(fact["occurred_at"]) <= month.last + day
        for i in workers:
            expected = tallies(whole, month, [i])[i]
            assert measure("rate", found[i]) == measure("rate", expected), (i, month)
            assert all(c.events == () for c in found[i].denominator)
            counted += len(expected.denominator)
    assert counted > 100  # the workers' figures were counted, worker by worker


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_streamed_report_gives_every_rows_figures_on_each_backend(
    backend: str, tmp_path: Path
) -> None:
    # The workers and their facts are sorted by the database, each list on its own: they
    # must meet worker by worker in the database's order (PostgreSQL's collation too).
    url, name = store_url(backend, tmp_path)
    try:
        with open_store(url) as service:
            for command in history():
                service.handle(command)
            with caught_up(service, PROJECTIONS) as found:
                whole = load(found)
                at = datetime(2020, 1, 1, tzinfo=UTC)
                for month in (Month(2014, 6), Month(2014, 12)):
                    report = monthly_report(found, str(month), generated_at=at)
                    assert report.figures == tuple(_figures(whole, month)), month
                    assert report.sections == _tables(whole, month, found), month
                    coverage = report.figure("registration_coverage")
                    assert coverage.denominator, month  # workers were counted
    finally:
        if backend == "postgres":
            drop_pg_tables(name)
