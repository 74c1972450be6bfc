"""Survey figures: the reading of the middle answers is a dated rule, and each community
reads its own latest wave (docs/domain.md, *Survey indicators*).

Expected figures are worked out by hand beside each history.
"""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import Safecomm, parse_command
from safecomm_core.errors import InvalidCommand
from safecomm_core.reports import monthly_report
from safecomm_core.reports.provenance import explain
from tests.test_monthly import Desk, at, figures, nums


def wave(desk: Desk, ref: str, kind: str, day: str, answers: list[tuple[str, dict[str, Any]]]):
    """A wave opened on ``day`` and one response per (community, answers), that day."""
    desk("survey.open_wave", at(day), survey_id=ref, wave=kind, sample_target=10)
    for i, (community, answer) in enumerate(answers):
        desk(
            "survey.record_response",
            at(day, 10, i),
            survey_id=ref,
            response_id=f"{ref}-{i}",
            community=community,
            answers=answer,
        )


SAT = "satisfaction"


def test_a_2014_report_and_a_2015_report_each_use_the_reading_in_force(
    memory_service: Safecomm,
) -> None:
    """Baseline, June 2014, C1: very_satisfied, fairly_satisfied, fairly_satisfied,
    dissatisfied. The subdistrict adopts, on 2014-12-20, that 基本满意 counts from
    2015-01-01.

    December 2014 (rule not yet in force): 1 of 4 satisfied, version 1.
    January 2015 (same wave, rule in force): 3 of 4, version 1+basic.
    """
    desk = Desk(memory_service)
    answers = ["very_satisfied", "fairly_satisfied", "fairly_satisfied", "dissatisfied"]
    wave(desk, "s-1", "baseline", "2014-06-10", [("C1", {SAT: a}) for a in answers])
    desk(
        "rules.adopt",
        at("2014-12-20"),
        effective_from="2015-01-01",
        changes={"fairly_satisfied_counts": True},
    )
    y2014 = figures(monthly_report(memory_service, "2014-12"))
    y2015 = figures(monthly_report(memory_service, "2015-01"))
    for scope in ("*", "C1"):
        old, new = y2014["satisfaction_rate", scope], y2015["satisfaction_rate", scope]
        assert nums(old) == (1, 4, 0.25)
        assert nums(new) == (3, 4, 0.75)
        assert old.definition_version == "1"
        assert new.definition_version == "1+basic"
        assert old.reading == "fairly_satisfied_counts = False (default)"
        assert new.reading == "fairly_satisfied_counts = True (* from 2015-01-01)"
    # the other scale keeps its own rule (from the same adopted set, unchanged); figures
    # no one rule reads name none
    security = y2015["sense_of_security_rate", "*"].reading
    assert security == "fairly_safe_counts = False (* from 2015-01-01)"
    assert y2015["awareness_rate", "*"].reading == ""


def test_a_community_reading_of_its_own_applies_to_its_figure_only(
    memory_service: Safecomm,
) -> None:
    """Baseline, March 2014: C1 fairly_safe, safe; C2 fairly_safe, very_unsafe.
    C1 counts 基本安全 from 2014-01-01. C1: 2 of 2 (1+basic); C2: 0 of 2 (1);
    the subdistrict, under its own (default) reading: 1 of 4 (1).
    """
    desk = Desk(memory_service)
    answers = [
        ("C1", {"security": "fairly_safe"}),
        ("C1", {"security": "safe"}),
        ("C2", {"security": "fairly_safe"}),
        ("C2", {"security": "very_unsafe"}),
    ]
    wave(desk, "s-1", "baseline", "2014-03-10", answers)
    desk(
        "rules.adopt",
        at("2014-03-20"),
        community="C1",
        effective_from="2014-01-01",
        changes={"fairly_safe_counts": True},
    )
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["sense_of_security_rate", "C1"]) == (2, 2, 1.0)
    assert got["sense_of_security_rate", "C1"].definition_version == "1+basic"
    assert nums(got["sense_of_security_rate", "C2"]) == (0, 2, 0.0)
    assert nums(got["sense_of_security_rate", "*"]) == (1, 4, 0.25)
    assert got["sense_of_security_rate", "*"].definition_version == "1"


def test_each_community_reads_its_own_latest_wave(memory_service: Safecomm) -> None:
    """Baseline, February 2014: C1 aware, C2 aware, C2 not aware.
    Mid-term, April 2014, collected in C1 only: C1 not aware.

    April: C1 reads the mid-term (0 of 1); C2 still its baseline (1 of 2), where reading
    the subdistrict's latest wave gave it nothing; the subdistrict the mid-term (0 of 1).
    """
    desk = Desk(memory_service)
    wave(
        desk,
        "s-1",
        "baseline",
        "2014-02-10",
        [("C1", {"aware": True}), ("C2", {"aware": True}), ("C2", {"aware": False})],
    )
    wave(desk, "s-2", "mid_term", "2014-04-10", [("C1", {"aware": False})])
    april = monthly_report(memory_service, "2014-04")
    got = figures(april)
    assert nums(got["awareness_rate", "C1"]) == (0, 1, 0.0)
    assert nums(got["awareness_rate", "C2"]) == (1, 2, 0.5)
    assert nums(got["awareness_rate", "*"]) == (0, 1, 0.0)
    assert any("C2: baseline" in note and "C1: mid_term" in note for note in april.notes)
    # provenance follows the same reading, scope by scope
    c2 = explain(memory_service, "awareness_rate", "2014-04", "C2")
    assert [(e.ref, e.event) for e in c2.denominator] == [("s-1", "ResponseRecorded")] * 2
    everywhere = explain(memory_service, "awareness_rate", "2014-04", "*")
    assert [e.ref for e in everywhere.denominator] == ["s-2"]
    # a standalone one-community report reads the same as the community's column
    alone = figures(monthly_report(memory_service, "2014-04", scope="C2"))
    assert nums(alone["awareness_rate", "C2"]) == (1, 2, 0.5)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"fairly_safe_counts": 1}, "must be bool"),
        ({"alert_ack_minutes": True}, "must be int, not a boolean"),
        ({"fairly_safe_counts": "yes"}, "must be a whole number or a boolean"),
    ],
)
def test_a_reading_is_a_boolean_and_a_time_limit_a_number(
    changes: dict[str, Any], rule: str, memory_service: Safecomm
) -> None:
    data = {
        "type": "rules.adopt",
        "command_id": "r-1",
        "occurred_at": at("2014-03-20"),
        "actor": {"id": "staff-001", "role": "admin"},
        "effective_from": "2014-04-01",
        "changes": changes,
    }
    with pytest.raises(InvalidCommand) as refused:
        memory_service.handle(parse_command(data))
    assert [(e.field.split(".")[-1], e.rule) for e in refused.value.errors] == [
        (next(iter(changes)), rule)
    ]
