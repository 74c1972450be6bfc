"""The programme's phases P1–P7 on their planned windows (plan II), with realistic slippage.

Every phase is planned at the launch with the deliverables the plan asks of it. Work
starts on or near the window's first day; deliverables are recorded with their documents'
SHA-256 (of made-up file names: the files themselves live in the office's archive). Two
phases slip, chosen by the seed among those that could: one is completed some days after
its window, without anyone marking it; another is marked overdue on the first working day
after its window and completed weeks later, one deliverable short (its photos are filed
during P6, when the evidence files are assembled). P4 holds the mid-term review, P6 the
scored self-assessment and a look-back, P7 the provincial inspection.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import attrs

from safecomm_core.commands import phase as ph
from safecomm_core.domain.phase import Evidence, EvidenceKind, PhaseId, ReviewKind
from safecomm_core.values import Actor, Role
from safecomm_demo.story import Story, Writer, at, staff

__all__ = ["PHASES", "Phase", "evidence", "phases"]


@attrs.frozen
class Phase:
    """A phase as the plan gives it: window and required deliverables."""

    id: PhaseId
    title: str
    start: date
    end: date
    deliverables: tuple[str, ...]


PHASES = (
    Phase(
        PhaseId.P1,
        "启动阶段",
        date(2013, 10, 1),
        date(2013, 10, 31),
        (
            "伤害与风险辨识评估",
            "社会治安诊断报告",
            "优先项目确定",
            "领导机构成立",
            "目标与实施方案",
        ),
    ),
    Phase(
        PhaseId.P2,
        "宣传发动阶段",
        date(2013, 10, 1),
        date(2014, 8, 31),
        ("启动大会", "工作人员培训", "宣传栏与告居民书", "调查问卷"),
    ),
    Phase(
        PhaseId.P3,
        "推进阶段",
        date(2014, 4, 1),
        date(2014, 4, 30),
        ("促进项目确定", "推进会", "任务分解", "八个促进项目实施"),
    ),
    Phase(
        PhaseId.P4,
        "培训指导阶段",
        date(2014, 5, 1),
        date(2014, 8, 31),
        ("专家培训", "项目推进会", "中期评估报告"),
    ),
    Phase(
        PhaseId.P5,
        "建设提升阶段",
        date(2014, 8, 1),
        date(2014, 8, 31),
        ("诊断驱动的干预措施", "项目组会议", "资料与照片收集"),
    ),
    Phase(
        PhaseId.P6,
        "评估推广阶段",
        date(2014, 9, 1),
        date(2014, 12, 31),
        ("工作报告", "回头看复查", "自评报告", "档案资料汇编"),
    ),
    Phase(PhaseId.P7, "验收阶段", date(2014, 12, 1), date(2014, 12, 31), ("省级现场评定",)),
)

_KINDS = {
    "报告": EvidenceKind.REPORT,
    "方案": EvidenceKind.DOCUMENT,
    "会": EvidenceKind.MINUTES,
    "照片": EvidenceKind.PHOTO,
    "问卷": EvidenceKind.QUESTIONNAIRE,
}
_OFFICE = staff(1, Role.STAFF)
_INSPECTION = date(2014, 12, 16)
_EVALUATOR = Actor("sc-review-team", Role.EVALUATOR)


def evidence(phase: PhaseId, name: str, *titles: str) -> tuple[Evidence, ...]:
    """References to a deliverable's documents: SHA-256 of each made-up file name."""
    docs = titles or (f"{phase}-{name}.pdf",)
    return tuple(
        Evidence(
            sha256=hashlib.sha256(doc.encode()).hexdigest(),
            title=doc,
            kind=next((k for word, k in _KINDS.items() if word in doc), EvidenceKind.DOCUMENT),
        )
        for doc in docs
    )


def _deliver(w: Writer, s: Story, p: Phase, name: str, day: date) -> None:
    docs = (f"{p.id}-{name}.pdf", f"{p.id}-{name}-照片.zip") if "会" in name else ()
    w.add(
        s,
        ph.RecordDeliverable,
        at(day, 15),
        _OFFICE,
        phase_id=p.id,
        name=name,
        evidence=evidence(p.id, name, *docs),
    )


