"""Isolation, as a property: whatever the history, a principal of C1 never receives a
record, history entry, figure, event or person of another community, through any
endpoint of the HTTP service."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecomm_core import open_store
from safecomm_core.access import Principal
from safecomm_core.values import Role
from tests.commanding import sample_commands
from tests.serving import auth, serving

COMMUNITIES = ("C1", "C2", "C3")
#: Principals of C1 with every kind of read among them.
READERS = (
    Principal("med-1", Role.MEDIATOR, ["C1"]),
    Principal("cm-1", Role.COMMITTEE, ["C1"]),
    Principal("ev-1", Role.EVALUATOR, ["C1"]),
)
REPORT_PATHS = (
    "/v1/reports/monthly?period=2014-03",
    "/v1/reports/self-assessment?as_of=2014-03-31",
    "/v1/reports/watchlist?as_of=2014-03-31",
    "/v1/reports/explain/mediation_success_rate?period=2014-03",
    "/v1/reports/explain/mediation_success_rate?period=2014-03&community=C2",
    "/v1/reports/monthly?community=*",
    "/v1/events",
    "/v1/audit/verify",
    "/v1/audit/seals",
    "/v1/audit/bundle",
)

# A dispute: its community, and how far it went (reported, accepted, settled).
disputes = st.lists(
    st.tuples(st.sampled_from(COMMUNITIES), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=6,
)


def history(plan: list[tuple[str, int]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The commands of ``plan``, and per community what marks its data (refs, names, phones)."""
    report, accept, *_rest = sample_commands()
    commands: list[dict[str, Any]] = []
    marks: dict[str, list[str]] = {c: [] for c in COMMUNITIES}
    for n, (community, steps) in enumerate(plan):
        ref, person = f"d-{community.lower()}-{n}", f"p-{community.lower()}-{n}"
        name, phone = f"姓名{community}{n}号", f"139{n:04d}{ord(community[1]):04d}"
        marks[community] += [ref, person, name, phone]
        party = {"ref": person, "name": name, "phone": phone, "role": "applicant"}
        commands.append(
            {
                **report,
                "command_id": f"r-{n}",
                "dispute_id": ref,
                "community": community,
                "parties": [party, {**report["parties"][1], "ref": f"{person}-b"}],
            }
        )
        if steps >= 2:
            commands.append({**accept, "command_id": f"a-{n}", "dispute_id": ref})
    return commands, marks


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(disputes)
def test_a_principal_of_c1_receives_nothing_of_another_community(
    plan: list[tuple[str, int]],
) -> None:
    commands, marks = history(plan)
    foreign = [m for c in COMMUNITIES if c != "C1" for m in marks[c]]
    service = open_store("memory://")
    try:
        for data in commands:
            service.handle_json(data)
        with serving(service) as client:
            for reader in READERS:
                received: list[str] = []
                for community in COMMUNITIES:
                    for ref in marks[community][::4]:
                        base = f"/v1/records/dispute/{ref}"
                        person = ref.replace("d-", "p-", 1)
                        for path in (
                            base,
                            f"{base}/history",
                            f"{base}?as_of=2015-01-01",
                            f"{base}/people/{person}?why=to%20call",
                        ):
                            response = client.get(path, headers=auth(reader))
                            if community != "C1":
                                # Not found; the problem names only the id the client sent.
                                assert response.status_code == 404, (path, response.text)
                                continue
                            received.append(response.text)
                for path in REPORT_PATHS:
                    response = client.get(path, headers=auth(reader))
                    assert response.status_code in (200, 403), (path, response.text)
                    received.append(response.text)
                    if path.startswith("/v1/events") and response.status_code == 200:
                        envelopes = [
                            json.loads(line[5:])
                            for line in response.text.splitlines()
                            if line.startswith("data:")
                        ]
                        assert {e["community"] for e in envelopes} <= {"C1"}
                    if "/reports/" in path and response.status_code == 200:
                        assert '"scope": "C2"' not in response.text.replace('":"', '": "')
                        assert '"scope": "*"' not in response.text.replace('":"', '": "')
                if marks["C1"]:  # its own community's records do reach it
                    assert marks["C1"][0] in "".join(received)
                leaked = [m for m in foreign for text in received if m in text]
                assert not leaked, f"{reader.role} of C1 received {sorted(set(leaked))}"
    finally:
        service.close()
