"""How the monthly report computes each indicator of the registry
(:data:`~safecomm_core.indicators.INDICATORS`): one definition each, whose docstring says
exactly what its numerator and denominator count.

Common to all (definition version 1):

- **Periods are months by ``occurred_at``**, read as dates in the subdistrict
  (Asia/Shanghai). A fact entered late counts in the month it happened.
- **Scope**: a thing counts in the community of its record (a dispute's, an alert's raising
  unit's, a worker's as of the period's end, a survey response's, an asset's). The
  subdistrict (``*``) counts everything, including records of the subdistrict itself.
- **Rules** (T for alerts, the days to settle, M3.3's years) are the ones in force in the
  record's community on the day the duty arose, found by the domain's own
  :func:`~safecomm_core.domain.rules.rules_in_force`.
- A rate whose denominator is 0 is ``None``: not applicable.
- Every counted thing carries the stored events that put it in the count: what
  ``safecomm report explain`` lists.

Each definition below returns a :class:`~safecomm_core.reports.counting.Tally` for one
month over every community; :mod:`safecomm_core.reports.monthly` turns it into figures.
"""

from __future__ import annotations

import bisect
import functools
import inspect
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime

import attrs

from safecomm_core.dates import Month, local_date
from safecomm_core.domain.dispute import settlement_due
from safecomm_core.domain.grid_alert import ack_due
from safecomm_core.domain.migrant import long_residence_from
from safecomm_core.domain.rules import SUBDISTRICT, Rules
from safecomm_core.domain.survey import FivePointScale, Satisfaction, Security, Wave
from safecomm_core.indicators import Indicator, indicator
from safecomm_core.projections.populations import in_force
from safecomm_core.projections.schema import Row
from safecomm_core.reports.counting import Counted, EventRef, Kind, Tally
from safecomm_core.reports.reading import RuleUsed, rule_used
from safecomm_core.reports.register import Register, event_ref

__all__ = ["DEFINITIONS", "Definition", "latest_wave"]


Compute = Callable[[Register, Month], Tally]


@attrs.frozen
class Definition:
    """How the monthly report computes one indicator of the registry: how its value is taken
    from its tally (``kind``), and the code that counts."""

    indicator: Indicator
    kind: Kind
    compute: Compute
    #: The rule (of :class:`~safecomm_core.domain.rules.Rules`) that decides how the
    #: figure reads its data, one for the whole scope: the survey scales' middle answer.
    reading_rule: str | None = None

    @property
    def id(self) -> str:
        """The indicator's id."""
        return self.indicator.id

    @property
    def version(self) -> str:
        """The definition version (the registry's)."""
        return self.indicator.version

    @property
    def basis(self) -> str:
        """Where the counts come from: "register", "survey" or "police"."""
        return self.indicator.basis.value

    @property
    def doc(self) -> str:
        """What the numerator and denominator count (the definition's docstring)."""
        return inspect.getdoc(self.compute) or ""

    def reading(self, reg: Register, month: Month, scope: str) -> RuleUsed | None:
        """The rules in force for ``scope`` on the month's last day, where a rule decides
        how this figure reads its data (None for the others)."""
        if self.reading_rule is None:
            return None
        return rule_used(reg.rule_versions, scope, month.last)

    def version_label(self, reg: Register, month: Month, scope: str) -> str:
        """The definition version as reported: ``1+basic`` when the reading in force
        counts the middle answer."""
        used = self.reading(reg, month, scope)
        if used is not None and self.reading_rule and getattr(used.rules, self.reading_rule):
            return f"{self.version}+basic"
        return self.version

    def reading_label(self, reg: Register, month: Month, scope: str) -> str:
        """The rule and the version it came from: ``fairly_safe_counts = True (* from
        2015-01-01)``; empty for a figure no single rule reads."""
        used = self.reading(reg, month, scope)
        if used is None or self.reading_rule is None:
            return ""
        return f"{used.label(self.reading_rule)} ({used.version_label})"


#: Every indicator the monthly report computes, by id, in report order.
DEFINITIONS: dict[str, Definition] = {}


def _indicator(
    id: str, *, kind: Kind = "rate", reading_rule: str | None = None
) -> Callable[[Compute], Compute]:
    def register(compute: Compute) -> Compute:
        if id in DEFINITIONS:
            raise ValueError(f"indicator {id!r} is defined twice")
        DEFINITIONS[id] = Definition(indicator(id), kind, compute, reading_rule)
        return compute

    return register


def _tally(pairs: Iterable[tuple[Counted, Counted | None]]) -> Tally:
    """A tally from (denominator item, numerator item or None) pairs."""
    den: list[Counted] = []
    num: list[Counted] = []
    for in_den, in_num in pairs:
        den.append(in_den)
        if in_num is not None:
            num.append(in_num)
    return Tally(tuple(num), tuple(den))


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


