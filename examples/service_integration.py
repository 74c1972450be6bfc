"""A Python service that records facts and reads the programme's figures, in-process.

Copy it into a governance platform or a mobile back end::

    python examples/service_integration.py sqlite:///service.db

1. Opens the store (the composition root picks the backend from the URL).
2. Handles commands as a service receives them: JSON objects, each with a command id, so
   that a retried request has the effect of once.
3. Shows what a refused command looks like to the caller: a typed error naming the field
   and the rule, with nothing written.
4. Reads a record, a person (opened with their key) and the monthly figures.
"""

from __future__ import annotations

import sys

from safecomm_core import Dispute, InvalidCommand, RuleViolation, monthly_report, open_store

MEDIATOR = {"id": "staff-017", "role": "mediator"}


def dispute_commands(case: str, day: str) -> list[dict[str, object]]:
    """A neighbour dispute reported, mediated and settled by written agreement."""
    return [
        {
            "type": "dispute.report",
            "command_id": f"{case}-1",
            "occurred_at": f"{day}T09:10:00+08:00",
            "actor": MEDIATOR,
            "channel": "walk-in",
            "dispute_id": case,
            "community": "C1",
            "kind": "neighbour",
            "summary": "楼上漏水",
            "parties": [
                {"ref": "p-1001", "name": "王建国", "phone": "13800001001", "role": "applicant"},
                {"ref": "p-1002", "name": "李秀英", "role": "respondent"},
            ],
        },
        {
            "type": "dispute.accept",
            "command_id": f"{case}-2",
            "occurred_at": f"{day}T09:30:00+08:00",
            "actor": MEDIATOR,
            "dispute_id": case,
        },
        {
            "type": "dispute.assign_mediator",
            "command_id": f"{case}-3",
            "occurred_at": f"{day}T09:31:00+08:00",
            "actor": MEDIATOR,
            "dispute_id": case,
            "mediator": "staff-017",
        },
        {
            "type": "dispute.hold_session",
            "command_id": f"{case}-4",
            "occurred_at": f"{day}T15:00:00+08:00",
            "actor": MEDIATOR,
            "dispute_id": case,
        },
        {
            "type": "dispute.reach_agreement",
            "command_id": f"{case}-5",
            "occurred_at": f"{day}T16:00:00+08:00",
            "actor": MEDIATOR,
            "dispute_id": case,
            "form": "written",
            "terms": "七日内修复水管",
        },
    ]


def main(url: str) -> int:
    with open_store(url) as service:
        for case, day in (("d-2014-0101", "2014-03-03"), ("d-2014-0102", "2014-03-10")):
            for command in dispute_commands(case, day):
                outcome = service.handle_json(command)
                again = service.handle_json(command)  # a retried request: no second effect
                assert again.duplicate
                assert again.records == outcome.records
        print("recorded 2 disputes; repeating every command changed nothing")

        try:
            service.handle_json({**dispute_commands("d-x", "2014-03-11")[0], "occurred_at": "soon"})
        except InvalidCommand as error:
            print(f"refused: {error.field}: {error.rule}")
        try:
            service.handle_json(
                {
                    "type": "dispute.apply_judicial_confirmation",
                    "command_id": "late-1",
                    "occurred_at": "2014-05-20T10:00:00+08:00",
                    "actor": MEDIATOR,
                    "dispute_id": "d-2014-0101",
                }
            )
        except RuleViolation as error:
            print(f"refused: {error}")

        dispute = service.get(Dispute, "d-2014-0101")
        applicant = service.person(dispute.parties[0].person)
        print(f"{dispute.ref}: {dispute.status}, applicant {applicant.masked().name}")

        report = monthly_report(service, "2014-03", scope="C1")
        for figure in report.figures:
            if figure.id == "mediation_success_rate" and figure.scope == "C1":
                print(
                    f"mediation success in C1, 2014-03: "
                    f"{figure.numerator:g}/{figure.denominator:g} = {figure.value:.0%}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///service.db"))
