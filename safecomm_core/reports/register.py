"""The rows the monthly report reads, taken from the live views in one consistent state.

:func:`load` reads every view the monthly report needs inside one read transaction
(:func:`~safecomm_core.reports.reading.reading`), so that every figure of a report comes
from the same moment even while a follower writes. What it gives back, a
:class:`Register`, is plain rows plus two helpers every definition uses: the events behind
a fact (:meth:`Facts.get`) and the rules in force (:meth:`Register.rules_at`), the latter
by the domain's own :func:`~safecomm_core.domain.rules.rules_in_force`.

A register can be cut to one month (``load(projector, month)``): it then holds only the
rows that month's figures and tables read (the month's records, those still open at its
end, the cumulative registers as of its end), so that a report's memory follows a month's
activity, not the whole history; what the report needs of the whole history (communities,
the first and the latest month) is in :attr:`Register.extent`. The definitions choose among
the rows as they always do: a cut only leaves out rows none of them would pick for that
month. The workers are a register of everyone by then, which grows with the history: the
monthly report reads them one at a time instead (``read_register(..., streamed=True)``).

Rules are read as adopted up to now: a set adopted later with an earlier effective date
was adopted to correct how earlier facts are judged, and the monthly figures follow it
(the watchlist, which says what staff could know on a day, does not).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from safecomm_core.dates import Month, end_of_day
from safecomm_core.domain.rules import Rules, RuleVersion, rules_in_force
from safecomm_core.domain.survey import Wave
from safecomm_core.projections.broadcasts import (
    BROADCAST_FACTS,
    BROADCAST_QUESTIONS,
    BROADCAST_ROWS,
    BROADCASTS,
)
from safecomm_core.projections.campaigns import (
    CAMPAIGN_FACTS,
    CAMPAIGN_PARTICIPANTS,
    CAMPAIGN_ROWS,
    CAMPAIGNS,
)
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.disputes import DISPUTE_FACTS, DISPUTE_ROWS, DISPUTES
from safecomm_core.projections.grid_alerts import ALERT_FACTS, ALERT_ROWS, ALERT_UNITS, ALERTS
from safecomm_core.projections.migrants import MIGRANT_FACTS, MIGRANT_ROWS, MIGRANTS
from safecomm_core.projections.patrols import (
    PATROL_CHECKPOINTS,
    PATROL_FACTS,
    PATROL_ROWS,
    PATROLS,
)
from safecomm_core.projections.police_statistics import POLICE, POLICE_FACTS, POLICE_ROWS
from safecomm_core.projections.populations import POPULATION_FACTS, POPULATION_ROWS, POPULATIONS
from safecomm_core.projections.prevention_assets import ASSET_FACTS, ASSET_ROWS, ASSETS
from safecomm_core.projections.rules import RULE_VERSIONS, RULEBOOK, rule_versions
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import Row, Table
from safecomm_core.projections.surveys import SURVEY_RESPONSES, SURVEY_WAVES, SURVEYS
from safecomm_core.projections.targets import TARGET_ROWS, TARGETS
from safecomm_core.reports.counting import EventRef
from safecomm_core.reports.reading import Reader, read_views

__all__ = [
    "PROJECTIONS",
    "Extent",
    "Facts",
    "Register",
    "Worker",
    "event_ref",
    "load",
    "read_register",
]

#: The views the monthly report reads: catch these up first (the report does).
PROJECTIONS: tuple[Projection, ...] = (
    DISPUTES,
    RULEBOOK,
    PATROLS,
    ALERTS,
    MIGRANTS,
    SURVEYS,
    CAMPAIGNS,
    BROADCASTS,
    ASSETS,
    POLICE,
    POPULATIONS,
    TARGETS,
)


def event_ref(kind: str, ref: str, row: Row) -> EventRef:
    """The event a row with provenance columns names, as an :class:`EventRef`."""
    return EventRef(
        notification_id=row["notification_id"],
        kind=kind,
        ref=ref,
        version=row["originator_version"],
        topic=row["topic"],
        occurred_at=row["occurred_at"],
    )


class Facts:
    """The events behind the facts of one kind of record (a fact table, indexed)."""

    def __init__(self, kind: str, id_column: str, rows: Iterable[Row], refs: dict[str, str]):
        self._events: dict[tuple[str, str, str], EventRef] = {}
        for row in rows:
            record: str = row[id_column]
            key = (record, row.get("part", ""), row["fact"])
            self._events[key] = event_ref(kind, refs.get(record, record), row)

    def get(self, record: str, fact: str, part: str = "") -> tuple[EventRef, ...]:
        """The event that set ``fact`` (of ``part``) of ``record``: one, or none."""
        found = self._events.get((record, part, fact))
        return (found,) if found is not None else ()

    def events(self) -> Iterable[EventRef]:
        """Every event these facts name."""
        return self._events.values()


def _refs(rows: Iterable[Row], id_column: str) -> dict[str, str]:
    return {row[id_column]: row["ref"] for row in rows}


@attrs.frozen
class Extent:
    """What a register cut to one month still knows of the whole history."""

    #: Every community the records name (``*`` left out), as :meth:`Register.communities`.
    communities: tuple[str, ...]
    #: The first day of the programme's own activity (disputes, patrols, alerts,
    #: campaigns, broadcasts), None before any.
    first_day: date | None
    #: When the latest fact the report counts occurred, None before any.
    latest: datetime | None

    @property
    def first_month(self) -> Month | None:
        """The month of :attr:`first_day`."""
        return Month.of(self.first_day) if self.first_day is not None else None

    @property
    def latest_month(self) -> Month | None:
        """The month of :attr:`latest` (in the subdistrict)."""
        return Month.of(self.latest) if self.latest is not None else None

    @classmethod
    def read(cls, read: Reader) -> Extent:
        """The extent of the views ``read`` sees, in the database (no row is kept)."""
        found: set[str] = set()
        for table in (
            DISPUTE_ROWS,
            PATROL_ROWS,
            ALERT_ROWS,
            MIGRANT_ROWS,
            SURVEY_RESPONSES,
            BROADCAST_ROWS,
            ASSET_ROWS,
            POLICE_ROWS,
        ):
            found |= {
                c for (c,) in read.fetchall(f"SELECT DISTINCT community FROM {read.name(table)}")
            }
        held = f"SELECT DISTINCT held_in FROM {read.name(CAMPAIGN_ROWS)} WHERE held_in IS NOT NULL"
        found |= {c for (c,) in read.fetchall(held) if c}
        firsts = [
            _extreme(read, "MIN", table, column)
            for table, column in (
                (DISPUTE_ROWS, "reported_on"),
                (PATROL_ROWS, "patrol_on"),
                (ALERT_ROWS, "raised_on"),
                (CAMPAIGN_ROWS, "held_on"),
                (BROADCAST_ROWS, "published_on"),
            )
        ]
        latest = [
            _extreme(read, "MAX", table, "occurred_at")
            for table in (
                DISPUTE_FACTS,
                PATROL_FACTS,
                ALERT_FACTS,
                CAMPAIGN_FACTS,
                BROADCAST_FACTS,
                POLICE_FACTS,
                MIGRANT_FACTS,
                SURVEY_RESPONSES,
                ASSET_FACTS,
            )
        ]
        return cls(
            communities=tuple(sorted(found - {"*"})),
            first_day=min((d for d in firsts if d is not None), default=None),
            latest=max((t for t in latest if t is not None), default=None),
        )


def _extreme(read: Reader, which: str, table: Table, column: str) -> Any:
    """The least or greatest (``MIN``, ``MAX``) value of ``table.column``; None if none."""
    ((stored,),) = read.fetchall(f"SELECT {which}({column}) FROM {read.name(table)}")
    return read.value(table, column, stored)


#: One migrant worker's row and facts (in key order), as :meth:`Register.each_worker` gives them.
Worker = tuple[Row, list[Row]]


@attrs.define
class Register:
    """The rows of every view the monthly report reads, at one moment: all of them, or
    those one month reads (:attr:`month`)."""

    rule_versions: tuple[RuleVersion, ...]
    disputes: list[Row]
    dispute_facts: Facts
    patrols: list[Row]
    checkpoints: list[Row]
    patrol_facts: Facts
    alerts: list[Row]
    alert_units: list[Row]
    alert_facts: Facts
    migrants: list[Row]
    migrant_facts: list[Row]
    responses: list[Row]
    #: Each survey wave's own reference (``s-2014-1``) by its record id.
    survey_refs: dict[str, str]
    campaigns: list[Row]
    campaign_facts: Facts
    #: People named as present at campaigns, one row per campaign and person.
    participants: list[Row]
    broadcasts: list[Row]
    questions: list[Row]
    broadcast_facts: Facts
    assets: list[Row]
    asset_facts: list[Row]
    police: list[Row]
    police_facts: Facts
    populations: list[Row]
    population_facts: Facts
    targets: list[Row]
    #: The month the rows are cut to (None: every row): only its figures can be computed.
    #: Cut, the workers' rows hold only the columns the report reads (``_WORKER_COLUMNS``).
    month: Month | None = None
    #: What the report needs of the whole history, for a register cut to a month.
    extent: Extent | None = None
    #: Read as a stream (``read_register(..., streamed=True)``): each worker's row and
    #: facts read from the views one worker at a time, while the read transaction is open;
    #: :attr:`migrants` then holds none and :attr:`migrant_facts` only the month's (a day
    #: either side). None: every worker read is in those lists.
    worker_stream: Callable[[], Iterator[Worker]] | None = attrs.field(
        default=None, eq=False, repr=False
    )
    #: Indexes the definitions derive from these rows, made once per register.
    cache: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    def each_worker(self) -> Iterator[Worker]:
        """Every worker of the register with their facts, by worker id: from the stream
        when there is one, else from :attr:`migrants` and :attr:`migrant_facts`."""
        if self.worker_stream is not None:
            yield from self.worker_stream()
            return
        facts: dict[str, list[Row]] = {}
        for fact in self.migrant_facts:
            facts.setdefault(fact["worker_id"], []).append(fact)
        for row in self.migrants:
            yield row, facts.get(row["worker_id"], [])

    def rules_at(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on`` (the domain's own lookup)."""
        return rules_in_force(self.rule_versions, community, on)

    def communities(self) -> list[str]:
        """Every community the records name (``*``, the subdistrict's own, left out)."""
        if self.extent is not None:
            return list(self.extent.communities)
        found = {
            row["community"]
            for rows in (
                self.disputes,
                self.patrols,
                self.alerts,
                self.migrants,
                self.responses,
                self.broadcasts,
                self.assets,
                self.police,
            )
            for row in rows
        }
        found |= {row["held_in"] for row in self.campaigns if row["held_in"]}
        return sorted(found - {"*"})