def phases(w: Writer) -> None:
    """Plan, start, deliver, review and complete (or let slip) each phase."""
    rng = w.rng
    late = rng.choice([PhaseId.P1, PhaseId.P3])  # completed after the window, unmarked
    overdue = rng.choice([PhaseId.P4, PhaseId.P5])  # marked overdue, completed later
    planned_on = date(2013, 9, 28)
    for p in PHASES:
        s = w.story(prompt=True)
        w.add(
            s,
            ph.PlanPhase,
            at(planned_on, 10),
            staff(1, Role.ADMIN),
            phase_id=p.id,
            title=p.title,
            window_start=p.start,
            window_end=p.end,
            required_deliverables=p.deliverables,
        )
        started = p.start + timedelta(days=rng.randint(0, 4))
        w.add(s, ph.StartPhase, at(started, 9), _OFFICE, phase_id=p.id)
        span = max(1, (p.end - started).days)
        # Deliverables fall across the window, in the plan's order.
        offsets = sorted(rng.randint(1, max(1, span - 3)) for _ in p.deliverables)
        missing = p.deliverables[-1] if p.id == overdue else None
        for name, offset in zip(p.deliverables, offsets, strict=True):
            if name != missing:
                day = _INSPECTION if p.id is PhaseId.P7 else started + timedelta(days=offset)
                _deliver(w, s, p, name, day)
        if p.id is PhaseId.P4:
            w.add(
                s,
                ph.HoldPhaseReview,
                at(date(2014, 7, 18), 14),
                _EVALUATOR,
                phase_id=p.id,
                kind=ReviewKind.MID_TERM,
                findings="矛盾纠纷调处和联防联动进展良好; 流动人口登记及时率、三率调查偏低, 需加强",
            )
        if p.id is PhaseId.P6:
            _review_p6(w, s, score=rng.randint(86, 93))
        if p.id is PhaseId.P7:
            w.add(
                s,
                ph.HoldPhaseReview,
                at(_INSPECTION, 10),
                _EVALUATOR,
                phase_id=p.id,
                kind=ReviewKind.PROVINCIAL_INSPECTION,
                findings="省评审组现场评定: 资料齐全, 建议命名",
            )
        end = p.end
        if p.id == late:
            end = p.end + timedelta(days=rng.randint(5, 12))
        elif p.id == overdue:
            first_working_day = p.end + timedelta(days=1)
            while first_working_day.weekday() >= 5:
                first_working_day += timedelta(days=1)
            w.add(s, ph.MarkPhaseOverdue, at(first_working_day, 9), _OFFICE, phase_id=p.id)
            end = p.end + timedelta(days=rng.randint(18, 28))
        elif p.id is PhaseId.P7:
            end = date(2014, 12, 19)
        else:
            end = p.end - timedelta(days=rng.randint(0, 3))
        w.add(s, ph.CompletePhase, at(end, 17), _OFFICE, phase_id=p.id)
        if missing is not None:
            # Filed when P6 assembled every phase's evidence, after this phase's completion.
            _deliver(w, s, p, missing, date(2014, 10, 28))


def _review_p6(w: Writer, s: Story, score: int) -> None:
    w.add(
        s,
        ph.HoldPhaseReview,
        at(date(2014, 10, 10), 14),
        _OFFICE,
        phase_id=PhaseId.P6,
        kind=ReviewKind.LOOK_BACK,
        findings="回头看: 停车棚看护和门卫登记基本落实, 个别老旧小区技防设施待维修",
    )
    w.add(
        s,
        ph.HoldPhaseReview,
        at(date(2014, 11, 21), 14),
        _OFFICE,
        phase_id=PhaseId.P6,
        kind=ReviewKind.SELF_ASSESSMENT,
        score=score,
        findings="对照国家和四川省标准自评, 达到安全(示范)社区要求",
    )
