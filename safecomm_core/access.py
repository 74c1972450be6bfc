"""Who may do what: the principal behind a request, and the one access policy.

Every adapter (HTTP, a stream's command intake, the CLI with a token) maps its credential
to a :class:`Principal` and hands it to the service; the service asks :data:`POLICY`.
A trusted in-process caller passes no principal and is not checked. The table is data:
docs/access.md shows it, and the tests check it cell by cell.

Command grants name the roles that may issue a command family (or one command type) and
the **scope** it needs:

- ``community``: every record the command changes belongs to one of the principal's
  communities (a subdistrict-wide record, community ``*``, needs a principal of all);
- ``unit``: the command names the principal's own grid unit (``unit_id`` or
  ``raised_by``): a unit's duty officer acknowledges an alert for their own unit,
  whatever community raised it.

Reads are cut the same way: a record of another community is *not found* (its existence is
not disclosed), and personal data is opened only for the roles that need it, each opening
recorded (see :class:`~safecomm_core.domain.access.PersonalDataOpened`).

A city serves each of its subdistricts from that subdistrict's own store; a principal of a
city names the **subdistricts** it serves (:data:`ALL_SUBDISTRICTS`: the whole city), and
its communities are those of each of them. Another subdistrict is *not found*, as another
community is. A principal that names no subdistrict is one subdistrict's own (a server of
one store); a server of one store, which knows no subdistrict, serves no principal held to
named subdistricts.

Roles are the actors' roles recorded on every event (:class:`~safecomm_core.values.Role`):
the office is ``staff``, a grid unit's duty officer ``unit``, an integrating service or
the alert dispatcher ``system``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import Forbidden, NotFound
from safecomm_core.values import Role

if TYPE_CHECKING:
    from safecomm_core.commands.base import Command

__all__ = [
    "ALL_COMMUNITIES",
    "ALL_SUBDISTRICTS",
    "CITY",
    "POLICY",
    "Grant",
    "Policy",
    "Principal",
    "Read",
    "Scope",
    "Touched",
]

#: The communities of a principal who serves the whole subdistrict.
ALL_COMMUNITIES: tuple[str, ...] = (SUBDISTRICT,)
#: The scope of a city's own figures, and a principal's subdistricts when it serves them all.
CITY = "*"
#: The subdistricts of a principal who serves the whole city.
ALL_SUBDISTRICTS: tuple[str, ...] = (CITY,)


def _subdistricts(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen
class Principal:
    """Who is asking: a person or a service, authenticated by an adapter."""

    #: Staff or service id; the actor id of every command the principal issues.
    subject: str
    role: Role
    #: The communities the principal serves; :data:`ALL_COMMUNITIES` for all of them.
    communities: tuple[str, ...] = attrs.field(converter=tuple)
    #: The grid unit whose duty officer this is (role ``unit`` only).
    grid_unit: str | None = None
    #: The subdistricts of a city the principal serves, :data:`ALL_SUBDISTRICTS` for all of
    #: them; None when it names none (a principal of one subdistrict's own server).
    subdistricts: tuple[str, ...] | None = attrs.field(default=None, converter=_subdistricts)

    def serves(self, community: str) -> bool:
        """Whether a record of ``community`` is within the principal's reach."""
        return SUBDISTRICT in self.communities or community in self.communities

    def serves_subdistrict(self, subdistrict: str) -> bool:
        """Whether the principal serves the city's subdistrict ``subdistrict`` (or, for
        :data:`CITY`, every one of them)."""
        found = self.subdistricts or ()
        return CITY in found or subdistrict in found


@attrs.frozen
class Touched:
    """A record a command changed, as the policy sees it."""

    kind: str
    ref: str
    community: str
    #: Whether the command created it (a refusal may then name its community).
    new: bool


class Scope(enum.StrEnum):
    """What a grant needs of the records a command touches."""

    COMMUNITY = "community"
    UNIT = "unit"


class Read(enum.StrEnum):
    """The kinds of reading the policy decides on."""

    RECORDS = "records"  # a record's state and its history
    REPORTS = "reports"  # reports, figures and their explanations
    AUDIT = "audit"  # verification, seals, replays
    EVIDENCE = "evidence"  # an evidence bundle: every community's stored records
    PERSONAL = "personal"  # a person's name, ID number, phone, address
    EVENTS = "events"  # the stream of stored events' public envelopes
    SEAL = "seal"  # signing the audit chain's head


@attrs.frozen
class Grant:
    """Roles that may issue a command family or type, and the scope it needs."""

    roles: frozenset[Role]
    scope: Scope = Scope.COMMUNITY


def _grant(*roles: Role, scope: Scope = Scope.COMMUNITY) -> Grant:
    return Grant(frozenset(roles), scope)


_OFFICE = (Role.STAFF, Role.ADMIN)


