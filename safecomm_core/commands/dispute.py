"""Commands of the people's-mediation workflow (``dispute.*``)."""

from __future__ import annotations

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.commands.shape import require_distinct
from safecomm_core.dates import local_date
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    DisputeSource,
    Party,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.domain.migrant import ErasureGround
from safecomm_core.errors import RuleViolation
from safecomm_core.freetext import SealedText
from safecomm_core.personal import PersonInput
from safecomm_core.validation import ident, ident_or_none, label, notes, prose

__all__ = [
    "AcceptDispute",
    "ApplyJudicialConfirmation",
    "ArchiveDispute",
    "AssignMediator",
    "DecideJudicialConfirmation",
    "EraseDispute",
    "FlagDisputeRisk",
    "FollowUpDispute",
    "HoldSession",
    "PartyInput",
    "ReachAgreement",
    "RecordPerformance",
    "ReferLegalAid",
    "RefuseDispute",
    "ReportDispute",
    "ReportDisputeToPolice",
    "TerminateMediation",
]


@attrs.frozen(kw_only=True)
class PartyInput(PersonInput):
    """A party to a dispute: a person and their role in it."""

    role: PartyRole


def _source(cmd: Command, given: DisputeSource | None) -> DisputeSource:
    if given is not None:
        return given
    try:
        return DisputeSource(str(cmd.channel))
    except ValueError:
        return DisputeSource.WALK_IN


@attrs.frozen(kw_only=True)
class _OnDispute(Command):
    dispute_id: str = ident()

    def _text(self, ctx: Context, text: str) -> SealedText:
        # Free text may name people: sealed with the dispute's own key (docs/personal-data.md),
        # once the dispute is known to take new facts (an erased one has no key to seal with).
        ctx.load(Dispute, self.dispute_id).check_after_creation(ctx.meta)
        return ctx.seal_text(Dispute, self.dispute_id, text)


@command("dispute.report", serves=("M1.2", "M3.5"))
@attrs.frozen(kw_only=True)
class ReportDispute(Command):
    """Open a dispute: who, what kind, in which community. The source defaults to the channel."""

    dispute_id: str = ident()
    community: str = ident()
    kind: DisputeKind
    summary: str = prose()
    parties: tuple[PartyInput, ...]
    grid_unit: str | None = ident_or_none()
    source: DisputeSource | None = None

    def run(self, ctx: Context) -> None:
        require_distinct("parties", (p.ref for p in self.parties), what="party")
        ctx.check_new(Dispute, self.dispute_id)
        ctx.add(
            Dispute(
                meta=ctx.meta,
                ref=self.dispute_id,
                community=self.community,
                grid_unit=self.grid_unit,
                source=_source(self, self.source),
                kind=self.kind,
                summary=ctx.seal_text(Dispute, self.dispute_id, self.summary),
                parties=tuple(Party(p.role, ctx.seal(p)) for p in self.parties),
            )
        )


@command("dispute.accept", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class AcceptDispute(_OnDispute):
    """The committee takes the dispute on."""

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).accept(ctx.meta)


