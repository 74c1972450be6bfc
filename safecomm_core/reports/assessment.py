"""The self-assessment: the standard's elements and the plan's measures
against the evidence recorded for each, phase progress, and the gaps, named.

The standard is AQ/T 9001-2006 安全社区建设基本要求 (*Basic requirements for safe community
building*); its twelve elements are :data:`ELEMENTS`, each tied to the plan measures
whose records are its evidence. The plan's measures are
:data:`~safecomm_core.coverage.PLAN_MEASURES`.

**Evidence of a measure** is every command handled whose class serves it (``SERVES``),
counted from the ``evidence`` view (one row per command receipt) with the events it
wrote and the latest day such a fact occurred. Phase commands, and the opening of a survey
wave, count only for the phase their facts belong to (see
:mod:`~safecomm_core.projections.evidence`); planning a phase or marking it overdue is
bookkeeping, not evidence of its work (:data:`NOT_EVIDENCE_OF_WORK`). Beside them:
deliverables of the phase (P1–P7), meetings held (S1) or meetings that raised a problem on
the measure, and survey responses (S6).

**Gaps** (section ``gaps``; the codes are explained in section ``gap_kinds``):

- ``no_evidence``: a measure with no fact recorded by the day;
- ``phase_overdue``: a phase whose window ended before the day and that was not completed
  by then; ``phase_completed_late``: completed, after its window (days);
- ``deliverable_missing``: a required deliverable not recorded, for a phase whose window
  has ended or that was completed;
- ``review_missing``: the mid-term review (P4) or the provincial inspection (P7) not held
  once its phase's window has ended;
- ``no_self_assessment``: no scored self-assessment (P6) once P6's window has begun;
  ``self_assessment_score``: the points the latest self-assessment fell short of 100;
- ``meeting_missing``: a month of the programme without a meeting (S1: every month);
- ``action_overdue``: corrective actions open past their due date (AQ/T element 11).

Every count is as of the end of the day given (facts entered late count from when they
occurred). A community's report counts its own facts and the subdistrict's (``*``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

import attrs

from safecomm_core.commands import COMMANDS
from safecomm_core.coverage import PLAN_MEASURES
from safecomm_core.dates import Month, end_of_day, local_date
from safecomm_core.domain.phase import PhaseId, ReviewKind
from safecomm_core.indicators import indicator
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.evidence import EVIDENCE, EVIDENCE_ROWS
from safecomm_core.projections.meetings import (
    MEETING_ACTIONS,
    MEETING_PROBLEMS,
    MEETING_ROWS,
    MEETINGS,
)
from safecomm_core.projections.phases import PHASE_FACTS, PHASE_ROWS, PHASES
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import Row
from safecomm_core.reports.counting import Counted, Tally, measure
from safecomm_core.reports.model import Figure, Report, Section, columns
from safecomm_core.reports.reading import (
    Reader,
    caught_up,
    dead_letters,
    in_scope,
    read_views,
)
from safecomm_core.reports.stored import Resolve, StoredEvents, no_events
from safecomm_core.service import Safecomm

__all__ = [
    "DEFINITION_VERSION",
    "ELEMENTS",
    "FIGURE_DEFINITIONS",
    "GAP_KINDS",
    "MEASURE_ZH",
    "NOT_EVIDENCE_OF_WORK",
    "PROJECTIONS",
    "Element",
    "explain_figure",
    "figure_of",
    "measures_served",
    "self_assessment",
    "tallies",
]

#: The views the self-assessment reads: catch these up before calling it.
PROJECTIONS: tuple[Projection, ...] = (EVIDENCE, PHASES, MEETINGS)

#: The version of the definitions above (evidence, gaps, figures); the registry gives it to
#: each of the report's figures.
DEFINITION_VERSION = "sa-2"


@attrs.frozen
class Element:
    """An element of AQ/T 9001-2006 (clause 4.n) and the plan measures that evidence it."""

    id: str
    clause: str
    zh: str
    en: str
    measures: tuple[str, ...]


_M = tuple(m.id for m in PLAN_MEASURES if m.id.startswith("M"))

#: The twelve elements of AQ/T 9001-2006, in the standard's order.
ELEMENTS: tuple[Element, ...] = (
    Element("E1", "4.1", "安全社区创建机构与职责", "Organisation and responsibilities",
            ("P1", "S1")),
    Element("E2", "4.2", "信息交流和全员参与", "Information exchange and participation of all",
            ("M2.3", "M2.4", "M3.5", "S2", "S6")),
    Element("E3", "4.3", "事故与伤害风险辨识及其评价",
            "Identification and assessment of accident and injury risks", ("P1",)),
    Element("E4", "4.4", "事故与伤害预防目标及计划", "Prevention goals and plans",
            ("P1", "P3")),
    Element("E5", "4.5", "安全促进项目", "Safety promotion projects", _M),
    Element("E6", "4.6", "宣传教育与培训", "Publicity, education and training",
            ("M1.1", "M1.5", "P2", "P4", "S2", "S3", "S4", "S5")),
    Element("E7", "4.7", "应急预案和响应", "Emergency plans and response", ("M2.3", "M2.4")),
    Element("E8", "4.8", "监测与监督", "Monitoring and supervision", ("P5", "S6")),
    Element("E9", "4.9", "事故与伤害记录", "Accident and injury records", ("M1.2", "M2.3")),
    Element("E10", "4.10", "安全社区创建档案", "Records of safe community building", ("P6",)),
    Element("E11", "4.11", "预防与纠正措施", "Preventive and corrective actions", ("S1",)),
    Element("E12", "4.12", "评审与持续改进", "Review and continuous improvement",
            ("P4", "P6", "P7")),
)  # fmt: skip

#: Gap codes as they appear in the ``gaps`` section, with their names.
GAP_KINDS: dict[str, tuple[str, str]] = {
    "no_evidence": ("无记录证据", "No evidence recorded"),
    "phase_overdue": ("阶段逾期未完成", "Phase overdue"),
    "phase_completed_late": ("阶段逾期完成", "Phase completed after its window"),
    "deliverable_missing": ("缺少应交成果", "Required deliverable missing"),
    "review_missing": ("未开展评审", "Review not held"),
    "no_self_assessment": ("未开展自评", "No scored self-assessment"),
    "self_assessment_score": ("自评失分", "Self-assessment points short of 100"),
    "meeting_missing": ("当月未召开例会", "Month without a meeting"),
    "action_overdue": ("整改措施逾期", "Corrective actions overdue"),
}

#: Which gaps weigh on which element, besides its measures without evidence.
_ELEMENT_GAPS: dict[str, tuple[str, ...]] = {
    "E1": ("meeting_missing",),
    "E4": ("phase_overdue", "phase_completed_late"),
    "E10": ("deliverable_missing",),
    "E11": ("action_overdue",),
    "E12": ("review_missing", "no_self_assessment", "self_assessment_score"),
}

#: Chinese titles of the plan's measures (plan-zh.txt), beside PLAN_MEASURES' English.
MEASURE_ZH: dict[str, str] = {
    "M1.1": "加强法律宣传",
    "M1.2": "联合接待调解室",
    "M1.3": "巡逻检查与现场调解",
    "M1.4": "提供法律援助",
    "M1.5": "防诈骗宣传",
    "M2.1": "技防",
    "M2.2": "物防:停车场与门卫室",
    "M2.3": "群防与联动网络",
    "M2.4": "预警信息平台",
    "M3.1": "掌握外来务工人员信息",
    "M3.2": "保护外来务工人员合法权益",
    "M3.3": "公共服务同质化(居住三年以上)",
    "M3.4": "文化教育关爱",
    "M3.5": "和谐邻里融入社区",
    "P1": "启动阶段",
    "P2": "宣传动员阶段",
    "P3": "推进阶段",
    "P4": "培训指导阶段(中期评审)",
    "P5": "打造及提升阶段",
    "P6": "评定推广阶段(自评)",
    "P7": "迎接检查阶段",
    "S1": "每月例会",
    "S2": "宣传月与安全教育",
    "S3": "普法宣传",
    "S4": "媒体、学校与警示教育",
    "S5": "宣传见义勇为",
    "S6": "知晓率、参与率、满意率",
}

_SURVEY_RESPONSE = "survey.record_response"

#: Commands that record the programme's bookkeeping about a phase, not the phase's work:
#: planning every phase at the launch, or marking one overdue, is no evidence that it was
#: carried out (the phases section shows both).
NOT_EVIDENCE_OF_WORK = frozenset({"phase.plan", "phase.mark_overdue"})


def self_assessment(
    source: Safecomm | Projector,
    *,
    as_of: date,
    community: str | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The self-assessment as of the end of ``as_of`` for ``community`` (None: subdistrict).

    ``source`` is a store or a projector over it. Either way the report first catches up
    the views it reads (:data:`PROJECTIONS`): a side effect, it writes to the views
    database.

    >>> from datetime import date
    >>> from safecomm_core import open_store
    >>> with open_store("memory://") as service:
    ...     report = self_assessment(service, as_of=date(2014, 6, 30))
    >>> report.kind, report.figure("phase_completion_rate").value is None
    ('self-assessment', True)
    """
    with caught_up(source, PROJECTIONS) as projector, read_views(projector, PROJECTIONS) as read:
        facts = _Facts.read(read, as_of, community)
        letters = dead_letters(projector, PROJECTIONS)
    measures = _measures(facts)
    phases = _phases(facts)
    meetings = _meetings(facts)
    gaps = _gaps(facts, measures, phases, meetings)
    scope = community or "*"
    return Report(
        kind="self-assessment",
        zh="安全社区自评报告",
        en="Safe Community self-assessment",
        period=as_of.isoformat(),
        scope=scope,
        generated_at=generated_at or datetime.now(UTC),
        figures=_figures(facts, measures, phases, meetings, scope),
        sections=(
            _elements_section(measures, gaps),
            _measures_section(measures),
            _phases_section(phases),
            _meetings_section(meetings),
            _gaps_section(gaps),
            _gap_kinds_section(),
        ),
        dead_letters=letters,
        notes=(
            f"as of the end of {as_of.isoformat()} (Asia/Shanghai); facts count from when "
            "they occurred",
            "standard: AQ/T 9001-2006 安全社区建设基本要求; measures: the 2014 work plan",
            f"definitions {DEFINITION_VERSION}: evidence = commands handled that serve a "
            "measure (SERVES), phase facts only for their own phase",
        ),
    )


