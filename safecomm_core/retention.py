"""Retention: erase the personal data of records past their period, by destroying keys.

A mediation file keeps its parties and its free text for ``dispute_retention_years``
after it is archived; a migrant worker's registration keeps the person for
``migrant_retention_years`` after they left. Both are rules of local practice, adopted
with dates like every other (:class:`~safecomm_core.domain.rules.Rules`); a record uses
the set in force in its community on the day its period began (its archive, the worker's
departure), as every duty does.

:func:`retention_due` finds the records whose period has ended by a day;
:func:`run_retention` erases them with the ordinary erasure commands (``dispute.erase``,
``migrant.erase``, ground ``retention_ended``), so that every erasure is an event in the
record and a repeated run changes nothing. Only keys are destroyed: no event changes,
every figure stays and the audit chain still verifies. A person is the same person in
every record that names their ref, so a person that a record still kept holds is not
erased with another's file: a dispute keeps those parties' keys (``keep``), and a worker
whose person is still held elsewhere waits. See docs/personal-data.md, *Retention*.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from safecomm_core.commands.base import Command
from safecomm_core.commands.dispute import EraseDispute
from safecomm_core.commands.migrant import EraseMigrantWorker
from safecomm_core.dates import add_months, local_date
from safecomm_core.domain.base import KINDS
from safecomm_core.domain.dispute import Dispute
from safecomm_core.domain.migrant import ErasureGround, MigrantWorker
from safecomm_core.errors import RuleViolation
from safecomm_core.personal import sealed_people
from safecomm_core.values import Actor, Role

if TYPE_CHECKING:
    from safecomm_core.service import Safecomm

__all__ = [
    "RETENTION_ACTOR",
    "RetentionCase",
    "RetentionRun",
    "Verdict",
    "retention_due",
    "run_retention",
]

#: Who the erasures of a retention run are recorded as, unless the caller names someone.
RETENTION_ACTOR = Actor("safecomm-retention", Role.ADMIN)

_BATCH = 1000


class Verdict(enum.StrEnum):
    """What a run does with a record past its period."""

    ERASE = "erase"
    #: The person is still held by a record kept: the worker's erasure waits for it.
    WAIT = "wait"


@attrs.frozen
class RetentionCase:
    """A record whose retention period ended by the day asked about."""

    kind: str
    ref: str
    community: str
    #: When its period began: the file's archive, the worker's departure.
    since: date
    years: int
    #: The first day past the period.
    ends: date
    verdict: Verdict
    #: People whose keys stay (a dispute's parties), or who hold the erasure back (a
    #: worker's person), because records kept still name them.
    held: tuple[str, ...] = ()

    def command(self, actor: Actor, at: datetime) -> Command | None:
        """The erasure that carries the case out; None while it waits."""
        if self.verdict is not Verdict.ERASE:
            return None
        fields: dict[str, Any] = {
            "command_id": f"retention:{self.kind}:{self.ref}",
            "occurred_at": at,
            "actor": actor,
            "ground": ErasureGround.RETENTION_ENDED,
        }
        if self.kind == Dispute.KIND:
            return EraseDispute(dispute_id=self.ref, keep=self.held, **fields)
        return EraseMigrantWorker(worker_id=self.ref, **fields)


@attrs.frozen
class RetentionRun:
    """What a run found and, unless it was a dry run, erased."""

    on: date
    dry_run: bool
    cases: tuple[RetentionCase, ...]
    #: The command ids of the erasures handled (the same again on a repeated run).
    erased: tuple[str, ...] = ()

    def summary(self) -> list[str]:
        """Lines for a person: what was (or would be) erased, and what waits."""
        erase = [c for c in self.cases if c.verdict is Verdict.ERASE]
        wait = [c for c in self.cases if c.verdict is Verdict.WAIT]
        head = (
            f"Dry run: nothing erased. {len(erase)} record(s) past their retention period "
            f"on {self.on.isoformat()} would be erased (--apply erases them)."
            if self.dry_run
            else f"Erased the personal data of {len(self.erased)} record(s) past their "
            f"retention period on {self.on.isoformat()}."
        )
        lines = [head]
        for c in erase:
            kept = f"; parties kept (held elsewhere): {', '.join(c.held)}" if c.held else ""
            lines.append(
                f"  {c.kind} {c.ref} ({c.community}): since {c.since.isoformat()}, "
                f"{c.years} year(s), ended {c.ends.isoformat()}{kept}"
            )
        for c in wait:
            lines.append(
                f"  waits: {c.kind} {c.ref} ({c.community}): its person is still held by "
                f"{', '.join(c.held)}"
            )
        return lines


@attrs.define
class _Record:
    kind: str
    ref: str
    community: str
    people: set[str] = attrs.field(factory=set)
    since: date | None = None
    erased: bool = False


def _records(service: Safecomm) -> dict[UUID, _Record]:
    """Every record's kind, community, people and retention start, from the log."""
    topics = {getattr(cls, "TOPIC", ""): kind for kind, cls in KINDS.items()}
    found: dict[UUID, _Record] = {}
    for event in _events(service):
        record = found.get(event.originator_id)
        if record is None:
            kind = topics.get(getattr(event, "originator_topic", ""), "")
            if not kind or not isinstance(getattr(event, "ref", None), str):
                continue
            record = found[event.originator_id] = _Record(kind, event.ref, event.community)
        record.people.update(p.ref for p in sealed_people(list(vars(event).values())))
        if isinstance(event, MigrantWorker.Moved):
            # A worker's community is the one they live in: the period that begins when
            # they leave takes the rules of the community they leave from.
            record.community = event.community
        elif isinstance(event, Dispute.Archived | MigrantWorker.Left):
            record.since = local_date(event.meta.occurred_at)
        elif isinstance(event, Dispute.Erased | MigrantWorker.Erased):
            record.erased = True
    return found


