"""The residents' survey (S6): baseline (P1), mid-term (P4) and final (P6) waves.

Each wave is taken in every community by door-to-door questionnaires, about ``PER_WAVE`` per
community at scale 1 (the plan's samples were about a hundred: scale 2.5), entered from paper
(often days later). The four answers are drawn around the wave's rates (:data:`RATES`), a
little above or below in each community, so that awareness, participation, satisfaction and
the sense of security rise from the baseline to the final wave; about one question in thirty
is left unanswered.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TypeVar

from safecomm_core.commands import survey as sv
from safecomm_core.domain.survey import Answers, Satisfaction, Security, Wave
from safecomm_core.values import Role
from safecomm_demo.story import COMMUNITIES, Writer, at, staff

__all__ = ["PER_WAVE", "RATES", "WINDOWS", "surveys"]

Rates = tuple[float, float, float, float]

#: Questionnaires per community and wave, at scale 1.
PER_WAVE = 40

#: The share answering favourably: aware, took part, satisfied (top two), safe (top two).
RATES: dict[Wave, Rates] = {
    Wave.BASELINE: (0.45, 0.18, 0.58, 0.62),
    Wave.MID_TERM: (0.70, 0.42, 0.72, 0.76),
    Wave.FINAL: (0.88, 0.63, 0.86, 0.89),
}
#: When each wave is in the field (inclusive).
WINDOWS = {
    Wave.BASELINE: (date(2013, 10, 14), date(2013, 10, 30)),
    Wave.MID_TERM: (date(2014, 6, 16), date(2014, 7, 11)),
    Wave.FINAL: (date(2014, 10, 20), date(2014, 11, 14)),
}
_UNANSWERED = 0.03


S = TypeVar("S", Satisfaction, Security)


def _scale(rng: random.Random, scale: type[S], top_two: float) -> S:
    """An answer on a five-point scale with ``top_two`` in the two favourable answers."""
    weights = (
        0.4 * top_two,
        0.6 * top_two,
        0.6 * (1 - top_two),
        0.3 * (1 - top_two),
        0.1 * (1 - top_two),
    )
    return rng.choices(list(scale), weights)[0]


def _answers(rng: random.Random, rates: Rates) -> Answers:
    aware, took_part, satisfied, safe = rates

    def asked() -> bool:
        return rng.random() >= _UNANSWERED

    answers = Answers(
        aware=rng.random() < aware if asked() else None,
        participated=rng.random() < took_part if asked() else None,
        satisfaction=_scale(rng, Satisfaction, satisfied) if asked() else None,
        security=_scale(rng, Security, safe) if asked() else None,
    )
    return answers if answers.answered() else Answers(aware=rng.random() < aware)


def surveys(w: Writer) -> dict[Wave, list[Answers]]:
    """Open, fill and close each wave in each community; every wave's answers."""
    rng = w.rng
    # Each community sits a little above or below the subdistrict, the same in every wave.
    lean = {c: rng.uniform(-0.05, 0.05) for c in COMMUNITIES}
    taken: dict[Wave, list[Answers]] = {wave: [] for wave in Wave}
    for wave, (first, last) in WINDOWS.items():
        for community in COMMUNITIES:
            ref = f"sv-{wave}-{community}"
            aware, took_part, satisfied, safe = (
                min(0.98, max(0.02, r + lean[community])) for r in RATES[wave]
            )
            s = w.story(late_share=0.4, max_delay_days=7)
            w.add(
                s,
                sv.OpenSurveyWave,
                at(first, 9),
                staff(130, Role.STAFF),
                survey_id=ref,
                wave=wave,
                sample_target=max(1, round(PER_WAVE * w.scale)),
                community=community,
            )
            span = (last - first).days
            moments = sorted(
                at(
                    first + timedelta(days=rng.randint(0, span)),
                    rng.randint(9, 19),
                    rng.randint(0, 59),
                )
                for _ in range(max(1, w.count(PER_WAVE)))
            )
            for k, moment in enumerate(moments, start=1):
                answers = _answers(rng, (aware, took_part, satisfied, safe))
                taken[wave].append(answers)
                w.add(
                    s,
                    sv.RecordSurveyResponse,
                    moment,
                    staff(rng.randint(131, 139), Role.STAFF),
                    survey_id=ref,
                    response_id=f"{community}-{k:03d}",
                    community=community,
                    answers=answers,
                )
            w.add(
                s,
                sv.CloseSurveyWave,
                at(last + timedelta(days=1), 17),
                staff(130, Role.STAFF),
                survey_id=ref,
                notes="问卷回收完毕",
            )
    return taken