def explain_figure(
    source: Safecomm | Projector, figure_id: str, *, as_of: date, community: str | None = None
) -> tuple[Figure, Tally]:
    """One figure of the self-assessment as of the end of ``as_of`` for ``community``, and
    what it counted with the stored events behind each item (read from the log)."""
    indicator(figure_id)  # an unknown id is a LookupError naming the known ones
    with caught_up(source, PROJECTIONS) as projector, read_views(projector, PROJECTIONS) as read:
        facts = _Facts.read(read, as_of, community)
        counted = tallies(
            facts,
            _measures(facts),
            _phases(facts),
            _meetings(facts),
            StoredEvents(projector.log),
        )
    tally = counted[figure_id]
    return figure_of(figure_id, tally, as_of.isoformat(), community or "*"), tally


# -- reading ------------------------------------------------------------------------------


@attrs.frozen
class _Group:
    """Commands of one type (and phase, community) by the day: how many, events, latest."""

    command_type: str
    phase: str | None
    community: str
    commands: int
    events: int
    latest: date | None
    first: int | None  # the position of the first such command's receipt


@attrs.frozen
class _Facts:
    """Everything the report counts, read in one consistent state and cut at the day."""

    as_of: date
    scope: str | None  # a community, or None for the subdistrict
    groups: tuple[_Group, ...]
    phases: tuple[Row, ...]
    phase_facts: tuple[Row, ...]
    meetings: tuple[Row, ...]
    problems: tuple[Row, ...]
    actions: tuple[Row, ...]

    @classmethod
    def read(cls, read: Reader, as_of: date, scope: str | None) -> _Facts:
        end = end_of_day(as_of)

        def before(rows: Iterable[Row], column: str) -> tuple[Row, ...]:
            return tuple(r for r in rows if r[column] < end and in_scope(r["community"], scope))

        phase_facts = tuple(f for f in read.rows(PHASE_FACTS) if f["occurred_at"] < end)
        planned = {f["phase_id"] for f in phase_facts if f["fact"] == "planned"}
        phases = tuple(
            p
            for p in read.rows(PHASE_ROWS)
            if p["phase_id"] in planned and in_scope(p["community"], scope)
        )
        return cls(
            as_of=as_of,
            scope=scope,
            groups=_evidence_groups(read, end, scope),
            phases=phases,
            phase_facts=tuple(f for f in phase_facts if f["phase_id"] in planned),
            meetings=before(read.rows(MEETING_ROWS), "held_at"),
            problems=before(read.rows(MEETING_PROBLEMS), "raised_at"),
            actions=before(read.rows(MEETING_ACTIONS), "assigned_at"),
        )