def _events(service: Safecomm) -> Iterator[Any]:
    position = 0
    while True:
        batch = list(service.log.read(position, _BATCH))
        if not batch:
            return
        for notification in batch:
            yield service.log.decode(notification)
        position = batch[-1].id


def retention_due(service: Safecomm, on: date) -> list[RetentionCase]:
    """The records not yet erased whose retention period ended by ``on``."""
    records = _records(service)
    due: dict[UUID, tuple[_Record, int, date]] = {}
    for id_, r in records.items():
        if r.erased or r.since is None or r.kind not in (Dispute.KIND, MigrantWorker.KIND):
            continue
        rules = service.rules(r.community, r.since)
        years = (
            rules.dispute_retention_years
            if r.kind == Dispute.KIND
            else rules.migrant_retention_years
        )
        ends = add_months(r.since, 12 * years)
        if ends <= on:
            due[id_] = (r, years, ends)
    # Who else names each person: records neither erased nor erased by this run.
    holders: dict[str, set[str]] = defaultdict(set)
    for id_, r in records.items():
        if not r.erased and id_ not in due:
            for person in r.people:
                holders[person].add(f"{r.kind}:{r.ref}")
    cases = []
    for r, years, ends in due.values():
        held = tuple(sorted(p for p in r.people if holders[p]))
        verdict = Verdict.ERASE
        if r.kind == MigrantWorker.KIND and held:
            verdict = Verdict.WAIT
            held = tuple(sorted({h for p in held for h in holders[p]}))
        since = r.since or ends
        cases.append(RetentionCase(r.kind, r.ref, r.community, since, years, ends, verdict, held))
    return sorted(cases, key=lambda c: (c.ends, c.kind, c.ref))


def run_retention(
    service: Safecomm,
    on: date,
    *,
    dry_run: bool = True,
    actor: Actor = RETENTION_ACTOR,
    at: datetime | None = None,
) -> RetentionRun:
    """Find the records past their period on ``on`` and, unless ``dry_run``, erase them.

    Each erasure is the ordinary command, handled as a trusted caller: ``at`` (default:
    now) is when it occurred, and its id is derived from the record, so a repeated run
    records nothing twice. A dry run may look ahead to a day still to come; a run that
    erases may not (:class:`~safecomm_core.errors.RuleViolation`, field ``on``): an
    erasure cannot be undone, and a period that has not ended yet is not over.
    """
    moment = at or datetime.now().astimezone()
    if not dry_run and on > local_date(moment):
        raise RuleViolation(
            f"cannot erase on {on.isoformat()}, a day still to come (today is "
            f"{local_date(moment).isoformat()}): a dry run lists what falls due by then",
            field="on",
            rule="not after today when erasing",
        )
    cases = tuple(retention_due(service, on))
    if dry_run:
        return RetentionRun(on, True, cases)
    erased = []
    for case in cases:
        command = case.command(actor, moment)
        if command is not None:
            erased.append(service.handle(command).command_id)
    return RetentionRun(on, False, cases, tuple(erased))
