"""ProjectPhase: the programme's phases P1–P7 and the evidence each leaves (plan II, S1).

Planned (window, required deliverables) → Started → DeliverableRecorded* → ReviewHeld*
→ Completed; MarkedOverdue once the window has passed without completion.

Choices, and why:

- **Missing deliverables do not block completion.** The self-assessment (P6) and the
  provincial inspection (P7) must see what was *not* produced, not a phase stuck open for
  ever. ``Completed`` records the gaps known at that moment; :attr:`ProjectPhase.gaps` is
  what is missing now.
- **Evidence and reviews may still be filed after completion.** Paper records are entered
  late and P6 assembles the evidence files of every phase; ``occurred_at`` tells when each
  thing happened, and the gaps at completion stay on record.
- **Overdue is a marker, not a status.** A phase past its window can be planned or started;
  it can still be completed later, and then it is both (docs/domain.md, *Programme phases*).
- **Reviews belong where the plan puts them**: mid-term in P4, self-assessment in P6,
  provincial inspection in P7; a look-back re-check may be held in any phase. Only a
  self-assessment carries a score (0–100).
- **Evidence is a reference, never the file**: a document's SHA-256, a title and a kind,
  so the file can be kept elsewhere and still be verified for the 3 years of the title.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.transcoding import value_type
from safecomm_core.validation import matches, nonempty
from safecomm_core.values import Meta

__all__ = [
    "REVIEW_PHASES",
    "Deliverable",
    "Evidence",
    "EvidenceKind",
    "PhaseId",
    "PhaseStatus",
    "ProjectPhase",
    "Review",
    "ReviewKind",
]


class PhaseId(enum.StrEnum):
    """The plan's phases (plan II); the phase's id is also the caller's reference."""

    P1 = "P1"  # launch
    P2 = "P2"  # publicity and mobilisation
    P3 = "P3"  # advancement
    P4 = "P4"  # training and guidance (mid-term review)
    P5 = "P5"  # building and upgrading
    P6 = "P6"  # evaluation and promotion (self-assessment)
    P7 = "P7"  # provincial inspection


class PhaseStatus(enum.StrEnum):
    PLANNED = "planned"
    STARTED = "started"
    COMPLETED = "completed"


class EvidenceKind(enum.StrEnum):
    """What kind of document a piece of evidence is."""

    DOCUMENT = "document"
    REPORT = "report"
    MINUTES = "minutes"
    PHOTO = "photo"
    VIDEO = "video"
    SPREADSHEET = "spreadsheet"
    QUESTIONNAIRE = "questionnaire"
    OTHER = "other"


class ReviewKind(enum.StrEnum):
    """The reviews the plan names (P4, P6, P7) and the look-back re-checks of P6."""

    MID_TERM = "mid-term"
    SELF_ASSESSMENT = "self-assessment"
    LOOK_BACK = "look-back"
    PROVINCIAL_INSPECTION = "provincial-inspection"


#: The phases each kind of review may be held in (plan II). Look-backs: any phase.
REVIEW_PHASES: dict[ReviewKind, frozenset[PhaseId]] = {
    ReviewKind.MID_TERM: frozenset({PhaseId.P4}),
    ReviewKind.SELF_ASSESSMENT: frozenset({PhaseId.P6}),
    ReviewKind.LOOK_BACK: frozenset(PhaseId),
    ReviewKind.PROVINCIAL_INSPECTION: frozenset({PhaseId.P7}),
}


def _lower(value: str) -> str:
    # PowerShell's Get-FileHash prints upper case, sha256sum lower: keep one form so that
    # equal documents have equal references.
    return value.lower()


@value_type("phase_evidence")
@attrs.frozen(kw_only=True)
class Evidence:
    """A reference to a document: its SHA-256 content hash, a title and a kind.

    The hash is kept in lower case; upper-case input is accepted and normalised.
    """

    sha256: str = attrs.field(
        converter=_lower,
        validator=matches(r"[0-9a-f]{64}", "must be a SHA-256 digest: 64 hex digits"),
    )
    title: str = attrs.field(validator=nonempty)
    kind: EvidenceKind = EvidenceKind.DOCUMENT


@attrs.frozen
class Deliverable:
    """A deliverable as the phase keeps it: its name, evidence, and when it was produced."""

    name: str
    evidence: tuple[Evidence, ...]
    occurred_at: datetime


@attrs.frozen
class Review:
    """A review as the phase keeps it."""

    kind: ReviewKind
    score: int | None
    findings: SealedText
    occurred_at: datetime


