"""Histories for the self-assessment and watchlist tests: commands through the store, at
given local times, and the reports built from views caught up on them.

People in these histories carry names, phones and ID numbers on purpose
(:data:`PERSONAL`): the reports must never show any of them.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, datetime, timedelta
from typing import Any

from safecomm_core import Command, Outcome, Safecomm
from safecomm_core.commands import dispute as dc
from safecomm_core.commands import grid_alert as gca
from safecomm_core.commands import grid_network as gcn
from safecomm_core.commands import meeting as mc
from safecomm_core.commands import migrant as wc
from safecomm_core.commands import phase as pc
from safecomm_core.commands import rules as rc
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.dispute import AgreementForm, DisputeKind, PartyRole
from safecomm_core.domain.grid_alert import AlertCategory
from safecomm_core.domain.grid_network import AlertChannel, UnitKind
from safecomm_core.domain.migrant import PermitBasis, RegistrationSource
from safecomm_core.domain.phase import Evidence, PhaseId
from safecomm_core.personal import PersonInput
from safecomm_core.reports import Report, self_assessment, watchlist
from tests.commanding import issue

#: Personal data given in commands of :class:`History`: none may reach a report.
PERSONAL = (
    "张三丰",
    "李四光",
    "王五妹",
    "13800138000",
    "13900002001",
    "13700001111",
    "51040219900101123X",
    "510402198805054321",
    "幸福路12号",
)

_ids = itertools.count()  # offer ids


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in the subdistrict's time zone."""
    return datetime(year, month, day, hour, minute, tzinfo=SUBDISTRICT_TZ)


