"""Commands of publicity and education campaigns (``campaign.*``)."""

from __future__ import annotations

from datetime import date

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.commands.shape import require_distinct
from safecomm_core.domain.campaign import (
    BRAVERY_MEASURE,
    CAMPAIGN_MEASURES,
    Audience,
    Campaign,
    CampaignTheme,
    MaterialKind,
)
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.personal import PersonInput
from safecomm_core.validation import (
    count,
    day,
    ident,
    ident_or_none,
    ids,
    label,
    labels,
    prose,
)

__all__ = [
    "CancelCampaign",
    "DistributeMaterials",
    "HoldCampaign",
    "PlanCampaign",
    "PubliciseBravery",
    "RecordParticipants",
]

#: Materials are publicity: every campaign measure except the bravery one.
_PUBLICITY = tuple(m for m in CAMPAIGN_MEASURES if m != BRAVERY_MEASURE)


@attrs.frozen(kw_only=True)
class _OnCampaign(Command):
    campaign_id: str = ident()


@command("campaign.plan", serves=CAMPAIGN_MEASURES)
@attrs.frozen(kw_only=True)
class PlanCampaign(Command):
    """Plan a campaign for a community (or ``*``: the subdistrict), naming what it serves.

    ``measures`` are plan measure ids among
    :data:`~safecomm_core.domain.campaign.CAMPAIGN_MEASURES`, each once.
    """

    campaign_id: str = ident()
    community: str = ident()
    title: str = label()
    theme: CampaignTheme
    measures: tuple[str, ...] = ids()
    planned_on: date = day()

    def run(self, ctx: Context) -> None:
        require_distinct("measures", self.measures)
        unknown = [
            FieldError(f"measures[{i}]", "must be one of " + ", ".join(CAMPAIGN_MEASURES))
            for i, m in enumerate(self.measures)
            if m not in CAMPAIGN_MEASURES
        ]
        if unknown:
            raise InvalidCommand(unknown)
        ctx.check_new(Campaign, self.campaign_id)
        ctx.add(
            Campaign(
                meta=ctx.meta,
                ref=self.campaign_id,
                community=self.community,
                title=self.title,
                theme=self.theme,
                measures=self.measures,
                planned_on=self.planned_on,
            )
        )


@command("campaign.hold", serves=CAMPAIGN_MEASURES)
@attrs.frozen(kw_only=True)
class HoldCampaign(_OnCampaign):
    """The campaign took place: where, for whom, how many came, with which partners.

    ``community`` defaults to the one it was planned for; a subdistrict-wide campaign
    names the community it was held in.
    """

    place: str = label()
    audiences: tuple[Audience, ...]
    attendance: int = count()
    partners: tuple[str, ...] = labels(default=())
    community: str | None = ident_or_none()

    def run(self, ctx: Context) -> None:
        require_distinct("audiences", self.audiences)
        require_distinct("partners", self.partners, at_least=0)  # refuses blank names too
        campaign = ctx.load(Campaign, self.campaign_id)
        campaign.hold(
            ctx.meta,
            place=self.place,
            community=campaign.community if self.community is None else self.community,
            audiences=self.audiences,
            attendance=self.attendance,
            partners=self.partners,
        )


@command("campaign.distribute_materials", serves=_PUBLICITY)
@attrs.frozen(kw_only=True)
class DistributeMaterials(_OnCampaign):
    """Leaflets, posters, letters to residents, blackboards... handed out or put up."""

    kind: MaterialKind
    count: int = count(minimum=1)

    def run(self, ctx: Context) -> None:
        ctx.load(Campaign, self.campaign_id).distribute_materials(ctx.meta, self.kind, self.count)


@command("campaign.publicise_bravery", serves=(BRAVERY_MEASURE,))
@attrs.frozen(kw_only=True)
class PubliciseBravery(_OnCampaign):
    """An act of bravery for a just cause (见义勇为) publicised by the campaign.

    The person, if named, is sealed: keep names out of ``description``.
    """

    description: str = prose()
    person: PersonInput | None = None

    def run(self, ctx: Context) -> None:
        campaign = ctx.load(Campaign, self.campaign_id)
        sealed = None if self.person is None else ctx.seal(self.person)
        campaign.publicise_bravery(ctx.meta, self.description, sealed)


@command("campaign.record_participants", serves=CAMPAIGN_MEASURES)
@attrs.frozen(kw_only=True)
class RecordParticipants(_OnCampaign):
    """Name people who took part in a held campaign (a sign-in sheet), each sealed.

    The same person keeps the same ``ref`` at every campaign: participation by register
    counts each once. Attendance stays the head count; campaigns where no names are taken
    keep only it. Entering a long sheet in several commands is fine.
    """

    participants: tuple[PersonInput, ...]

    def run(self, ctx: Context) -> None:
        require_distinct("participants", (p.ref for p in self.participants), what="participant")
        campaign = ctx.load(Campaign, self.campaign_id)
        sealed = tuple(ctx.seal(p) for p in self.participants)
        campaign.record_participants(ctx.meta, sealed)


@command("campaign.cancel", serves=CAMPAIGN_MEASURES)
@attrs.frozen(kw_only=True)
class CancelCampaign(_OnCampaign):
    """Call the campaign off before it is held."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Campaign, self.campaign_id).cancel(ctx.meta, self.reason)