@command("dispute.refuse", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class RefuseDispute(_OnDispute):
    """The dispute is not taken on (e.g. a party refuses mediation, Art. 17)."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).refuse(ctx.meta, self._text(ctx, self.reason))


@command("dispute.assign_mediator", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class AssignMediator(_OnDispute):
    """Appoint or replace the mediator (Art. 19)."""

    mediator: str = ident()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).assign_mediator(ctx.meta, self.mediator)


@command("dispute.hold_session", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class HoldSession(_OnDispute):
    """A mediation session took place."""

    notes: str = notes()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).hold_session(ctx.meta, self._text(ctx, self.notes))


@command("dispute.flag_risk", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class FlagDisputeRisk(_OnDispute):
    """The dispute may become a criminal or public-order case (Art. 25)."""

    risk: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).flag_risk(ctx.meta, self._text(ctx, self.risk))


@command("dispute.report_to_police", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class ReportDisputeToPolice(_OnDispute):
    """A flagged dispute reported to the police station (Art. 25)."""

    station: str = label()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).report_to_police(ctx.meta, self.station)


@command("dispute.reach_agreement", serves=("M1.2", "M3.5"))
@attrs.frozen(kw_only=True)
class ReachAgreement(_OnDispute):
    """The parties agreed, in writing or orally (Arts. 28–30)."""

    form: AgreementForm
    terms: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).reach_agreement(
            ctx.meta, self.form, self._text(ctx, self.terms)
        )


@command("dispute.terminate", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class TerminateMediation(_OnDispute):
    """Mediation ended without agreement; the parties were told their routes (Art. 26)."""

    reason: str = prose()
    routes_told: tuple[Route, ...]

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).terminate(
            ctx.meta, self._text(ctx, self.reason), self.routes_told
        )


@command("dispute.record_performance", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class RecordPerformance(_OnDispute):
    """How the agreement is being performed (Art. 31)."""

    outcome: PerformanceOutcome
    notes: str = notes()

    def run(self, ctx: Context) -> None:
        dispute = ctx.load(Dispute, self.dispute_id)
        dispute.record_performance(ctx.meta, self.outcome, self._text(ctx, self.notes))


@command("dispute.apply_judicial_confirmation", serves=("M1.2", "M1.4"))
@attrs.frozen(kw_only=True)
class ApplyJudicialConfirmation(_OnDispute):
    """Both parties applied to a court to confirm the agreement (Art. 33)."""

    court: str = label(default="basic people's court")

    def run(self, ctx: Context) -> None:
        dispute = ctx.load(Dispute, self.dispute_id)
        rules = ctx.rules(dispute.community, local_date(self.occurred_at))
        dispute.apply_judicial_confirmation(ctx.meta, self.court, rules.judicial_confirmation_days)


@command("dispute.decide_judicial_confirmation", serves=("M1.2", "M1.4"))
@attrs.frozen(kw_only=True)
class DecideJudicialConfirmation(_OnDispute):
    """The court confirmed or rejected the agreement."""

    confirmed: bool
    notes: str = notes()

    def run(self, ctx: Context) -> None:
        dispute = ctx.load(Dispute, self.dispute_id)
        dispute.decide_judicial_confirmation(ctx.meta, self.confirmed, self._text(ctx, self.notes))


@command("dispute.follow_up", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class FollowUpDispute(_OnDispute):
    """A return visit after the outcome (回访)."""

    notes: str = notes()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).follow_up(ctx.meta, self._text(ctx, self.notes))


@command("dispute.archive", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class ArchiveDispute(_OnDispute):
    """Close the file."""

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).archive(ctx.meta)


@command("dispute.refer_legal_aid", serves=("M1.4", "M3.2"))
@attrs.frozen(kw_only=True)
class ReferLegalAid(_OnDispute):
    """Steer a party to legal aid (e.g. labour disputes, wage arrears, work injury)."""

    provider: str = label()
    matter: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(Dispute, self.dispute_id).refer_legal_aid(
            ctx.meta, self.provider, self._text(ctx, self.matter)
        )


@command("dispute.erase", serves=("M1.2",))
@attrs.frozen(kw_only=True)
class EraseDispute(_OnDispute):
    """Erase the parties and the free text of a dispute's file (PIPL Art. 47).

    Destroys the dispute's own key and every party's data key but those in ``keep``: the
    summary, notes, terms and reasons, and the parties erased, then read ``[erased]``,
    while what the figures count (dates, kinds, outcomes) stays. ``safecomm retention run``
    sends it for files past their retention period.
    """

    ERASES = True

    ground: ErasureGround = ErasureGround.OTHER
    #: Parties whose keys stay, as other records still hold them (a person ref is the
    #: person's everywhere); their fields keep reading in those records.
    keep: tuple[str, ...] = ()

    def run(self, ctx: Context) -> None:
        dispute = ctx.load(Dispute, self.dispute_id)
        parties = [p.person.ref for p in dispute.parties]
        unknown = [ref for ref in self.keep if ref not in parties]
        if unknown:
            raise RuleViolation(
                f"{', '.join(map(repr, unknown))} is not a party to dispute {self.dispute_id!r}",
                field="keep",
                rule="parties of the dispute only",
            )
        dispute.erase(ctx.meta, self.ground)
        for ref in parties:
            if ref not in self.keep:
                ctx.erase(ref)
        ctx.erase_text(Dispute, self.dispute_id)