def _evidence_groups(read: Reader, end: datetime, scope: str | None) -> tuple[_Group, ...]:
    """The evidence view summed per command type, phase and community, in the database."""
    t = EVIDENCE_ROWS
    fetched = read.fetchall(
        "SELECT command_type, phase, community, COUNT(*), SUM(events), MAX(occurred_on), "
        f"MIN(notification_id) FROM {read.name(t)} "
        "WHERE occurred_at < ? AND command_type IS NOT NULL "
        "GROUP BY command_type, phase, community",
        (read.param(t, "occurred_at", end),),
    )
    return tuple(
        _Group(kind, phase, community or "*", int(n), int(events or 0),
               read.value(t, "occurred_on", latest), None if first is None else int(first))
        for kind, phase, community, n, events, latest, first in fetched
        if in_scope(community or "*", scope)
    )  # fmt: skip


def measures_served(command_type: str, phase: str | None) -> tuple[str, ...]:
    """The plan measures a command of ``command_type`` serves, its facts being of ``phase``.

    From the command class's ``SERVES``; a phase measure counts only when it is the phase
    the facts belong to (when they say). Commands of :data:`NOT_EVIDENCE_OF_WORK`, and an
    unknown type (a command since removed), serve none.
    """
    cls = COMMANDS.get(command_type)
    if cls is None or command_type in NOT_EVIDENCE_OF_WORK:
        return ()
    return tuple(m for m in cls.SERVES if not _is_phase(m) or phase in (None, m))


