"""The access policy, applied by the service where a principal is given.

The table itself is data (:data:`safecomm_core.access.POLICY`); these tests check what the
service does with it: the actor is the principal, a role issues only its commands, another
community's records are not found, a grid unit acts for its own unit, personal data is
opened only with a reason and the opening is recorded; and a refusal writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import Forbidden, InvalidCommand, NotFound, Safecomm
from safecomm_core.access import ALL_COMMUNITIES, POLICY, Principal, Read
from safecomm_core.commands import COMMANDS
from safecomm_core.domain.access import PersonalDataOpening
from safecomm_core.domain.dispute import Dispute
from safecomm_core.values import Role
from tests.commanding import sample_commands

MEDIATOR_C1 = Principal("staff-017", Role.MEDIATOR, ["C1"])
MEDIATOR_C2 = Principal("staff-027", Role.MEDIATOR, ["C2"])
OFFICE = Principal("staff-001", Role.STAFF, ALL_COMMUNITIES)
ADMIN = Principal("admin-1", Role.ADMIN, ALL_COMMUNITIES)
EVALUATOR = Principal("eval-1", Role.EVALUATOR, ALL_COMMUNITIES)
UNIT_U2 = Principal("duty-u2", Role.UNIT, ["C2"], grid_unit="U2")
UNIT_U3 = Principal("duty-u3", Role.UNIT, ["C1"], grid_unit="U3")
AT = "2014-03-03T09:10:00+08:00"


def by(principal: Principal, data: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``data`` as ``principal`` sends it: the actor is the principal."""
    return {**data, "actor": {"id": principal.subject, "role": str(principal.role)}, **fields}


def command(type_: str, command_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "command_id": command_id, "occurred_at": AT, **fields}


def written(service: Safecomm) -> int:
    return service.log.head()


def refused(
    service: Safecomm, data: dict[str, Any], principal: Principal, error: type[Exception]
) -> Any:
    before = written(service)
    with pytest.raises(error) as caught:
        service.handle_json(data, principal)
    assert written(service) == before, "a refused command wrote something"
    return caught.value


@pytest.fixture
def disputes(memory_service: Safecomm) -> Safecomm:
    """A dispute of C1, reported by its mediator."""
    memory_service.handle_json(sample_commands()[0], MEDIATOR_C1)
    return memory_service


def test_the_actor_of_a_command_is_the_principal(memory_service: Safecomm) -> None:
    report = sample_commands()[0]
    err = refused(memory_service, by(OFFICE, report), MEDIATOR_C1, Forbidden)
    assert (err.field, err.rule) == ("actor", "must be the authenticated principal")
    same_id_other_role = by(MEDIATOR_C1, report, actor={"id": "staff-017", "role": "admin"})
    refused(memory_service, same_id_other_role, MEDIATOR_C1, Forbidden)
    assert memory_service.handle_json(report, MEDIATOR_C1).records == ("dispute:d-2014-0001",)


def test_a_mediator_handles_disputes_of_their_own_community_only(disputes: Safecomm) -> None:
    accept = sample_commands()[1]
    # Another community's dispute is not found, whatever state it is in: its existence
    # and its state are not disclosed.
    err = refused(disputes, by(MEDIATOR_C2, accept), MEDIATOR_C2, NotFound)
    assert err.field == "dispute_id"
    assert disputes.handle_json(accept, MEDIATOR_C1).records == ("dispute:d-2014-0001",)
    again = by(MEDIATOR_C2, accept, command_id="c-2b")
    assert "accepted" not in str(refused(disputes, again, MEDIATOR_C2, NotFound))


def test_a_new_record_outside_the_principal_s_communities_is_refused(
    memory_service: Safecomm,
) -> None:
    report = by(MEDIATOR_C2, sample_commands()[0])
    err = refused(memory_service, report, MEDIATOR_C2, Forbidden)
    assert (err.field, err.rule) == ("community", "must be one of the principal's communities")
    assert memory_service.keys.person_key("p-1001", create=False) is None  # no key kept