# -- disputes (M1.2–M1.4; 人民调解法) ---------------------------------------------------------

_MEDIATED = ("agreement_written", "agreement_oral", "terminated")


def _closed_in(reg: Register, month: Month) -> Iterable[Row]:
    """Disputes whose mediation ended in ``month`` with an agreement or a termination."""
    return (d for d in reg.disputes if d["closed_on"] in month and d["outcome"] in _MEDIATED)


@_indicator("mediation_success_rate")
def mediation_success(reg: Register, month: Month) -> Tally:
    """调解成功率 (v1).

    Denominator: disputes whose mediation ended in the month, with an agreement
    (AgreementReached, written or oral) or a termination (MediationTerminated). Refused
    disputes were never mediated and are not counted.
    Numerator: those of them that ended with an agreement.
    Month: of the ending event. Events: the ending event of each dispute.
    """
    pairs = []
    for d in _closed_in(reg, month):
        item = Counted(d["community"], reg.dispute_facts.get(d["dispute_id"], "closed"))
        pairs.append((item, item if d["outcome"] != "terminated" else None))
    return _tally(pairs)


@_indicator("agreement_performance_rate")
def agreement_performance(reg: Register, month: Month) -> Tally:
    """协议履行率 (v1).

    Denominator: agreements reached in the month (AgreementReached).
    Numerator: those of them whose latest performance record (PerformanceRecorded), as
    known now, says ``performed`` (fully performed; partly performed or disputed do not
    count). An agreement with no performance record yet is not performed.
    Events: the agreement; for the numerator also the performance record.
    """
    pairs = []
    for d in _closed_in(reg, month):
        if d["outcome"] == "terminated":
            continue
        closed = reg.dispute_facts.get(d["dispute_id"], "closed")
        performed = None
        if d["performance"] == "performed":
            performance = reg.dispute_facts.get(d["dispute_id"], "performance")
            performed = Counted(d["community"], closed + performance)
        pairs.append((Counted(d["community"], closed), performed))
    return _tally(pairs)


@_indicator("settled_on_time_rate")
def settled_on_time(reg: Register, month: Month) -> Tally:
    """按期调结率 (v1).

    Denominator: mediations that ended in the month (agreement or termination, as for the
    success rate).
    Numerator: those that ended within ``settle_within_days`` days of their acceptance
    (calendar days between the local dates of Accepted and of the ending event), the rule
    in force in the dispute's community on the day it was accepted (default 30 days: 人民调
    解工作若干规定 Art. 33).
    Events: the ending event; for the numerator also the acceptance.
    """
    pairs = []
    for d in _closed_in(reg, month):
        closed = reg.dispute_facts.get(d["dispute_id"], "closed")
        on_time = None
        if d["accepted_at"] is not None:
            accepted_on = local_date(d["accepted_at"])
            limit = reg.rules_at(d["community"], accepted_on).settle_within_days
            if d["closed_on"] <= settlement_due(accepted_on, limit):
                accepted = reg.dispute_facts.get(d["dispute_id"], "accepted")
                on_time = Counted(d["community"], accepted + closed)
        pairs.append((Counted(d["community"], closed), on_time))
    return _tally(pairs)


def _first_sessions(reg: Register, month: Month) -> Tally:
    """Time to first mediation (v1): hours from the report (Reported) to the first session
    (SessionHeld), for each dispute whose first session was held in the month. A dispute
    mediated on the spot by a patrol counts 0 hours. Events: the report and the session.
    """
    items = []
    for d in reg.disputes:
        first = d["first_session_at"]
        if first is None or local_date(first) not in month:
            continue
        events = reg.dispute_facts.get(d["dispute_id"], "reported") + reg.dispute_facts.get(
            d["dispute_id"], "first_session"
        )
        items.append(Counted(d["community"], events, value=_hours(d["reported_at"], first)))
    return Tally((), tuple(items))


_indicator("first_mediation_median_hours", kind="median")(_first_sessions)
_indicator("first_mediation_p90_hours", kind="p90")(_first_sessions)


def _reported_in(reg: Register, month: Month) -> Iterable[Row]:
    return (d for d in reg.disputes if d["reported_on"] in month)


def _reported_share(reg: Register, month: Month, flag: str, fact: str) -> Tally:
    """Of the disputes reported in ``month``, those whose row has ``flag`` set; the events
    are the report and, for the numerator, the ``fact`` that set the flag."""
    pairs = []
    for d in _reported_in(reg, month):
        reported = reg.dispute_facts.get(d["dispute_id"], "reported")
        flagged = None
        if d[flag]:
            flagged = Counted(
                d["community"], reported + reg.dispute_facts.get(d["dispute_id"], fact)
            )
        pairs.append((Counted(d["community"], reported), flagged))
    return _tally(pairs)