def _is_phase(measure: str) -> bool:
    return measure in {p.value for p in PhaseId}


# -- measures ----------------------------------------------------------------------------


@attrs.frozen
class _Measure:
    id: str
    en: str
    commands: int
    events: int
    latest: date | None
    deliverables: int | None
    meetings: int
    responses: int | None

    @property
    def evidenced(self) -> bool:
        return self.commands > 0


def _measures(facts: _Facts) -> list[_Measure]:
    commands: Counter[str] = Counter()
    events: Counter[str] = Counter()
    responses: Counter[str] = Counter()
    latest: dict[str, date] = {}
    for g in facts.groups:
        for m in measures_served(g.command_type, g.phase):
            commands[m] += g.commands
            events[m] += g.events
            if g.command_type == _SURVEY_RESPONSE:
                responses[m] += g.commands
            if g.latest is not None and (m not in latest or g.latest > latest[m]):
                latest[m] = g.latest
    deliverables = Counter(f["phase"] for f in facts.phase_facts if f["fact"] == "deliverable")
    discussed: dict[str, set[str]] = defaultdict(set)
    for p in facts.problems:
        discussed[p["measure"]].add(p["meeting_id"])
    held = len(facts.meetings)
    return [
        _Measure(
            id=m.id,
            en=m.title,
            commands=commands[m.id],
            events=events[m.id],
            latest=latest.get(m.id),
            deliverables=deliverables[m.id] if _is_phase(m.id) else None,
            meetings=held if m.id == "S1" else len(discussed[m.id]),
            responses=responses[m.id] if responses[m.id] or m.id == "S6" else None,
        )
        for m in PLAN_MEASURES
    ]


# -- phases ------------------------------------------------------------------------------


@attrs.frozen
class _Phase:
    phase: str
    row: Row | None
    started: date | None
    completed: date | None
    marked_overdue: date | None
    delivered: tuple[str, ...]
    documents: int
    reviews: tuple[tuple[str, int | None], ...]
    as_of: date

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(json.loads(self.row["required"])) if self.row else ()

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(d for d in self.required if d not in self.delivered)

    @property
    def status(self) -> str:
        if self.row is None:
            return "not_planned"
        if self.completed is not None:
            return "completed"
        return "started" if self.started is not None else "planned"

    @property
    def window_end(self) -> date | None:
        if self.row is None:
            return None
        end: date = self.row["window_end"]
        return end

    @property
    def window_ended(self) -> bool:
        return self.window_end is not None and self.window_end < self.as_of

    @property
    def due(self) -> bool:
        """Whether the phase should be done by the day (its window has ended)."""
        return self.window_ended

    @property
    def overdue_days(self) -> int | None:
        """Days past the window's end without completion, as of the day; None if not."""
        if self.window_end is None or not self.window_ended or self.completed is not None:
            return None
        return (self.as_of - self.window_end).days

    @property
    def completed_late(self) -> bool | None:
        if self.window_end is None or self.completed is None:
            return None
        return self.completed > self.window_end

    @property
    def days_late(self) -> int | None:
        """Days from the window's end to completion, when completed after it."""
        if not self.completed_late or self.completed is None or self.window_end is None:
            return None
        return (self.completed - self.window_end).days

    @property
    def latest_score(self) -> int | None:
        scores = [score for kind, score in self.reviews if score is not None]
        return scores[-1] if scores else None

    def held(self, kind: ReviewKind) -> bool:
        return any(k == kind.value for k, _ in self.reviews)


