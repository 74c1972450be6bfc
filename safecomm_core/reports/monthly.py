"""The monthly public-order report, per community and for the subdistrict.

::

    from safecomm_core import open_store
    from safecomm_core.reports import monthly_report

    with open_store("sqlite:///safecomm.db") as service:
        report = monthly_report(service, "2014-03")          # the subdistrict, every community
        one = monthly_report(service, "2014-03", scope="C1")  # one community

The views are caught up first, so a report is never stale by accident. What it holds:

- **figures**: every indicator of :data:`~safecomm_core.reports.indicators.DEFINITIONS`
  (what each counts is in its docstring; names and units are the indicator registry's),
  for the subdistrict and each community (or the one community asked for), as the JSON
  contract has them;
- **sections**: disputes by kind and outcome (and by community), patrols per area and week,
  alerts, migrant registrations, campaigns, broadcasts, prevention assets, police cases,
  progress against targets, dead letters by view; breakdowns that count people's cases are
  suppressed (:mod:`~safecomm_core.reports.disclosure`);
- **series**: the main indicators month by month from the programme's first month of
  activity (at most :data:`MAX_SERIES_MONTHS` back) to the period, per scope, for charts;
- **dead letters**: events the views could not process, counted, never hidden.

Personal data never appears: the views hold none, and the report shows counts only.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from safecomm_core.dates import Month, local_date
from safecomm_core.indicators import INDICATORS
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import Row
from safecomm_core.reports import codes
from safecomm_core.reports.counting import Tally, measure
from safecomm_core.reports.disclosure import SUPPRESSED, WITHHELD, suppress
from safecomm_core.reports.indicators import (
    DEFINITIONS,
    Definition,
    latest_wave,
    populations_in_force,
)
from safecomm_core.reports.model import Cell, ColumnSpec, Figure, Report, Section, Series, columns
from safecomm_core.reports.reading import caught_up, dead_letters, read_views
from safecomm_core.reports.register import (
    PROJECTIONS,
    Extent,
    Facts,
    Register,
    read_register,
)
from safecomm_core.service import Safecomm

__all__ = [
    "MAX_SERIES_MONTHS",
    "SERIES_INDICATORS",
    "figure_for",
    "latest_month",
    "monthly_report",
    "tallies",
]

#: The indicators drawn as monthly trends: those the registry marks as series.
SERIES_INDICATORS = tuple(i.id for i in INDICATORS.values() if i.series)
#: Trends go back at most this many months before the period.
MAX_SERIES_MONTHS = 24

Cells = tuple[Cell, ...]


def monthly_report(
    source: Safecomm | Projector,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
) -> Report:
    """The monthly report for ``period`` (``YYYY-MM``; default: the latest month with
    events) and ``scope`` (a community, or ``*`` for the subdistrict and every community).

    ``source`` is a store or a projector over it. Either way the report first catches up
    the views it reads (:data:`~safecomm_core.reports.register.PROJECTIONS`): a side
    effect, it writes to the views database. Every choice a figure depends on is in the
    record: the rules adopted (readings of the survey) and the populations recorded.

    >>> from safecomm_core import open_store
    >>> with open_store("memory://") as service:
    ...     report = monthly_report(service, "2014-03")
    >>> report.kind, report.period, report.figure("mediation_success_rate").value
    ('monthly', '2014-03', None)
    """
    with caught_up(source, PROJECTIONS) as projector:
        return _report(projector, period, scope, generated_at)


def latest_month(reg: Register) -> Month | None:
    """The latest month in which a fact the report counts occurred (None: none yet)."""
    if reg.extent is not None:
        return reg.extent.latest_month
    moments = [e.occurred_at for facts in _fact_sets(reg) for e in facts.events()]
    moments += [
        row["occurred_at"]
        for rows in (reg.migrant_facts, reg.responses, reg.asset_facts)
        for row in rows
    ]
    return Month.of(max(moments)) if moments else None


def tallies(reg: Register, month: Month, ids: Iterable[str] | None = None) -> dict[str, Tally]:
    """Each indicator's tally for ``month`` (every indicator, or those of ``ids``).

    ``reg`` holds every row, or is cut to ``month`` (:func:`load` with ``month``)."""
    if reg.month is not None and reg.month != month:
        raise ValueError(f"the register is cut to {reg.month}: it cannot give {month}'s tallies")
    chosen = DEFINITIONS if ids is None else {i: DEFINITIONS[i] for i in ids}
    return {i: d.compute(reg, month) for i, d in chosen.items() if applies(d, reg)}


#: The figures whose denominator is the recorded population: left out until there is one.
PER_PEOPLE = ("participation_register_rate", "incidence_per_10k")


def applies(definition: Definition, reg: Register) -> bool:
    """Whether the report gives ``definition``'s figure: those of :data:`PER_PEOPLE` only
    once a population is recorded."""
    return definition.id not in PER_PEOPLE or bool(reg.populations)


def _fact_sets(reg: Register) -> tuple[Facts, ...]:
    return (
        reg.dispute_facts,
        reg.patrol_facts,
        reg.alert_facts,
        reg.campaign_facts,
        reg.broadcast_facts,
        reg.police_facts,
    )


def figure_for(
    definition: Definition, tally: Tally, month: Month, scope: str, reg: Register
) -> Figure:
    """The figure of ``definition`` for ``scope`` from its ``tally`` for ``month``."""
    numerator, denominator, value = measure(definition.kind, tally.scoped(scope))
    return Figure(
        id=definition.id,
        numerator=numerator,
        denominator=denominator,
        value=value,
        period=str(month),
        scope=scope,
        definition_version=definition.version_label(reg, month, scope),
        basis=definition.basis,
        reading=definition.reading_label(reg, month, scope),
    )


def _report(
    projector: Projector,
    period: str | None,
    scope: str,
    generated_at: datetime | None,
) -> Report:
    # Each month is read cut to the rows its figures read, all in one read transaction: the
    # series' earlier months first, each register dropped once measured, then the period's.
    # The workers, everyone registered by then, are read one at a time as they are counted.
    with read_views(projector, PROJECTIONS) as read:
        extent = Extent.read(read)
        month = (
            Month.parse(period) if period else extent.latest_month or Month.of(datetime.now(UTC))
        )
        communities = list(extent.communities)
        scopes = ["*", *communities] if scope == "*" else [scope]
        start = max(extent.first_month or month, month.shift(1 - MAX_SERIES_MONTHS))
        values = {
            m: _values(
                tallies(read_register(read, m, extent, streamed=True), m, SERIES_INDICATORS),
                scopes,
            )
            for m in month.since(start)
            if m != month
        }
        reg = read_register(read, month, extent, streamed=True)
        now = tallies(reg, month)
        if start <= month:
            values[month] = _values(now, scopes)
    ids = [i for i in SERIES_INDICATORS if i in now]
    series = tuple(
        Series(indicator=i, scope=s, points=tuple((str(m), values[m][i, s]) for m in values))
        for i in ids
        for s in scopes
    )
    figures = tuple(
        figure_for(DEFINITIONS[i], tally, month, s, reg) for i, tally in now.items() for s in scopes
    )
    notes = list(_notes(reg, month, scopes, communities))
    return Report(
        kind="monthly",
        zh="月度社会治安报告",
        en="Monthly public-order report",
        period=str(month),
        scope=scope,
        generated_at=generated_at or datetime.now(UTC),
        figures=figures,
        sections=_Sections(reg, month, scope, communities, figures, projector).all(),
        series=series,
        dead_letters=dead_letters(projector, PROJECTIONS),
        notes=tuple(notes),
    )


def _notes(reg: Register, month: Month, scopes: list[str], communities: list[str]) -> Iterable[str]:
    yield (
        "按事件发生时间(occurred_at)统计，补录的事件计入其发生的月份。"
        " Counted by when things happened (occurred_at): facts entered late count in the "
        "month they occurred."
    )
    yield (
        f"“{SUPPRESSED}”: 1–2 件，为免识别个人不显示；“{WITHHELD}”: 为免推算被隐去的数字。"
        f" {SUPPRESSED}: 1 or 2 cases, not shown so as not to single anyone out; {WITHHELD}: "
        "withheld so that a suppressed count cannot be worked out from the totals."
    )
    waves = [(s, latest_wave(reg, month, s)) for s in scopes]
    found = [f"{'街道 subdistrict' if s == '*' else s}: {w.value}" for s, w in waves if w]
    yield (
        "问卷指标取自截至本月末各范围最近一轮调查 Survey figures come from each scope's "
        f"latest wave by the month's end: {'; '.join(found)}."
        if found
        else "截至本月末尚无问卷调查。 No survey response was recorded by the month's end."
    )
    for s in scopes:
        rules = reg.rules_at(s, month.last)
        counted = [
            (zh, en)
            for zh, en, counts in (
                ("基本满意", "fairly satisfied", rules.fairly_satisfied_counts),
                ("基本安全", "fairly safe", rules.fairly_safe_counts),
            )
            if counts
        ]
        if counted:
            where = "街道 the subdistrict" if s == "*" else s
            yield (
                f"{where}: {'、'.join(zh for zh, _ in counted)} 计入满意/安全 (现行规则); "
                f"{' and '.join(en for _, en in counted)} count as favourable under the "
                "rules in force on the month's last day."
            )
    if not reg.populations:
        yield (
            "尚无人口记录，不计算每万人发案率和台账参与率。"
            " No population is recorded: incidence per 10,000 and participation by register "
            "are left out."
        )
    else:
        people = populations_in_force(reg, month.last)
        shown = [
            f"{c} {people[c]['residents'] + people[c]['migrants']} ({people[c]['as_of']}, "
            f"{people[c]['basis']})"
            for c in communities
            if c in people and (c in scopes or "*" in scopes)
        ]
        yield (
            "每万人发案率、台账参与率按月末有效的人口记录(户籍与流动人口)计算 Incidence per "
            "10,000 and participation by register divide by the population in force on the "
            f"month's last day: {'; '.join(shown)}."
        )
    yield "发案数据来自派出所(外部数据)。 Case counts are the police station's (outside data)."
    for s in scopes:
        if s != "*" and s not in communities:
            yield f"社区 {s} 尚无记录。 Community {s} has no records yet."


def _values(found: dict[str, Tally], scopes: Sequence[str]) -> dict[tuple[str, str], float | None]:
    """The value of each series indicator in ``found`` for each scope: a month's points."""
    return {
        (i, s): measure(DEFINITIONS[i].kind, found[i].scoped(s))[2]
        for i in SERIES_INDICATORS
        if i in found
        for s in scopes
    }


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