@_indicator("dispute_escalation_rate")
def escalation(reg: Register, month: Month) -> Tally:
    """民转刑 (reported to the police) (v1).

    Denominator: disputes reported in the month (Reported).
    Numerator: those of them reported onward to the police (ReportedToPolice, 人民调解法
    Art. 25), as known now.
    Events: the report; for the numerator also the report to the police.
    """
    return _reported_share(reg, month, "escalated_to_police", "police")


@_indicator("onsite_settlement_share")
def onsite_share(reg: Register, month: Month) -> Tally:
    """Settled on the spot by patrols (v1).

    Denominator: disputes reported in the month (Reported).
    Numerator: those of them a patrol settled on the spot: reported by a patrol and the
    agreement reached at the moment of the report (Patrol's OnSiteMediationHeld opens such
    a dispute with its agreement).
    Events: the report; for the numerator also the agreement.
    """
    return _reported_share(reg, month, "settled_on_spot", "closed")


# -- patrols (M1.3) ---------------------------------------------------------------------------


@_indicator("patrol_checkpoint_coverage")
def checkpoint_coverage(reg: Register, month: Month) -> Tally:
    """Patrol checkpoint coverage (v1).

    Denominator: the checkpoints on the planned routes of the patrols of the month (each
    distinct checkpoint of each patrol's route once; a patrol's month is that of its start,
    or of its planned start while it has not started). A patrol planned and never started
    counts with all its checkpoints missed.
    Numerator: those of them the patrol visited at least once (CheckpointVisited).
    Off-route visits are not in either.
    Events: the patrol's plan; for the numerator also the first visit of the checkpoint.
    """
    patrols = {p["patrol_id"]: p for p in reg.patrols if p["patrol_on"] in month}
    pairs = []
    for point in reg.checkpoints:
        patrol = patrols.get(point["patrol_id"])
        if patrol is None or not point["on_route"]:
            continue
        planned = reg.patrol_facts.get(patrol["patrol_id"], "planned")
        visited = None
        if point["visits"]:
            first = reg.patrol_facts.get(patrol["patrol_id"], "visited", point["checkpoint"])
            visited = Counted(patrol["community"], planned + first)
        pairs.append((Counted(patrol["community"], planned), visited))
    return _tally(pairs)


# -- alerts (M2.3) ----------------------------------------------------------------------------


def _alert_units(reg: Register, month: Month) -> Iterable[tuple[Row, Row]]:
    """(alert, recipient unit) for every recipient of every alert raised in ``month``."""
    alerts = {a["alert_id"]: a for a in reg.alerts if a["raised_on"] in month}
    for unit in reg.alert_units:
        alert = alerts.get(unit["alert_id"])
        if alert is not None:
            yield alert, unit


def _receipt(unit: Row) -> datetime | None:
    """When the unit had the alert: its first delivery, else its acknowledgement."""
    when: datetime | None = unit["delivered_at"] or unit["acknowledged_at"]
    return when


@_indicator("alert_reach_rate")
def alert_reach(reg: Register, month: Month) -> Tally:
    """Alert reach (v1).

    Denominator: the recipient units of the alerts raised in the month: every member of the
    network when the alert was raised, except the unit that raised it (fixed at Raised);
    not every unit of the network (see docs/domain.md, *Patrol and alert indicators*).
    Numerator: those that received it on at least one channel: a Delivered, or an
    Acknowledged (a reply proves receipt where a channel gives no delivery receipt). A
    send with no receipt and no reply, or a failure, is not a receipt.
    Events: the alert's raise; for the numerator also the delivery (or acknowledgement).
    """
    pairs = []
    for alert, unit in _alert_units(reg, month):
        raised = reg.alert_facts.get(alert["alert_id"], "raised")
        reached = None
        if _receipt(unit) is not None:
            fact = "delivered" if unit["delivered_at"] is not None else "acknowledged"
            got = reg.alert_facts.get(alert["alert_id"], fact, unit["unit"])
            reached = Counted(alert["community"], raised + got)
        pairs.append((Counted(alert["community"], raised), reached))
    return _tally(pairs)


