"""Survey: the residents' survey waves behind the "three rates" and the sense of security (S6).

WaveOpened (baseline in P1, mid-term in P4, final in P6; one community or the subdistrict)
→ ResponseRecorded* → WaveClosed. A closed wave takes no more responses.

Responses are anonymous: a response carries the questionnaire's own number, the community it
was collected in and the answers, and nothing about the person. Every question may be left
unanswered; an unanswered question makes the response invalid for that indicator only
(docs/domain.md, *Surveys*: each rate's denominator is the valid respondents).
"""

from __future__ import annotations

import enum
import functools

import attrs
from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.domain.snapshots import snapshot_class
from safecomm_core.errors import AlreadyExists, RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.transcoding import value_type
from safecomm_core.values import Meta

__all__ = [
    "Answers",
    "FivePointScale",
    "Satisfaction",
    "Security",
    "Survey",
    "SurveyResponse",
    "SurveyStatus",
    "Wave",
]


class Wave(enum.StrEnum):
    """Which of the programme's three survey waves."""

    BASELINE = "baseline"  # P1: part of the community diagnosis
    MID_TERM = "mid_term"  # P4: the mid-term review
    FINAL = "final"  # P6: the self-assessment


class FivePointScale(enum.StrEnum):
    """A five-point answer scale, its members listed from most to least favourable."""

    def favourable(self, *, fairly: bool = False) -> bool:
        """In the numerator of the scale's rate (docs/domain.md, *Surveys*).

        The top two answers (满意 and 很满意; 安全 and 很安全) always count; the middle one
        (基本满意, 基本安全) counts only where the jurisdiction's setting says so.
        """
        return _rank(type(self))[self] < (3 if fairly else 2)


@functools.cache
def _rank(scale: type[FivePointScale]) -> dict[FivePointScale, int]:
    """Each answer's place on ``scale``, most favourable first (reports ask per response)."""
    return {answer: place for place, answer in enumerate(scale)}


class Satisfaction(FivePointScale):
    """满意度: the scale of the satisfaction question."""

    VERY_SATISFIED = "very_satisfied"  # 很满意
    SATISFIED = "satisfied"  # 满意
    FAIRLY_SATISFIED = "fairly_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 很不满意


class Security(FivePointScale):
    """群众安全感: the scale of the sense-of-security question."""

    VERY_SAFE = "very_safe"  # 很安全
    SAFE = "safe"  # 安全
    FAIRLY_SAFE = "fairly_safe"  # 基本安全
    UNSAFE = "unsafe"  # 不安全
    VERY_UNSAFE = "very_unsafe"  # 很不安全


@value_type("survey_answers")
@attrs.frozen(kw_only=True)
class Answers:
    """One respondent's answers; ``None`` is a question left unanswered."""

    #: 知晓: knows of the Safe Community programme and its measures.
    aware: bool | None = None
    #: 参与: took part in at least one of the programme's activities in the period.
    participated: bool | None = None
    satisfaction: Satisfaction | None = None
    security: Security | None = None

    def answered(self) -> int:
        """How many of the four questions were answered."""
        return sum(
            v is not None for v in (self.aware, self.participated, self.satisfaction, self.security)
        )


@value_type("survey_response")  # kept in the wave's snapshots
@attrs.frozen
class SurveyResponse:
    """A response as the wave keeps it: where it was collected, and its answers."""

    community: str
    answers: Answers


class SurveyStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Survey(Record):
    """One wave of the residents' survey, in one community or the whole subdistrict."""

    KIND = "survey"
    TOPIC = "safecomm/Survey"
    # A wave collects hundreds of responses: it loads from a snapshot (see the application).
    Snapshot = snapshot_class("safecomm/Survey/Snapshot")

    class WaveOpened(Record.Created):
        TOPIC = "safecomm/Survey/WaveOpened"
        ref: str
        community: str
        wave: Wave
        sample_target: int

    @event(WaveOpened)
    def __init__(
        self, *, meta: Meta, ref: str, community: str, wave: Wave, sample_target: int
    ) -> None:
        self._created(meta, ref, community)
        self.wave = Wave(wave)
        self.sample_target = sample_target
        self.status = SurveyStatus.OPEN
        self.responses: dict[str, SurveyResponse] = {}

    def _retype(self) -> None:
        # A snapshot keeps enum members as their plain values.
        self.wave = Wave(self.wave)
        self.status = SurveyStatus(self.status)

    @property
    def subdistrict_wide(self) -> bool:
        """Whether the wave samples every community rather than one."""
        return self.community == SUBDISTRICT

    class ResponseRecorded(Record.Event):
        TOPIC = "safecomm/Survey/ResponseRecorded"
        response_id: str
        community: str
        answers: Answers

    @event(ResponseRecorded)
    def _response_recorded(
        self, meta: Meta, response_id: str, community: str, answers: Answers
    ) -> None:
        self.responses[response_id] = SurveyResponse(community, answers)

    def record_response(
        self, meta: Meta, response_id: str, community: str, answers: Answers
    ) -> None:
        """Record one anonymous questionnaire collected in ``community``."""
        self._require_open(meta, "record a response to")
        if response_id in self.responses:
            raise AlreadyExists(
                f"survey {self.ref!r} already has response {response_id!r}",
                field="response_id",
                rule="must not exist yet",
            )
        if not self.subdistrict_wide and community != self.community:
            raise RuleViolation(
                f"survey {self.ref!r} samples community {self.community!r}, not {community!r}",
                field="community",
                rule="must be the wave's community",
            )
        self._response_recorded(
            meta=meta, response_id=response_id, community=community, answers=answers
        )

    class WaveClosed(Record.Event):
        TOPIC = "safecomm/Survey/WaveClosed"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        notes: SealedText

    @event(WaveClosed)
    def _wave_closed(self, meta: Meta, notes: SealedText) -> None:
        self.status = SurveyStatus.CLOSED

    def close(self, meta: Meta, notes: SealedText) -> None:
        """Close the wave: its figures are final, and it takes no more responses."""
        self._require_open(meta, "close")
        self._wave_closed(meta=meta, notes=notes)

    def _require_open(self, meta: Meta, action: str) -> None:
        self.check_after_creation(meta)
        if self.status is not SurveyStatus.OPEN:
            raise self.not_allowed(action, self.status.value)