def test_roles_without_the_grant_are_refused_before_anything_is_decided(
    disputes: Safecomm,
) -> None:
    accept = sample_commands()[1]
    err = refused(disputes, by(EVALUATOR, accept), EVALUATOR, Forbidden)
    assert (err.field, err.rule) == ("type", "not allowed for role evaluator")
    erase = command("migrant.erase", "e-1", worker_id="mw-1")
    refused(disputes, by(OFFICE, erase), OFFICE, Forbidden)
    adopt = command("rules.adopt", "r-1", effective_from="2014-01-01", changes={})
    refused(disputes, by(OFFICE, adopt), OFFICE, Forbidden)


@pytest.mark.parametrize("command_type", sorted(COMMANDS))
def test_an_evaluator_never_writes_and_an_admin_always_may(command_type: str) -> None:
    assert not POLICY.may_issue(EVALUATOR, command_type)
    assert POLICY.may_issue(ADMIN, command_type)


def test_the_alert_dispatcher_may_issue_the_delivery_commands_and_nothing_else() -> None:
    """The dispatcher acts as a service (role ``system``): it records sends, deliveries,
    failures and escalations; it never raises, acknowledges or concludes an alert, nor
    touches any other record."""
    dispatcher = Principal("alert-dispatcher", Role.SYSTEM, ALL_COMMUNITIES)
    allowed = {t for t in COMMANDS if POLICY.may_issue(dispatcher, t)}
    assert allowed == {
        "alert.send",
        "alert.record_delivery",
        "alert.record_failure",
        "alert.escalate",
    }
    # It opens the units' contacts to reach them, each opening recorded.
    assert POLICY.may_read(dispatcher, Read.PERSONAL)


def test_every_command_type_is_granted_to_some_role_by_name_or_family() -> None:
    families = {name for name in POLICY.commands if "." not in name}
    assert {t.partition(".")[0] for t in COMMANDS} == families
    assert {t for t in POLICY.commands if "." in t} <= set(COMMANDS)


@pytest.fixture
def alert(memory_service: Safecomm) -> Safecomm:
    """A network of three units (U1 of C1, U2 of C2, U3 of C1) and an alert raised by U1."""
    memory_service.handle_json(by(OFFICE, command("network.open", "n", network_id="net", name="N")))
    for unit, community in (("U1", "C1"), ("U2", "C2"), ("U3", "C1")):
        memory_service.handle_json(
            by(
                OFFICE,
                command(
                    "network.join",
                    f"j-{unit}",
                    network_id="net",
                    unit_id=unit,
                    name=f"unit {unit}",
                    kind="school",
                    community=community,
                ),
            )
        )
        contact = command(
            "network.set_contact",
            f"c-{unit}",
            network_id="net",
            unit_id=unit,
            contact_channel="sms",
            contact="13800002000",
        )
        memory_service.handle_json(by(OFFICE, contact))
    memory_service.handle_json(
        by(
            OFFICE,
            command(
                "alert.raise",
                "a",
                alert_id="al-1",
                network_id="net",
                raised_by="U1",
                category="theft",
                area="Gate 3",
                message="bicycle thief seen",
                expires_at="2014-03-03T12:00:00+08:00",
            ),
        )
    )
    for unit in ("U2", "U3"):
        send = command(
            "alert.send", f"s-{unit}", alert_id="al-1", unit_id=unit, contact_channel="sms"
        )
        memory_service.handle_json(by(OFFICE, send))
    return memory_service


def test_a_grid_unit_acknowledges_for_its_own_unit_only(alert: Safecomm) -> None:
    ack = command("alert.acknowledge", "ack-u3", alert_id="al-1", unit_id="U3")
    err = refused(alert, by(UNIT_U2, ack), UNIT_U2, Forbidden)
    assert (err.field, err.rule) == ("unit_id", "must be the principal's own grid unit")
    # U2 serves C2, the alert was raised in C1: its own unit's acknowledgement still lands.
    own = command("alert.acknowledge", "ack-u2", alert_id="al-1", unit_id="U2")
    assert alert.handle_json(by(UNIT_U2, own), UNIT_U2).records == ("alert:al-1",)
    assert alert.handle_json(by(UNIT_U3, ack), UNIT_U3).records == ("alert:al-1",)


