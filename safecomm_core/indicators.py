"""Every indicator the programme is judged by, once: id, names, unit, basis, version.

The reports compute indicators, the plan sets targets for them, the renderers name and
format them and ``safecomm report explain`` lists what they counted; all of them read an
indicator's identity here, from :data:`INDICATORS`, by its id:

>>> security = indicator("sense_of_security_rate")
>>> security.label("en"), security.unit.value, security.basis.value
('Sense of security', 'rate', 'survey')
>>> indicator("first_mediation_median_hours").unit is Unit.HOURS
True

An id is a stored name (targets keep it in their events, reports in their JSON): it never
changes. Targets stored before the report's ids were adopted name some indicators by an
older id; :func:`current_id` reads those, and only stored targets are read through it:

>>> current_id("security_rate")
'sense_of_security_rate'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from safecomm_core.errors import SafecommError

__all__ = [
    "INDICATORS",
    "Basis",
    "Indicator",
    "Unit",
    "UnknownIndicator",
    "current_id",
    "indicator",
]


class Unit(enum.StrEnum):
    """What an indicator's value measures, in reports, views and targets alike."""

    #: A share of the denominator: a fraction from 0 to 1, shown as a percentage. Targets
    #: are stated in percent (90 for 90 %), the form plans write them in, and read as the
    #: fraction wherever they are compared with a value (:meth:`from_stated`).
    RATE = "rate"
    #: A relative change, (now − before) / before: a fraction shown as a signed percentage.
    CHANGE = "change"
    HOURS = "hours"
    MINUTES = "minutes"
    #: Cases per 10,000 residents.
    PER_10K = "per_10k"

    @property
    def is_fraction(self) -> bool:
        """Whether values are fractions, shown as percentages."""
        return self in (Unit.RATE, Unit.CHANGE)

    @property
    def stated_max(self) -> float | None:
        """The largest value a target may state (100 for a rate in percent), if any."""
        return 100.0 if self is Unit.RATE else None

    def from_stated(self, stated: float) -> float:
        """A target's stated value in this unit: a rate's percent as its fraction.

        >>> Unit.RATE.from_stated(90.0), Unit.HOURS.from_stated(48.0)
        (0.9, 48.0)
        """
        return stated / 100 if self is Unit.RATE else stated


class Basis(enum.StrEnum):
    """Where an indicator's counts come from."""

    REGISTER = "register"  # the programme's own records
    SURVEY = "survey"  # the survey waves' responses
    POLICE = "police"  # the police station's statistics (outside data)


#: The reports that produce indicators, as :attr:`Report.kind <safecomm_core.reports.Report>`.
ReportKind = Literal["monthly", "self-assessment"]


