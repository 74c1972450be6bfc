"""MigrantWorker: service and management of migrant workers (plan M3.1–M3.3).

Registered (source: door-to-door / landlord / employer / coordinator) → Moved* → Left;
PermitApplied → PermitIssued → PermitEndorsed* / PermitSuspended (居住证暂行条例 Arts. 2, 9,
10); RightsCaseOpened* (M3.2: links a Dispute or a legal-aid matter); ServiceOffered* →
ServiceDelivered (M3.3); Erased (PIPL Art. 47). M3.4 and M3.5 are campaigns and disputes.

Personal data. The person (name, ID number, phone) is sealed with their data key, and so is
every dwelling: an address is whereabouts, sensitive under PIPL Art. 28. A dwelling is kept
as a :class:`~safecomm_core.personal.SealedPerson` that holds only the ``address`` field, so
that erasing the person (destroying that one key) makes every dwelling they ever had
unreadable as well. In clear stay only the community and grid unit (jurisdiction), the
employer (an organisation, needed for M3.2's labour cases), dates and statuses.

Time limits. A fact with a limit stores ``due_on``: the day it was due under the rule in
force when the decision was taken. Rules can be adopted with a past effective date, so
recomputing lateness later could change a verdict; the stored ``due_on`` keeps what was
known, and a report reads "late" as ``occurred date > due_on`` from the event alone.

One active registration per ID number: :class:`MigrantIdNumber` is an index record whose
ref is the ID number's token (see ``docs/personal-data.md``), saved in the same transaction
as the registration, so the store's unique (id, version) constraint refuses the second of
two racing claims.
Leaving and erasure release it (see :meth:`MigrantIdNumber.release`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, timedelta
from typing import ClassVar

import attrs
from eventsourcing.domain import event

from safecomm_core.dates import add_months, local_date
from safecomm_core.domain.base import Record
from safecomm_core.errors import AlreadyExists, InvalidTransition, RuleViolation
from safecomm_core.personal import PersonInput, SealedPerson
from safecomm_core.values import Meta

__all__ = [
    "ErasureGround",
    "MigrantIdNumber",
    "MigrantWorker",
    "PermitBasis",
    "PermitStatus",
    "RegistrationSource",
    "RightsCase",
    "RightsKind",
    "Sealer",
    "ServiceOffer",
    "WorkerStatus",
    "endorsement_due",
    "endorsement_opens",
    "long_residence_from",
    "residence_after_endorsement",
]

#: Seals a person's fields with their data key (the command context's ``seal``).
Sealer = Callable[[PersonInput], SealedPerson]

#: 居住证暂行条例 Art. 10: endorsement is due at each full year of residence (national law,
#: not local practice, so a constant; the window before it is a rule).
_ENDORSE_EVERY_MONTHS = 12


def endorsement_due(on: date, was_due: date | None = None) -> date:
    """When a residence permit's next endorsement falls due after its issue, or after an
    endorsement, on ``on`` (居住证暂行条例 Art. 10).

    A year after the issue; after an endorsement that was due on ``was_due``, a year after
    that due day, or a year after the endorsement itself when it came late (a late one
    restarts the count, as it restarts residence).

    >>> endorsement_due(date(2013, 5, 10))
    datetime.date(2014, 5, 10)
    >>> endorsement_due(date(2014, 4, 20), was_due=date(2014, 5, 10))
    datetime.date(2015, 5, 10)
    >>> endorsement_due(date(2014, 6, 1), was_due=date(2014, 5, 10))
    datetime.date(2015, 6, 1)
    """
    start = was_due if was_due is not None and on <= was_due else on
    return add_months(start, _ENDORSE_EVERY_MONTHS)


def residence_after_endorsement(residence_since: date, on: date, was_due: date) -> date:
    """The start of continuous residence after an endorsement on ``on`` that was due on
    ``was_due``: unchanged when on time; a late one restarts it on its own day (Art. 10).

    >>> residence_after_endorsement(date(2012, 3, 1), date(2014, 6, 1), date(2014, 5, 10))
    datetime.date(2014, 6, 1)
    """
    return on if on > was_due else residence_since


def endorsement_opens(due: date, window_months: int) -> date:
    """The first day an endorsement due on ``due`` may be made: ``window_months`` before.

    >>> endorsement_opens(date(2014, 5, 31), 1)
    datetime.date(2014, 4, 30)
    """
    return add_months(due, -window_months)


def long_residence_from(residence_since: date, years: int) -> date:
    """The day a worker resident since ``residence_since`` has lived here ``years`` years:
    from then on M3.3's services for long residents are theirs (``proactive_service_years``).

    >>> long_residence_from(date(2012, 2, 29), 3)
    datetime.date(2015, 2, 28)
    """
    return add_months(residence_since, 12 * years)


class RegistrationSource(enum.StrEnum):
    """Who brought the registration in (M3.1: door-to-door visits, landlords, coordinators)."""

    DOOR_TO_DOOR = "door-to-door"
    LANDLORD = "landlord"
    EMPLOYER = "employer"
    COORDINATOR = "coordinator"


class WorkerStatus(enum.StrEnum):
    REGISTERED = "registered"
    LEFT = "left"
    ERASED = "erased"


class PermitStatus(enum.StrEnum):
    """Where the residence permit stands (居住证暂行条例)."""

    NONE = "none"
    APPLIED = "applied"
    ISSUED = "issued"
    SUSPENDED = "suspended"


class PermitBasis(enum.StrEnum):
    """Art. 2: residence counts with a stable job, a stable home, or continuous schooling."""

    EMPLOYMENT = "employment"
    DWELLING = "dwelling"
    STUDY = "study"


class RightsKind(enum.StrEnum):
    """M3.2: the matters in which migrant workers get legal aid."""

    LABOUR = "labour"
    WORK_INJURY = "work_injury"
    WAGE_ARREARS = "wage_arrears"
    SAFETY_ACCIDENT = "safety_accident"


class ErasureGround(enum.StrEnum):
    """PIPL Art. 47: why personal information is deleted."""

    PURPOSE_ACHIEVED = "purpose_achieved"
    RETENTION_ENDED = "retention_ended"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    UNLAWFUL = "unlawful"
    OTHER = "other"


@attrs.frozen
class RightsCase:
    """A rights matter of the worker: a linked Dispute or a legal-aid matter (M3.2)."""

    case_id: str
    kind: RightsKind
    opened_on: date
    dispute_id: str | None
    legal_aid: str | None


@attrs.frozen
class ServiceOffer:
    """A service offered to the worker; ``proactive`` when nobody applied for it (M3.3)."""

    offer_id: str
    service: str
    proactive: bool
    eligible_since: date | None
    offered_on: date
    delivered_on: date | None = None


class MigrantWorker(Record):
    """A migrant worker living in the subdistrict: registration, permit, rights, services."""

    KIND = "migrant"
    TOPIC = "safecomm/MigrantWorker"
    #: The commands' name for this record's id (its KIND would make it "migrant_id").
    ID_FIELD: ClassVar[str] = "worker_id"

    # -- registration -----------------------------------------------------------------

    class Registered(Record.Created):
        TOPIC = "safecomm/MigrantWorker/Registered"
        ref: str
        community: str
        grid_unit: str | None
        source: RegistrationSource
        person: SealedPerson
        dwelling: SealedPerson
        employer: str | None
        arrived_on: date
        due_on: date
        id_digest: str | None

    @event(Registered)
    def __init__(
        self,
        *,
        meta: Meta,
        ref: str,
        community: str,
        grid_unit: str | None,
        source: RegistrationSource,
        person: SealedPerson,
        dwelling: SealedPerson,
        employer: str | None,
        arrived_on: date,
        due_on: date,
        id_digest: str | None,
    ) -> None:
        self._created(meta, ref, community)
        self.grid_unit = grid_unit
        self.source = RegistrationSource(source)
        self.person = person
        self.dwelling = dwelling
        self.employer = employer
        self.arrived_on = arrived_on
        self.registered_on = local_date(meta.occurred_at)
        self.registration_due_on = due_on
        self.id_digest = id_digest
        self.status = WorkerStatus.REGISTERED
        self.moves = 0
        self.left_on: date | None = None
        # Start of continuous residence: arrival, restarted by a late endorsement (Art. 10).
        self.residence_since = arrived_on
        self.permit = PermitStatus.NONE
        self.permit_basis: PermitBasis | None = None
        self.permit_applied_on: date | None = None
        self.permit_issued_on: date | None = None
        self.permit_issue_due_on: date | None = None
        self.endorsement_due_on: date | None = None
        self.endorsements = 0
        # Date of the latest permit fact: the next one cannot precede it.
        self.permit_changed_on: date | None = None
        self.rights_cases: tuple[RightsCase, ...] = ()
        self.services: tuple[ServiceOffer, ...] = ()
        self.erasure_ground: ErasureGround | None = None

    @classmethod
    def register(
        cls,
        meta: Meta,
        *,
        ref: str,
        community: str,
        grid_unit: str | None,
        source: RegistrationSource,
        person: PersonInput,
        dwelling: str,
        employer: str | None,
        arrived_on: date,
        deadline_days: int,
        id_digest: str | None,
        seal: Sealer,
    ) -> MigrantWorker:
        """Register a worker who arrived on ``arrived_on``; late when past ``deadline_days``.

        Late registration is recorded, not refused: the office must still know who is here.
        Sealing comes after the checks, so a refused registration makes no data key.
        """
        registered_on = local_date(meta.occurred_at)
        if arrived_on > registered_on:
            raise RuleViolation(
                f"migrant worker {ref!r} cannot be registered on {registered_on.isoformat()} "
                f"for an arrival on {arrived_on.isoformat()}",
                field="arrived_on",
                rule="not after the registration",
            )
        return cls(
            meta=meta,
            ref=ref,
            community=community,
            grid_unit=grid_unit,
            source=source,
            person=seal(person),
            dwelling=seal(PersonInput(ref=person.ref, address=dwelling)),
            employer=employer,
            arrived_on=arrived_on,
            due_on=arrived_on + timedelta(days=deadline_days),
            id_digest=id_digest,
        )

    @property
    def registered_late(self) -> bool:
        """Registered after the local deadline that followed the arrival."""
        return self.registered_on > self.registration_due_on

    # -- whereabouts ------------------------------------------------------------------

    class Moved(Record.Event):
        TOPIC = "safecomm/MigrantWorker/Moved"
        dwelling: SealedPerson
        community: str
        grid_unit: str | None

    @event(Moved)
    def _moved(
        self, meta: Meta, dwelling: SealedPerson, community: str, grid_unit: str | None
    ) -> None:
        self.dwelling = dwelling
        self.community = community
        self.grid_unit = grid_unit
        self.moves += 1

    def move(
        self, meta: Meta, *, dwelling: str, community: str, grid_unit: str | None, seal: Sealer
    ) -> None:
        """A move within the subdistrict, e.g. reported by a coordinator (M3.1)."""
        self._require(meta, "record a move of", WorkerStatus.REGISTERED)
        sealed = seal(PersonInput(ref=self.person.ref, address=dwelling))
        self._moved(meta=meta, dwelling=sealed, community=community, grid_unit=grid_unit)

    class Left(Record.Event):
        TOPIC = "safecomm/MigrantWorker/Left"

    @event(Left)
    def _left(self, meta: Meta) -> None:
        self.status = WorkerStatus.LEFT
        self.left_on = local_date(meta.occurred_at)

    def leave(self, meta: Meta) -> str | None:
        """The worker left the subdistrict. No destination is kept: it is whereabouts.

        Returns the ID-number digest whose entry the caller must now release: a return is a
        new registration (a new stay, a new arrival date), which the released entry allows.
        """
        self._require(meta, "record the departure of", WorkerStatus.REGISTERED)
        self._left(meta=meta)
        return self.id_digest

    # -- residence permit (居住证暂行条例) ----------------------------------------------

    class PermitApplied(Record.Event):
        TOPIC = "safecomm/MigrantWorker/PermitApplied"
        basis: PermitBasis

    @event(PermitApplied)
    def _permit_applied(self, meta: Meta, basis: PermitBasis) -> None:
        self.permit = PermitStatus.APPLIED
        self.permit_basis = PermitBasis(basis)
        self.permit_applied_on = self.permit_changed_on = local_date(meta.occurred_at)

    def apply_permit(self, meta: Meta, basis: PermitBasis, min_residence_months: int) -> None:
        """Apply for a residence permit: needs ``min_residence_months`` of residence (Art. 2)."""
        self._require_permit(meta, "apply for a residence permit for", PermitStatus.NONE)
        on = local_date(meta.occurred_at)
        allowed_from = add_months(self.residence_since, min_residence_months)
        if on < allowed_from:
            raise RuleViolation(
                f"migrant worker {self.ref!r} has lived here since "
                f"{self.residence_since.isoformat()}; a residence permit needs "
                f"{min_residence_months} months' residence (居住证暂行条例 Art. 2), so an "
                f"application from {allowed_from.isoformat()}",
                field="occurred_at",
                rule=f"at least {min_residence_months} months' residence",
            )
        self._permit_applied(meta=meta, basis=basis)

    class PermitIssued(Record.Event):
        TOPIC = "safecomm/MigrantWorker/PermitIssued"
        due_on: date

    @event(PermitIssued)
    def _permit_issued(self, meta: Meta, due_on: date) -> None:
        on = local_date(meta.occurred_at)
        self.permit = PermitStatus.ISSUED
        self.permit_issued_on = self.permit_changed_on = on
        self.permit_issue_due_on = due_on
        self.endorsement_due_on = endorsement_due(on)

    def issue_permit(self, meta: Meta, issue_days: int) -> None:
        """The permit was issued; late when past ``issue_days`` after the application (Art. 9).

        Lateness is the office's, not the worker's: it is recorded, never refused.
        """
        self._require_permit(meta, "issue a residence permit to", PermitStatus.APPLIED)
        assert self.permit_applied_on is not None
        self._permit_issued(meta=meta, due_on=self.permit_applied_on + timedelta(days=issue_days))

    @property
    def permit_issued_late(self) -> bool | None:
        """Whether the permit came after the limit of Art. 9; None before it is issued."""
        if self.permit_issued_on is None or self.permit_issue_due_on is None:
            return None
        return self.permit_issued_on > self.permit_issue_due_on

    class PermitEndorsed(Record.Event):
        TOPIC = "safecomm/MigrantWorker/PermitEndorsed"
        due_on: date

    @event(PermitEndorsed)
    def _permit_endorsed(self, meta: Meta, due_on: date) -> None:
        on = local_date(meta.occurred_at)
        self.permit = PermitStatus.ISSUED
        self.endorsements += 1
        self.permit_changed_on = on
        # Art. 10: a late endorsement restores the permit, and residence years count afresh
        # from the day of the late endorsement.
        self.residence_since = residence_after_endorsement(self.residence_since, on, due_on)
        self.endorsement_due_on = endorsement_due(on, was_due=due_on)

    def endorse_permit(self, meta: Meta, window_months: int) -> None:
        """The yearly endorsement (签注), due in the ``window_months`` before each full year.

        Before the window it is refused; after the due day it is late (see the event).
        """
        self._require_permit(
            meta, "endorse the residence permit of", PermitStatus.ISSUED, PermitStatus.SUSPENDED
        )
        assert self.endorsement_due_on is not None
        due = self.endorsement_due_on
        opens = endorsement_opens(due, window_months)
        on = local_date(meta.occurred_at)
        if on < opens:
            raise RuleViolation(
                f"the residence permit of migrant worker {self.ref!r} is due for endorsement "
                f"on {due.isoformat()}; endorsement opens {window_months} month(s) before, "
                f"on {opens.isoformat()} (居住证暂行条例 Art. 10)",
                field="occurred_at",
                rule=f"within {window_months} month(s) before the due day, or late",
            )
        self._permit_endorsed(meta=meta, due_on=due)

    class PermitSuspended(Record.Event):
        TOPIC = "safecomm/MigrantWorker/PermitSuspended"
        due_on: date

    @event(PermitSuspended)
    def _permit_suspended(self, meta: Meta, due_on: date) -> None:
        self.permit = PermitStatus.SUSPENDED
        self.permit_changed_on = local_date(meta.occurred_at)

    def suspend_permit(self, meta: Meta) -> None:
        """The permit's use is suspended because its endorsement is overdue (Art. 10)."""
        self._require_permit(meta, "suspend the residence permit of", PermitStatus.ISSUED)
        assert self.endorsement_due_on is not None
        due = self.endorsement_due_on
        if local_date(meta.occurred_at) <= due:
            raise RuleViolation(
                f"the residence permit of migrant worker {self.ref!r} is not overdue: "
                f"endorsement is due by {due.isoformat()} (居住证暂行条例 Art. 10)",
                field="occurred_at",
                rule="only after the endorsement is overdue",
            )
        self._permit_suspended(meta=meta, due_on=due)

    # -- rights (M3.2) ----------------------------------------------------------------

    class RightsCaseOpened(Record.Event):
        TOPIC = "safecomm/MigrantWorker/RightsCaseOpened"
        case_id: str
        kind: RightsKind
        dispute_id: str | None
        legal_aid: str | None

    @event(RightsCaseOpened)
    def _rights_case_opened(
        self,
        meta: Meta,
        case_id: str,
        kind: RightsKind,
        dispute_id: str | None,
        legal_aid: str | None,
    ) -> None:
        case = RightsCase(
            case_id, RightsKind(kind), local_date(meta.occurred_at), dispute_id, legal_aid
        )
        self.rights_cases = (*self.rights_cases, case)

    def open_rights_case(
        self,
        meta: Meta,
        *,
        case_id: str,
        kind: RightsKind,
        dispute_id: str | None,
        legal_aid: str | None,
    ) -> None:
        """Open a rights case (the caller checks that the linked dispute exists).

        Claims such as wage arrears outlive a departure, so a worker who left may open one.
        """
        self._require(meta, "open a rights case for", WorkerStatus.REGISTERED, WorkerStatus.LEFT)
        for case in self.rights_cases:
            if case.case_id == case_id:
                raise AlreadyExists(
                    f"migrant worker {self.ref!r} already has rights case {case_id!r}",
                    field="case_id",
                    rule="unique per worker",
                )
            if dispute_id is not None and case.dispute_id == dispute_id:
                raise RuleViolation(
                    f"dispute {dispute_id!r} is already linked to migrant worker "
                    f"{self.ref!r} as rights case {case.case_id!r}",
                    field="dispute_id",
                    rule="link each dispute once",
                )
        self._rights_case_opened(
            meta=meta, case_id=case_id, kind=kind, dispute_id=dispute_id, legal_aid=legal_aid
        )

    # -- services (M3.3) --------------------------------------------------------------

    class ServiceOffered(Record.Event):
        """``eligible_since`` is set for M3.3's extras for long residents: the day the
        worker met the residence rule; None for services open to every migrant."""

        TOPIC = "safecomm/MigrantWorker/ServiceOffered"
        offer_id: str
        service: str
        proactive: bool
        eligible_since: date | None

    @event(ServiceOffered)
    def _service_offered(
        self,
        meta: Meta,
        offer_id: str,
        service: str,
        proactive: bool,
        eligible_since: date | None,
    ) -> None:
        offer = ServiceOffer(
            offer_id, service, proactive, eligible_since, local_date(meta.occurred_at)
        )
        self.services = (*self.services, offer)

    def offer_service(
        self,
        meta: Meta,
        *,
        offer_id: str,
        service: str,
        proactive: bool,
        residence_years: int | None,
    ) -> None:
        """Offer a service; ``proactive`` when the community found the worker itself.

        ``residence_years`` is given for a service reserved to long residents (M3.3: 3 years
        or more), and the offer is refused before the worker has lived here that long.
        """
        self._require(meta, "offer a service to", WorkerStatus.REGISTERED)
        if self._offer(offer_id) is not None:
            raise AlreadyExists(
                f"migrant worker {self.ref!r} already has service offer {offer_id!r}",
                field="offer_id",
                rule="unique per worker",
            )
        eligible_since = None
        if residence_years is not None:
            eligible_since = long_residence_from(self.residence_since, residence_years)
            if local_date(meta.occurred_at) < eligible_since:
                raise RuleViolation(
                    f"migrant worker {self.ref!r} has lived here since "
                    f"{self.residence_since.isoformat()}: {service!r} needs {residence_years} "
                    f"years' residence, reached on {eligible_since.isoformat()}",
                    field="occurred_at",
                    rule=f"at least {residence_years} years' residence",
                )
        self._service_offered(
            meta=meta,
            offer_id=offer_id,
            service=service,
            proactive=proactive,
            eligible_since=eligible_since,
        )

    class ServiceDelivered(Record.Event):
        TOPIC = "safecomm/MigrantWorker/ServiceDelivered"
        offer_id: str

    @event(ServiceDelivered)
    def _service_delivered(self, meta: Meta, offer_id: str) -> None:
        on = local_date(meta.occurred_at)
        self.services = tuple(
            attrs.evolve(s, delivered_on=on) if s.offer_id == offer_id else s for s in self.services
        )

    def deliver_service(self, meta: Meta, offer_id: str) -> None:
        """The offered service was delivered (M3.3: often at the worker's door)."""
        self._require(meta, "deliver a service to", WorkerStatus.REGISTERED)
        offer = self._offer(offer_id)
        if offer is None or offer.delivered_on is not None:
            state = "not offered" if offer is None else "already delivered"
            raise InvalidTransition(
                f"cannot deliver service {offer_id!r} to migrant worker {self.ref!r}: "
                f"it is {state}",
                field="offer_id",
                rule="an offered service, delivered once",
            )
        if local_date(meta.occurred_at) < offer.offered_on:
            raise RuleViolation(
                f"service {offer_id!r} was offered on {offer.offered_on.isoformat()}; "
                "it cannot be delivered earlier",
                field="occurred_at",
                rule="not before the offer",
            )
        self._service_delivered(meta=meta, offer_id=offer_id)

    def _offer(self, offer_id: str) -> ServiceOffer | None:
        return next((s for s in self.services if s.offer_id == offer_id), None)

    # -- erasure (PIPL Art. 47) -------------------------------------------------------

    class Erased(Record.Event):
        TOPIC = "safecomm/MigrantWorker/Erased"
        ground: ErasureGround | None

    @event(Erased)
    def _erased(self, meta: Meta, ground: ErasureGround | None) -> None:
        self.status = WorkerStatus.ERASED
        self.erasure_ground = ErasureGround(ground) if ground is not None else None

    def erase(self, meta: Meta, ground: ErasureGround | None) -> str | None:
        """Record the erasure. Nothing follows it.

        The caller destroys the person's data key in the same command (the sealed person
        and dwellings then read ``[erased]``) and releases the ID-number entry whose digest
        this returns: None when the worker had left, which released it already.
        """
        self._require(meta, "erase", WorkerStatus.REGISTERED, WorkerStatus.LEFT)
        held = self.id_digest if self.status is WorkerStatus.REGISTERED else None
        self._erased(meta=meta, ground=ground)
        return held

    # -- checks -----------------------------------------------------------------------

    def _require(self, meta: Meta, action: str, *allowed: WorkerStatus) -> None:
        self.check_after_creation(meta)
        if self.status not in allowed:
            raise self.not_allowed(action, self.status.value)

    def _require_permit(self, meta: Meta, action: str, *allowed: PermitStatus) -> None:
        self._require(meta, action, WorkerStatus.REGISTERED)
        if self.permit not in allowed:
            raise InvalidTransition(
                f"cannot {action} migrant worker {self.ref!r}: the permit is {self.permit.value}",
                field=self.id_field(),
                rule=f"cannot {action} when the permit is {self.permit.value}",
            )
        if self.permit_changed_on is not None and local_date(meta.occurred_at) < (
            self.permit_changed_on
        ):
            raise RuleViolation(
                f"the residence permit of migrant worker {self.ref!r} last changed on "
                f"{self.permit_changed_on.isoformat()}; a later fact cannot be earlier",
                field="occurred_at",
                rule="not before the permit's last change",
            )