def _phases(facts: _Facts) -> list[_Phase]:
    rows = {r["phase"]: r for r in facts.phases}
    by_phase: dict[str, list[Row]] = defaultdict(list)
    for f in sorted(facts.phase_facts, key=lambda f: (f["occurred_at"], f["notification_id"])):
        by_phase[f["phase"]].append(f)
    out = []
    for phase in PhaseId:
        history = by_phase[phase.value]

        def first(fact: str, history: list[Row] = history) -> date | None:
            found = [f["occurred_at"] for f in history if f["fact"] == fact]
            return local_date(found[0]) if found else None

        deliverables = [f for f in history if f["fact"] == "deliverable"]
        out.append(
            _Phase(
                phase=phase.value,
                row=rows.get(phase.value),
                started=first("started"),
                completed=first("completed"),
                marked_overdue=first("overdue"),
                delivered=tuple(dict.fromkeys(f["name"] for f in deliverables)),
                documents=sum(f["documents"] for f in deliverables),
                reviews=tuple((f["name"], f["score"]) for f in history if f["fact"] == "review"),
                as_of=facts.as_of,
            )
        )
    return out


# -- meetings ----------------------------------------------------------------------------


@attrs.frozen
class _Month:
    month: str
    meetings: int
    problems: int
    assigned: int
    closed: int
    late: int
    open: int
    overdue: int


@attrs.frozen
class _Meetings:
    months: tuple[_Month, ...]
    expected: tuple[str, ...]  # months the programme expects a meeting in, by the day
    held_in: frozenset[str]
    #: Each action due before the day, and whether it was closed by then, not late.
    due_actions: tuple[tuple[Row, bool], ...]
    overdue: int


def _meetings(facts: _Facts) -> _Meetings:
    end = end_of_day(facts.as_of)
    month_of = {m["meeting_id"]: m["month"] for m in facts.meetings}
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for m in facts.meetings:
        per[m["month"]]["meetings"] += 1
    for p in facts.problems:
        per[month_of.get(p["meeting_id"], "?")]["problems"] += 1
    overdue_total = 0
    due: list[tuple[Row, bool]] = []
    for a in facts.actions:
        c = per[a["month"]]
        c["assigned"] += 1
        closed = a["closed_at"] is not None and a["closed_at"] < end
        if closed:
            c["closed"] += 1
            c["late"] += bool(a["late"])
        else:
            c["open"] += 1
        if a["due"] < facts.as_of:
            due.append((a, closed and not a["late"]))
            if not closed:
                c["overdue"] += 1
                overdue_total += 1
    months = tuple(
        _Month(k, *(per[k][n] for n in ("meetings", "problems", "assigned", "closed", "late",
                                         "open", "overdue")))
        for k in sorted(per)
    )  # fmt: skip
    return _Meetings(
        months=months,
        expected=_expected_months(facts),
        held_in=frozenset(m["month"] for m in facts.meetings),
        due_actions=tuple(due),
        overdue=overdue_total,
    )


def _expected_months(facts: _Facts) -> tuple[str, ...]:
    """The months that should have had a meeting by the day: from the programme's first
    phase window (or first meeting) to its last window, and not the day's own month (its
    meeting may still come)."""
    starts = [Month.of(p["window_start"]) for p in facts.phases]
    starts += [Month.parse(m["month"]) for m in facts.meetings]
    if not starts:
        return ()
    last = Month.of(facts.as_of).shift(-1)
    if facts.phases:
        last = min(last, Month.of(max(p["window_end"] for p in facts.phases)))
    return tuple(str(month) for month in last.since(min(starts)))