@_indicator("alert_ack_rate")
def alert_ack(reg: Register, month: Month) -> Tally:
    """Alert acknowledged in time (v1).

    Denominator: the recipient units of the alerts raised in the month that were notified:
    sent the alert at least once (Sent), or phoned by a coordinator (EscalatedNoAck).
    Numerator: those that acknowledged (Acknowledged) within ``alert_ack_minutes`` of the
    raise, the rule in force in the alert's community on the day it was raised (the rule
    the escalate command applies; default 30 minutes).
    Events: the raise and the first send (or escalation); for the numerator also the
    acknowledgement.
    """
    pairs = []
    for alert, unit in _alert_units(reg, month):
        alert_id, name = alert["alert_id"], unit["unit"]
        if unit["first_sent_at"] is None and unit["escalated_at"] is None:
            continue
        notified = reg.alert_facts.get(alert_id, "raised") + (
            reg.alert_facts.get(alert_id, "sent", name)
            or reg.alert_facts.get(alert_id, "escalated", name)
        )
        in_time = None
        acked = unit["acknowledged_at"]
        if acked is not None:
            limit = reg.rules_at(alert["community"], alert["raised_on"]).alert_ack_minutes
            if acked <= ack_due(alert["raised_at"], limit):
                ack = reg.alert_facts.get(alert_id, "acknowledged", name)
                in_time = Counted(alert["community"], notified + ack)
        pairs.append((Counted(alert["community"], notified), in_time))
    return _tally(pairs)


@_indicator("alert_time_to_all_minutes", kind="median")
def alert_time_to_all(reg: Register, month: Month) -> Tally:
    """Time to reach all units (v1): the median, over the alerts raised in the month that
    reached every recipient unit, of the minutes from the raise to the last unit's receipt
    (its first Delivered, else its Acknowledged). Alerts with no recipients, or with a unit
    never reached, are left out. Events: the raise and the last receipt.
    """
    units: dict[str, list[Row]] = defaultdict(list)
    for unit in reg.alert_units:
        units[unit["alert_id"]].append(unit)
    items = []
    for alert in reg.alerts:
        mine = units.get(alert["alert_id"], [])
        if alert["raised_on"] not in month or not mine:
            continue
        receipts = [(_receipt(u), u) for u in mine]
        if any(when is None for when, _ in receipts):
            continue
        last_at, last = max(receipts, key=lambda r: (r[0], r[1]["unit"]))
        assert last_at is not None
        fact = "delivered" if last["delivered_at"] is not None else "acknowledged"
        events = reg.alert_facts.get(alert["alert_id"], "raised") + reg.alert_facts.get(
            alert["alert_id"], fact, last["unit"]
        )
        minutes = (last_at - alert["raised_at"]).total_seconds() / 60
        items.append(Counted(alert["community"], events, value=minutes))
    return Tally((), tuple(items))


# -- migrant workers (M3.1–M3.3) ----------------------------------------------------------------


_GONE = ("left", "erased")


class _Worker:
    """One worker's row and facts in the order they occurred, and their state on a day."""

    def __init__(self, row: Row, facts: Iterable[Row]) -> None:
        self.row = row
        self.facts = sorted(facts, key=lambda f: (f["occurred_at"], f["originator_version"]))
        # Each fact's local day, beside it: indicators ask for the state on a day.
        self.days = [local_date(f["occurred_at"]) for f in self.facts]
        self.first = next((f for f in self.facts if f["fact"] == "registered"), None)
        # The first Left or Erased fact and its day (facts after it occurred later still).
        self.gone = next(
            ((f, on) for f, on in zip(self.facts, self.days, strict=True) if f["fact"] in _GONE),
            None,
        )

    def registered(self) -> Row:
        """The worker's first registration."""
        if self.first is None:
            raise LookupError(f"worker {self.row['worker_id']} has no registration")
        return self.first

    def state_on(self, day: date) -> Row:
        """The worker's state after the latest fact that occurred by ``day`` (else the
        registration's, for a worker registered later)."""
        # Facts are in the order they occurred, so their days ascend.
        known = bisect.bisect_right(self.days, day)
        return self.facts[known - 1] if known else self.registered()

    def gone_by(self, day: date) -> Row | None:
        """The Left or Erased fact that occurred by ``day``, if any."""
        return self.gone[0] if self.gone is not None and self.gone[1] <= day else None


def _worker_event(fact: Row) -> EventRef:
    return event_ref("migrant", fact["ref"], fact)


#: What one worker adds to an indicator's tally: (denominator item, numerator item or
#: None), or None when the worker is not counted.
WorkerCount = Callable[[_Worker, Register, Month], tuple[Counted, Counted | None] | None]


