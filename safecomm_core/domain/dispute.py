"""Dispute: the people's-mediation workflow (人民调解法 2010; plan M1.2–M1.4, M3.2, M3.5).

Reported → Accepted | Refused → MediatorAssigned → SessionHeld* → (RiskFlagged →
ReportedToPolice)? → AgreementReached (written / oral) | MediationTerminated (routes told)
→ PerformanceRecorded* → JudicialConfirmationApplied (≤ 30 days after the agreement took
effect) → JudicialConfirmationDecided → FollowUpVisited* → Archived. LegalAidReferred at any
point before the archive.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import local_date
from safecomm_core.domain.base import Record
from safecomm_core.domain.migrant import ErasureGround
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText, sealed_from_v1
from safecomm_core.personal import SealedPerson
from safecomm_core.transcoding import value_type
from safecomm_core.values import Meta

__all__ = [
    "AgreementForm",
    "Dispute",
    "DisputeKind",
    "DisputeSource",
    "DisputeStatus",
    "Party",
    "PartyRole",
    "PerformanceOutcome",
    "Route",
    "judicial_window_ends",
    "settlement_due",
]


def settlement_due(accepted_on: date, settle_within_days: int) -> date:
    """The last day to settle a dispute accepted on ``accepted_on``: ``settle_within_days``
    calendar days later (the rule in force on the day of acceptance; 人民调解工作若干规定
    Art. 33).

    >>> settlement_due(date(2014, 3, 20), 30)
    datetime.date(2014, 4, 19)
    """
    return accepted_on + timedelta(days=settle_within_days)


def judicial_window_ends(agreement_on: date, limit_days: int) -> date:
    """The last day the parties may apply for judicial confirmation of an agreement that
    took effect on ``agreement_on`` (人民调解法 Art. 33: ``judicial_confirmation_days``).

    >>> judicial_window_ends(date(2014, 3, 20), 30)
    datetime.date(2014, 4, 19)
    """
    return agreement_on + timedelta(days=limit_days)


class DisputeKind(enum.StrEnum):
    """What the dispute is about (civil disputes and migrant workers' rights)."""

    NEIGHBOUR = "neighbour"
    FAMILY = "family"
    PROPERTY = "property"
    LABOUR = "labour"
    WAGE_ARREARS = "wage_arrears"
    WORK_INJURY = "work_injury"
    ECONOMIC = "economic"
    OTHER = "other"


class DisputeSource(enum.StrEnum):
    """How the dispute reached the committee (Art. 17: application or own initiative; Art. 18)."""

    WALK_IN = "walk-in"
    PATROL = "patrol"
    GRID = "grid"
    HOTLINE = "hotline"
    REFERRAL = "referral"


class DisputeStatus(enum.StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    AGREED = "agreed"
    TERMINATED = "terminated"
    ARCHIVED = "archived"


class PartyRole(enum.StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"


class AgreementForm(enum.StrEnum):
    """Art. 28–30: a written agreement, or an oral one the mediator records."""

    WRITTEN = "written"
    ORAL = "oral"


class Route(enum.StrEnum):
    """Art. 26: the routes the parties are told of when mediation ends without agreement."""

    ARBITRATION = "arbitration"
    ADMINISTRATIVE = "administrative"
    JUDICIAL = "judicial"


class PerformanceOutcome(enum.StrEnum):
    """Art. 31–32: the committee follows performance; a dispute over it may go to court."""

    PERFORMED = "performed"
    PARTLY_PERFORMED = "partly_performed"
    DISPUTED = "disputed"


@value_type("dispute_party")
@attrs.frozen
class Party:
    """A party as the dispute keeps them: a role and a sealed person."""

    role: PartyRole
    person: SealedPerson


_CLOSED = (DisputeStatus.AGREED, DisputeStatus.TERMINATED)


class Dispute(Record):
    """A civil dispute handled by the people's mediation committee."""

    KIND = "dispute"
    TOPIC = "safecomm/Dispute"

    # -- creation ---------------------------------------------------------------------

    class Reported(Record.Created):
        TOPIC = "safecomm/Dispute/Reported"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("summary"))
        ref: str
        community: str
        grid_unit: str | None
        source: DisputeSource
        kind: DisputeKind
        summary: SealedText
        parties: tuple[Party, ...]

    @event(Reported)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        grid_unit: str | None,
        source: DisputeSource,
        kind: DisputeKind,
        summary: SealedText,
        parties: tuple[Party, ...],
    ) -> None:
        self._created(meta, ref, community)
        self.grid_unit = grid_unit
        self.source = DisputeSource(source)
        self.kind = DisputeKind(kind)
        self.summary = summary
        self.parties = tuple(parties)
        self.status = DisputeStatus.REPORTED
        self.accepted_on: date | None = None
        self.mediator: str | None = None
        self.sessions = 0
        self.first_session_at: datetime | None = None
        self.risk_flagged = False
        self.reported_to_police = False
        self.agreement_form: AgreementForm | None = None
        self.agreement_on: date | None = None
        self.closed_at: datetime | None = None
        self.performance: PerformanceOutcome | None = None
        self.confirmation_applied_on: date | None = None
        self.confirmation: str | None = None
        self.follow_ups = 0
        self.legal_aid_referrals = 0
        self.archived_before: DisputeStatus | None = None
        self.erased_on: date | None = None
        self.erasure_ground: ErasureGround | None = None

    @classmethod
    def open_on_site(
        cls,
        *,
        meta: Meta,
        ref: str,
        community: str,
        grid_unit: str | None,
        kind: DisputeKind,
        summary: SealedText,
        parties: tuple[Party, ...],
        mediator: str,
        notes: SealedText,
        oral_terms: SealedText | None,
    ) -> Dispute:
        """A dispute a patroller mediated on the spot (M1.3), as one set of new events.

        Reported (source: patrol), Accepted, MediatorAssigned (the patroller) and
        SessionHeld, all at ``meta``'s moment; when settled there (``oral_terms`` given),
        AgreementReached in oral form (人民调解法 Art. 28, 30). Unsettled, the dispute stays
        accepted for the committee to carry on. The caller saves it with the patrol's event.
        """
        dispute = cls(
            meta=meta,
            ref=ref,
            community=community,
            grid_unit=grid_unit,
            source=DisputeSource.PATROL,
            kind=kind,
            summary=summary,
            parties=parties,
        )
        dispute._accepted(meta=meta)
        dispute._mediator_assigned(meta=meta, mediator=mediator)
        dispute._session_held(meta=meta, notes=notes)
        if oral_terms is not None:
            dispute._agreement_reached(meta=meta, form=AgreementForm.ORAL, terms=oral_terms)
        return dispute

    # -- acceptance -------------------------------------------------------------------

    class Accepted(Record.Event):
        TOPIC = "safecomm/Dispute/Accepted"

    @event(Accepted)
    def _accepted(self, meta: Meta) -> None:
        self.status = DisputeStatus.ACCEPTED
        self.accepted_on = local_date(meta.occurred_at)

    def accept(self, meta: Meta) -> None:
        """The committee takes the case on."""
        self._require(meta, "accept", DisputeStatus.REPORTED)
        self._accepted(meta=meta)

    class Refused(Record.Event):
        TOPIC = "safecomm/Dispute/Refused"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        reason: SealedText

    @event(Refused)
    def _refused(self, meta: Meta, reason: SealedText) -> None:
        self.status = DisputeStatus.REFUSED
        self.closed_at = meta.occurred_at

    def refuse(self, meta: Meta, reason: SealedText) -> None:
        """Not taken on, e.g. a party clearly refuses mediation (Art. 17)."""
        self._require(meta, "refuse", DisputeStatus.REPORTED)
        self._refused(meta=meta, reason=reason)

    # -- mediation --------------------------------------------------------------------

    class MediatorAssigned(Record.Event):
        TOPIC = "safecomm/Dispute/MediatorAssigned"
        mediator: str

    @event(MediatorAssigned)
    def _mediator_assigned(self, meta: Meta, mediator: str) -> None:
        self.mediator = mediator

    def assign_mediator(self, meta: Meta, mediator: str) -> None:
        """Appoint (or replace) the mediator (Art. 19)."""
        self._require(meta, "assign a mediator to", DisputeStatus.ACCEPTED)
        self._mediator_assigned(meta=meta, mediator=mediator)

    class SessionHeld(Record.Event):
        TOPIC = "safecomm/Dispute/SessionHeld"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        notes: SealedText

    @event(SessionHeld)
    def _session_held(self, meta: Meta, notes: SealedText) -> None:
        self.sessions += 1
        if self.first_session_at is None:
            self.first_session_at = meta.occurred_at

    def hold_session(self, meta: Meta, notes: SealedText) -> None:
        """A mediation session took place."""
        self._require(meta, "hold a session for", DisputeStatus.ACCEPTED)
        if self.mediator is None:
            raise RuleViolation(
                f"dispute {self.ref!r} has no mediator: assign one before a session",
                field="dispute_id",
                rule="needs a mediator",
            )
        self._session_held(meta=meta, notes=notes)

    class RiskFlagged(Record.Event):
        TOPIC = "safecomm/Dispute/RiskFlagged"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("risk"))
        risk: SealedText

    @event(RiskFlagged)
    def _risk_flagged(self, meta: Meta, risk: SealedText) -> None:
        self.risk_flagged = True

    def flag_risk(self, meta: Meta, risk: SealedText) -> None:
        """The dispute may turn into a criminal or public-order case (Art. 25)."""
        self._require_open(meta, "flag a risk on")
        self._risk_flagged(meta=meta, risk=risk)

    class ReportedToPolice(Record.Event):
        TOPIC = "safecomm/Dispute/ReportedToPolice"
        station: str

    @event(ReportedToPolice)
    def _reported_to_police(self, meta: Meta, station: str) -> None:
        self.reported_to_police = True

    def report_to_police(self, meta: Meta, station: str) -> None:
        """A flagged risk reported to the police (Art. 25)."""
        self._require_open(meta, "report to police")
        if not self.risk_flagged:
            raise RuleViolation(
                f"dispute {self.ref!r} has no flagged risk: flag it before reporting",
                field="dispute_id",
                rule="needs a flagged risk",
            )
        self._reported_to_police(meta=meta, station=station)

    # -- outcomes ---------------------------------------------------------------------

    class AgreementReached(Record.Event):
        TOPIC = "safecomm/Dispute/AgreementReached"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("terms"))
        form: AgreementForm
        terms: SealedText

    @event(AgreementReached)
    def _agreement_reached(self, meta: Meta, form: AgreementForm, terms: SealedText) -> None:
        self.status = DisputeStatus.AGREED
        self.agreement_form = AgreementForm(form)
        self.agreement_on = local_date(meta.occurred_at)
        self.closed_at = meta.occurred_at

    def reach_agreement(self, meta: Meta, form: AgreementForm, terms: SealedText) -> None:
        """The parties agreed; a written agreement takes effect when signed and sealed."""
        self._require(meta, "record an agreement for", DisputeStatus.ACCEPTED)
        self._require_session(meta, "an agreement")
        self._agreement_reached(meta=meta, form=form, terms=terms)

    class MediationTerminated(Record.Event):
        TOPIC = "safecomm/Dispute/MediationTerminated"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("reason"))
        reason: SealedText
        routes_told: tuple[Route, ...]

    @event(MediationTerminated)
    def _terminated(self, meta: Meta, reason: SealedText, routes_told: tuple[Route, ...]) -> None:
        self.status = DisputeStatus.TERMINATED
        self.closed_at = meta.occurred_at

    def terminate(self, meta: Meta, reason: SealedText, routes_told: tuple[Route, ...]) -> None:
        """Mediation failed; the parties were told of their other routes (Art. 26)."""
        self._require(meta, "terminate mediation of", DisputeStatus.ACCEPTED)
        if not routes_told:
            raise RuleViolation(
                "the parties must be told of at least one route (人民调解法 Art. 26)",
                field="routes_told",
                rule="at least one route",
            )
        self._terminated(meta=meta, reason=reason, routes_told=tuple(routes_told))

    class PerformanceRecorded(Record.Event):
        TOPIC = "safecomm/Dispute/PerformanceRecorded"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        outcome: PerformanceOutcome
        notes: SealedText

    @event(PerformanceRecorded)
    def _performance(self, meta: Meta, outcome: PerformanceOutcome, notes: SealedText) -> None:
        self.performance = PerformanceOutcome(outcome)

    def record_performance(
        self, meta: Meta, outcome: PerformanceOutcome, notes: SealedText
    ) -> None:
        """How the agreement is being performed (Art. 31); the latest record stands."""
        self._require(meta, "record performance of", DisputeStatus.AGREED)
        self._performance(meta=meta, outcome=outcome, notes=notes)

    class JudicialConfirmationApplied(Record.Event):
        TOPIC = "safecomm/Dispute/JudicialConfirmationApplied"
        court: str

    @event(JudicialConfirmationApplied)
    def _confirmation_applied(self, meta: Meta, court: str) -> None:
        self.confirmation_applied_on = local_date(meta.occurred_at)

    def apply_judicial_confirmation(self, meta: Meta, court: str, limit_days: int) -> None:
        """Both parties applied to a court within ``limit_days`` of the agreement (Art. 33)."""
        self._require(meta, "apply for judicial confirmation of", DisputeStatus.AGREED)
        if self.confirmation_applied_on is not None:
            raise self.not_allowed("apply again for judicial confirmation of", "applied")
        assert self.agreement_on is not None
        on = local_date(meta.occurred_at)
        if on > judicial_window_ends(self.agreement_on, limit_days):
            days = (on - self.agreement_on).days
            raise RuleViolation(
                f"judicial confirmation of dispute {self.ref!r} applied {days} days after "
                f"the agreement took effect on {self.agreement_on.isoformat()}; the limit is "
                f"{limit_days} days (人民调解法 Art. 33)",
                field="occurred_at",
                rule=f"within {limit_days} days of the agreement",
            )
        self._confirmation_applied(meta=meta, court=court)

    class JudicialConfirmationDecided(Record.Event):
        TOPIC = "safecomm/Dispute/JudicialConfirmationDecided"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        confirmed: bool
        notes: SealedText

    @event(JudicialConfirmationDecided)
    def _confirmation_decided(self, meta: Meta, confirmed: bool, notes: SealedText) -> None:
        self.confirmation = "confirmed" if confirmed else "rejected"

    def decide_judicial_confirmation(self, meta: Meta, confirmed: bool, notes: SealedText) -> None:
        """The court's ruling on the application."""
        self.check_after_creation(meta)
        if self.confirmation_applied_on is None or self.confirmation is not None:
            state = "not applied for" if self.confirmation is None else "already decided"
            raise self.not_allowed("record a court ruling for", state)
        self._confirmation_decided(meta=meta, confirmed=confirmed, notes=notes)

    # -- after the outcome ------------------------------------------------------------

    class FollowUpVisited(Record.Event):
        TOPIC = "safecomm/Dispute/FollowUpVisited"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("notes"))
        notes: SealedText

    @event(FollowUpVisited)
    def _followed_up(self, meta: Meta, notes: SealedText) -> None:
        self.follow_ups += 1

    def follow_up(self, meta: Meta, notes: SealedText) -> None:
        """A return visit after the outcome (回访)."""
        self.check_after_creation(meta)
        if self.status not in _CLOSED:
            raise self.not_allowed("follow up", self.status.value)
        self._followed_up(meta=meta, notes=notes)

    class Archived(Record.Event):
        TOPIC = "safecomm/Dispute/Archived"

    @event(Archived)
    def _archived(self, meta: Meta) -> None:
        self.archived_before = self.status
        self.status = DisputeStatus.ARCHIVED

    def archive(self, meta: Meta) -> None:
        """Close the file: only once the dispute was refused, agreed or terminated."""
        self.check_after_creation(meta)
        if self.status not in (*_CLOSED, DisputeStatus.REFUSED):
            raise self.not_allowed("archive", self.status.value)
        self._archived(meta=meta)

    class LegalAidReferred(Record.Event):
        TOPIC = "safecomm/Dispute/LegalAidReferred"
        class_version = 2
        upcast_v1_v2 = staticmethod(sealed_from_v1("matter"))
        provider: str
        matter: SealedText

    @event(LegalAidReferred)
    def _legal_aid(self, meta: Meta, provider: str, matter: SealedText) -> None:
        self.legal_aid_referrals += 1

    def refer_legal_aid(self, meta: Meta, provider: str, matter: SealedText) -> None:
        """Steer a party to legal aid (M1.4, M3.2), at any point before the archive."""
        self._require_open(meta, "refer to legal aid")
        self._legal_aid(meta=meta, provider=provider, matter=matter)

    # -- erasure (PIPL Art. 47) -------------------------------------------------------

    class Erased(Record.Event):
        TOPIC = "safecomm/Dispute/Erased"
        ground: ErasureGround

    @event(Erased)
    def _erased(self, meta: Meta, ground: ErasureGround) -> None:
        self.erased_on = local_date(meta.occurred_at)
        self.erasure_ground = ErasureGround(ground)

    def erase(self, meta: Meta, ground: ErasureGround) -> None:
        """Record that the parties and the free text of the file were erased. Nothing
        follows it.

        The caller destroys the parties' data keys and the record's own key in the same
        command; the parties and every text then read ``[erased]``, while the dispute's
        dates, kinds and outcomes (what the figures count) stay.
        """
        self.check_after_creation(meta)
        self._erased(meta=meta, ground=ground)

    def check_after_creation(self, meta: Meta) -> None:
        """As every record's, and nothing is recorded on an erased file."""
        super().check_after_creation(meta)
        if self.erased_on is not None:
            raise self.not_allowed("change", "erased")

    # -- what may come next ------------------------------------------------------------

    def actions_now(self) -> tuple[str, ...]:
        """The commands (``dispute.<verb>``) this dispute's state admits now.

        The same conditions as the checks of each decision below, for a front end that
        offers only the actions that can succeed; a rule that depends on the command's
        own fields (a date, a count) is still decided when the command is handled.
        """
        if self.erased_on is not None:
            return ()  # an erased file takes no new facts
        status = self.status
        found: list[str] = []
        if status == DisputeStatus.REPORTED:
            found += ["accept", "refuse"]
        if status == DisputeStatus.ACCEPTED:
            found.append("assign_mediator")
            if self.mediator is not None:
                found.append("hold_session")
            if self.sessions:
                found.append("reach_agreement")
            found.append("terminate")
        if status == DisputeStatus.AGREED:
            found.append("record_performance")
            if self.confirmation_applied_on is None:
                found.append("apply_judicial_confirmation")
            elif self.confirmation is None:
                found.append("decide_judicial_confirmation")
        if status in _CLOSED:
            found.append("follow_up")
        if status in (*_CLOSED, DisputeStatus.REFUSED):
            found.append("archive")
        if status != DisputeStatus.ARCHIVED:
            found.append("flag_risk")
            if self.risk_flagged:
                found.append("report_to_police")
            found.append("refer_legal_aid")
        return tuple(f"dispute.{verb}" for verb in found)

    # -- checks -----------------------------------------------------------------------

    def _require(self, meta: Meta, action: str, status: DisputeStatus) -> None:
        self.check_after_creation(meta)
        if self.status != status:
            raise self.not_allowed(action, self.status.value)

    def _require_open(self, meta: Meta, action: str) -> None:
        self.check_after_creation(meta)
        if self.status == DisputeStatus.ARCHIVED:
            raise self.not_allowed(action, self.status.value)

    def _require_session(self, meta: Meta, what: str) -> None:
        if self.sessions == 0:
            raise RuleViolation(
                f"dispute {self.ref!r} has had no session: hold one before {what}",
                field="dispute_id",
                rule="needs a session",
            )
