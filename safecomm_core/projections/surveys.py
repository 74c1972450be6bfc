"""``surveys``: the residents' survey waves and every anonymous response (S6).

A response is kept with the answers the indicators need (docs/domain.md, *Indicators*): aware,
participated (yes / no / unanswered), and the satisfaction and sense-of-security answers as
their scale values (``very_satisfied`` … ``very_dissatisfied``; ``very_safe`` …). Which
answers count as favourable, and whether the middle answers (基本满意, 基本安全) do, is
decided by the report with the scales' own rule
(:meth:`~safecomm_core.domain.survey.FivePointScale.favourable`), not here.

A response belongs to the community it was collected in and to the subdistrict's date of
its ``occurred_at``; it names its wave, so reports can take the latest wave by a date.
Each response row names its own event (provenance).
"""

from __future__ import annotations

from typing import Any

from safecomm_core.dates import local_date
from safecomm_core.domain.survey import Survey
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.provenance import (
    event_values,
    last_event_columns,
    provenance_columns,
)
from safecomm_core.projections.schema import BOOLEAN, DATE, INTEGER, TEXT, TIMESTAMP, Column, Table
from safecomm_core.projections.writer import ViewWriter

__all__ = ["SURVEYS", "SURVEY_RESPONSES", "SURVEY_WAVES"]

SURVEY_WAVES = Table(
    "survey_waves",
    columns=(
        Column("survey_id", TEXT, nullable=False),
        Column("ref", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="the community sampled, or *"),
        Column("wave", TEXT, nullable=False, doc="baseline, mid_term or final"),
        Column("sample_target", INTEGER, nullable=False),
        Column("opened_at", TIMESTAMP, nullable=False),
        Column("status", TEXT, nullable=False, doc="open or closed"),
        Column("closed_at", TIMESTAMP),
        Column("responses", INTEGER, nullable=False),
        *last_event_columns(),
    ),
    key=("survey_id",),
    doc="One row per survey wave (one community's, or the subdistrict's).",
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    columns=(
        Column("survey_id", TEXT, nullable=False),
        Column("response_id", TEXT, nullable=False, doc="the questionnaire's own number"),
        Column("wave", TEXT, nullable=False),
        Column("community", TEXT, nullable=False, doc="where it was collected"),
        Column("occurred_on", DATE, nullable=False),
        Column("aware", BOOLEAN),
        Column("participated", BOOLEAN),
        Column("satisfaction", TEXT),
        Column("security", TEXT),
        *provenance_columns(),
    ),
    key=("survey_id", "response_id"),
    indexes=(("wave", "occurred_on"),),
    doc="One row per anonymous response; NULL is a question left unanswered.",
)

SURVEYS = Projection(
    "surveys",
    version=1,
    tables=(SURVEY_WAVES, SURVEY_RESPONSES),
    doc="Survey waves and their anonymous responses.",
)


@SURVEYS.reads
def _rows_read(event: Any) -> list[tuple[Table, Any]]:
    survey_id = str(event.originator_id)
    if isinstance(event, Survey.ResponseRecorded):
        return [(SURVEY_WAVES, survey_id), (SURVEY_RESPONSES, (survey_id, event.response_id))]
    return [(SURVEY_WAVES, survey_id)]


def _wave(view: ViewWriter, event: Any) -> dict[str, Any]:
    row = view.get(SURVEY_WAVES, str(event.originator_id))
    if row is None:
        raise LookupError(f"no row for survey {event.originator_id}: its opening is missing")
    return row


@SURVEYS.handles(Survey.WaveOpened)
def _opened(view: ViewWriter, event: Survey.WaveOpened, notification_id: int) -> None:
    view.insert(
        SURVEY_WAVES,
        {
            "survey_id": str(event.originator_id),
            "ref": event.ref,
            "community": event.community,
            "wave": str(event.wave),
            "sample_target": event.sample_target,
            "opened_at": event.meta.occurred_at,
            "status": "open",
            "responses": 0,
            "version": event.originator_version,
            "notification_id": notification_id,
        },
    )


@SURVEYS.handles(Survey.ResponseRecorded)
def _response(view: ViewWriter, event: Survey.ResponseRecorded, notification_id: int) -> None:
    wave = _wave(view, event)
    answers = event.answers
    view.insert(
        SURVEY_RESPONSES,
        {
            "survey_id": wave["survey_id"],
            "response_id": event.response_id,
            "wave": wave["wave"],
            "community": event.community,
            "occurred_on": local_date(event.meta.occurred_at),
            "aware": answers.aware,
            "participated": answers.participated,
            "satisfaction": None if answers.satisfaction is None else str(answers.satisfaction),
            "security": None if answers.security is None else str(answers.security),
            **event_values(event, notification_id),
        },
    )
    view.update(
        SURVEY_WAVES,
        wave["survey_id"],
        responses=wave["responses"] + 1,
        version=event.originator_version,
        notification_id=notification_id,
    )


@SURVEYS.handles(Survey.WaveClosed)
def _closed(view: ViewWriter, event: Survey.WaveClosed, notification_id: int) -> None:
    wave = _wave(view, event)
    view.update(
        SURVEY_WAVES,
        wave["survey_id"],
        status="closed",
        closed_at=event.meta.occurred_at,
        version=event.originator_version,
        notification_id=notification_id,
    )
