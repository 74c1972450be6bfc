"""The watchlist: the records staff must act on, as of a day.

One section per list, each row naming the record (a case number, an alert's or a
meeting's reference, a migrant worker's reference masked: never a name), how far past
its limit it is, and the rule that set the limit with the version of the rules it came
from (``C1 from 2014-06-01``, or ``default``).

What each list holds, as of day D (facts that occurred by the end of D), is in
:data:`LIST_DEFINITIONS`; ``safecomm report explain LIST --as-of D`` gives its rows and the
events behind each.

Durations are measured to the end of day D. A rule set adopted after D is not used, even
when it was made to take effect earlier: the list is what could be known on D. Facts
entered late count from when they occurred.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from safecomm_core.dates import SUBDISTRICT_TZ, end_of_day, local_date
from safecomm_core.domain.dispute import judicial_window_ends, settlement_due
from safecomm_core.domain.grid_alert import ack_due
from safecomm_core.domain.migrant import endorsement_opens, long_residence_from
from safecomm_core.domain.rules import DEFAULT_RULES, RuleVersion
from safecomm_core.indicators import UnknownIndicator
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.disputes import DISPUTE_FACTS, DISPUTE_ROWS, DISPUTES
from safecomm_core.projections.grid_alerts import ALERT_FACTS, ALERT_ROWS, ALERT_UNITS, ALERTS
from safecomm_core.projections.meetings import MEETING_ACTIONS, MEETINGS
from safecomm_core.projections.migrants import MIGRANT_FACTS, MIGRANTS
from safecomm_core.projections.rules import RULE_VERSIONS, RULEBOOK
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import Row, Table
from safecomm_core.reports import codes
from safecomm_core.reports.counting import EventRef
from safecomm_core.reports.masking import mask_numbers, mask_person_ref
from safecomm_core.reports.model import ColumnSpec, Report, Section, columns
from safecomm_core.reports.reading import (
    Reader,
    caught_up,
    dead_letters,
    in_scope,
    known_versions,
    read_views,
    rule_used,
)
from safecomm_core.reports.register import Facts, event_ref
from safecomm_core.reports.stored import Resolve, StoredEvents, no_events
from safecomm_core.service import Safecomm

__all__ = [
    "DEFAULT_CLOSING_DAYS",
    "LISTS",
    "LIST_DEFINITIONS",
    "PROJECTIONS",
    "ListExplained",
    "explain_list",
    "watchlist",
]

#: The views the watchlist reads: catch these up before calling :func:`watchlist`.
PROJECTIONS: tuple[Projection, ...] = (DISPUTES, ALERTS, MIGRANTS, MEETINGS, RULEBOOK)

#: A judicial-confirmation window is "closing" when it ends within this many days.
DEFAULT_CLOSING_DAYS = 7

Cells = tuple[str | int | float | None, ...]
#: A row of a list: how far past its limit (for the order), its cells, the events behind it.
FoundRow = tuple[float, Cells, tuple[EventRef, ...]]
Found = list[FoundRow]

#: Every list: its title in Chinese and English, and its columns before the rule columns.
LISTS: dict[str, tuple[str, str, tuple[ColumnSpec, ...]]] = {
    "first_mediation_overdue": (
        "超过首次调解时限的纠纷",
        "Disputes past the first-mediation setting",
        (
            ("case", "案件编号", "Case"),
            ("community", "社区", "Community"),
            ("kind", "类别", "Kind", codes.DISPUTE_KIND),
            ("reported_at", "受理报告时间", "Reported at"),
            ("deadline", "首次调解期限", "First session due by"),
            ("overdue_hours", "超时(小时)", "Overdue (hours)"),
        ),
    ),
    "settlement_overdue": (
        "超过调结期限的纠纷",
        "Disputes past the settlement setting",
        (
            ("case", "案件编号", "Case"),
            ("community", "社区", "Community"),
            ("kind", "类别", "Kind", codes.DISPUTE_KIND),
            ("accepted_on", "受理日期", "Accepted on"),
            ("due", "调结期限", "Settle by"),
            ("overdue_days", "超期(天)", "Overdue (days)"),
        ),
    ),
    "judicial_window_closing": (
        "司法确认申请期即将届满",
        "Judicial-confirmation windows closing",
        (
            ("case", "案件编号", "Case"),
            ("community", "社区", "Community"),
            ("agreement", "协议形式", "Agreement", codes.AGREEMENT),
            ("agreed_on", "协议生效日期", "Agreement on"),
            ("window_ends", "申请期届满", "Window ends"),
            ("days_left", "剩余天数", "Days left"),
        ),
    ),
    "alerts_unacknowledged": (
        "有单位未确认的警情",
        "Alerts with units not yet acknowledged",
        (
            ("alert", "警情编号", "Alert"),
            ("community", "社区", "Community"),
            ("category", "类别", "Category", codes.ALERT_CATEGORY),
            ("priority", "优先级", "Priority", codes.ALERT_PRIORITY),
            ("raised_at", "发出时间", "Raised at"),
            ("units_notified", "通知单位数", "Units notified"),
            ("units_silent", "未确认单位数", "Units not acknowledged"),
            ("units", "未确认单位", "Which units"),
            ("escalated", "已督办单位数", "Escalated"),
            ("ack_due", "确认期限", "Acknowledge by"),
            ("overdue_minutes", "超时(分钟)", "Overdue (minutes)"),
        ),
    ),
    "permits_to_endorse": (
        "居住证待签注或逾期",
        "Residence permits due for endorsement or overdue",
        (
            ("worker", "人员编号(已遮蔽)", "Worker (masked)"),
            ("community", "社区", "Community"),
            ("status", "状态", "Status", codes.PERMIT_STATUS),
            ("window_opens", "签注期开始", "Window opens"),
            ("due", "签注期限", "Endorse by"),
            ("days_left", "剩余天数", "Days left"),
            ("overdue_days", "逾期(天)", "Overdue (days)"),
        ),
    ),
    "eligible_not_offered": (
        "符合居住年限未获主动服务的外来务工人员(M3.3)",
        "Migrant workers eligible for M3.3 services, not offered",
        (
            ("worker", "人员编号(已遮蔽)", "Worker (masked)"),
            ("community", "社区", "Community"),
            ("resident_since", "连续居住起始", "Resident since"),
            ("eligible_since", "符合条件日期", "Eligible since"),
            ("days_waiting", "已等待(天)", "Waiting (days)"),
        ),
    ),
    "actions_overdue": (
        "逾期未完成的整改措施",
        "Meeting actions overdue",
        (
            ("meeting", "会议", "Meeting"),
            ("month", "月份", "Month"),
            ("community", "社区", "Community"),
            ("action", "措施编号", "Action"),
            ("measure", "涉及措施", "Plan measure"),
            ("owner", "责任人(工号)", "Owner (staff id)"),
            ("due", "完成期限", "Due"),
            ("overdue_days", "逾期(天)", "Overdue (days)"),
        ),
    ),
}


#: What each list holds as of day D (facts that occurred by the end of D).
LIST_DEFINITIONS: dict[str, str] = {
    "first_mediation_overdue": (
        "open disputes with no session yet, reported more than first_mediation_hours before "
        "the end of D (rules in force in the dispute's community on the day it was "
        "reported). Events: the report."
    ),
    "settlement_overdue": (
        "accepted disputes not closed, past settle_within_days from acceptance (rules on the "
        "day of acceptance). Events: the acceptance."
    ),
    "judicial_window_closing": (
        "agreements with no application for judicial confirmation whose window "
        "(judicial_confirmation_days from the agreement; 人民调解法 Art. 33) ends within N "
        "days of D (rules in force on D, the day an application would be made, as the "
        "command judges it). Events: the agreement."
    ),
    "alerts_unacknowledged": (
        "alerts not concluded with units that have not acknowledged; overdue past "
        "alert_ack_minutes from raising (rules on the day raised). Events: the raise."
    ),
    "permits_to_endorse": (
        "residence permits whose endorsement window has opened "
        "(permit_endorsement_window_months before each full year; 居住证暂行条例 Art. 10), "
        "or whose endorsement is overdue. Events: the latest issue, endorsement or "
        "suspension of the permit."
    ),
    "actions_overdue": (
        "corrective actions of meetings open past their due date. Events: the assignment."
    ),
    "eligible_not_offered": (
        "workers resident proactive_service_years or more (rules in force on D: the duty "
        "to offer arises now) with no long-residence service offered. Events: the "
        "registration, and the fact that restarted residence, if any."
    ),
}

_RULE: tuple[ColumnSpec, ...] = (
    ("rule", "规则", "Rule", codes.RULE),
    ("rule_version", "规则版本", "Rule version", codes.RULE_VERSION),
)


def watchlist(
    source: Safecomm | Projector,
    *,
    as_of: date,
    community: str | None = None,
    closing_within_days: int = DEFAULT_CLOSING_DAYS,
    generated_at: datetime | None = None,
) -> Report:
    """The watchlist as of the end of ``as_of``, for ``community`` (None: the subdistrict).

    Side effect: whether ``source`` is a store or a projector over one, the views the
    watchlist reads (:data:`PROJECTIONS`) are caught up first, which writes to the views
    database.

    >>> from datetime import date
    >>> from safecomm_core import open_store
    >>> service = open_store("memory://")
    >>> todo = watchlist(service, as_of=date(2014, 6, 20), community="C1")
    >>> todo.scope, [section.id for section in todo.sections][:3]
    ('C1', ['summary', 'first_mediation_overdue', 'settlement_overdue'])
    >>> service.close()
    """
    if closing_within_days < 0:
        raise ValueError("closing_within_days must not be negative")
    with caught_up(source, PROJECTIONS) as projector, read_views(projector, PROJECTIONS) as read:
        letters = dead_letters(projector, PROJECTIONS)
        sections = _Lists(read, as_of, community).sections(closing_within_days)
    summary = Section(
        id="summary",
        zh="概况",
        en="Summary",
        columns=columns(
            ("list", "清单", "List", codes.WATCH_LIST),
            ("zh", "中文名称", "Name (Chinese)"),
            ("en", "英文名称", "Name (English)"),
            ("rows", "条数", "Rows"),
        ),
        rows=tuple((s.id, s.zh, s.en, len(s.rows)) for s in sections),
    )
    return Report(
        kind="watchlist",
        zh="待办清单",
        en="Watchlist",
        period=as_of.isoformat(),
        scope=community or "*",
        generated_at=generated_at or datetime.now(UTC),
        sections=(summary, *sections),
        dead_letters=letters,
        notes=(
            f"as of the end of {as_of.isoformat()} (Asia/Shanghai); facts count from when "
            "they occurred",
            "rules: those in force in the record's community on the day its duty arose, "
            "among the sets adopted by then",
            "people are never named; migrant workers' references are masked",
        ),
    )


@attrs.frozen
class ListExplained:
    """One list of the watchlist and what is behind its count: each row's cells (as the
    report shows them) and the stored events that put it on the list."""

    id: str
    as_of: date
    scope: str
    rows: tuple[tuple[Cells, tuple[EventRef, ...]], ...]

    @property
    def count(self) -> int:
        """How many rows the list has: the count the watchlist's summary gives."""
        return len(self.rows)

    def events(self) -> tuple[EventRef, ...]:
        """Every event behind the list, each once, in the order the store holds them."""
        return tuple(sorted({e for _, events in self.rows for e in events}))


