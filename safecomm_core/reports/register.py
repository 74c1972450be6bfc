"""The rows the monthly report reads, taken from the live views in one consistent state.

:func:`load` reads every view the monthly report needs inside one read transaction
(:func:`~safecomm_core.reports.reading.reading`), so that every figure of a report comes
from the same moment even while a follower writes. What it gives back, a
:class:`Register`, is plain rows plus two helpers every definition uses: the events behind
a fact (:meth:`Facts.get`) and the rules in force (:meth:`Register.rules_at`), the latter
by the domain's own :func:`~safecomm_core.domain.rules.rules_in_force`.

Rules are read as adopted up to now: a set adopted later with an earlier effective date
was adopted to correct how earlier facts are judged, and the monthly figures follow it
(the watchlist, which says what staff could know on a day, does not).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import attrs

from safecomm_core.domain.rules import Rules, RuleVersion, rules_in_force
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

__all__ = ["PROJECTIONS", "Facts", "Register", "event_ref", "load"]

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


@attrs.define
class Register:
    """The rows of every view the monthly report reads, at one moment."""

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
    #: Indexes the definitions derive from these rows, made once per register.
    cache: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    def rules_at(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on`` (the domain's own lookup)."""
        return rules_in_force(self.rule_versions, community, on)

    def communities(self) -> list[str]:
        """Every community the records name (``*``, the subdistrict's own, left out)."""
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


def load(projector: Projector) -> Register:
    """Every row the monthly report reads, from the live views in one read transaction."""
    with read_views(projector, PROJECTIONS) as read:
        return _load(read)


def _load(read: Reader) -> Register:
    def facts(kind: str, id_column: str, table: Table, records: list[Row]) -> Facts:
        return Facts(kind, id_column, read.rows(table), _refs(records, id_column))

    disputes = read.rows(DISPUTE_ROWS)
    patrols = read.rows(PATROL_ROWS)
    alerts = read.rows(ALERT_ROWS)
    campaigns = read.rows(CAMPAIGN_ROWS)
    broadcasts = read.rows(BROADCAST_ROWS)
    police = read.rows(POLICE_ROWS)
    populations = read.rows(POPULATION_ROWS)
    return Register(
        rule_versions=rule_versions(read.rows(RULE_VERSIONS)),
        disputes=disputes,
        dispute_facts=facts("dispute", "dispute_id", DISPUTE_FACTS, disputes),
        patrols=patrols,
        checkpoints=read.rows(PATROL_CHECKPOINTS),
        patrol_facts=facts("patrol", "patrol_id", PATROL_FACTS, patrols),
        alerts=alerts,
        alert_units=read.rows(ALERT_UNITS),
        alert_facts=facts("alert", "alert_id", ALERT_FACTS, alerts),
        migrants=read.rows(MIGRANT_ROWS),
        migrant_facts=read.rows(MIGRANT_FACTS),
        responses=read.rows(SURVEY_RESPONSES),
        survey_refs=_refs(read.rows(SURVEY_WAVES), "survey_id"),
        campaigns=campaigns,
        campaign_facts=facts("campaign", "campaign_id", CAMPAIGN_FACTS, campaigns),
        participants=read.rows(CAMPAIGN_PARTICIPANTS),
        broadcasts=broadcasts,
        questions=read.rows(BROADCAST_QUESTIONS),
        broadcast_facts=facts("broadcast", "broadcast_id", BROADCAST_FACTS, broadcasts),
        assets=read.rows(ASSET_ROWS),
        asset_facts=read.rows(ASSET_FACTS),
        police=police,
        police_facts=facts("police_statistic", "statistic_id", POLICE_FACTS, police),
        populations=populations,
        population_facts=facts("population", "population_id", POPULATION_FACTS, populations),
        targets=read.rows(TARGET_ROWS),
    )