def load(projector: Projector, month: Month | None = None) -> Register:
    """Every row the monthly report reads (with ``month``: those that month's figures and
    tables read), from the live views in one read transaction."""
    with read_views(projector, PROJECTIONS) as read:
        return read_register(read, month)


def read_register(
    read: Reader,
    month: Month | None = None,
    extent: Extent | None = None,
    *,
    streamed: bool = False,
) -> Register:
    """The register as ``read`` sees the views: every row, or those ``month`` reads (with
    its :class:`Extent`: ``extent`` when given, so that a report reading several months
    in one transaction reads it once).

    ``streamed`` (with ``month``): the workers, a register of everyone by then, are not
    held but read one at a time when a definition asks (:attr:`Register.worker_stream`),
    so the register's size follows the month's activity alone. Compute its tallies while
    ``read``'s transaction is open; their worker figures keep only sums per community
    (what the report shows), not the events behind each worker (what explain lists)."""
    if month is None:
        return _load(read, _Cut.everything())
    cut = _Cut.of(read, month, streamed=streamed)
    stream = None if cut.workers is None else _worker_stream(read, *cut.workers)
    return attrs.evolve(
        _load(read, cut), month=month, extent=extent or Extent.read(read), worker_stream=stream
    )


def _worker_stream(read: Reader, workers: Where, facts: Where) -> Callable[[], Iterator[Worker]]:
    """Each worker ``workers`` picks with the facts ``facts`` picks, read one at a time."""
    row_columns = _WORKER_COLUMNS[MIGRANT_ROWS.name]
    fact_columns = _WORKER_COLUMNS[MIGRANT_FACTS.name]
    # Only the facts of the workers picked, so that both lists, each sorted by the
    # database by worker id, meet worker by worker (the same order: the same collation).
    theirs = f"({facts[0]}) AND {_within('worker_id', read, MIGRANT_ROWS, workers)}"

    def each() -> Iterator[Worker]:
        rows = read.stream(MIGRANT_ROWS, *workers, row_columns, ("worker_id",))
        found = read.stream(
            MIGRANT_FACTS, theirs, [*facts[1], *workers[1]], fact_columns, MIGRANT_FACTS.key
        )
        groups = itertools.groupby(found, key=lambda fact: fact["worker_id"])
        pending = next(groups, None)
        for row in rows:
            mine: list[Row] = []
            if pending is not None and pending[0] == row["worker_id"]:
                mine = list(pending[1])
                pending = next(groups, None)
            yield row, mine

    return each