class _Pairs:
    """(denominator item, numerator item or None) pairs gathered into a tally.

    ``compact``: only each community's summed weights are kept, which is all a rate's
    figure reads (:func:`~safecomm_core.reports.counting.measure` sums the weights, each 1
    here, so the sums are exact), not an item and its events per worker: the monthly
    report's registers read as a stream (:meth:`Register.each_worker`) hold no worker.
    """

    def __init__(self, compact: bool) -> None:
        self.compact = compact
        self.pairs: list[tuple[Counted, Counted | None]] = []
        self.den: dict[str, float] = defaultdict(float)
        self.num: dict[str, float] = defaultdict(float)

    def add(self, in_den: Counted, in_num: Counted | None) -> None:
        if not self.compact:
            self.pairs.append((in_den, in_num))
            return
        self.den[in_den.community] += in_den.weight
        if in_num is not None:
            self.num[in_num.community] += in_num.weight

    def tally(self) -> Tally:
        if not self.compact:
            return _tally(self.pairs)

        def summed(weights: dict[str, float]) -> tuple[Counted, ...]:
            return tuple(Counted(c, (), weight=w) for c, w in sorted(weights.items()))

        return Tally(summed(self.num), summed(self.den))


def _worker_tallies(reg: Register, month: Month) -> dict[str, Tally]:
    """The tallies of every worker indicator for ``month``, from one pass over the workers
    (made once per register and month)."""
    key = f"workers {month}"
    found = reg.cache.get(key)
    if found is None:
        compact = reg.worker_stream is not None
        gathered = {i: _Pairs(compact) for i in _WORKER_COUNTS}
        for row, facts in reg.each_worker():
            worker = _Worker(row, facts)
            for i, count in _WORKER_COUNTS.items():
                pair = count(worker, reg, month)
                if pair is not None:
                    gathered[i].add(*pair)
        found = reg.cache[key] = {i: pairs.tally() for i, pairs in gathered.items()}
    tallies: dict[str, Tally] = found
    return tallies


@_indicator("registration_coverage")
def registration_coverage(reg: Register, month: Month) -> Tally:
    """流动人口登记覆盖率 (v1), as of the last day of the month.

    Denominator: migrant workers known (now) to have been living in the subdistrict on that
    day: arrived by then (the registration's arrival date) and not left or erased by then,
    whether or not their registration had been made yet.
    Numerator: those of them whose registration (Registered) had occurred by that day.
    A worker registered after the month, for an arrival before its end, is the gap this
    measures. Community: the worker's as of that day.
    Events: the registration (and, for workers counted, nothing else).
    """
    return _worker_tallies(reg, month)["registration_coverage"]


def _coverage(
    worker: _Worker, reg: Register, month: Month
) -> tuple[Counted, Counted | None] | None:
    end = month.last
    row = worker.row
    if row["arrived_on"] > end or worker.gone_by(end) is not None:
        return None
    community = worker.state_on(end)["community"]
    item = Counted(community, (_worker_event(worker.registered()),))
    return item, item if row["registered_on"] <= end else None


@_indicator("timely_registration_rate")
def timely_registration(reg: Register, month: Month) -> Tally:
    """按时登记率 (v1).

    Denominator: registrations made in the month (Registered).
    Numerator: those made by their due day: the arrival date plus the local deadline in
    force in the community on the day of arrival, which the event itself carries
    (``due_on``, so a later rule cannot change the verdict).
    Events: the registration.
    """
    return _worker_tallies(reg, month)["timely_registration_rate"]


def _timely(worker: _Worker, reg: Register, month: Month) -> tuple[Counted, Counted | None] | None:
    row = worker.row
    if row["registered_on"] not in month:
        return None
    registered = worker.registered()
    item = Counted(registered["community"], (_worker_event(registered),))
    return item, None if row["registered_late"] else item


@_indicator("proactive_service_rate")
def proactive_service(reg: Register, month: Month) -> Tally:
    """主动服务率 (M3.3) (v1), cumulative to the last day of the month.

    Denominator: workers registered by that day who had become eligible by then: resident
    ``proactive_service_years`` (the rule in force in their community on that day; default
    3) since the start of their continuous residence as of that day (arrival, restarted by
    a late permit endorsement, 居住证暂行条例 Art. 10), and not left or erased before they
    became eligible.
    Numerator: those of them offered an M3.3 long-residence service proactively (a
    ServiceOffered with ``proactive`` and an eligibility date) by that day.
    Events: the registration (and the fact that restarted residence, if any); for the
    numerator also the first such offer.
    """
    return _worker_tallies(reg, month)["proactive_service_rate"]


