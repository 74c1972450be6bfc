"""Backfill paper registers from 2013 with their real dates, and see the reports change.

The mediation room kept paper registers before safecomm; this script enters them as
commands, each with the date it happened (``occurred_at``), so that reports, which go by
when things happened, count them in their own months::

    python examples/import_paper_records.py sqlite:///safecomm.db examples/paper_records_2013.csv

It prints the October 2013 mediation figures before and after the import: the late entry
changes October's figures, not this month's. The rows are stored today (recorded time),
which is what an auditor's "as known at" replay sees.
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from safecomm_core import SUBDISTRICT_TZ, monthly_report, open_store

CLERK = {"id": "staff-030", "role": "staff"}


def moment(text: str) -> str:
    """A register's local 'YYYY-MM-DD HH:MM' as an ISO date-time with the +08:00 offset."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SUBDISTRICT_TZ).isoformat()


def commands(row: dict[str, str]) -> list[dict[str, Any]]:
    """The commands one register row stands for, in the order they happened."""
    case = row["case"]

    def cmd(step: int, type_: str, at: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": type_,
            "command_id": f"paper-{case}-{step}",
            "occurred_at": moment(at),
            "actor": CLERK,
            "channel": "import",
            "dispute_id": case,
            **fields,
        }

    out = [
        cmd(
            1,
            "dispute.report",
            row["reported"],
            community=row["community"],
            kind=row["kind"],
            summary=row["summary"],
            source="walk-in",
            parties=[
                {"ref": row["applicant_ref"], "role": "applicant"},
                {"ref": row["respondent_ref"], "role": "respondent"},
            ],
        ),
        cmd(2, "dispute.accept", row["reported"]),
        cmd(3, "dispute.assign_mediator", row["reported"], mediator="staff-010"),
        cmd(4, "dispute.hold_session", row["mediated"]),
    ]
    if row["outcome"] == "terminated":
        out.append(
            cmd(5, "dispute.terminate", row["closed"], reason="调解不成", routes_told=["judicial"])
        )
    else:
        out.append(
            cmd(
                5,
                "dispute.reach_agreement",
                row["closed"],
                form=row["outcome"],
                terms="按登记簿记载",
            )
        )
    return out


def october(service: Any) -> str:
    report = monthly_report(service, "2013-10")
    for f in report.figures:
        if f.id == "mediation_success_rate" and f.scope == "*":
            value = "n/a" if f.value is None else f"{f.value:.0%}"
            return f"{f.numerator:g}/{f.denominator or 0:g} ({value})"
    return "n/a"


def main(url: str, register: Path) -> int:
    with open_store(url) as service:
        print(f"mediation success, 2013-10, before the import: {october(service)}")
        applied = 0
        with register.open(encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows):
                for command in commands(row):
                    applied += not service.handle_json(command).duplicate
        print(f"entered {applied} commands from {register.name}")
        print(f"mediation success, 2013-10, after the import:  {october(service)}")
    return 0


if __name__ == "__main__":
    here = Path(__file__).parent
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///safecomm.db"
    register = Path(sys.argv[2]) if len(sys.argv) > 2 else here / "paper_records_2013.csv"
    sys.exit(main(url, register))
