"""Publicity and education campaigns (M1.1, M1.5, M3.4, P2, S2–S5).

The programme opens with the kick-off meeting (P2) and a letter to every household; each
November is a publicity month (S2) and 4 December the legal publicity day. Through the
year the communities hold about ``PER_MONTH`` events a month between them (× scale): legal
publicity with the police and the judicial office, anti-fraud talks for the elderly,
culture, health and law taken to construction sites for migrant workers, safety lessons in
schools, training courses for grid workers and custodians. A few are rained off and
cancelled. Twice a year acts of bravery for a just cause are publicised (S5), the people
honoured kept sealed. Anti-fraud talks and rights classes take a sign-in sheet: some of the
people who came are named (sealed), the same residents coming back to later talks, so
participation by register counts people, not attendances; the other events keep their
head count only.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from safecomm_core.commands import campaign as cp
from safecomm_core.domain.campaign import Audience, CampaignTheme, MaterialKind
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.personal import PersonInput
from safecomm_core.values import Role
from safecomm_demo.story import COMMUNITIES, Story, Writer, at, months, staff

__all__ = ["PER_MONTH", "campaigns"]

#: Campaign events a month across the communities, at scale 1.
PER_MONTH = 5

_END = date(2014, 12, 31)
_ORGANISER = staff(121, Role.STAFF)

#: theme: (weight, title, measures, audiences, place, partners)
_KINDS: dict[
    CampaignTheme, tuple[int, str, tuple[str, ...], tuple[Audience, ...], str, tuple[str, ...]]
] = {
    CampaignTheme.LEGAL: (
        30,
        "法律进社区宣传",
        ("M1.1", "S2"),
        (Audience.RESIDENTS,),
        "社区广场",
        ("河门口派出所", "街道司法所"),
    ),
    CampaignTheme.ANTI_FRAUD: (
        25,
        "防范电信诈骗讲座",
        ("M1.5",),
        (Audience.ELDERLY, Audience.RESIDENTS),
        "社区活动室",
        ("河门口派出所",),
    ),
    CampaignTheme.CULTURE: (
        15,
        "文化科技卫生法律进工地",
        ("M3.4",),
        (Audience.MIGRANT_WORKERS,),
        "建筑工地",
        ("区文化馆",),
    ),
    CampaignTheme.RIGHTS: (
        10,
        "农民工维权知识宣讲",
        ("M1.1", "M3.4"),
        (Audience.MIGRANT_WORKERS,),
        "工地食堂",
        ("区法律援助中心",),
    ),
    CampaignTheme.SAFETY: (
        12,
        "安全知识进校园",
        ("S3",),
        (Audience.STUDENTS, Audience.CHILDREN),
        "学校操场",
        ("河门口派出所",),
    ),
    CampaignTheme.ANTI_THEFT: (
        8,
        "防盗技能培训班",
        ("S4",),
        (Audience.STAFF, Audience.UNITS),
        "街道会议室",
        (),
    ),
    # Weight 0: held only where the plan puts them (the kick-off, the awards).
    CampaignTheme.BRAVERY: (
        0,
        "见义勇为表彰会",
        ("S5", "S2"),
        (Audience.RESIDENTS,),
        "街道会议室",
        ("河门口派出所",),
    ),
}
_MATERIALS = (MaterialKind.LEAFLET, MaterialKind.POSTER, MaterialKind.BOOKLET, MaterialKind.BANNER)
_BRAVERY = (
    (date(2014, 3, 5), "市民勇擒抢夺挎包的嫌疑人"),
    (date(2014, 3, 5), "保安员从火场救出被困老人"),
    (date(2014, 9, 28), "出租车司机协助警方抓获盗窃嫌疑人"),
)


#: Themes whose events take a sign-in sheet (names sealed).
_SIGNED = (CampaignTheme.ANTI_FRAUD, CampaignTheme.RIGHTS)


class _Campaigns:
    """Numbers the campaigns and writes each one's story."""

    def __init__(self, w: Writer, people: list[PersonInput]) -> None:
        self.w = w
        self.n = 0
        self.people = people
        # Sign-in sheets draw from a stream of their own, so the campaigns stay as they were.
        self.sheets = random.Random(f"{w.seed}/sign-in sheets")

    def one(
        self,
        theme: CampaignTheme,
        community: str,
        day: date,
        *,
        title: str | None = None,
        measures: tuple[str, ...] | None = None,
        audiences: tuple[Audience, ...] | None = None,
        place: str | None = None,
        cancellable: bool = True,
    ) -> tuple[str, Story, datetime] | None:
        """Plan a campaign and hold it (or call it off); its id, story and when it was held."""
        w, rng = self.w, self.w.rng
        self.n += 1
        ref = f"cp-{self.n:03d}"
        _weight, usual_title, usual_measures, usual_audiences, usual_place, partners = _KINDS[theme]
        s = w.story(late_share=0.2, max_delay_days=10)
        w.add(
            s,
            cp.PlanCampaign,
            at(day - timedelta(days=rng.randint(7, 20)), 10),
            _ORGANISER,
            campaign_id=ref,
            community=community,
            title=title or usual_title,
            theme=theme,
            measures=measures or usual_measures,
            planned_on=day,
        )
        if cancellable and rng.random() < 0.05:
            w.add(
                s,
                cp.CancelCampaign,
                at(day - timedelta(days=1), 17),
                _ORGANISER,
                campaign_id=ref,
                reason="天气原因取消",
            )
            return None
        held = at(day, rng.choice([9, 10, 14, 15, 19]))
        attendance = rng.randint(30, 400)
        w.add(
            s,
            cp.HoldCampaign,
            held,
            _ORGANISER,
            campaign_id=ref,
            place=place or usual_place,
            audiences=audiences or usual_audiences,
            attendance=attendance,
            partners=partners,
            # A subdistrict-wide event is held in the subdistrict's hall, in C1.
            community=community if community != SUBDISTRICT else "C1",
        )
        for kind in rng.sample(_MATERIALS, rng.randint(0, 2)):
            w.add(
                s,
                cp.DistributeMaterials,
                held + timedelta(hours=1),
                _ORGANISER,
                campaign_id=ref,
                kind=kind,
                count=rng.randint(50, 800),
            )
        if theme in _SIGNED and self.people:
            signed = min(attendance, len(self.people), self.sheets.randint(8, 30))
            w.add(
                s,
                cp.RecordParticipants,
                held + timedelta(hours=2),
                _ORGANISER,
                campaign_id=ref,
                participants=tuple(self.sheets.sample(self.people, signed)),
            )
        return ref, s, held