def evidence(name: str) -> tuple[Evidence, ...]:
    """One made-up document proving ``name``."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return (Evidence(sha256=digest, title=f"{name}.pdf"),)


class History:
    """Issues commands to a store at given moments, with short helpers per kind of fact."""

    def __init__(self, service: Safecomm) -> None:
        self.service = service

    def do(self, cls: type[Command], when: datetime, **fields: Any) -> Outcome:
        """Handle a ``cls`` command that occurred at ``when``."""
        return self.service.handle(issue(cls, when, **fields))

    # -- rules ------------------------------------------------------------------------

    def adopt(self, when: datetime, effective: date, community: str = "*", **rules: int) -> None:
        self.do(rc.AdoptRules, when, effective_from=effective, changes=rules, community=community)

    # -- disputes ---------------------------------------------------------------------

    def dispute(self, ref: str, when: datetime, community: str = "C1") -> None:
        party = dc.PartyInput(
            ref=f"p-{ref}",
            name="张三丰",
            phone="13800138000",
            id_number="51040219900101123X",
            address="幸福路12号",
            role=PartyRole.APPLICANT,
        )
        self.do(
            dc.ReportDispute,
            when,
            dispute_id=ref,
            community=community,
            kind=DisputeKind.NEIGHBOUR,
            summary="noise at night",
            parties=(party,),
        )

    def accept(self, ref: str, when: datetime) -> None:
        """Accepted, and a mediator assigned at once."""
        self.do(dc.AcceptDispute, when, dispute_id=ref)
        self.do(dc.AssignMediator, when, dispute_id=ref, mediator="staff-009")

    def session(self, ref: str, when: datetime) -> None:
        self.do(dc.HoldSession, when, dispute_id=ref, notes="met both")

    def agree(self, ref: str, when: datetime) -> None:
        self.do(dc.ReachAgreement, when, dispute_id=ref, form=AgreementForm.WRITTEN, terms="pay")

    def agreed_dispute(self, ref: str, agreed: datetime, community: str = "C1") -> None:
        """A dispute reported, accepted, mediated and agreed on one day."""
        self.dispute(ref, agreed - timedelta(hours=3), community)
        self.accept(ref, agreed - timedelta(hours=2))
        self.session(ref, agreed - timedelta(hours=1))
        self.agree(ref, agreed)

    def apply_confirmation(self, ref: str, when: datetime) -> None:
        self.do(dc.ApplyJudicialConfirmation, when, dispute_id=ref)

    # -- the linkage network and alerts -------------------------------------------------

    def network(self, units: tuple[str, ...], when: datetime, community: str = "C1") -> None:
        self.do(gcn.OpenNetwork, when, network_id="net", name="linkage network")
        for number, unit in enumerate(units):
            self.do(
                gcn.JoinNetwork,
                when,
                network_id="net",
                unit_id=unit,
                name=f"unit {unit}",
                kind=UnitKind.ENTERPRISE,
                community=community,
            )
            self.do(
                gcn.SetContactChannel,
                when,
                network_id="net",
                unit_id=unit,
                contact_channel=AlertChannel.SMS,
                contact=f"1370000{1111 + number:04d}",
            )

    def alert(self, ref: str, by: str, when: datetime, sent_to: tuple[str, ...]) -> None:
        self.do(
            gca.RaiseAlert,
            when,
            alert_id=ref,
            network_id="net",
            raised_by=by,
            category=AlertCategory.THEFT,
            area="east gate",
            message="bicycle thief seen",
            expires_at=when + timedelta(days=2),
        )
        for unit in sent_to:
            self.do(
                gca.SendAlert,
                when + timedelta(minutes=1),
                alert_id=ref,
                unit_id=unit,
                contact_channel=AlertChannel.SMS,
            )

    def acknowledge(self, ref: str, unit: str, when: datetime) -> None:
        self.do(gca.AcknowledgeAlert, when, alert_id=ref, unit_id=unit)

    def resolve(self, ref: str, when: datetime) -> None:
        self.do(gca.ResolveAlert, when, alert_id=ref, summary="caught")

    # -- migrant workers ------------------------------------------------------------------

    def register(
        self,
        ref: str,
        arrived: date,
        when: datetime | None = None,
        community: str = "C1",
        id_number: str | None = "510402198805054321",
    ) -> None:
        """A worker who arrived on ``arrived``, registered that afternoon (or ``when``).

        ID numbers are unique among registered workers: give another, or None, for a second.
        """
        self.do(
            wc.RegisterMigrantWorker,
            when or at(arrived.year, arrived.month, arrived.day, 15),
            worker_id=ref,
            community=community,
            person=PersonInput(
                ref=f"p-{ref}",
                name="李四光",
                phone="13900002001",
                id_number=id_number,
            ),
            arrived_on=arrived,
            dwelling="幸福路12号",
            source=RegistrationSource.DOOR_TO_DOOR,
        )

    def permit(self, ref: str, applied: datetime, issued: datetime) -> None:
        self.do(wc.ApplyResidencePermit, applied, worker_id=ref, basis=PermitBasis.EMPLOYMENT)
        self.do(wc.IssueResidencePermit, issued, worker_id=ref)

    def offer(self, ref: str, when: datetime, *, long_residence: bool = True) -> None:
        self.do(
            wc.OfferMigrantService,
            when,
            worker_id=ref,
            offer_id=f"o-{next(_ids)}",
            service="family-planning support",
            proactive=True,
            long_residence=long_residence,
        )

    # -- the programme ------------------------------------------------------------------

    def phase(self, phase: PhaseId, start: date, end: date, required: tuple[str, ...] = ()) -> None:
        self.do(
            pc.PlanPhase,
            at(2013, 9, 1),
            phase_id=phase,
            title=f"phase {phase.value}",
            window_start=start,
            window_end=end,
            required_deliverables=required,
        )

    def meeting(self, ref: str, month: str, when: datetime, community: str = "*") -> None:
        self.do(
            mc.HoldMeeting,
            when,
            meeting_id=ref,
            month=month,
            attendees=("staff-001", "staff-002"),
            minutes="minutes",
            community=community,
        )

    def action(
        self, meeting: str, action: str, when: datetime, due: date, measure: str = "M2.2"
    ) -> None:
        problem = f"{action}-problem"
        self.do(
            mc.RaiseProblem, when, meeting_id=meeting, problem_id=problem, text="x", measure=measure
        )
        self.do(
            mc.AssignAction,
            when,
            meeting_id=meeting,
            action_id=action,
            problem_id=problem,
            owner="staff-040",
            due=due,
        )

    def close_action(self, meeting: str, action: str, when: datetime) -> None:
        self.do(mc.CloseAction, when, meeting_id=meeting, action_id=action, result="done")


def watchlist_of(service: Safecomm, as_of: date, **options: Any) -> Report:
    """The watchlist as of ``as_of``, from views caught up now (the report does it)."""
    return watchlist(service, as_of=as_of, **options)


def self_assessment_of(service: Safecomm, as_of: date, **options: Any) -> Report:
    """The self-assessment as of ``as_of``, from views caught up now (the report does it)."""
    return self_assessment(service, as_of=as_of, **options)


def rows(report: Report, section_id: str) -> list[dict[str, Any]]:
    """The rows of a section, as dicts by column key."""
    section = next(s for s in report.sections if s.id == section_id)
    keys = [c.key for c in section.columns]
    return [dict(zip(keys, row, strict=True)) for row in section.rows]


def figure(report: Report, id_: str, scope: str = "*") -> tuple[float, float | None]:
    """(numerator, denominator) of a figure."""
    found = next(f for f in report.figures if f.id == id_ and f.scope == scope)
    return found.numerator, found.denominator


#: The day :func:`full_history` is looked at: something is on every list then.
FULL_AS_OF = date(2014, 6, 20)


def full_history(service: Safecomm) -> History:
    """A little of everything, with people named in it, leaving a row on every watchlist
    list as of :data:`FULL_AS_OF`."""
    h = History(service)
    h.adopt(at(2014, 1, 2), date(2014, 1, 1), "C1", first_mediation_hours=48)
    h.phase(PhaseId.P1, date(2013, 10, 1), date(2013, 10, 31), ("诊断报告", "实施方案"))
    h.do(pc.StartPhase, at(2013, 10, 2), phase_id=PhaseId.P1)
    h.do(
        pc.RecordDeliverable,
        at(2013, 10, 20),
        phase_id=PhaseId.P1,
        name="诊断报告",
        evidence=evidence("诊断报告"),
    )
    h.meeting("m-2014-05", "2014-05", at(2014, 5, 28))
    h.action("m-2014-05", "a-1", at(2014, 5, 28), due=date(2014, 6, 10))
    h.dispute("d-2014-0101", at(2014, 6, 15), "C1")  # no session: first mediation overdue
    h.dispute("d-2014-0102", at(2014, 5, 1), "C2")
    h.accept("d-2014-0102", at(2014, 5, 2))
    h.session("d-2014-0102", at(2014, 5, 3))  # not settled: settlement overdue
    h.agreed_dispute("d-2014-0103", at(2014, 5, 25), "C1")  # window ends 2014-06-24
    h.network(("u1", "u2", "u3"), at(2014, 1, 1))
    h.alert("a-2014-01", "u1", at(2014, 6, 20, 8), sent_to=("u2", "u3"))
    h.register("w-2011-0042", date(2011, 1, 3))  # eligible for M3.3 since 2014-01-03
    h.register("w-2013-0007", date(2013, 1, 1), community="C2", id_number="51040219900101123X")
    h.permit("w-2013-0007", at(2013, 7, 1), at(2013, 7, 5))  # endorse by 2014-07-05
    return h