@attrs.frozen
class Policy:
    """Which commands each role may issue, where, and which reads it may make."""

    #: Grants by command type (``alert.acknowledge``) or family (``alert``); a type's own
    #: grant wins over its family's.
    commands: Mapping[str, Grant]
    reads: Mapping[Read, frozenset[Role]]

    def grant(self, command_type: str) -> Grant:
        """The grant for ``command_type`` (no role at all when the table names none)."""
        found = self.commands.get(command_type) or self.commands.get(command_type.partition(".")[0])
        return found if found is not None else Grant(frozenset())

    def may_issue(self, principal: Principal, command_type: str) -> bool:
        """Whether the principal's role may issue ``command_type`` at all."""
        return principal.role in self.grant(command_type).roles

    def may_read(self, principal: Principal, read: Read, community: str = SUBDISTRICT) -> bool:
        """Whether the principal may make ``read`` of a record or figure of ``community``.

        An evidence bundle holds every community's records, so only a principal of the
        whole subdistrict may take one.
        """
        if read is Read.EVIDENCE:
            community = SUBDISTRICT
        return principal.role in self.reads.get(read, frozenset()) and (
            read in (Read.AUDIT, Read.SEAL) or principal.serves(community)
        )

    def may_read_record(
        self, principal: Principal, community: str, addressed_to: Iterable[str] = ()
    ) -> bool:
        """Whether the principal may read a record of ``community`` addressed to the grid
        units ``addressed_to``: as :meth:`may_read`, and a unit's duty officer also reads
        what is addressed to its own unit (an alert it must acknowledge)."""
        if self.may_read(principal, Read.RECORDS, community):
            return True
        return (
            principal.role is Role.UNIT
            and principal.grid_unit is not None
            and principal.role in self.reads.get(Read.RECORDS, frozenset())
            and principal.grid_unit in addressed_to
        )

    def check_subdistrict(self, principal: Principal, subdistrict: str | None) -> None:
        """Refuse unless ``principal`` may be served by the store of ``subdistrict`` at all
        (None: a server of one store, which names no subdistrict).

        Within the store, the principal's communities are held as everywhere. Raises
        :class:`NotFound` for a subdistrict the principal does not serve (whether the city
        has it is not disclosed); :class:`Forbidden` for a principal that names no
        subdistrict on a city's server, or one held to named subdistricts on a server of
        one store.
        """
        named = principal.subdistricts
        if subdistrict is None:
            if named is None or principal.serves_subdistrict(CITY):
                return
            raise Forbidden(
                f"{principal.subject!r} serves subdistricts {', '.join(named)} of a city: "
                "a server of one store names no subdistrict",
                field="subdistricts",
                rule="served by the city's server",
            )
        if named is None:
            raise Forbidden(
                f"{principal.subject!r} names no subdistrict: a city's server serves "
                "principals of named subdistricts",
                field="subdistricts",
                rule="must name the principal's subdistricts",
            )
        if not principal.serves_subdistrict(subdistrict):
            raise NotFound("subdistrict", subdistrict, "subdistrict")

    def may_read_city(self, principal: Principal, scope: str) -> bool:
        """Whether ``principal`` may read a city's figures of ``scope`` (a subdistrict's id,
        or :data:`CITY` for the city's own and every subdistrict's).

        A city's figures are of whole subdistricts: a principal of the reports' roles that
        serves the whole of each subdistrict in ``scope``.
        """
        return (
            principal.role in self.reads.get(Read.REPORTS, frozenset())
            and principal.serves(SUBDISTRICT)
            and principal.serves_subdistrict(scope)
        )

    def check_issue(self, principal: Principal, command_type: str) -> None:
        """Refuse with :class:`Forbidden` unless the role may issue ``command_type``."""
        if not self.may_issue(principal, command_type):
            raise Forbidden(
                f"a {principal.role} may not issue {command_type}",
                field="type",
                rule=f"not allowed for role {principal.role}",
            )

    def check_read(self, principal: Principal, read: Read) -> None:
        """Refuse with :class:`Forbidden` unless the role may make ``read`` at all."""
        if principal.role not in self.reads.get(read, frozenset()):
            raise Forbidden(
                f"a {principal.role} may not read {read}",
                rule=f"not allowed for role {principal.role}",
            )

    def hides(self, principal: Principal, command_type: str, community: str) -> bool:
        """Whether a command of ``principal`` must not see a record of ``community``.

        Subdistrict-wide records (the rulebook, the linkage network) are read by commands
        of every community; a grid unit acting for its own unit sees the alert it answers.
        """
        if community == SUBDISTRICT or principal.serves(community):
            return False
        return not (self.grant(command_type).scope is Scope.UNIT and principal.role is Role.UNIT)

    def check_command(
        self,
        principal: Principal,
        command: Command,
        changed: Iterable[Touched],
    ) -> None:
        """Refuse ``command`` unless ``principal`` may issue it on the records it ``changed``.

        Raises :class:`Forbidden` for a role without the grant, an actor other than the
        principal, or a new record outside the principal's reach; :class:`NotFound` for an
        existing record of a community the principal does not serve (as if it were not
        there, so that nobody learns what another community holds).
        """
        actor = command.meta.actor
        if actor.id != principal.subject or actor.role != principal.role:
            raise Forbidden(
                f"the command's actor {actor.id!r} ({actor.role}) is not the authenticated "
                f"principal {principal.subject!r} ({principal.role})",
                field="actor",
                rule="must be the authenticated principal",
            )
        self.check_issue(principal, command.TYPE)
        if self.grant(command.TYPE).scope is Scope.UNIT and principal.role is Role.UNIT:
            unit = getattr(command, "unit_id", None) or getattr(command, "raised_by", None)
            if principal.grid_unit is None or unit != principal.grid_unit:
                raise Forbidden(
                    f"unit {principal.grid_unit!r} may act for its own unit only, not {unit!r}",
                    field="unit_id" if hasattr(command, "unit_id") else "raised_by",
                    rule="must be the principal's own grid unit",
                )
            return
        for record in changed:
            if principal.serves(record.community):
                continue
            if not record.new:
                raise NotFound(record.kind, record.ref)
            raise Forbidden(
                f"{principal.subject!r} does not serve community {record.community!r}",
                field="community",
                rule="must be one of the principal's communities",
            )

    def table(self) -> list[tuple[str, str, list[str]]]:
        """The command grants as rows (command family or type, scope, roles), sorted."""
        return [
            (name, str(grant.scope), sorted(str(r) for r in grant.roles))
            for name, grant in sorted(self.commands.items())
        ]