def test_reads_of_another_community_s_record_are_not_found(disputes: Safecomm) -> None:
    assert disputes.get(Dispute, "d-2014-0001", MEDIATOR_C1).community == "C1"
    with pytest.raises(NotFound):
        disputes.get(Dispute, "d-2014-0001", MEDIATOR_C2)
    with pytest.raises(NotFound):
        disputes.history("d-2014-0001", principal=MEDIATOR_C2)
    assert [e.event for e in disputes.history("d-2014-0001", principal=EVALUATOR)] == ["Reported"]


def test_personal_data_is_opened_with_a_reason_and_each_opening_is_recorded(
    disputes: Safecomm,
) -> None:
    dispute = disputes.get(Dispute, "d-2014-0001")
    applicant = dispute.parties[0].person
    before = written(disputes)
    for principal in (EVALUATOR, UNIT_U3, MEDIATOR_C2):
        with pytest.raises(Forbidden):
            disputes.person(applicant, principal, record=dispute, why="curious")
    with pytest.raises(InvalidCommand):
        disputes.person(applicant, MEDIATOR_C1, record=dispute, why=" ")
    assert written(disputes) == before
    opened = disputes.person(applicant, MEDIATOR_C1, record=dispute, why="to call about a session")
    assert opened.name == "王建国"
    (notification,) = disputes.log.read(before, 10)
    opening = disputes.log.decode(notification)
    assert isinstance(opening, PersonalDataOpening.Opened)
    assert (opening.meta.actor.id, opening.person, opening.record, opening.why) == (
        "staff-017",
        "p-1001",
        "dispute:d-2014-0001",
        "to call about a session",
    )
    # The trusted in-process caller opens without a principal, and nothing is recorded.
    assert disputes.person(applicant).name == "王建国"
    assert written(disputes) == before + 1


def test_reads_by_role() -> None:
    assert POLICY.may_read(EVALUATOR, Read.REPORTS, "C1")
    assert POLICY.may_read(EVALUATOR, Read.AUDIT)
    assert not POLICY.may_read(EVALUATOR, Read.PERSONAL, "C1")
    assert POLICY.may_read(MEDIATOR_C1, Read.PERSONAL, "C1")
    assert not POLICY.may_read(MEDIATOR_C1, Read.PERSONAL, "C2")
    assert not POLICY.may_read(MEDIATOR_C1, Read.SEAL)
    assert POLICY.may_read(ADMIN, Read.SEAL)
    # An evidence bundle holds every community's records: the whole subdistrict only.
    assert POLICY.may_read(EVALUATOR, Read.EVIDENCE)
    assert not POLICY.may_read(Principal("co-1", Role.COMMITTEE, ["C1"]), Read.EVIDENCE)
    assert not POLICY.may_read(Principal("co-1", Role.COMMITTEE, ["C1"]), Read.EVIDENCE, "C1")
    assert not POLICY.may_read(MEDIATOR_C1, Read.EVIDENCE)


def test_which_worker_holds_an_id_number_is_told_only_to_those_who_may_read_it(
    memory_service: Safecomm,
) -> None:
    coordinator_c1 = Principal("co-1", Role.COORDINATOR, ["C1"])
    coordinator_c2 = Principal("co-2", Role.COORDINATOR, ["C2"])

    def register(principal: Principal, worker: str, community: str) -> dict[str, Any]:
        return by(
            principal,
            command(
                "migrant.register",
                f"r-{worker}",
                worker_id=worker,
                community=community,
                person={"ref": f"p-{worker}", "id_number": "110101199001011234"},
                arrived_on="2014-03-01",
                dwelling=f"{community}-1-101",
                channel="landlord",
            ),
        )

    memory_service.handle_json(register(coordinator_c1, "mw-1", "C1"), coordinator_c1)
    err = refused(memory_service, register(coordinator_c2, "mw-2", "C2"), coordinator_c2, Exception)
    assert "mw-1" not in str(err)
    assert (err.field, err.rule) == ("person.id_number", "one active registration per ID number")
    err = refused(memory_service, register(OFFICE, "mw-3", "C1"), OFFICE, Exception)
    assert "migrant 'mw-1'" in str(err)
