"""The group's monthly meetings (S1): problems raised on plan measures, corrective actions.

One meeting a month for the subdistrict's group, near the month's end; after the Spring
Festival the January meeting is held in early February, and is still January's. Each
raises a few open problems, each tied to the plan measure it concerns, and gives each an
action with an owner and a due date. Most actions are closed by their due date, some
after it (late), and a few are never closed: those due after the programme's end are
still open at its end, as are one in eight of the others.
"""

from __future__ import annotations

from datetime import date, timedelta

from safecomm_core.commands import meeting as mt
from safecomm_core.values import Role
from safecomm_demo.story import Writer, at, months, staff

__all__ = ["meetings"]

#: (plan measure, problem, action) as the minutes word them.
_PROBLEMS = (
    ("M1.2", "调解室周末值班人员不足", "排定周末值班表"),
    ("M1.3", "夜间巡逻志愿者人数不足", "动员党员和积极分子加入巡逻队"),
    ("M1.5", "老年人电信诈骗案件上升", "在各社区开展防诈骗讲座"),
    ("M2.1", "老旧小区技防设施资金缺口", "向区里申请专项资金"),
    ("M2.2", "部分停车棚看管员未到岗", "调整看管员并加强检查"),
    ("M2.2", "门卫大件物品出门登记不规范", "统一登记本格式并培训门卫"),
    ("M2.3", "个别联动单位预警回复不及时", "逐一约谈单位联络人"),
    ("M2.4", "社区QQ群居民提问回复慢", "明确网管回复时限"),
    ("M3.1", "出租房屋流动人口登记不全", "协管员逐户核查"),
    ("M3.2", "工地欠薪投诉增多", "联合劳动监察约谈企业"),
    ("M3.3", "符合三年居住条件的人员底数不清", "从信息平台筛查名单并上门服务"),
    ("S6", "居民对安全社区知晓率偏低", "发放告居民书并入户宣传"),
    ("P2", "宣传栏内容更新不及时", "每月更新宣传栏"),
    ("P6", "档案资料分类不统一", "按评定标准整理档案"),
)
_GROUP = ("staff-001", "staff-002", "staff-040", "staff-030", "staff-100")
_DIRECTORS = tuple(f"staff-{n:03d}" for n in range(3, 10))
_END = date(2014, 12, 31)


def meetings(w: Writer) -> None:
    """A meeting a month from October 2013 to December 2014, with problems and actions."""
    rng = w.rng
    chair = staff(1, Role.ADMIN)
    for month in months(date(2013, 10, 1), _END):
        held = month.replace(day=rng.randint(24, 28))
        if month == date(2014, 1, 1):
            held = date(2014, 2, 10)  # after the Spring Festival, still January's meeting
        ref = f"m-{month:%Y-%m}"
        attendees = _GROUP + tuple(sorted(rng.sample(_DIRECTORS, rng.randint(5, 7))))
        s = w.story(late_share=0.3, max_delay_days=5)
        w.add(
            s,
            mt.HoldMeeting,
            at(held, 14, 30),
            chair,
            meeting_id=ref,
            month=f"{month:%Y-%m}",
            attendees=attendees,
            minutes=f"{month:%Y年%m月}安全促进项目组例会: 通报进展, 研究解决存在问题",
        )
        for n, (measure, text, action) in enumerate(
            rng.sample(_PROBLEMS, min(len(_PROBLEMS), max(1, w.count(3)))), start=1
        ):
            problem_id, action_id = f"p{n}", f"a{n}"
            w.add(
                s,
                mt.RaiseProblem,
                at(held, 15),
                chair,
                meeting_id=ref,
                problem_id=problem_id,
                text=text,
                measure=measure,
            )
            due = held + timedelta(days=rng.choice([7, 14, 14, 21, 30]))
            owner = rng.choice(_GROUP[1:] + _DIRECTORS)
            w.add(
                s,
                mt.AssignAction,
                at(held, 15, 30),
                chair,
                meeting_id=ref,
                action_id=action_id,
                problem_id=problem_id,
                owner=owner,
                due=due,
            )
            roll = rng.random()
            if roll < 0.12:
                continue  # never closed
            # Mostly done by the due date; about one in six late by one to four weeks.
            closed = due - timedelta(days=rng.randint(0, 5))
            if roll > 0.83:
                closed = due + timedelta(days=rng.randint(3, 28))
            closed = max(closed, held + timedelta(days=1))
            if closed > _END:
                continue  # still open when the programme ends
            w.add(
                s,
                mt.CloseAction,
                at(closed, 16),
                staff(int(owner[-3:]), Role.STAFF),
                meeting_id=ref,
                action_id=action_id,
                result=f"已完成: {action}",
            )
