"""Commands of migrant-worker service and management (``migrant.*``, plan M3.1–M3.3).

Each takes the worker by ``worker_id``. Registration de-duplicates ID numbers through a
:class:`~safecomm_core.domain.migrant.MigrantIdNumber` entry written in the same transaction;
leaving and erasure release it.
"""

from __future__ import annotations

from datetime import date

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.dates import local_date
from safecomm_core.domain.dispute import Dispute
from safecomm_core.domain.migrant import (
    ErasureGround,
    MigrantIdNumber,
    MigrantWorker,
    PermitBasis,
    RegistrationSource,
    RightsKind,
)
from safecomm_core.errors import FieldError, InvalidCommand, NotFound
from safecomm_core.personal import PersonInput
from safecomm_core.validation import day, ident, ident_or_none, label, label_or_none

__all__ = [
    "ApplyResidencePermit",
    "DeliverMigrantService",
    "EndorseResidencePermit",
    "EraseMigrantWorker",
    "IssueResidencePermit",
    "OfferMigrantService",
    "OpenMigrantRightsCase",
    "RecordMigrantDeparture",
    "RecordMigrantMove",
    "RegisterMigrantWorker",
    "SuspendResidencePermit",
]


def _worker(ctx: Context, worker_id: str) -> MigrantWorker:
    return ctx.load(MigrantWorker, worker_id)


def _release_id_number(ctx: Context, worker_id: str, digest: str | None) -> None:
    """Release the ID-number entry ``worker_id`` held (``digest``), if it held one."""
    if digest is not None and ctx.exists(MigrantIdNumber, digest):
        ctx.load(MigrantIdNumber, digest).release(ctx.meta, worker_id)


@attrs.frozen(kw_only=True)
class _OnWorker(Command):
    worker_id: str = ident()


