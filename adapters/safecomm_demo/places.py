"""The subdistrict's places: compounds, patrol checkpoints, workplaces (all made up).

Seven communities (C1–C7), four residential compounds each; twelve of them are old
compounds (fitted with anti-theft devices, M2.1) and twenty have a gatehouse (M2.2) and a
seat in the linkage network (M2.3). Names are invented in the local style; none is real.
"""

from __future__ import annotations

import attrs

from safecomm_demo.story import COMMUNITIES

__all__ = [
    "COMPOUNDS",
    "EMPLOYERS",
    "GATED",
    "OLD",
    "POPULATION",
    "Compound",
    "checkpoints",
    "compounds_of",
]

#: Residents of each community (for rates per 10,000 and survey samples).
POPULATION = {"C1": 7200, "C2": 5400, "C3": 6800, "C4": 4900, "C5": 6100, "C6": 5300, "C7": 4600}


@attrs.frozen
class Compound:
    """A residential compound: its community, name, and what the plan does there."""

    community: str
    name: str
    old: bool  # an old compound: devices fitted with raised funds (M2.1)
    gated: bool  # a gatehouse rebuilt and staffed (M2.2), and a member of the network


_NAMES = {
    "C1": ("河门口一村", "河门口二村", "电厂宿舍", "新华苑"),
    "C2": ("金沙苑", "渡口新村", "矿机宿舍", "滨江花园"),
    "C3": ("向阳小区", "冶建宿舍", "枣子坪", "锦华园"),
    "C4": ("瓜子坪", "运输公司宿舍", "怡景苑", "团结村"),
    "C5": ("东风小区", "供电局宿舍", "阳光城", "和平巷"),
    "C6": ("南山小区", "建安宿舍", "翠苑", "红星村"),
    "C7": ("沙坝小区", "粮站宿舍", "康乐园", "西区新村"),
}
# Old compounds are the works' and offices' staff quarters and the villages.
_OLD = {
    "河门口一村",
    "河门口二村",
    "电厂宿舍",
    "渡口新村",
    "矿机宿舍",
    "冶建宿舍",
    "枣子坪",
    "运输公司宿舍",
    "团结村",
    "供电局宿舍",
    "建安宿舍",
    "粮站宿舍",
}
# The twenty compounds whose gatehouses were rebuilt: all but one per community, and one
# more in the largest community (C1).
_UNGATED = {"新华苑", "滨江花园", "锦华园", "怡景苑", "和平巷", "红星村", "西区新村", "金沙苑"}

COMPOUNDS = tuple(
    Compound(c, name, name in _OLD, name not in _UNGATED) for c in COMMUNITIES for name in _NAMES[c]
)
OLD = tuple(c for c in COMPOUNDS if c.old)
GATED = tuple(c for c in COMPOUNDS if c.gated)

#: Where migrant workers work (organisations, kept in clear for labour cases, M3.2).
EMPLOYERS = (
    "河门口建筑工地",
    "攀西建安公司",
    "金沙江物流公司",
    "河门口农贸市场",
    "渡口餐饮店",
    "电厂检修队",
    "矿机配件厂",
    "滨江酒店",
    "家政服务社",
    "装修队",
)


def compounds_of(community: str) -> tuple[Compound, ...]:
    """The compounds of one community."""
    return tuple(c for c in COMPOUNDS if c.community == community)


def checkpoints(community: str) -> tuple[str, ...]:
    """The patrol checkpoints of a community: its compounds' gates, market, school, lanes."""
    names = [f"{c.name}大门" for c in compounds_of(community)]
    names += ["农贸市场", "学校门口", "背街小巷", "公交站", "停车棚"]
    return tuple(f"{community}:{n}" for n in names)