#: A condition on a table (SQL with ``?`` placeholders) and its parameters.
Where = tuple[str, list[Any]]


class _Cut:
    """The rows one month's figures and tables read, as a condition on each table.

    Each condition picks a few more rows than the definitions use (a day either side of
    the month for timestamps, whose local day is near their UTC day): the definitions
    choose among them exactly as among every row.
    """

    def __init__(
        self,
        wheres: dict[str, Where],
        columns: dict[str, tuple[str, ...]],
        workers: tuple[Where, Where] | None = None,
    ) -> None:
        self._wheres = wheres
        self._columns = columns
        #: Streamed: the conditions on the workers and their facts, read one at a time.
        self.workers = workers

    @classmethod
    def everything(cls) -> _Cut:
        return cls({}, {})

    def rows(self, read: Reader, table: Table) -> list[Row]:
        """The rows of ``table`` the cut picks."""
        where, params = self._wheres.get(table.name, ("", []))
        return read.rows(table, where, params, self._columns.get(table.name))

    @classmethod
    def of(cls, read: Reader, month: Month, *, streamed: bool = False) -> _Cut:
        first, last = month.first, month.last
        since = end_of_day(first - timedelta(days=2))  # a day before the month's start
        until = end_of_day(last + timedelta(days=1))  # a day after its end
        year = month.shift(-11).first  # the twelve months up to it (named participants)

        def p(table: Table, column: str, value: Any) -> Any:
            return read.param(table, column, value)

        d = DISPUTE_ROWS
        disputes: Where = (
            "(reported_on >= ? OR closed_on IS NULL OR closed_on >= ? "
            "OR first_session_at >= ? OR police_reported_at >= ?) "
            "AND (reported_on <= ? OR closed_on <= ? "
            "OR first_session_at < ? OR police_reported_at < ?)",
            [
                p(d, "reported_on", first),
                p(d, "closed_on", first),
                p(d, "first_session_at", since),
                p(d, "police_reported_at", since),
                p(d, "reported_on", last),
                p(d, "closed_on", last),
                p(d, "first_session_at", until),
                p(d, "police_reported_at", until),
            ],
        )
        patrols: Where = (
            "patrol_on >= ? AND patrol_on <= ?",
            [p(PATROL_ROWS, "patrol_on", first), p(PATROL_ROWS, "patrol_on", last)],
        )
        alerts: Where = (
            "raised_on >= ? AND raised_on <= ?",
            [p(ALERT_ROWS, "raised_on", first), p(ALERT_ROWS, "raised_on", last)],
        )
        # Workers are a register: every one who had arrived or registered by the month's
        # end, with their facts by then (and their registration, made later or not).
        workers: Where = (
            "arrived_on <= ? OR registered_on <= ?",
            [p(MIGRANT_ROWS, "arrived_on", last), p(MIGRANT_ROWS, "registered_on", last)],
        )
        registered = _within("worker_id", read, MIGRANT_ROWS, workers)
        named: Where = (
            "held_on >= ? AND held_on <= ?",
            [p(CAMPAIGN_PARTICIPANTS, "held_on", year), p(CAMPAIGN_PARTICIPANTS, "held_on", last)],
        )
        with_named = _within("campaign_id", read, CAMPAIGN_PARTICIPANTS, named)
        campaigns: Where = (
            f"(held_on >= ? AND held_on <= ?) OR {with_named}",
            [p(CAMPAIGN_ROWS, "held_on", year), p(CAMPAIGN_ROWS, "held_on", last), *named[1]],
        )
        broadcasts: Where = (
            "published_on >= ? AND published_on <= ?",
            [p(BROADCAST_ROWS, "published_on", first), p(BROADCAST_ROWS, "published_on", last)],
        )
        worker_facts: Where = (
            f"occurred_at < ? OR (fact = ? AND {registered})",
            [p(MIGRANT_FACTS, "occurred_at", until), "registered", *workers[1]],
        )
        streamed_workers = None
        if streamed:
            streamed_workers = (workers, worker_facts)
            # Held: the facts of the month's own table (a day either side), no worker.
            workers = ("1 = 0", [])
            worker_facts = (
                "occurred_at >= ? AND occurred_at < ?",
                [p(MIGRANT_FACTS, "occurred_at", since), p(MIGRANT_FACTS, "occurred_at", until)],
            )
        return cls(
            {
                DISPUTE_ROWS.name: disputes,
                DISPUTE_FACTS.name: _of(read, "dispute_id", DISPUTE_ROWS, disputes),
                PATROL_ROWS.name: patrols,
                PATROL_CHECKPOINTS.name: _of(read, "patrol_id", PATROL_ROWS, patrols),
                PATROL_FACTS.name: _of(read, "patrol_id", PATROL_ROWS, patrols),
                ALERT_ROWS.name: alerts,
                ALERT_UNITS.name: _of(read, "alert_id", ALERT_ROWS, alerts),
                ALERT_FACTS.name: _of(read, "alert_id", ALERT_ROWS, alerts),
                MIGRANT_ROWS.name: workers,
                MIGRANT_FACTS.name: worker_facts,
                SURVEY_RESPONSES.name: _latest_waves(read, last),
                CAMPAIGN_ROWS.name: campaigns,
                CAMPAIGN_FACTS.name: _of(read, "campaign_id", CAMPAIGN_ROWS, campaigns),
                CAMPAIGN_PARTICIPANTS.name: named,
                BROADCAST_ROWS.name: broadcasts,
                BROADCAST_QUESTIONS.name: (
                    "asked_on >= ? AND asked_on <= ?",
                    [
                        p(BROADCAST_QUESTIONS, "asked_on", first),
                        p(BROADCAST_QUESTIONS, "asked_on", last),
                    ],
                ),
                BROADCAST_FACTS.name: _of(read, "broadcast_id", BROADCAST_ROWS, broadcasts),
                ASSET_FACTS.name: ("occurred_on <= ?", [p(ASSET_FACTS, "occurred_on", last)]),
            },
            _WORKER_COLUMNS,
            streamed_workers,
        )


