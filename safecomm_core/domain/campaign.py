"""Campaign: a publicity or education event (plan M1.1, M1.5, M3.4, P2, S2–S5).

Planned → Held (once: place, community, audiences, attendance, partners) →
MaterialsDistributed* / BraveryPublicised* / ParticipantsRecorded*; or Planned → Cancelled.

Attendance is a head count, kept for every campaign; where names are taken (a sign-in
sheet), ParticipantsRecorded names the people who took part, sealed like every person, so
that participation by register counts each resident once however many events they came to
(docs/domain.md, *Campaigns, broadcasts and targets*).

A campaign is planned for one community, or for the whole subdistrict (community ``*``).
An act of bravery for a just cause (见义勇为, S5) is publicised through a campaign that
declares S5 among the measures it serves, so that every S5 figure rests on S5 campaigns.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, RuleViolation
from safecomm_core.personal import SealedPerson
from safecomm_core.values import Meta

__all__ = [
    "BRAVERY_MEASURE",
    "CAMPAIGN_MEASURES",
    "Audience",
    "Campaign",
    "CampaignStatus",
    "CampaignTheme",
    "MaterialKind",
]

#: The plan measures a campaign may serve: legal (M1.1) and anti-fraud (M1.5) publicity,
#: culture and education for migrant workers (M3.4), the publicity phase (P2: blackboards,
#: letters, posters), publicity months, media, schools and courses (S2–S4), bravery (S5).
CAMPAIGN_MEASURES = ("M1.1", "M1.5", "M3.4", "P2", "S2", "S3", "S4", "S5")

#: S5: publicise acts of bravery for a just cause.
BRAVERY_MEASURE = "S5"


class CampaignTheme(enum.StrEnum):
    """What the campaign teaches or celebrates."""

    LEGAL = "legal"
    ANTI_FRAUD = "anti_fraud"
    ANTI_THEFT = "anti_theft"
    SAFETY = "safety"
    RIGHTS = "rights"
    CULTURE = "culture"
    SCIENCE = "science"
    HEALTH = "health"
    BRAVERY = "bravery"
    OTHER = "other"


class Audience(enum.StrEnum):
    """Who the campaign reached (M3.4 takes activities to migrant workers on site)."""

    RESIDENTS = "residents"
    MIGRANT_WORKERS = "migrant_workers"
    STUDENTS = "students"
    ELDERLY = "elderly"
    CHILDREN = "children"
    UNITS = "units"
    STAFF = "staff"
    OTHER = "other"


class MaterialKind(enum.StrEnum):
    """Publicity materials (P2: blackboards, notice windows, letters to residents, posters)."""

    LEAFLET = "leaflet"
    POSTER = "poster"
    LETTER = "letter"
    BLACKBOARD = "blackboard"
    NOTICE_WINDOW = "notice_window"
    BANNER = "banner"
    BOOKLET = "booklet"
    OTHER = "other"


class CampaignStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Campaign(Record):
    """A publicity or education event, from its plan to what it handed out."""

    KIND = "campaign"
    TOPIC = "safecomm/Campaign"

    # -- creation ---------------------------------------------------------------------

    class Planned(Record.Created):
        TOPIC = "safecomm/Campaign/Planned"
        ref: str
        community: str
        title: str
        theme: CampaignTheme
        measures: tuple[str, ...]
        planned_on: date

    @event(Planned)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        title: str,
        theme: CampaignTheme,
        measures: tuple[str, ...],
        planned_on: date,
    ) -> None:
        self._created(meta, ref, community)
        self.title = title
        self.theme = CampaignTheme(theme)
        self.measures = tuple(measures)
        self.planned_on = planned_on
        self.status = CampaignStatus.PLANNED
        self.held_at: datetime | None = None
        self.place: str | None = None
        self.held_in: str | None = None
        self.audiences: tuple[Audience, ...] = ()
        self.attendance = 0
        self.partners: tuple[str, ...] = ()
        self.materials: dict[MaterialKind, int] = {}
        self.bravery_people: tuple[SealedPerson | None, ...] = ()
        self.participants: tuple[str, ...] = ()  # the refs of the people named as present

    # -- held -------------------------------------------------------------------------

    class Held(Record.Event):
        TOPIC = "safecomm/Campaign/Held"
        place: str
        community: str
        audiences: tuple[Audience, ...]
        attendance: int
        partners: tuple[str, ...]

    @event(Held)
    def _held(
        self,
        meta: Meta,
        place: str,
        community: str,
        audiences: tuple[Audience, ...],
        attendance: int,
        partners: tuple[str, ...],
    ) -> None:
        self.status = CampaignStatus.HELD
        self.held_at = meta.occurred_at
        self.place = place
        self.held_in = community
        self.audiences = tuple(Audience(a) for a in audiences)
        self.attendance = attendance
        self.partners = tuple(partners)

    def hold(
        self,
        meta: Meta,
        *,
        place: str,
        community: str,
        audiences: tuple[Audience, ...],
        attendance: int,
        partners: tuple[str, ...],
    ) -> None:
        """The event took place, once; in the planned community unless planned subdistrict-wide."""
        self.check_after_creation(meta)
        if self.status != CampaignStatus.PLANNED:
            raise self.not_allowed("hold", self.status.value)
        if self.community not in (SUBDISTRICT, community):
            raise RuleViolation(
                f"campaign {self.ref!r} was planned for community {self.community!r}; "
                f"it cannot be held in {community!r}",
                field="community",
                rule="the planned community",
            )
        self._held(
            meta=meta,
            place=place,
            community=community,
            audiences=tuple(audiences),
            attendance=attendance,
            partners=tuple(partners),
        )

    # -- after the event --------------------------------------------------------------

    class MaterialsDistributed(Record.Event):
        TOPIC = "safecomm/Campaign/MaterialsDistributed"
        kind: MaterialKind
        count: int

    @event(MaterialsDistributed)
    def _materials(self, meta: Meta, kind: MaterialKind, count: int) -> None:
        kind = MaterialKind(kind)
        self.materials = {**self.materials, kind: self.materials.get(kind, 0) + count}

    def distribute_materials(self, meta: Meta, kind: MaterialKind, count: int) -> None:
        """Materials handed out or put up at or after the event; counts add up per kind."""
        self._require_held(meta, "distribute materials for")
        self._materials(meta=meta, kind=kind, count=count)

    class BraveryPublicised(Record.Event):
        TOPIC = "safecomm/Campaign/BraveryPublicised"
        description: str
        person: SealedPerson | None

    @event(BraveryPublicised)
    def _bravery(self, meta: Meta, description: str, person: SealedPerson | None) -> None:
        self.bravery_people = (*self.bravery_people, person)

    def publicise_bravery(self, meta: Meta, description: str, person: SealedPerson | None) -> None:
        """An act of bravery for a just cause publicised (S5); the person only sealed."""
        self._require_held(meta, "publicise bravery in")
        if BRAVERY_MEASURE not in self.measures:
            raise RuleViolation(
                f"campaign {self.ref!r} does not serve {BRAVERY_MEASURE} (bravery for a just "
                f"cause); it serves {', '.join(self.measures)}",
                field="campaign_id",
                rule=f"must serve {BRAVERY_MEASURE}",
            )
        self._bravery(meta=meta, description=description, person=person)

    @property
    def bravery_acts(self) -> int:
        """How many acts of bravery this campaign publicised."""
        return len(self.bravery_people)

    class ParticipantsRecorded(Record.Event):
        TOPIC = "safecomm/Campaign/ParticipantsRecorded"
        participants: tuple[SealedPerson, ...]

    @event(ParticipantsRecorded)
    def _participants(self, meta: Meta, participants: tuple[SealedPerson, ...]) -> None:
        self.participants = (*self.participants, *(p.ref for p in participants))

    def record_participants(self, meta: Meta, participants: tuple[SealedPerson, ...]) -> None:
        """People named as present (a sign-in sheet), each once per campaign, and never more
        than the attendance counted."""
        self._require_held(meta, "record participants of")
        again = [
            FieldError(f"participants[{i}].ref", f"{p.ref!r} is already recorded as present")
            for i, p in enumerate(participants)
            if p.ref in self.participants
        ]
        if again:
            raise RuleViolation(
                f"campaign {self.ref!r}: {'; '.join(e.rule for e in again)}",
                field=again[0].field,
                rule="each person once per campaign",
            )
        named = len(self.participants) + len(participants)
        if named > self.attendance:
            raise RuleViolation(
                f"campaign {self.ref!r} counted {self.attendance} present; {named} cannot be named",
                field="participants",
                rule="no more people named than the attendance counted",
            )
        self._participants(meta=meta, participants=tuple(participants))

    # -- cancelled --------------------------------------------------------------------

    class Cancelled(Record.Event):
        TOPIC = "safecomm/Campaign/Cancelled"
        reason: str

    @event(Cancelled)
    def _cancelled(self, meta: Meta, reason: str) -> None:
        self.status = CampaignStatus.CANCELLED

    def cancel(self, meta: Meta, reason: str) -> None:
        """Called off before it was held (a held event stays on the record)."""
        self.check_after_creation(meta)
        if self.status != CampaignStatus.PLANNED:
            raise self.not_allowed("cancel", self.status.value)
        self._cancelled(meta=meta, reason=reason)

    # -- checks -----------------------------------------------------------------------

    def _require_held(self, meta: Meta, action: str) -> None:
        self.check_after_creation(meta)
        if self.held_at is None or self.status != CampaignStatus.HELD:
            raise self.not_allowed(action, self.status.value)
        self.check_not_before(meta, self.held_at, "the campaign was held")