def _proactive(
    worker: _Worker, reg: Register, month: Month
) -> tuple[Counted, Counted | None] | None:
    end = month.last
    row = worker.row
    if row["registered_on"] > end:
        return None
    state = worker.state_on(end)
    years = reg.rules_at(state["community"], end).proactive_service_years
    eligible_on = long_residence_from(state["residence_since"], years)
    gone = worker.gone_by(end)
    if eligible_on > end or (gone is not None and local_date(gone["occurred_at"]) < eligible_on):
        return None
    events: tuple[EventRef, ...] = (_worker_event(worker.registered()),)
    if state["residence_since"] != row["arrived_on"]:
        restart = next(f for f in worker.facts if f["residence_since"] == state["residence_since"])
        events += (_worker_event(restart),)
    offer = next(
        (
            f
            for f in worker.facts
            if f["fact"] == "service_offered"
            and f["proactive"]
            and f["eligible_since"] is not None
            and local_date(f["occurred_at"]) <= end
        ),
        None,
    )
    offered = None
    if offer is not None:
        offered = Counted(state["community"], (*events, _worker_event(offer)))
    return Counted(state["community"], events), offered


#: The worker indicators, each with what one worker adds to its tally.
_WORKER_COUNTS: dict[str, WorkerCount] = {
    "registration_coverage": _coverage,
    "timely_registration_rate": _timely,
    "proactive_service_rate": _proactive,
}


# -- prevention assets (M2.1, M2.2) ---------------------------------------------------------


@_indicator("prevention_asset_coverage")
def asset_coverage(reg: Register, month: Month) -> Tally:
    """技防物防覆盖率 (v1), as of the last day of the month.

    Denominator, one item each: every compound with at least one anti-theft device
    installed by then and not decommissioned (M2.1: the old compounds the programme fits);
    every parking lot and gatehouse built by then and not decommissioned (M2.2).
    Numerator: the compounds with at least one such device in service (not faulty) that
    day; the lots and gatehouses with a custodian assigned (staffed) that day.
    State on a day: after the asset's latest event that occurred by then.
    Events: the asset's commissioning; for the numerator also the event that set the state.
    """
    end = month.last
    latest: dict[str, Row] = {}
    first: dict[str, Row] = {}
    for fact in sorted(reg.asset_facts, key=lambda f: (f["occurred_at"], f["originator_version"])):
        if fact["occurred_on"] <= end:
            latest[fact["asset_id"]] = fact
            first.setdefault(fact["asset_id"], fact)
    compounds: dict[tuple[str, str], list[tuple[Row, Row]]] = defaultdict(list)
    pairs = []
    for asset in reg.assets:
        state = latest.get(asset["asset_id"])
        if state is None or state["status"] == "decommissioned":
            continue
        if asset["kind"] == "device":
            compounds[asset["community"], asset["compound"]].append((asset, state))
            continue
        made: tuple[EventRef, ...] = (event_ref("asset", asset["ref"], first[asset["asset_id"]]),)
        staffed = None
        if state["staffed"]:
            staffed = Counted(asset["community"], (*made, event_ref("asset", asset["ref"], state)))
        pairs.append((Counted(asset["community"], made), staffed))
    for (community, _name), devices in sorted(compounds.items()):
        made = tuple(event_ref("asset", a["ref"], first[a["asset_id"]]) for a, _ in devices)
        working = [(a, s) for a, s in devices if s["status"] == "in_service"]
        covered = None
        if working:
            asset, state = working[0]
            covered = Counted(community, (*made, event_ref("asset", asset["ref"], state)))
        pairs.append((Counted(community, made), covered))
    return _tally(pairs)


# -- surveys (S6) ---------------------------------------------------------------------------

_WAVES = tuple(Wave)


def latest_wave(reg: Register, month: Month, community: str = "*") -> Wave | None:
    """The latest wave (baseline < mid-term < final) with a response by the month's end:
    any response for the subdistrict (``*``), one collected in ``community`` otherwise."""
    end = month.last
    found = {
        r["wave"]
        for r in reg.responses
        if r["occurred_on"] <= end and community in ("*", r["community"])
    }
    return next((w for w in reversed(_WAVES) if w.value in found), None)


@attrs.frozen
class _Read:
    """The month's responses as each scope reads them, each with its counted item."""

    communities: tuple[tuple[Row, Counted], ...]  # each community's latest wave
    subdistrict: tuple[tuple[Row, Counted], ...]  # the subdistrict's latest wave


def _read_responses(reg: Register, month: Month) -> _Read:
    """Made once per month for the four rates: which responses each scope reads."""
    key = f"survey responses {month}"
    found = reg.cache.get(key)
    if isinstance(found, _Read):
        return found
    end = month.last
    by_community: dict[str, list[Row]] = defaultdict(list)
    for r in reg.responses:
        if r["occurred_on"] <= end:
            by_community[r["community"]].append(r)
    items: dict[int, Counted] = {}
    for rows in by_community.values():
        for r in rows:
            survey: str = r["survey_id"]
            ref = event_ref("survey", reg.survey_refs.get(survey, survey), r)
            items[id(r)] = Counted(r["community"], (ref,))
    communities = []
    for community, rows in sorted(by_community.items()):
        wave = latest_wave(reg, month, community)
        communities += [(r, items[id(r)]) for r in rows if wave and r["wave"] == wave.value]
    wave = latest_wave(reg, month)
    subdistrict = [
        (r, items[id(r)])
        for rows in by_community.values()
        for r in rows
        if wave is not None and r["wave"] == wave.value
    ]
    found = reg.cache[key] = _Read(tuple(communities), tuple(subdistrict))
    return found