# -- gaps --------------------------------------------------------------------------------


@attrs.frozen
class _Gap:
    kind: str
    subject: str
    detail: str | int | None


def _gaps(
    facts: _Facts, measures: list[_Measure], phases: list[_Phase], meetings: _Meetings
) -> list[_Gap]:
    gaps = [_Gap("no_evidence", m.id, None) for m in measures if not m.evidenced]
    for p in phases:
        if p.overdue_days is not None:
            gaps.append(_Gap("phase_overdue", p.phase, p.overdue_days))
        if p.completed_late:
            gaps.append(_Gap("phase_completed_late", p.phase, p.days_late))
        if p.window_ended or p.completed is not None:
            gaps += [_Gap("deliverable_missing", p.phase, name) for name in p.missing]
    by_id = {p.phase: p for p in phases}
    for phase, kind in (("P4", ReviewKind.MID_TERM), ("P7", ReviewKind.PROVINCIAL_INSPECTION)):
        if by_id[phase].window_ended and not by_id[phase].held(kind):
            gaps.append(_Gap("review_missing", phase, kind.value))
    p6 = by_id["P6"]
    if p6.row is not None and p6.row["window_start"] <= facts.as_of:
        score = p6.latest_score
        if score is None:
            gaps.append(_Gap("no_self_assessment", "P6", None))
        elif score < 100:
            gaps.append(_Gap("self_assessment_score", "P6", 100 - score))
    gaps += [
        _Gap("meeting_missing", "S1", m) for m in meetings.expected if m not in meetings.held_in
    ]
    if meetings.overdue:
        gaps.append(_Gap("action_overdue", "S1", meetings.overdue))
    return gaps


# -- figures -----------------------------------------------------------------------------


#: What each of the report's figures counts (and the events explain names for each item).
FIGURE_DEFINITIONS: dict[str, str] = {
    "measure_evidence_coverage": (
        "Denominator: the plan's measures. Numerator: those with a command serving them "
        "handled by the day (phase commands and a wave's opening for their own phase only; "
        "planning a phase or marking it overdue is bookkeeping). Events: the receipt of the "
        "first such command."
    ),
    "phase_completion_rate": (
        "Denominator: the phases whose window ended before the day (events: the plan). "
        "Numerator: those completed (and the completion)."
    ),
    "deliverable_completion_rate": (
        "Denominator: the required deliverables of those phases (events: the plan requiring "
        "them). Numerator: those recorded (and the first record of each)."
    ),
    "meeting_month_coverage": (
        "Denominator: the months from the programme's first window (or first meeting) to its "
        "last window, before the day's own month. Numerator: those with a meeting held for "
        "them (events: the first such meeting)."
    ),
    "action_on_time_rate": (
        "Denominator: corrective actions due before the day (events: the assignment). "
        "Numerator: those closed by the day and not late (and the closing)."
    ),
}


def tallies(
    facts: _Facts,
    measures: list[_Measure],
    phases: list[_Phase],
    meetings: _Meetings,
    events: Resolve,
) -> dict[str, Tally]:
    """What each of the report's figures counted for its scope, each item with the events
    ``events`` finds behind it (:data:`FIGURE_DEFINITIONS` says what each counts)."""
    scope = facts.scope or "*"

    def item(*positions: int | None) -> Counted:
        return Counted(scope, events(positions))

    first: dict[str, int] = {}
    for g in facts.groups:
        for m in measures_served(g.command_type, g.phase):
            if g.first is not None and (m not in first or g.first < first[m]):
                first[m] = g.first
    evidence = [(item(), item(first.get(m.id)) if m.evidenced else None) for m in measures]

    by_phase: dict[str, list[Row]] = defaultdict(list)
    for f in sorted(facts.phase_facts, key=lambda f: f["notification_id"]):
        by_phase[f["phase"]].append(f)

    def fact(phase: str, kind: str, name: str | None = None) -> int | None:
        return next(
            (
                f["notification_id"]
                for f in by_phase[phase]
                if f["fact"] == kind and (name is None or f["name"] == name)
            ),
            None,
        )

    due = [p for p in phases if p.due]
    completion = [
        (item(fact(p.phase, "planned")),
         item(fact(p.phase, "planned"), fact(p.phase, "completed"))
         if p.completed is not None else None)
        for p in due
    ]  # fmt: skip
    deliverables = [
        (item(fact(p.phase, "planned")),
         item(fact(p.phase, "planned"), fact(p.phase, "deliverable", name))
         if name in p.delivered else None)
        for p in due
        for name in p.required
    ]  # fmt: skip
    held: dict[str, int] = {}
    for meeting in sorted(facts.meetings, key=lambda row: row["notification_id"]):
        held.setdefault(meeting["month"], meeting["notification_id"])
    months = [
        (item(), item(held[month]) if month in meetings.held_in else None)
        for month in meetings.expected
    ]
    actions = [
        (item(a["assigned_notification"]),
         item(a["assigned_notification"], a["closed_notification"]) if on_time else None)
        for a, on_time in meetings.due_actions
    ]  # fmt: skip
    return {
        "measure_evidence_coverage": _tally(evidence),
        "phase_completion_rate": _tally(completion),
        "deliverable_completion_rate": _tally(deliverables),
        "meeting_month_coverage": _tally(months),
        "action_on_time_rate": _tally(actions),
    }