class _Sections:
    """The report's tables for one month and scope."""

    def disclose(self, rows: Sequence[Cells], counts: Sequence[int]) -> tuple[Cells, ...]:
        """Breakdowns of people's cases, suppressed (a city's roll-up suppresses its sums)."""
        return suppress(rows, counts)

    def __init__(
        self,
        reg: Register,
        month: Month,
        scope: str,
        communities: list[str],
        figures: Sequence[Figure],
        projector: Projector,
    ) -> None:
        self.reg = reg
        self.month = month
        self.scope = scope
        self.communities = communities
        self.figures = figures
        self.projector = projector

    def all(self) -> tuple[Section, ...]:
        sections = [self.disputes_by_kind()]
        if self.scope == "*":
            sections.append(self.disputes_by_community())
        sections += [
            self.patrols(),
            self.alerts(),
            self.registrations(),
            self.campaigns(),
            self.broadcasts(),
            self.assets(),
            self.police(),
            self.targets(),
            self.dead_letters(),
        ]
        return tuple(sections)

    def mine(self, rows: Iterable[Row], column: str = "community") -> list[Row]:
        """The rows of the report's scope (the subdistrict: every row)."""
        return [r for r in rows if self.scope == "*" or r[column] == self.scope]

    def by(self, rows: Iterable[Row], key: Callable[[Row], str]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            grouped[key(row)].append(row)
        return dict(sorted(grouped.items()))

    # -- disputes -------------------------------------------------------------------

    _DISPUTE_COLUMNS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("reported", "受理登记", "Reported"),
        ("agreement", "达成协议", "Agreement"),
        ("terminated", "终止调解", "Terminated"),
        ("refused", "不予受理", "Refused"),
        ("to_police", "报告公安", "Reported to police"),
        ("open", "月末在办", "Open at month end"),
    )

    def _dispute_counts(self, rows: Iterable[Row]) -> tuple[int, ...]:
        end = self.month.last
        counts: Counter[str] = Counter()
        for d in rows:
            counts["reported"] += d["reported_on"] in self.month
            if d["closed_on"] in self.month:
                outcome = d["outcome"] or ""
                counts["agreement"] += outcome.startswith("agreement")
                counts["terminated"] += outcome == "terminated"
                counts["refused"] += outcome == "refused"
            police = d["police_reported_at"]
            counts["to_police"] += police is not None and local_date(police) in self.month
            counts["open"] += d["reported_on"] <= end and (
                d["closed_on"] is None or d["closed_on"] > end
            )
        return tuple(counts[key] for key, _, _ in self._DISPUTE_COLUMNS)

    def _dispute_section(
        self, id: str, zh: str, en: str, first: ColumnSpec, groups: dict[str, list[Row]]
    ) -> Section:
        rows: list[Cells] = [(name, *self._dispute_counts(found)) for name, found in groups.items()]
        counts = range(1, 1 + len(self._DISPUTE_COLUMNS))
        return Section(
            id=id,
            zh=zh,
            en=en,
            columns=columns(first, *self._DISPUTE_COLUMNS),
            rows=self.disclose([r for r in rows if any(r[1:])], counts),
        )

    def disputes_by_kind(self) -> Section:
        return self._dispute_section(
            "disputes_by_kind",
            "矛盾纠纷(按类型和结果)",
            "Disputes by kind and outcome",
            ("kind", "类型", "Kind", codes.DISPUTE_KIND),
            self.by(self.mine(self.reg.disputes), lambda d: d["kind"]),
        )

    def disputes_by_community(self) -> Section:
        return self._dispute_section(
            "disputes_by_community",
            "矛盾纠纷(按社区)",
            "Disputes by community",
            ("community", "社区", "Community"),
            self.by(self.reg.disputes, lambda d: d["community"]),
        )

    # -- patrols --------------------------------------------------------------------

    def patrols(self) -> Section:
        patrols = [p for p in self.mine(self.reg.patrols) if p["patrol_on"] in self.month]

        def week(p: Row) -> str:
            year, number, _ = p["patrol_on"].isocalendar()
            return f"{p['community']}\t{p['area']}\t{year}-W{number:02d}"

        rows = []
        for key, found in self.by(patrols, week).items():
            community, area, iso_week = key.split("\t")
            started = [p for p in found if p["started_at"] is not None]
            rows.append(
                (
                    community,
                    area,
                    iso_week,
                    len(found),
                    len(started),
                    sum(p["ended_at"] is not None for p in found),
                    round(sum(p["hours"] or 0.0 for p in found), 1),
                    round(sum(p["planned_hours"] for p in found), 1),
                    sum(p["route_visited"] for p in found),
                    sum(p["route_planned"] for p in found),
                    sum(p["off_route_visits"] for p in found),
                    sum(p["observations"] for p in found),
                    sum(p["settled_on_site"] for p in found),
                )
            )
        return Section(
            id="patrols",
            zh="治安巡逻(按片区和周)",
            en="Patrols by area and week",
            columns=columns(
                ("community", "社区", "Community"),
                ("area", "片区", "Area"),
                ("week", "周", "Week"),
                ("planned", "计划", "Planned"),
                ("started", "出巡", "Started"),
                ("ended", "完成", "Ended"),
                ("hours", "巡逻时长(小时)", "Patrol hours"),
                ("planned_hours", "计划时长(小时)", "Planned hours"),
                ("checkpoints_visited", "到达点位", "Checkpoints visited"),
                ("checkpoints_planned", "计划点位", "Checkpoints planned"),
                ("off_route", "路线外点位", "Off-route visits"),
                ("observations", "发现情况", "Observations"),
                ("settled_on_site", "现场调解成功", "Settled on site"),
            ),
            rows=tuple(rows),
        )

    # -- alerts ---------------------------------------------------------------------

    def alerts(self) -> Section:
        alerts = {
            a["alert_id"]: a for a in self.mine(self.reg.alerts) if a["raised_on"] in self.month
        }
        units = self.by(
            (u for u in self.reg.alert_units if u["alert_id"] in alerts),
            lambda u: alerts[u["alert_id"]]["community"],
        )
        rows = []
        for community, found in self.by(alerts.values(), lambda a: a["community"]).items():
            mine = units.get(community, [])
            outcomes = Counter(a["outcome"] or "open" for a in found)
            rows.append(
                (
                    community,
                    len(found),
                    len(mine),
                    sum(u["first_sent_at"] is not None for u in mine),
                    sum((u["delivered_at"] or u["acknowledged_at"]) is not None for u in mine),
                    sum(u["acknowledged_at"] is not None for u in mine),
                    sum(u["escalated_at"] is not None for u in mine),
                    outcomes["suspect_caught"],
                    outcomes["resolved"],
                    outcomes["cancelled"] + outcomes["expired"],
                    outcomes["open"],
                )
            )
        return Section(
            id="alerts",
            zh="联防联动警情",
            en="Grid alerts",
            columns=columns(
                ("community", "社区", "Community"),
                ("raised", "发出警情", "Raised"),
                ("recipients", "应通知单位次", "Recipient units"),
                ("notified", "已发送", "Notified"),
                ("reached", "已送达", "Reached"),
                ("acknowledged", "已确认", "Acknowledged"),
                ("escalated", "督办", "Escalated"),
                ("suspect_caught", "抓获嫌疑人", "Suspect caught"),
                ("resolved", "已处置", "Resolved"),
                ("cancelled_expired", "撤销/过期", "Cancelled or expired"),
                ("open", "未结", "Open"),
            ),
            rows=tuple(rows),
        )

    # -- migrant workers ----------------------------------------------------------------

    def registrations(self) -> Section:
        facts = [f for f in self.reg.migrant_facts if local_date(f["occurred_at"]) in self.month]
        rows = []
        for community, found in self.by(self.mine(facts), lambda f: f["community"]).items():
            kinds = Counter(f["fact"] for f in found)
            late = sum(
                1
                for f in found
                if f["fact"] == "registered" and local_date(f["occurred_at"]) > f["due_on"]
            )
            offers = [f for f in found if f["fact"] == "service_offered"]
            rows.append(
                (
                    community,
                    kinds["registered"],
                    kinds["registered"] - late,
                    late,
                    kinds["moved"],
                    kinds["left"],
                    kinds["permit_applied"],
                    kinds["permit_issued"],
                    kinds["permit_endorsed"],
                    kinds["rights_case"],
                    len(offers),
                    sum(bool(f["proactive"]) for f in offers),
                )
            )
        return Section(
            id="registrations",
            zh="流动人口服务管理",
            en="Migrant workers",
            columns=columns(
                ("community", "社区", "Community"),
                ("registered", "新登记", "Registered"),
                ("on_time", "按时登记", "On time"),
                ("late", "逾期登记", "Late"),
                ("moved", "迁入/迁移", "Moved"),
                ("left", "离开", "Left"),
                ("permits_applied", "申领居住证", "Permits applied"),
                ("permits_issued", "发放居住证", "Permits issued"),
                ("endorsed", "签注", "Endorsed"),
                ("rights_cases", "维权案件", "Rights cases"),
                ("services_offered", "提供服务", "Services offered"),
                ("proactive", "主动服务", "Offered proactively"),
            ),
            rows=self.disclose(rows, range(1, 12)),
        )

    # -- publicity --------------------------------------------------------------------------

    def campaigns(self) -> Section:
        held = [c for c in self.reg.campaigns if c["held_on"] in self.month]
        held = self.mine(held, "held_in")
        rows = []
        for community, found in self.by(held, lambda c: c["held_in"]).items():
            themes = Counter(c["theme"] for c in found)
            rows.append(
                (
                    community,
                    len(found),
                    sum(c["attendance"] for c in found),
                    sum(c["named"] for c in found),
                    sum(c["materials"] for c in found),
                    sum(c["bravery_acts"] for c in found),
                    "; ".join(f"{t}×{n}" for t, n in sorted(themes.items())),
                )
            )
        return Section(
            id="campaigns",
            zh="宣传活动",
            en="Campaigns",
            columns=columns(
                ("community", "社区", "Community"),
                ("held", "举办场次", "Held"),
                ("attendance", "参加人次", "Attendance"),
                ("named", "其中实名签到", "Of them named"),
                ("materials", "发放资料", "Materials"),
                ("bravery", "见义勇为宣传", "Bravery publicised"),
                ("themes", "主题", "Themes", codes.CAMPAIGN_THEME),
            ),
            rows=tuple(rows),
        )

    def broadcasts(self) -> Section:
        published = [b for b in self.mine(self.reg.broadcasts) if b["published_on"] in self.month]
        asked = [q for q in self.mine(self.reg.questions) if q["asked_on"] in self.month]
        questions = self.by(asked, lambda q: q["community"])
        rows = []
        groups = self.by(published, lambda b: b["community"])
        for community in sorted(set(groups) | set(questions)):
            found = groups.get(community, [])
            mine = questions.get(community, [])
            answered = [q for q in mine if q["answered_at"] is not None]
            hours = [(q["answered_at"] - q["asked_at"]).total_seconds() / 3600 for q in answered]
            rows.append(
                (
                    community,
                    len(found),
                    sum(b["outlets"] for b in found),
                    sum(b["recipients"] for b in found),
                    len(mine),
                    len(answered),
                    _median(hours),
                )
            )
        return Section(
            id="broadcasts",
            zh="预警信息发布",
            en="Warning broadcasts",
            columns=columns(
                ("community", "社区", "Community"),
                ("published", "发布条数", "Published"),
                ("outlets", "发布渠道次", "Outlets"),
                ("recipients", "接收人次", "Recipients"),
                ("questions", "群众提问", "Questions"),
                ("answered", "已答复", "Answered"),
                ("hours_to_answer", "答复用时中位数(小时)", "Time to answer, median (h)"),
            ),
            rows=tuple(rows),
        )

    # -- prevention assets --------------------------------------------------------------

    def assets(self) -> Section:
        end = self.month.last
        state: dict[str, Row] = {}
        happened: dict[str, Counter[str]] = defaultdict(Counter)
        for fact in sorted(
            self.reg.asset_facts, key=lambda f: (f["occurred_at"], f["originator_version"])
        ):
            if fact["occurred_on"] <= end:
                state[fact["asset_id"]] = fact
            if fact["occurred_on"] in self.month:
                counts = happened[fact["asset_id"]]
                counts[fact["fact"]] += 1
                counts["entries"] += fact["entries"] or 0
                counts["large_items_out"] += fact["large_items_out"] or 0
        rows = []
        for community, found in self.by(
            self.mine(self.reg.assets), lambda a: a["community"]
        ).items():
            live = [(a, state[a["asset_id"]]) for a in found if a["asset_id"] in state]
            live = [(a, s) for a, s in live if s["status"] != "decommissioned"]
            done: Counter[str] = Counter()
            for a in found:
                done.update(happened.get(a["asset_id"], Counter()))

            def of(kind: str, live: list[tuple[Row, Row]] = live) -> list[Row]:
                return [s for a, s in live if a["kind"] == kind]

            devices = of("device")
            rows.append(
                (
                    community,
                    sum(s["status"] == "in_service" for s in devices),
                    len(devices),
                    sum(s["staffed"] for s in of("parking_lot")),
                    len(of("parking_lot")),
                    sum(s["staffed"] for s in of("gatehouse")),
                    len(of("gatehouse")),
                    done["fault_reported"] + done["inspected_fault"],
                    done["repaired"],
                    done["entries"],
                    done["large_items_out"],
                )
            )
        return Section(
            id="prevention_assets",
            zh="技防物防(月末状态)",
            en="Prevention assets, month end",
            columns=columns(
                ("community", "社区", "Community"),
                ("devices_working", "技防设备在用", "Devices working"),
                ("devices", "技防设备", "Devices"),
                ("lots_staffed", "有人看管的停车棚", "Parking lots staffed"),
                ("lots", "非机动车停车棚", "Parking lots"),
                ("gatehouses_staffed", "有人值守的门卫室", "Gatehouses staffed"),
                ("gatehouses", "门卫室", "Gatehouses"),
                ("faults", "本月故障", "Faults this month"),
                ("repairs", "本月修复", "Repairs this month"),
                ("entries", "门卫登记进入人次", "Gatehouse entries"),
                ("large_items_out", "大件物品出门", "Large items out"),
            ),
            rows=tuple(rows),
        )

    # -- police data ------------------------------------------------------------------------

    def police(self) -> Section:
        year = {str(self.month.shift(-back)) for back in range(12)}
        before = {str(self.month.shift(-12 - back)) for back in range(12)}
        now = str(self.month)
        rows = []
        for category, found in self.by(self.mine(self.reg.police), lambda p: p["category"]).items():
            current = [p for p in found if p["month"] == now]
            rows.append(
                (
                    category,
                    sum(p["cases"] for p in current) if current else None,
                    sum(p["first_cases"] for p in current) if current else None,
                    sum(p["corrections"] for p in current),
                    sum(p["cases"] for p in found if p["month"] in year),
                    sum(p["cases"] for p in found if p["month"] in before),
                )
            )
        return Section(
            id="police_cases",
            zh="派出所发案统计(外部数据)",
            en="Police cases (outside data)",
            columns=columns(
                ("category", "类别", "Category", codes.POLICE_CATEGORY),
                ("cases", "本月发案", "Cases this month"),
                ("first_reported", "首次报送", "As first reported"),
                ("corrections", "更正次数", "Corrections"),
                ("year", "近12个月", "12 months to this month"),
                ("year_before", "此前12个月", "The 12 months before"),
            ),
            rows=tuple(rows),
        )

    # -- targets --------------------------------------------------------------------------

    def targets(self) -> Section:
        figures = {(f.id, f.scope): f for f in self.figures}
        rows = []
        for t in sorted(
            self.mine(self.reg.targets), key=lambda t: (t["community"], t["indicator"])
        ):
            # Targets name indicators by the report's ids, in the figures' units.
            figure = figures.get((t["indicator"], t["community"]))
            current = None
            if figure is not None and figure.value is not None:
                current = round(figure.value, 3)
            progress = None
            if current is not None and t["target"] != t["baseline"]:
                progress = round((current - t["baseline"]) / (t["target"] - t["baseline"]), 3)
            rows.append(
                (
                    t["indicator"],
                    t["community"],
                    t["unit"],
                    t["baseline"],
                    t["target"],
                    t["due"].isoformat(),
                    current,
                    progress,
                    t["baseline_source"],
                )
            )
        return Section(
            id="targets",
            zh="目标进展",
            en="Progress against targets",
            columns=columns(
                ("indicator", "指标", "Indicator", codes.INDICATOR),
                ("scope", "范围", "Scope"),
                ("unit", "单位", "Unit", codes.UNIT),
                ("baseline", "基线", "Baseline"),
                ("target", "目标", "Target"),
                ("due", "期限", "Due"),
                ("current", "本月", "This month"),
                ("progress", "完成度(0–1)", "Progress (0–1)"),
                ("baseline_source", "基线来源", "Baseline source"),
            ),
            rows=tuple(rows),
        )

    # -- dead letters -----------------------------------------------------------------------

    def dead_letters(self) -> Section:
        rows: list[Cells] = []
        for projection in PROJECTIONS:
            letters = self.projector.dead_letters(projection)
            if letters:
                topics = Counter(letter.topic for letter in letters)
                rows.append(
                    (
                        projection.name,
                        len(letters),
                        ", ".join(f"{t} {n}" for t, n in sorted(topics.items())),
                    )
                )
        return Section(
            id="dead_letters",
            zh="未能处理的事件(死信)",
            en="Dead letters (not processed)",
            columns=columns(
                ("view", "视图", "View"),
                ("events", "事件数", "Events"),
                ("topics", "事件类型", "Event types"),
            ),
            rows=tuple(rows),
        )