#: The columns the definitions and tables read of the workers' views, which a register cut
#: to a month holds whole (every worker by then): the others are left in the database.
_WORKER_COLUMNS = {
    MIGRANT_ROWS.name: ("worker_id", "community", "arrived_on", "registered_on", "registered_late"),
    MIGRANT_FACTS.name: (
        "worker_id",
        "ref",
        "fact",
        "community",
        "due_on",
        "proactive",
        "eligible_since",
        "residence_since",
        "notification_id",
        "originator_version",
        "topic",
        "occurred_at",
    ),
}


def _within(column: str, read: Reader, table: Table, where: Where) -> str:
    """``column IN`` the ``column`` of the rows of ``table`` that ``where`` picks."""
    return f"{column} IN (SELECT {column} FROM {read.name(table)} WHERE {where[0]})"


def _of(read: Reader, column: str, table: Table, where: Where) -> Where:
    """The rows of a record's child table whose record ``where`` picks in ``table``."""
    return _within(column, read, table, where), list(where[1])


def _latest_waves(read: Reader, last: date) -> Where:
    """The survey responses by ``last`` of the waves a figure reads then: each community's
    latest wave, and the latest of all (as
    :func:`~safecomm_core.reports.indicators.latest_wave` finds them)."""
    t = SURVEY_RESPONSES
    by = read.param(t, "occurred_on", last)
    found: dict[str, set[str]] = {}
    sql = f"SELECT DISTINCT community, wave FROM {read.name(t)} WHERE occurred_on <= ?"
    for community, wave in read.fetchall(sql, (by,)):
        found.setdefault(community, set()).add(wave)
    # The latest of all is some community's latest.
    latest: set[str] = set()
    for each in found.values():
        latest.update(next(([w.value] for w in reversed(Wave) if w.value in each), []))
    if not latest:
        return "1 = 0", []
    marks = ", ".join("?" for _ in latest)
    return f"occurred_on <= ? AND wave IN ({marks})", [by, *sorted(latest)]