class ProjectPhase(Record):
    """One phase of the programme, from its plan to its completion."""

    KIND = "phase"
    TOPIC = "safecomm/ProjectPhase"

    # -- creation ---------------------------------------------------------------------

    class Planned(Record.Created):
        TOPIC = "safecomm/ProjectPhase/Planned"
        ref: str
        community: str
        title: str
        window_start: date
        window_end: date
        required_deliverables: tuple[str, ...]

    @event(Planned)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        title: str,
        window_start: date,
        window_end: date,
        required_deliverables: tuple[str, ...],
    ) -> None:
        self._created(meta, ref, community)
        self.title = title
        self.window_start = window_start
        self.window_end = window_end
        self.required_deliverables = tuple(required_deliverables)
        self.status = PhaseStatus.PLANNED
        self.started_at: datetime | None = None
        self.deliverables: tuple[Deliverable, ...] = ()
        self.reviews: tuple[Review, ...] = ()
        self.completed_at: datetime | None = None
        self.gaps_at_completion: tuple[str, ...] = ()
        self.overdue_on: date | None = None

    @property
    def delivered(self) -> frozenset[str]:
        """Names of the deliverables recorded so far (required or not)."""
        return frozenset(d.name for d in self.deliverables)

    @property
    def gaps(self) -> tuple[str, ...]:
        """Required deliverables not recorded yet, in the plan's order."""
        done = self.delivered
        return tuple(name for name in self.required_deliverables if name not in done)

    @property
    def overdue(self) -> bool:
        """Whether the phase was marked overdue (it stays so once completed late)."""
        return self.overdue_on is not None

    @property
    def completed_late(self) -> bool | None:
        """Whether completion came after the window; None while not completed."""
        if self.completed_at is None:
            return None
        return local_date(self.completed_at) > self.window_end

    # -- work -------------------------------------------------------------------------

    class Started(Record.Event):
        TOPIC = "safecomm/ProjectPhase/Started"

    @event(Started)
    def _started(self, meta: Meta) -> None:
        self.status = PhaseStatus.STARTED
        self.started_at = meta.occurred_at

    def start(self, meta: Meta) -> None:
        """The phase's work began (before, within or after its window)."""
        self.check_after_creation(meta)
        if self.status != PhaseStatus.PLANNED:
            raise self.not_allowed("start", self.status.value)
        self._started(meta=meta)

    class DeliverableRecorded(Record.Event):
        TOPIC = "safecomm/ProjectPhase/DeliverableRecorded"
        name: str
        evidence: tuple[Evidence, ...]

    @event(DeliverableRecorded)
    def _deliverable_recorded(self, meta: Meta, name: str, evidence: tuple[Evidence, ...]) -> None:
        item = Deliverable(name, tuple(evidence), meta.occurred_at)
        self.deliverables = (*self.deliverables, item)

    def record_deliverable(self, meta: Meta, name: str, evidence: tuple[Evidence, ...]) -> None:
        """A deliverable was produced, with references to the documents that prove it.

        Names outside the plan's list are kept too (plans are adjusted, P3); recording a
        name again adds evidence to it.
        """
        self._require_started(meta, "record a deliverable of")
        self._deliverable_recorded(meta=meta, name=name, evidence=tuple(evidence))

    class ReviewHeld(Record.Event):
        TOPIC = "safecomm/ProjectPhase/ReviewHeld"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("findings"))
        kind: ReviewKind
        score: int | None
        findings: SealedText

    @event(ReviewHeld)
    def _review_held(
        self, meta: Meta, kind: ReviewKind, score: int | None, findings: SealedText
    ) -> None:
        review = Review(ReviewKind(kind), score, findings, meta.occurred_at)
        self.reviews = (*self.reviews, review)

    def hold_review(
        self, meta: Meta, kind: ReviewKind, score: int | None, findings: SealedText
    ) -> None:
        """A review of the phase's work took place (see :data:`REVIEW_PHASES`)."""
        self._require_started(meta, "hold a review of")
        if self.ref not in REVIEW_PHASES[kind]:
            allowed = ", ".join(sorted(REVIEW_PHASES[kind]))
            raise RuleViolation(
                f"a {kind.value} review belongs to {allowed}, not to phase {self.ref}",
                field="kind",
                rule=f"held in {allowed}",
            )
        if score is not None and kind != ReviewKind.SELF_ASSESSMENT:
            raise RuleViolation(
                f"only a self-assessment carries a score, not a {kind.value} review",
                field="score",
                rule="only for a self-assessment",
            )
        self._review_held(meta=meta, kind=kind, score=score, findings=findings)

    # -- end --------------------------------------------------------------------------

    class Completed(Record.Event):
        TOPIC = "safecomm/ProjectPhase/Completed"
        gaps: tuple[str, ...]

    @event(Completed)
    def _completed(self, meta: Meta, gaps: tuple[str, ...]) -> None:
        self.status = PhaseStatus.COMPLETED
        self.completed_at = meta.occurred_at
        self.gaps_at_completion = tuple(gaps)

    def complete(self, meta: Meta) -> None:
        """The phase is done; required deliverables still missing are recorded as gaps."""
        self._require_started(meta, "complete")
        if self.status == PhaseStatus.COMPLETED:
            raise self.not_allowed("complete", self.status.value)
        self._completed(meta=meta, gaps=self.gaps)

    class MarkedOverdue(Record.Event):
        TOPIC = "safecomm/ProjectPhase/MarkedOverdue"

    @event(MarkedOverdue)
    def _marked_overdue(self, meta: Meta) -> None:
        self.overdue_on = local_date(meta.occurred_at)

    def mark_overdue(self, meta: Meta) -> None:
        """The planned window has ended and the phase is not completed.

        Ended means: ``occurred_at``'s date in the subdistrict is after ``window_end``.
        """
        self.check_after_creation(meta)
        if self.status == PhaseStatus.COMPLETED:
            raise self.not_allowed("mark overdue", self.status.value)
        if self.overdue_on is not None:
            raise self.not_allowed("mark overdue", "already overdue")
        today = local_date(meta.occurred_at)
        if today <= self.window_end:
            raise RuleViolation(
                f"phase {self.ref!r} runs until {self.window_end.isoformat()}; "
                f"on {today.isoformat()} it is not overdue",
                field="occurred_at",
                rule="after the planned window",
            )
        self._marked_overdue(meta=meta)

    # -- checks -----------------------------------------------------------------------

    def _require_started(self, meta: Meta, action: str) -> None:
        self.check_after_creation(meta)
        if self.started_at is None:
            raise self.not_allowed(action, self.status.value)
        self.check_not_before(meta, self.started_at, "the phase started")