@attrs.frozen(kw_only=True)
class Indicator:
    """One indicator: what it is called, what its value measures and where it comes from.

    ``report`` is the kind of report that produces it, or None for one no report produces
    yet (``not_produced`` says why). ``series``: the monthly report draws it month by month.
    ``former_ids``: ids stored targets used for it before the report's ids were adopted.
    """

    id: str
    zh: str
    en: str
    unit: Unit
    basis: Basis
    version: str = "1"
    series: bool = False
    report: ReportKind | None = "monthly"
    not_produced: str = ""
    former_ids: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        """The indicator's name in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh


class UnknownIndicator(SafecommError, LookupError):
    """No indicator has that id (among ``known``: every indicator, or those a report has)."""

    exit_code = 2

    def __init__(self, indicator_id: str, known: Iterable[str] | None = None) -> None:
        self.known = tuple(INDICATORS if known is None else known)
        super().__init__(
            f"no indicator {indicator_id!r}; known: {', '.join(self.known)}",
            field="indicator",
            rule="must be a known indicator id",
        )
        self.indicator_id = indicator_id


_REGISTER, _SURVEY, _POLICE = Basis.REGISTER, Basis.SURVEY, Basis.POLICE
_RATE = Unit.RATE
#: The definition version of the self-assessment's figures.
_SA = "sa-2"

_ALL = (
    # The monthly report, in its order.
    Indicator(id="mediation_success_rate", zh="调解成功率", en="Mediation success rate",
              unit=_RATE, basis=_REGISTER, series=True),
    Indicator(id="agreement_performance_rate", zh="协议履行率",
              en="Agreement performance rate", unit=_RATE, basis=_REGISTER),
    Indicator(id="settled_on_time_rate", zh="按期调结率", en="Settled on time", unit=_RATE,
              basis=_REGISTER, series=True),
    Indicator(id="first_mediation_median_hours", zh="首次调解用时中位数(小时)",
              en="Time to first mediation, median (h)", unit=Unit.HOURS, basis=_REGISTER,
              series=True, former_ids=("time_to_first_mediation_hours",)),
    Indicator(id="first_mediation_p90_hours", zh="首次调解用时90分位(小时)",
              en="Time to first mediation, 90th pct (h)", unit=Unit.HOURS, basis=_REGISTER),
    Indicator(id="dispute_escalation_rate", zh="民转刑(报警)率",
              en="Disputes reported to police", unit=_RATE, basis=_REGISTER, series=True,
              former_ids=("escalation_rate",)),
    Indicator(id="onsite_settlement_share", zh="现场调解占比",
              en="Settled on the spot by patrols", unit=_RATE, basis=_REGISTER,
              former_ids=("on_site_share",)),
    Indicator(id="patrol_checkpoint_coverage", zh="巡逻点位覆盖率",
              en="Patrol checkpoint coverage", unit=_RATE, basis=_REGISTER, series=True,
              former_ids=("patrol_coverage",)),
    Indicator(id="alert_reach_rate", zh="警情通达率", en="Alert reach", unit=_RATE,
              basis=_REGISTER),
    Indicator(id="alert_ack_rate", zh="警情按时确认率", en="Alert acknowledged in time",
              unit=_RATE, basis=_REGISTER, series=True),
    Indicator(id="alert_time_to_all_minutes", zh="警情全部送达用时(分钟)",
              en="Time to reach all units (min)", unit=Unit.MINUTES, basis=_REGISTER,
              former_ids=("time_to_reach_all_units_minutes",)),
    Indicator(id="registration_coverage", zh="流动人口登记覆盖率", en="Registration coverage",
              unit=_RATE, basis=_REGISTER, series=True,
              former_ids=("registration_coverage_rate",)),
    Indicator(id="timely_registration_rate", zh="按时登记率", en="Timely registration",
              unit=_RATE, basis=_REGISTER, series=True),
    Indicator(id="proactive_service_rate", zh="主动服务率", en="Proactive service",
              unit=_RATE, basis=_REGISTER),
    Indicator(id="prevention_asset_coverage", zh="技防物防覆盖率",
              en="Prevention-asset coverage", unit=_RATE, basis=_REGISTER),
    Indicator(id="awareness_rate", zh="知晓率", en="Awareness rate", unit=_RATE,
              basis=_SURVEY),
    Indicator(id="participation_rate", zh="参与率", en="Participation rate", unit=_RATE,
              basis=_SURVEY),
    Indicator(id="participation_register_rate", zh="参与率(台账)",
              en="Participation (register)", unit=_RATE, basis=_REGISTER),
    Indicator(id="satisfaction_rate", zh="满意率", en="Satisfaction rate", unit=_RATE,
              basis=_SURVEY, series=True),
    Indicator(id="sense_of_security_rate", zh="群众安全感", en="Sense of security",
              unit=_RATE, basis=_SURVEY, series=True, former_ids=("security_rate",)),
    Indicator(id="incidence_change", zh="发案率变化", en="Change in incidence",
              unit=Unit.CHANGE, basis=_POLICE),
    Indicator(id="incidence_per_10k", zh="发案率(每万人)", en="Incidence per 10,000 residents",
              unit=Unit.PER_10K, basis=_POLICE),
    # The self-assessment's figures.
    Indicator(id="measure_evidence_coverage", zh="有证据的计划措施占比",
              en="Plan measures with evidence", unit=_RATE, basis=_REGISTER,
              report="self-assessment", version=_SA),
    Indicator(id="phase_completion_rate", zh="到期阶段完成率", en="Phases due that are completed",
              unit=_RATE, basis=_REGISTER, report="self-assessment", version=_SA),
    Indicator(id="deliverable_completion_rate", zh="应交成果完成率",
              en="Required deliverables recorded", unit=_RATE, basis=_REGISTER,
              report="self-assessment", version=_SA),
    Indicator(id="meeting_month_coverage", zh="按月召开例会率", en="Months with a meeting",
              unit=_RATE, basis=_REGISTER, report="self-assessment", version=_SA),
    Indicator(id="action_on_time_rate", zh="整改措施按期完成率",
              en="Corrective actions closed on time", unit=_RATE, basis=_REGISTER,
              report="self-assessment", version=_SA),
)  # fmt: skip

#: Every indicator by id: the monthly report's in report order, then the self-assessment's.
INDICATORS: Mapping[str, Indicator] = {i.id: i for i in _ALL}

_CURRENT = {former: i.id for i in _ALL for former in i.former_ids}


def indicator(indicator_id: str) -> Indicator:
    """The indicator with that id; :class:`UnknownIndicator` (a ``LookupError``) if none."""
    try:
        return INDICATORS[indicator_id]
    except KeyError:
        raise UnknownIndicator(indicator_id) from None


def current_id(stored_id: str) -> str:
    """The id of the indicator a stored target names: its former id read as today's."""
    return _CURRENT.get(stored_id, stored_id)