#: Whether a response counts as favourable (None: the question was left unanswered) under
#: the rules in force for the scope the figure is of.
_Verdict = Callable[[Row, Rules], "bool | None"]


def _survey_tally(reg: Register, month: Month, verdict: _Verdict) -> Tally:
    end = month.last

    def tally(found: Iterable[tuple[Row, Counted]], rules_of: Callable[[Row], Rules]) -> Tally:
        pairs = []
        for response, item in found:
            favourable = verdict(response, rules_of(response))
            if favourable is None:
                continue  # the question was left unanswered: not a valid respondent for it
            pairs.append((item, item if favourable else None))
        return _tally(pairs)

    read = _read_responses(reg, month)
    subdistrict_rules = reg.rules_at("*", end)
    each = tally(read.communities, lambda r: reg.rules_at(r["community"], end))
    return attrs.evolve(each, overall=tally(read.subdistrict, lambda _r: subdistrict_rules))


@functools.cache
def _favourable(scale: type[FivePointScale], answer: str, fairly: bool) -> bool:
    """Whether ``answer`` on ``scale`` counts as favourable (answers are a few strings)."""
    return scale(answer).favourable(fairly=fairly)


_SURVEY_DOC = """
    Responses: a community's figure reads the latest survey wave (baseline, mid-term,
    final) with a response collected in that community by the last day of the month, and
    of that wave the community's responses that occurred by then; the subdistrict's figure
    reads the latest wave with any response by then, and all of that wave's responses
    that occurred by then. Events: each response (ResponseRecorded; anonymous: it names
    the questionnaire, never the person).
"""


@_indicator("awareness_rate")
def awareness(reg: Register, month: Month) -> Tally:
    """知晓率 (v1).

    Denominator: valid respondents: responses that answered whether they know of the
    programme and its measures. Numerator: those who said they know.
    """
    return _survey_tally(reg, month, lambda r, _rules: r["aware"])


@_indicator("participation_rate")
def participation(reg: Register, month: Month) -> Tally:
    """参与率 (survey) (v1).

    Denominator: valid respondents: responses that answered whether they took part in at
    least one of the programme's activities. Numerator: those who said they did.
    """
    return _survey_tally(reg, month, lambda r, _rules: r["participated"])


@_indicator("participation_register_rate")
def participation_register(reg: Register, month: Month) -> Tally:
    """参与率 (register) (v1): people named as present at the programme's activities, as a
    share of the people living in the scope; beside the survey's participation rate, which
    rests on what respondents say.

    Numerator: distinct people (person refs) named as present (ParticipantsRecorded) at
    campaigns held in the twelve months up to the month's end: each person once however
    many campaigns they came to; in a community's figure, once if they came to any held
    there; in the subdistrict's, once in all. Head counts of campaigns where no names were
    taken are not in it.
    Denominator: the people of the scope: each community's registered residents and
    migrants in its population in force on the month's last day; the subdistrict's is the
    sum. Not applicable for a community with no population by then, nor for the
    subdistrict while a community with people named has none.
    Events: the event that first named each person in the scope; each population's count.
    """
    first, end = month.shift(1 - _YEAR).first, month.last
    refs = {c["campaign_id"]: c["ref"] for c in reg.campaigns}
    named = sorted(
        (p for p in reg.participants if first <= p["held_on"] <= end),
        key=lambda p: p["notification_id"],
    )
    each: dict[tuple[str, str], Counted] = {}
    everyone: dict[str, Counted] = {}
    for p in named:
        item = Counted(p["held_in"], (event_ref("campaign", refs[p["campaign_id"]], p),))
        each.setdefault((p["held_in"], p["person_ref"]), item)
        everyone.setdefault(p["person_ref"], item)
    people, known = _people(reg, end, per=1)
    unknown = {c for c, _ in each} - {SUBDISTRICT} - known
    overall = Tally(tuple(everyone.values()), () if unknown else people)
    return Tally(tuple(each.values()), people, overall=overall)