def _load(read: Reader, cut: _Cut) -> Register:
    def rows(table: Table) -> list[Row]:
        return cut.rows(read, table)

    def facts(kind: str, id_column: str, table: Table, records: list[Row]) -> Facts:
        return Facts(kind, id_column, rows(table), _refs(records, id_column))

    disputes = rows(DISPUTE_ROWS)
    patrols = rows(PATROL_ROWS)
    alerts = rows(ALERT_ROWS)
    campaigns = rows(CAMPAIGN_ROWS)
    broadcasts = rows(BROADCAST_ROWS)
    police = rows(POLICE_ROWS)
    populations = rows(POPULATION_ROWS)
    return Register(
        rule_versions=rule_versions(rows(RULE_VERSIONS)),
        disputes=disputes,
        dispute_facts=facts("dispute", "dispute_id", DISPUTE_FACTS, disputes),
        patrols=patrols,
        checkpoints=rows(PATROL_CHECKPOINTS),
        patrol_facts=facts("patrol", "patrol_id", PATROL_FACTS, patrols),
        alerts=alerts,
        alert_units=rows(ALERT_UNITS),
        alert_facts=facts("alert", "alert_id", ALERT_FACTS, alerts),
        migrants=rows(MIGRANT_ROWS),
        migrant_facts=rows(MIGRANT_FACTS),
        responses=rows(SURVEY_RESPONSES),
        survey_refs=_refs(rows(SURVEY_WAVES), "survey_id"),
        campaigns=campaigns,
        campaign_facts=facts("campaign", "campaign_id", CAMPAIGN_FACTS, campaigns),
        participants=rows(CAMPAIGN_PARTICIPANTS),
        broadcasts=broadcasts,
        questions=rows(BROADCAST_QUESTIONS),
        broadcast_facts=facts("broadcast", "broadcast_id", BROADCAST_FACTS, broadcasts),
        assets=rows(ASSET_ROWS),
        asset_facts=rows(ASSET_FACTS),
        police=police,
        police_facts=facts("police_statistic", "statistic_id", POLICE_FACTS, police),
        populations=populations,
        population_facts=facts("population", "population_id", POPULATION_FACTS, populations),
        targets=rows(TARGET_ROWS),
    )
