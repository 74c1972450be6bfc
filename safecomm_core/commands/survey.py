"""Commands of the residents' survey (``survey.*``, plan S6)."""

from __future__ import annotations

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.domain.survey import Answers, Survey, Wave
from safecomm_core.validation import BrokenRule, count, ident, notes

__all__ = ["CloseSurveyWave", "OpenSurveyWave", "RecordSurveyResponse"]


def _one_community(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value == SUBDISTRICT:
        raise BrokenRule(attribute.name, "must name one community, not the subdistrict")


def _answered(_instance: object, attribute: attrs.Attribute[Answers], value: Answers) -> None:
    # A blank questionnaire is valid for no indicator, so it is no response at all.
    if isinstance(value, Answers) and not value.answered():
        raise BrokenRule(attribute.name, "answer at least one question")


@attrs.frozen(kw_only=True)
class _OnSurvey(Command):
    survey_id: str = ident()


# The three waves measure the phases that plan them: the baseline is part of P1's
# diagnosis, the mid-term wave of P4's review, the final wave of P6's self-assessment.
@command("survey.open_wave", serves=("S6", "P1", "P4", "P6"))
@attrs.frozen(kw_only=True)
class OpenSurveyWave(_OnSurvey):
    """Open a survey wave in one community, or in the subdistrict (``*``, the default)."""

    wave: Wave
    sample_target: int = count(minimum=1)
    community: str = ident(default=SUBDISTRICT)

    def run(self, ctx: Context) -> None:
        ctx.check_new(Survey, self.survey_id)
        ctx.add(
            Survey(
                meta=ctx.meta,
                ref=self.survey_id,
                community=self.community,
                wave=self.wave,
                sample_target=self.sample_target,
            )
        )


@command("survey.record_response", serves=("S6",))
@attrs.frozen(kw_only=True)
class RecordSurveyResponse(_OnSurvey):
    """Record one anonymous questionnaire: its number, community and answers, no person."""

    response_id: str = ident()
    community: str = ident(_one_community)
    answers: Answers = attrs.field(validator=_answered)

    def run(self, ctx: Context) -> None:
        survey = ctx.load(Survey, self.survey_id)
        survey.record_response(ctx.meta, self.response_id, self.community, self.answers)


@command("survey.close_wave", serves=("S6",))
@attrs.frozen(kw_only=True)
class CloseSurveyWave(_OnSurvey):
    """Close the wave: it takes no more responses."""

    notes: str = notes()

    def run(self, ctx: Context) -> None:
        ctx.load(Survey, self.survey_id).close(
            ctx.meta, ctx.seal_text(Survey, self.survey_id, self.notes)
        )