def campaigns(w: Writer, people: list[PersonInput]) -> None:
    """The kick-off, the publicity months, the monthly events and the bravery awards."""
    rng = w.rng
    c = _Campaigns(w, people)
    kickoff = c.one(
        CampaignTheme.SAFETY,
        SUBDISTRICT,
        date(2013, 10, 18),
        title="安全社区创建启动大会",
        measures=("P2", "S2"),
        audiences=(Audience.RESIDENTS, Audience.UNITS, Audience.STAFF),
        place="街道会议室",
        cancellable=False,
    )
    assert kickoff is not None
    ref, s, held = kickoff
    w.add(
        s,
        cp.DistributeMaterials,
        held + timedelta(days=7),
        _ORGANISER,
        campaign_id=ref,
        kind=MaterialKind.LETTER,
        count=14000,
    )
    for day in (date(2013, 11, 15), date(2013, 12, 4), date(2014, 11, 14), date(2014, 12, 4)):
        for community in COMMUNITIES:
            c.one(CampaignTheme.LEGAL, community, day, title="法制宣传月集中宣传")
    themes = [t for t in _KINDS if _KINDS[t][0]]
    weights = [_KINDS[t][0] for t in themes]
    for month in months(date(2013, 11, 1), _END):
        for _ in range(w.count(PER_MONTH)):
            day = month + timedelta(days=rng.randint(0, 27))
            c.one(rng.choices(themes, weights)[0], rng.choice(COMMUNITIES), day)
    for award in sorted({day for day, _deed in _BRAVERY}):
        held_award = c.one(CampaignTheme.BRAVERY, SUBDISTRICT, award, cancellable=False)
        assert held_award is not None
        ref, s, held = held_award
        for day, deed in _BRAVERY:
            if day == award:
                w.add(
                    s,
                    cp.PubliciseBravery,
                    held + timedelta(minutes=30),
                    _ORGANISER,
                    campaign_id=ref,
                    description=deed,
                    person=rng.choice(people),
                )