def _tally(pairs: Iterable[tuple[Counted, Counted | None]]) -> Tally:
    listed = list(pairs)
    return Tally(
        tuple(num for _, num in listed if num is not None), tuple(den for den, _ in listed)
    )


def figure_of(figure_id: str, tally: Tally, period: str, scope: str) -> Figure:
    """A self-assessment figure from its tally."""
    known = indicator(figure_id)
    numerator, denominator, value = measure("rate", tally)
    return Figure(
        id=figure_id,
        numerator=numerator,
        denominator=denominator,
        value=value,
        period=period,
        scope=scope,
        definition_version=known.version,
        basis=known.basis.value,
    )


def _figures(
    facts: _Facts,
    measures: list[_Measure],
    phases: list[_Phase],
    meetings: _Meetings,
    scope: str,
) -> tuple[Figure, ...]:
    period = facts.as_of.isoformat()
    counted = tallies(facts, measures, phases, meetings, no_events)
    figures = [figure_of(i, tally, period, scope) for i, tally in counted.items()]
    if scope == "*":
        # Communities side by side: each community's own facts with the subdistrict's.
        for community in sorted({g.community for g in facts.groups} - {"*"}):
            served = {
                m
                for g in facts.groups
                if g.community in (community, "*")
                for m in measures_served(g.command_type, g.phase)
            }
            one = Counted(community, ())
            found = len(served & {m.id for m in measures})
            counted_here = Tally((one,) * found, (one,) * len(measures))
            figures.append(figure_of("measure_evidence_coverage", counted_here, period, community))
    return tuple(figures)


# -- sections ----------------------------------------------------------------------------


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _elements_section(measures: list[_Measure], gaps: list[_Gap]) -> Section:
    by_id = {m.id: m for m in measures}
    kinds = Counter(g.kind for g in gaps)
    rows = []
    for e in ELEMENTS:
        mine = [by_id[m] for m in e.measures]
        evidenced = [m for m in mine if m.evidenced]
        latest = max((m.latest for m in mine if m.latest), default=None)
        named = [f"no_evidence:{m.id}" for m in mine if not m.evidenced] + [
            f"{kind}×{kinds[kind]}" for kind in _ELEMENT_GAPS.get(e.id, ()) if kinds[kind]
        ]
        if not evidenced:
            status = "gap"
        elif named:
            status = "partial"
        else:
            status = "met"
        rows.append(
            (
                e.id,
                e.clause,
                e.zh,
                e.en,
                " ".join(e.measures),
                f"{len(evidenced)}/{len(mine)}",
                sum(m.commands for m in mine),
                _iso(latest),
                status,
                "; ".join(named) or None,
            )
        )
    return Section(
        id="elements",
        zh="AQ/T 9001-2006 要素",
        en="Elements of AQ/T 9001-2006",
        columns=columns(
            ("element", "要素", "Element"),
            ("clause", "条款", "Clause"),
            ("zh", "要素名称", "Name (Chinese)"),
            ("en", "英文名称", "Name (English)"),
            ("measures", "对应计划措施", "Plan measures"),
            ("measures_evidenced", "有证据的措施", "Measures with evidence"),
            ("facts", "记录事实数", "Facts recorded"),
            ("latest", "最近日期", "Latest"),
            ("status", "状态", "Status"),
            ("gaps", "差距", "Gaps"),
        ),
        rows=tuple(rows),
    )


