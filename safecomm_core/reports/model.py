"""The shape of every report, whatever it is rendered to (JSON, CSV, XLSX, HTML).

A :class:`Report` holds indicator :class:`Figure` s (the JSON contract of the monthly report),
titled tables (:class:`Section`) and time series for charts (:class:`Series`). Every title
and column carries its Chinese and English label, so renderers need no catalogue of their
own; :func:`label` is that catalogue for indicator ids.

A rate with a zero denominator has ``value=None``: "not applicable", never 0 or 100 %.
"""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = [
    "INDICATOR_LABELS",
    "Column",
    "Figure",
    "Report",
    "Section",
    "Series",
    "columns",
    "label",
]

Cell = str | int | float | None

#: Chinese and English names of every indicator id (docs/domain.md, *Indicators*) and of the
#: self-assessment's figures.
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "mediation_success_rate": ("调解成功率", "Mediation success rate"),
    "agreement_performance_rate": ("协议履行率", "Agreement performance rate"),
    "settled_on_time_rate": ("按期调结率", "Settled on time"),
    "first_mediation_median_hours": (
        "首次调解用时中位数(小时)",
        "Time to first mediation, median (h)",
    ),
    "first_mediation_p90_hours": (
        "首次调解用时90分位(小时)",
        "Time to first mediation, 90th pct (h)",
    ),
    "dispute_escalation_rate": ("民转刑(报警)率", "Disputes reported to police"),
    "onsite_settlement_share": ("现场调解占比", "Settled on the spot by patrols"),
    "patrol_checkpoint_coverage": ("巡逻点位覆盖率", "Patrol checkpoint coverage"),
    "alert_reach_rate": ("警情通达率", "Alert reach"),
    "alert_ack_rate": ("警情按时确认率", "Alert acknowledged in time"),
    "alert_time_to_all_minutes": ("警情全部送达用时(分钟)", "Time to reach all units (min)"),
    "registration_coverage": ("流动人口登记覆盖率", "Registration coverage"),
    "timely_registration_rate": ("按时登记率", "Timely registration"),
    "proactive_service_rate": ("主动服务率", "Proactive service"),
    "prevention_asset_coverage": ("技防物防覆盖率", "Prevention-asset coverage"),
    "awareness_rate": ("知晓率", "Awareness rate"),
    "participation_rate": ("参与率", "Participation rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "sense_of_security_rate": ("群众安全感", "Sense of security"),
    "incidence_per_10k": ("发案率(每万人)", "Incidence per 10,000 residents"),
    "incidence_change": ("发案率变化", "Change in incidence"),
    # The self-assessment's figures.
    "measure_evidence_coverage": ("有证据的计划措施占比", "Plan measures with evidence"),
    "phase_completion_rate": ("到期阶段完成率", "Phases due that are completed"),
    "deliverable_completion_rate": ("应交成果完成率", "Required deliverables recorded"),
    "meeting_month_coverage": ("按月召开例会率", "Months with a meeting"),
    "action_on_time_rate": ("整改措施按期完成率", "Corrective actions closed on time"),
}


def label(indicator_id: str, lang: str = "zh") -> str:
    """The name of an indicator in ``lang`` ("zh" or "en"); the id itself if unknown."""
    zh, en = INDICATOR_LABELS.get(indicator_id, (indicator_id, indicator_id))
    return en if lang == "en" else zh


@attrs.frozen(kw_only=True)
class Figure:
    """One indicator for one period and scope, with what it was computed from."""

    id: str
    numerator: float
    denominator: float | None
    value: float | None
    period: str  # "2014-03", "2014" or a phase id such as "P4"
    scope: str  # a community id, or "*" for the subdistrict
    definition_version: str
    basis: str  # "register", "survey" or "police"


@attrs.frozen
class Column:
    key: str
    zh: str
    en: str


def columns(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    """Columns from ``(key, zh, en)`` triples, in order."""
    return tuple(Column(*spec) for spec in specs)


@attrs.frozen(kw_only=True)
class Section:
    """A titled table: one sheet in XLSX, one table in HTML."""

    id: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


@attrs.frozen(kw_only=True)
class Series:
    """Values of one indicator over periods in one scope: a line in a chart."""

    indicator: str
    scope: str
    points: tuple[tuple[str, float | None], ...]


@attrs.frozen(kw_only=True)
class Report:
    """A whole report: its indicators, tables and chart series."""

    kind: str  # "monthly", "self-assessment" or "watchlist"
    zh: str
    en: str
    period: str
    scope: str
    generated_at: datetime
    figures: tuple[Figure, ...] = ()
    sections: tuple[Section, ...] = ()
    series: tuple[Series, ...] = ()
    dead_letters: int = 0
    notes: tuple[str, ...] = ()