def explain_list(
    source: Safecomm | Projector,
    list_id: str,
    *,
    as_of: date,
    community: str | None = None,
    closing_within_days: int = DEFAULT_CLOSING_DAYS,
) -> ListExplained:
    """The rows of one list of the watchlist as of ``as_of``, each with the events behind it
    (read from the log where a view keeps only their positions)."""
    if list_id not in LISTS:
        raise UnknownIndicator(list_id, known=LISTS)
    with caught_up(source, PROJECTIONS) as projector, read_views(projector, PROJECTIONS) as read:
        lists = _Lists(read, as_of, community, StoredEvents(projector.log))
        lists.sections(closing_within_days)
    return ListExplained(list_id, as_of, community or "*", tuple(lists.found[list_id]))


class _Lists:
    """The lists of one watchlist, from one consistent read of the views."""

    def __init__(
        self,
        read: Reader,
        as_of: date,
        scope: str | None,
        events: Resolve = no_events,
    ) -> None:
        end = end_of_day(as_of)
        self.as_of, self.end, self.scope = as_of, end, scope
        self.read = read
        self.events = events
        self.versions: tuple[RuleVersion, ...] = known_versions(read.rows(RULE_VERSIONS), end)
        #: Each list's rows in order, with the events behind each (see :func:`explain_list`).
        self.found: dict[str, list[tuple[Cells, tuple[EventRef, ...]]]] = {}

    def sections(self, closing_within_days: int) -> tuple[Section, ...]:
        """Every list, in the report's order."""
        return (
            self.first_mediation(),
            self.settlement(),
            self.judicial_window(closing_within_days),
            self.alerts(),
            self.permits(),
            self.actions(),
            self.eligible_not_offered(),
        )

    def _section(self, id_: str, found: Found) -> Section:
        ordered = sorted(found, key=lambda item: (-item[0], str(item[1][0])))
        self.found[id_] = [(cells, events) for _, cells, events in ordered]
        return _section(id_, [cells for _, cells, _ in ordered])

    # The lists read only the records that can be on them as of the day, picked in the
    # database (a few more: the lists choose among them as among every record): disputes
    # open then or closed within the longest judicial window, alerts not concluded, every
    # worker's facts by then. Memory follows what is open, not the whole history.

    @functools.cached_property
    def _dispute_cut(self) -> tuple[str, list[Any]]:
        rules = [DEFAULT_RULES, *(v.rules for v in self.versions)]
        longest = max(r.judicial_confirmation_days for r in rules)
        since = end_of_day(self.as_of - timedelta(days=longest + 2))
        return "closed_at IS NULL OR closed_at >= ?", [
            self.read.param(DISPUTE_ROWS, "closed_at", since)
        ]

    @functools.cached_property
    def _alert_cut(self) -> tuple[str, list[Any]]:
        end = self.end
        return (
            "(concluded_at IS NULL OR concluded_at >= ?) AND (closed_at IS NULL OR closed_at >= ?)",
            [
                self.read.param(ALERT_ROWS, "concluded_at", end),
                self.read.param(ALERT_ROWS, "closed_at", end),
            ],
        )

    def _of(self, column: str, table: Table, cut: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
        """The rows of a child table whose record ``cut`` picks in ``table``."""
        return f"{column} IN (SELECT {column} FROM {self.read.name(table)} WHERE {cut[0]})", cut[1]

    @functools.cached_property
    def _dispute_facts(self) -> Facts:
        refs = {r["dispute_id"]: r["ref"] for r in self._disputes}
        rows = self.read.rows(
            DISPUTE_FACTS, *self._of("dispute_id", DISPUTE_ROWS, self._dispute_cut)
        )
        return Facts("dispute", "dispute_id", rows, refs)

    @functools.cached_property
    def _alerts(self) -> list[Row]:
        return self.read.rows(ALERT_ROWS, *self._alert_cut)

    @functools.cached_property
    def _alert_facts(self) -> Facts:
        refs = {a["alert_id"]: a["ref"] for a in self._alerts}
        rows = self.read.rows(ALERT_FACTS, *self._of("alert_id", ALERT_ROWS, self._alert_cut))
        return Facts("alert", "alert_id", rows, refs)

    def _mine(self, rows: Iterable[Row]) -> list[Row]:
        return [r for r in rows if in_scope(r["community"], self.scope)]

    def _before(self, moment: datetime | None) -> bool:
        """Whether ``moment`` is set and came before the end of the day."""
        return moment is not None and moment < self.end

    # -- disputes -----------------------------------------------------------------------

    # Three lists read the disputes and two the workers: each is read from the views once.

    @functools.cached_property
    def _disputes(self) -> list[Row]:
        return self._mine(self.read.rows(DISPUTE_ROWS, *self._dispute_cut))

    @functools.cached_property
    def _open_disputes(self) -> list[Row]:
        return [
            r
            for r in self._disputes
            if self._before(r["reported_at"]) and not self._before(r["closed_at"])
        ]

    def first_mediation(self) -> Section:
        found: Found = []
        for r in self._open_disputes:
            if self._before(r["first_session_at"]):
                continue
            rule = rule_used(self.versions, r["community"], local_date(r["reported_at"]))
            deadline = r["reported_at"] + timedelta(hours=rule.rules.first_mediation_hours)
            if deadline >= self.end:
                continue
            hours = _hours(self.end - deadline)
            cells = (
                r["ref"],
                r["community"],
                r["kind"],
                _when(r["reported_at"]),
                _when(deadline),
                hours,
                rule.label("first_mediation_hours"),
                rule.version_label,
            )
            found.append((hours, cells, self._dispute_facts.get(r["dispute_id"], "reported")))
        return self._section("first_mediation_overdue", found)

    def settlement(self) -> Section:
        found: Found = []
        for r in self._open_disputes:
            if not self._before(r["accepted_at"]):
                continue
            accepted_on = local_date(r["accepted_at"])
            rule = rule_used(self.versions, r["community"], accepted_on)
            due = settlement_due(accepted_on, rule.rules.settle_within_days)
            if due >= self.as_of:
                continue
            days = (self.as_of - due).days
            cells = (
                r["ref"],
                r["community"],
                r["kind"],
                accepted_on.isoformat(),
                due.isoformat(),
                days,
                rule.label("settle_within_days"),
                rule.version_label,
            )
            found.append((days, cells, self._dispute_facts.get(r["dispute_id"], "accepted")))
        return self._section("settlement_overdue", found)

    def judicial_window(self, within_days: int) -> Section:
        found: Found = []
        for r in self._disputes:
            agreed = str(r["outcome"] or "").startswith("agreement")
            if not agreed or not self._before(r["closed_at"]):
                continue
            if self._before(r["judicial_applied_at"]):
                continue
            agreed_on = local_date(r["closed_at"])
            rule = rule_used(self.versions, r["community"], self.as_of)
            ends = judicial_window_ends(agreed_on, rule.rules.judicial_confirmation_days)
            left = (ends - self.as_of).days
            if not 0 <= left <= within_days:
                continue
            cells = (
                r["ref"],
                r["community"],
                r["outcome"],
                agreed_on.isoformat(),
                ends.isoformat(),
                left,
                rule.label("judicial_confirmation_days"),
                rule.version_label,
            )
            found.append((-left, cells, self._dispute_facts.get(r["dispute_id"], "closed")))
        return self._section("judicial_window_closing", found)

    # -- alerts ---------------------------------------------------------------------------

    def alerts(self) -> Section:
        units: dict[str, list[Row]] = defaultdict(list)
        where, params = self._of("alert_id", ALERT_ROWS, self._alert_cut)
        unacknowledged = f"(acknowledged_at IS NULL OR acknowledged_at >= ?) AND {where}"
        end = self.read.param(ALERT_UNITS, "acknowledged_at", self.end)
        for u in self.read.rows(ALERT_UNITS, unacknowledged, [end, *params]):
            if not self._before(u["acknowledged_at"]):
                units[u["alert_id"]].append(u)
        found: Found = []
        for a in self._mine(self._alerts):
            silent = units.get(a["alert_id"], [])
            if not silent or not self._before(a["raised_at"]):
                continue
            if self._before(a["concluded_at"]) or self._before(a["closed_at"]):
                continue
            rule = rule_used(self.versions, a["community"], a["raised_on"])
            due = ack_due(a["raised_at"], rule.rules.alert_ack_minutes)
            minutes = max(0, _minutes(self.end - due))
            escalated = sum(self._before(u["escalated_at"]) for u in silent)
            cells = (
                mask_numbers(a["ref"]),
                a["community"],
                a["category"],
                a["priority"],
                _when(a["raised_at"]),
                a["recipients"],
                len(silent),
                ", ".join(mask_numbers(u["unit"]) for u in silent),
                escalated,
                _when(due),
                minutes,
                rule.label("alert_ack_minutes"),
                rule.version_label,
            )
            found.append((minutes, cells, self._alert_facts.get(a["alert_id"], "raised")))
        return self._section("alerts_unacknowledged", found)

    # -- migrant workers ------------------------------------------------------------------

    def _workers(self) -> Iterator[tuple[Row, list[Row]]]:
        """Each worker registered on the day: their state then, and their facts by then;
        read from the views one worker at a time (everyone who ever registered is more
        than a watchlist should hold), in the database's order of worker ids."""
        by_then = self.read.param(MIGRANT_FACTS, "occurred_at", self.end)
        read = self.read.stream(
            MIGRANT_FACTS, "occurred_at < ?", [by_then], _WORKER_COLUMNS, MIGRANT_FACTS.key
        )
        for _, facts in itertools.groupby(read, key=lambda f: f["worker_id"]):
            history = [f for f in facts if f["occurred_at"] < self.end]  # in version order
            if not history:
                continue
            state = history[-1]
            if state["status"] == "registered" and in_scope(state["community"], self.scope):
                yield state, history

    @staticmethod
    def _by_worker(found: list[tuple[str, FoundRow]]) -> Found:
        """The rows found, worker by worker in the order of their ids (ties in a list's
        own order keep it, whatever order the database gave)."""
        return [row for _, row in sorted(found, key=lambda item: item[0])]

    def permits(self) -> Section:
        found: list[tuple[str, FoundRow]] = []
        for state, history in self._workers():
            due = state["endorsement_due_on"]
            if state["permit"] not in ("issued", "suspended") or due is None:
                continue
            rule = rule_used(self.versions, state["community"], self.as_of)
            opens = endorsement_opens(due, rule.rules.permit_endorsement_window_months)
            if self.as_of < opens:
                continue
            days = (self.as_of - due).days
            status = "suspended" if state["permit"] == "suspended" else _due_or_overdue(days)
            cells = (
                mask_person_ref(state["ref"]),
                state["community"],
                status,
                opens.isoformat(),
                due.isoformat(),
                max(0, -days),
                max(0, days),
                rule.label("permit_endorsement_window_months"),
                rule.version_label,
            )
            permit = [f for f in history if f["fact"] in _PERMIT_FACTS][-1:]
            events = tuple(_worker_event(f) for f in permit)
            found.append((state["worker_id"], (days, cells, events)))
        return self._section("permits_to_endorse", self._by_worker(found))

    def eligible_not_offered(self) -> Section:
        found: list[tuple[str, FoundRow]] = []
        for state, history in self._workers():
            if any(f["fact"] == "service_offered" and f["eligible_since"] for f in history):
                continue
            rule = rule_used(self.versions, state["community"], self.as_of)
            years = rule.rules.proactive_service_years
            eligible = long_residence_from(state["residence_since"], years)
            if eligible > self.as_of:
                continue
            days = (self.as_of - eligible).days
            cells = (
                mask_person_ref(state["ref"]),
                state["community"],
                state["residence_since"].isoformat(),
                eligible.isoformat(),
                days,
                rule.label("proactive_service_years"),
                rule.version_label,
            )
            registered = [f for f in history if f["fact"] == "registered"][:1]
            restarted = [f for f in history if f["residence_since"] == state["residence_since"]][:1]
            behind = tuple(sorted({_worker_event(f) for f in (*registered, *restarted)}))
            found.append((state["worker_id"], (days, cells, behind)))
        return self._section("eligible_not_offered", self._by_worker(found))

    # -- meetings ---------------------------------------------------------------------------

    def actions(self) -> Section:
        found: Found = []
        for a in self._mine(self.read.rows(MEETING_ACTIONS)):
            if not self._before(a["assigned_at"]) or self._before(a["closed_at"]):
                continue
            if a["due"] >= self.as_of:
                continue
            days = (self.as_of - a["due"]).days
            cells = (
                a["ref"],
                a["month"],
                a["community"],
                a["action_id"],
                a["measure"],
                mask_numbers(a["owner"]),
                a["due"].isoformat(),
                days,
                f"due = {a['due'].isoformat()}",
                f"meeting {a['ref']}",
            )
            found.append((days, cells, self.events((a["assigned_notification"],))))
        return self._section("actions_overdue", found)


def _section(id_: str, rows: list[Cells]) -> Section:
    """A list as a section (see :data:`LISTS`), its rows in order."""
    zh, en, listed = LISTS[id_]
    return Section(id=id_, zh=zh, en=en, columns=columns(*listed, *_RULE), rows=tuple(rows))


#: The facts that set a permit's endorsement date or status.
_PERMIT_FACTS = ("permit_issued", "permit_endorsed", "permit_suspended")
#: The columns the lists read of the workers' facts (the only view they read whole).
_WORKER_COLUMNS = (
    "worker_id",
    "ref",
    "fact",
    "status",
    "community",
    "permit",
    "endorsement_due_on",
    "residence_since",
    "eligible_since",
    "notification_id",
    "originator_version",
    "topic",
    "occurred_at",
)


def _worker_event(fact: Row) -> EventRef:
    return event_ref("migrant", fact["ref"], fact)


def _due_or_overdue(days_past_due: int) -> str:
    return "overdue" if days_past_due > 0 else "due"


def _when(moment: datetime) -> str:
    return moment.astimezone(SUBDISTRICT_TZ).strftime("%Y-%m-%d %H:%M")


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 1)


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