class MigrantIdNumber(Record):
    """Which worker holds an ID number: at most one active registration per ID number.

    Its ref is the ID number's token: random, kept by the key store's index (never the
    number, nor anything computed from it: 18-digit IDs are enumerable). The first claim
    creates it; later claims append to it. Either way the claim is written with the
    registration, so the store's unique (id, version) constraint lets only one of two
    racing registrations land: no check-then-write race.

    Leaving and erasure **release** the entry. After erasure, keeping it would let anyone
    holding the person's ID number find the erased record by registering them again (the
    refusal names the worker), and would turn the person away for good if they came back;
    released, the lookup answers nothing. What stays is what an append-only store cannot
    drop: the token and the old claim in this record's history, which lead to the number
    only through the key store's index row, deleted when its last holder is erased.
    """

    KIND = "migrant_id"
    TOPIC = "safecomm/MigrantIdNumber"
    #: A registration in any community must find a number registered in another.
    CONSULTED_BY_ALL = True

    class Claimed(Record.Created):
        TOPIC = "safecomm/MigrantIdNumber/Claimed"
        ref: str
        community: str
        worker_id: str

    @event(Claimed)
    def __init__(self, *, meta: Meta, ref: str, community: str, worker_id: str) -> None:
        self._created(meta, ref, community)
        self.holder: str | None = worker_id

    class Reclaimed(Record.Event):
        TOPIC = "safecomm/MigrantIdNumber/Reclaimed"
        worker_id: str
        community: str

    @event(Reclaimed)
    def _reclaimed(self, meta: Meta, worker_id: str, community: str) -> None:
        self.holder = worker_id
        self.community = community

    def claim(self, meta: Meta, worker_id: str, community: str) -> None:
        """Claim a released entry for ``worker_id``; refused while another worker holds it."""
        if self.holder is not None:
            # Which worker holds it is told only to callers who may read that worker.
            raise AlreadyExists(
                "a migrant worker with this ID number is already registered",
                field="person.id_number",
                rule="one active registration per ID number",
                holder=(MigrantWorker.KIND, self.holder, self.community),
            )
        # The community follows the holder, so the claim is in the registration's jurisdiction.
        self._reclaimed(meta=meta, worker_id=worker_id, community=community)

    class Released(Record.Event):
        TOPIC = "safecomm/MigrantIdNumber/Released"
        worker_id: str

    @event(Released)
    def _released(self, meta: Meta, worker_id: str) -> None:
        self.holder = None

    def release(self, meta: Meta, worker_id: str) -> None:
        """``worker_id`` no longer holds the entry.

        A release by a worker that does not hold it changes nothing rather than failing:
        an erasure must never be blocked by the state of an index.
        """
        if self.holder == worker_id:
            self._released(meta=meta, worker_id=worker_id)