#: The policy every adapter applies (docs/access.md shows it as a table).
POLICY = Policy(
    commands={
        # Mediation: the committee's mediators and the office; anyone who takes a report
        # (police, grid workers) may open a case.
        "dispute": _grant(Role.MEDIATOR, Role.COMMITTEE, *_OFFICE),
        "dispute.report": _grant(
            Role.MEDIATOR, Role.COMMITTEE, Role.POLICE, Role.GRID_WORKER, *_OFFICE
        ),
        "patrol": _grant(Role.POLICE, Role.VOLUNTEER, *_OFFICE),
        "network": _grant(*_OFFICE),
        "alert": _grant(Role.POLICE, *_OFFICE),
        "alert.raise": _grant(Role.UNIT, Role.POLICE, *_OFFICE, scope=Scope.UNIT),
        "alert.acknowledge": _grant(Role.UNIT, *_OFFICE, scope=Scope.UNIT),
        "alert.report_action": _grant(Role.UNIT, *_OFFICE, scope=Scope.UNIT),
        # Delivery steps are recorded by the dispatcher (a service) or the office.
        "alert.send": _grant(Role.SYSTEM, *_OFFICE),
        "alert.record_delivery": _grant(Role.SYSTEM, *_OFFICE),
        "alert.record_failure": _grant(Role.SYSTEM, *_OFFICE),
        "alert.escalate": _grant(Role.SYSTEM, *_OFFICE),
        "migrant": _grant(Role.COORDINATOR, *_OFFICE),
        "migrant.erase": _grant(Role.ADMIN),
        "dispute.erase": _grant(Role.ADMIN),
        "campaign": _grant(Role.COMMITTEE, *_OFFICE),
        "broadcast": _grant(Role.COMMITTEE, *_OFFICE),
        "survey": _grant(*_OFFICE),
        "survey.record_response": _grant(Role.VOLUNTEER, *_OFFICE),
        "asset": _grant(Role.POLICE, *_OFFICE),
        "meeting": _grant(Role.COMMITTEE, *_OFFICE),
        "phase": _grant(Role.COMMITTEE, *_OFFICE),
        "target": _grant(Role.COMMITTEE, *_OFFICE),
        "police_statistic": _grant(Role.POLICE, *_OFFICE),
        "population": _grant(*_OFFICE),
        "rules": _grant(Role.ADMIN),
    },
    reads={
        Read.RECORDS: frozenset(
            {
                Role.MEDIATOR,
                Role.COMMITTEE,
                Role.POLICE,
                Role.GRID_WORKER,
                Role.COORDINATOR,
                Role.UNIT,
                Role.EVALUATOR,
                Role.SYSTEM,
                *_OFFICE,
            }
        ),
        Read.REPORTS: frozenset(
            {
                Role.MEDIATOR,
                Role.COMMITTEE,
                Role.POLICE,
                Role.COORDINATOR,
                Role.EVALUATOR,
                *_OFFICE,
            }
        ),
        Read.AUDIT: frozenset({Role.EVALUATOR, Role.COMMITTEE, *_OFFICE}),
        Read.EVIDENCE: frozenset({Role.EVALUATOR, Role.COMMITTEE, *_OFFICE}),
        # People are opened by those who must reach them: mediators their parties,
        # coordinators their migrant workers, the office; and the dispatcher, the units'
        # contacts. Never evaluators, units or volunteers.
        Read.PERSONAL: frozenset({Role.MEDIATOR, Role.COORDINATOR, Role.SYSTEM, *_OFFICE}),
        Read.EVENTS: frozenset({Role.EVALUATOR, Role.SYSTEM, Role.COMMITTEE, *_OFFICE}),
        Read.SEAL: frozenset({Role.ADMIN}),
    },
)