def _measures_section(measures: list[_Measure]) -> Section:
    return Section(
        id="measures",
        zh="计划措施与证据",
        en="Plan measures and their evidence",
        columns=columns(
            ("measure", "措施", "Measure"),
            ("zh", "名称", "Name (Chinese)"),
            ("en", "英文名称", "Name (English)"),
            ("facts", "记录事实数(命令)", "Facts recorded (commands)"),
            ("events", "事件数", "Events"),
            ("deliverables", "阶段成果数", "Deliverables"),
            ("meetings", "例会数", "Meetings"),
            ("survey_responses", "问卷数", "Survey responses"),
            ("latest", "最近日期", "Latest"),
            ("status", "状态", "Status"),
        ),
        rows=tuple(
            (
                m.id,
                MEASURE_ZH.get(m.id, m.id),
                m.en,
                m.commands,
                m.events,
                m.deliverables,
                m.meetings,
                m.responses,
                _iso(m.latest),
                "evidence" if m.evidenced else "no_evidence",
            )
            for m in measures
        ),
    )


def _phases_section(phases: list[_Phase]) -> Section:
    rows = []
    for p in phases:
        row = p.row or {}
        rows.append(
            (
                p.phase,
                row.get("title"),
                _iso(row.get("window_start")),
                _iso(row.get("window_end")),
                p.status,
                _iso(p.started),
                _iso(p.completed),
                None if p.completed_late is None else ("yes" if p.completed_late else "no"),
                p.overdue_days,
                _iso(p.marked_overdue),
                f"{len(p.required) - len(p.missing)}/{len(p.required)}",
                "; ".join(p.missing) or None,
                p.documents,
                "; ".join(kind for kind, _ in p.reviews) or None,
                p.latest_score,
            )
        )
    return Section(
        id="phases",
        zh="阶段进展 P1–P7",
        en="Phase progress P1–P7",
        columns=columns(
            ("phase", "阶段", "Phase"),
            ("title", "名称", "Title"),
            ("window_start", "计划开始", "Window start"),
            ("window_end", "计划结束", "Window end"),
            ("status", "状态", "Status"),
            ("started", "开始日期", "Started"),
            ("completed", "完成日期", "Completed"),
            ("completed_late", "逾期完成", "Completed late"),
            ("overdue_days", "逾期(天)", "Overdue (days)"),
            ("marked_overdue", "标记逾期日期", "Marked overdue on"),
            ("deliverables", "应交成果", "Required deliverables"),
            ("missing", "缺少成果", "Missing"),
            ("documents", "证据文件数", "Evidence documents"),
            ("reviews", "评审", "Reviews"),
            ("score", "自评得分", "Self-assessment score"),
        ),
        rows=tuple(rows),
    )


def _meetings_section(meetings: _Meetings) -> Section:
    return Section(
        id="meetings",
        zh="例会与整改措施",
        en="Meetings and corrective actions",
        columns=columns(
            ("month", "月份", "Month"),
            ("meetings", "例会数", "Meetings held"),
            ("problems", "提出问题", "Problems raised"),
            ("assigned", "布置措施", "Actions assigned"),
            ("closed", "已完成", "Closed"),
            ("late", "逾期完成", "Closed late"),
            ("open", "未完成", "Open"),
            ("overdue", "逾期未完成", "Open and overdue"),
        ),
        rows=tuple(
            (m.month, m.meetings, m.problems, m.assigned, m.closed, m.late, m.open, m.overdue)
            for m in meetings.months
        ),
    )


def _gaps_section(gaps: list[_Gap]) -> Section:
    return Section(
        id="gaps",
        zh="差距",
        en="Gaps",
        columns=columns(
            ("gap", "差距类型", "Gap"),
            ("subject", "对象", "Subject"),
            ("detail", "说明", "Detail"),
        ),
        rows=tuple((g.kind, g.subject, g.detail) for g in gaps),
    )


def _gap_kinds_section() -> Section:
    return Section(
        id="gap_kinds",
        zh="差距类型说明",
        en="Gap kinds",
        columns=columns(
            ("gap", "差距类型", "Gap"),
            ("zh", "中文", "Chinese"),
            ("en", "英文", "English"),
        ),
        rows=tuple((kind, zh, en) for kind, (zh, en) in GAP_KINDS.items()),
    )