@command("migrant.register", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class RegisterMigrantWorker(Command):
    """Register a migrant worker: who (sealed), where (dwelling sealed), since when, employer.

    ``source`` defaults to the channel when that is door-to-door, landlord, employer or
    coordinator. Registration after the local deadline is recorded as late, not refused. A
    second active registration with the same ID number is refused, naming the first worker.
    """

    worker_id: str = ident()
    community: str = ident()
    person: PersonInput
    arrived_on: date = day()
    dwelling: str = label()
    employer: str | None = label_or_none()
    grid_unit: str | None = ident_or_none()
    source: RegistrationSource | None = None

    def run(self, ctx: Context) -> None:
        source = self._source()
        ctx.check_new(MigrantWorker, self.worker_id)
        digest = ctx.id_digest(self.person.id_number) if self.person.id_number else None
        index = None
        if digest is not None:
            if ctx.exists(MigrantIdNumber, digest):
                ctx.load(MigrantIdNumber, digest).claim(ctx.meta, self.worker_id, self.community)
            else:
                index = MigrantIdNumber(
                    meta=ctx.meta, ref=digest, community=self.community, worker_id=self.worker_id
                )
        # The deadline is the one in force when the worker arrived: the duty arose then.
        rules = ctx.rules(self.community, self.arrived_on)
        ctx.add(
            MigrantWorker.register(
                ctx.meta,
                ref=self.worker_id,
                community=self.community,
                grid_unit=self.grid_unit,
                source=source,
                person=self.person,
                dwelling=self.dwelling,
                employer=self.employer,
                arrived_on=self.arrived_on,
                deadline_days=rules.registration_deadline_days,
                id_digest=digest,
                seal=ctx.seal,
            )
        )
        if index is not None:
            ctx.add(index)

    def _source(self) -> RegistrationSource:
        if self.source is not None:
            return self.source
        try:
            return RegistrationSource(str(self.channel))
        except ValueError:
            raise InvalidCommand(
                [
                    FieldError(
                        "source",
                        "required unless the channel is one of "
                        + ", ".join(s.value for s in RegistrationSource),
                    )
                ]
            ) from None


@command("migrant.move", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class RecordMigrantMove(_OnWorker):
    """The worker moved to another dwelling in the subdistrict (coordinators report moves)."""

    dwelling: str = label()
    community: str = ident()
    grid_unit: str | None = ident_or_none()

    def run(self, ctx: Context) -> None:
        _worker(ctx, self.worker_id).move(
            ctx.meta,
            dwelling=self.dwelling,
            community=self.community,
            grid_unit=self.grid_unit,
            seal=ctx.seal,
        )


@command("migrant.leave", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class RecordMigrantDeparture(_OnWorker):
    """The worker left the subdistrict; the ID number is free for a later registration."""

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        _release_id_number(ctx, worker.ref, worker.leave(ctx.meta))


@command("migrant.apply_permit", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class ApplyResidencePermit(_OnWorker):
    """The worker applied for a residence permit (居住证暂行条例 Art. 2)."""

    basis: PermitBasis

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        rules = ctx.rules(worker.community, local_date(self.occurred_at))
        worker.apply_permit(ctx.meta, self.basis, rules.permit_min_residence_months)


@command("migrant.issue_permit", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class IssueResidencePermit(_OnWorker):
    """The residence permit was issued (Art. 9: late or on time against the rule)."""

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        # The limit runs from the application, so the rule in force then applies.
        applied_on = worker.permit_applied_on or local_date(self.occurred_at)
        worker.issue_permit(ctx.meta, ctx.rules(worker.community, applied_on).permit_issue_days)


@command("migrant.endorse_permit", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class EndorseResidencePermit(_OnWorker):
    """The yearly endorsement of the residence permit (签注, Art. 10)."""

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        rules = ctx.rules(worker.community, local_date(self.occurred_at))
        worker.endorse_permit(ctx.meta, rules.permit_endorsement_window_months)


@command("migrant.suspend_permit", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class SuspendResidencePermit(_OnWorker):
    """The permit's use is suspended: its endorsement is overdue (Art. 10)."""

    def run(self, ctx: Context) -> None:
        _worker(ctx, self.worker_id).suspend_permit(ctx.meta)


@command("migrant.open_rights_case", serves=("M3.2",))
@attrs.frozen(kw_only=True)
class OpenMigrantRightsCase(_OnWorker):
    """A rights matter of the worker, linking an existing dispute or a legal-aid matter."""

    case_id: str = ident()
    kind: RightsKind
    dispute_id: str | None = ident_or_none()
    legal_aid: str | None = label_or_none()

    def run(self, ctx: Context) -> None:
        if (self.dispute_id is None) == (self.legal_aid is None):
            raise InvalidCommand(
                [FieldError("dispute_id", "give exactly one of dispute_id and legal_aid")]
            )
        worker = _worker(ctx, self.worker_id)
        if self.dispute_id is not None and not ctx.exists(Dispute, self.dispute_id):
            raise NotFound(Dispute.KIND, self.dispute_id)
        worker.open_rights_case(
            ctx.meta,
            case_id=self.case_id,
            kind=self.kind,
            dispute_id=self.dispute_id,
            legal_aid=self.legal_aid,
        )


@command("migrant.offer_service", serves=("M3.3",))
@attrs.frozen(kw_only=True)
class OfferMigrantService(_OnWorker):
    """Offer a service. ``proactive``: the community found the worker without an application.

    ``long_residence``: the service is one of M3.3's extras for workers resident the set
    number of years (``proactive_service_years``), refused before then.
    """

    offer_id: str = ident()
    service: str = label()
    proactive: bool
    long_residence: bool = False

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        years = None
        if self.long_residence:
            rules = ctx.rules(worker.community, local_date(self.occurred_at))
            years = rules.proactive_service_years
        worker.offer_service(
            ctx.meta,
            offer_id=self.offer_id,
            service=self.service,
            proactive=self.proactive,
            residence_years=years,
        )


@command("migrant.deliver_service", serves=("M3.3",))
@attrs.frozen(kw_only=True)
class DeliverMigrantService(_OnWorker):
    """An offered service was delivered."""

    offer_id: str = ident()

    def run(self, ctx: Context) -> None:
        _worker(ctx, self.worker_id).deliver_service(ctx.meta, self.offer_id)


@command("migrant.erase", serves=("M3.1",))
@attrs.frozen(kw_only=True)
class EraseMigrantWorker(_OnWorker):
    """Erase the worker's personal data (PIPL Art. 47) by destroying the person's data key.

    The record still replays; its person and dwellings read ``[erased]``. The key is the
    person's, so their data in any other record (e.g. as a dispute party) goes with it.
    """

    ERASES = True

    ground: ErasureGround | None = None

    def run(self, ctx: Context) -> None:
        worker = _worker(ctx, self.worker_id)
        _release_id_number(ctx, worker.ref, worker.erase(ctx.meta, self.ground))
        ctx.erase(worker.person.ref)