@_indicator("satisfaction_rate", reading_rule="fairly_satisfied_counts")
def satisfaction(reg: Register, month: Month) -> Tally:
    """满意率 (v1; ``1+basic`` when 基本满意 counts).

    Denominator: valid respondents: responses that answered the satisfaction question.
    Numerator: 很满意 + 满意, and 基本满意 too where the rule ``fairly_satisfied_counts``
    in force for the figure's scope on the month's last day says so.
    """

    def favourable(r: Row, rules: Rules) -> bool | None:
        answer = r["satisfaction"]
        if answer is None:
            return None
        return _favourable(Satisfaction, answer, rules.fairly_satisfied_counts)

    return _survey_tally(reg, month, favourable)


@_indicator("sense_of_security_rate", reading_rule="fairly_safe_counts")
def security(reg: Register, month: Month) -> Tally:
    """群众安全感 (v1; ``1+basic`` when 基本安全 counts).

    Denominator: valid respondents: responses that answered the sense-of-security question.
    Numerator: 很安全 + 安全, and 基本安全 too where the rule ``fairly_safe_counts`` in
    force for the figure's scope on the month's last day says so.
    """

    def favourable(r: Row, rules: Rules) -> bool | None:
        answer = r["security"]
        return None if answer is None else _favourable(Security, answer, rules.fairly_safe_counts)

    return _survey_tally(reg, month, favourable)


for _survey in (awareness, participation, satisfaction, security):
    _survey.__doc__ = (_survey.__doc__ or "") + _SURVEY_DOC


# -- police statistics (outside data) ---------------------------------------------------------

#: Incidence is counted over a year: the twelve months up to the period, as the baseline
#: of the P1 diagnosis is (the police's twelve months before the programme).
_YEAR = 12


def _cases(reg: Register, last: Month) -> list[Counted] | None:
    """The police's figures for the twelve months ending with ``last`` (their latest counts,
    corrections applied), or None unless every one of those months has a figure."""
    months = {str(last.shift(-back)) for back in range(_YEAR)}
    items, seen = [], set()
    for row in reg.police:
        if row["month"] in months:
            seen.add(row["month"])
            events = reg.police_facts.get(row["statistic_id"], "cases")
            items.append(Counted(row["community"], events, weight=float(row["cases"])))
    return items if seen == months else None


@_indicator("incidence_change", kind="change")
def incidence_change(reg: Register, month: Month) -> Tally:
    """发案率变化 (v1), from the police station's figures only (outside data).

    (cases in the twelve months up to the month − cases in the twelve months before those)
    / cases in the twelve months before, each month the police's latest figure (a
    correction replaces the count it corrects), summed over categories. A change in
    cases: the population each year divides by is in ``incidence_per_10k``. Not
    applicable unless both years have a figure for every month, or when the earlier year
    has no case.
    Numerator: the difference in cases; denominator: the cases of the earlier year.
    Events: the event each figure's count comes from.
    """
    now, before = _cases(reg, month), _cases(reg, month.shift(-_YEAR))
    if now is None or before is None:
        return Tally()
    return Tally(tuple(now), tuple(before))


def populations_in_force(reg: Register, day: date) -> dict[str, Row]:
    """Each community's population in force on ``day`` (its latest count by then)."""
    return in_force(reg.populations, day)


def _people(reg: Register, day: date, *, per: int) -> tuple[tuple[Counted, ...], set[str]]:
    """Each community's people in force on ``day`` (residents and migrants) in units of
    ``per``, with the event of its count; and the communities that have one."""
    found = populations_in_force(reg, day)
    items = tuple(
        Counted(
            community,
            reg.population_facts.get(row["population_id"], "count"),
            weight=(row["residents"] + row["migrants"]) / per,
        )
        for community, row in sorted(found.items())
    )
    return items, set(found)


@_indicator("incidence_per_10k", kind="rate")
def incidence_per_10k(reg: Register, month: Month) -> Tally:
    """发案率 (v1): cases per 10,000 people living in the scope over the twelve months up to
    the month, from the police's figures and the recorded populations (outside data).

    Numerator: the police's latest figures for those twelve months, summed over categories
    (not applicable unless every month has a figure).
    Denominator: the people of the scope in ten-thousands: each community's registered
    residents and migrants in the population in force on the month's last day (its count
    with the latest as-of day by then, corrections applied); the subdistrict's is the sum
    of its communities'. Not applicable for a community with no population by then, nor
    for the subdistrict while a community with police figures has none. Left out of the
    report while no population is recorded at all.
    Events: the event each figure's count comes from, and each population's count.
    """
    cases = _cases(reg, month)
    if cases is None:
        return Tally()
    people, known = _people(reg, month.last, per=10_000)
    unknown = {c.community for c in cases} - {SUBDISTRICT} - known
    # Cases of a community whose people are not known cannot be set against the sum of
    # the others': the subdistrict's figure waits for every community's population.
    overall = Tally(tuple(cases), ()) if unknown else None
    return Tally(tuple(cases), people, overall=overall)
