"""Hypothesis strategies shared by the tests. One section per aggregate; keep them small.

Every command strategy produces a valid command object; tests mix in invalid ones.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from safecomm_core.commands import meeting as meeting_cmds
from safecomm_core.commands import phase as phase_cmds
from safecomm_core.domain.phase import Evidence, EvidenceKind, PhaseId, ReviewKind
from safecomm_core.values import Actor, Channel, Role

# -- shared -----------------------------------------------------------------------------

CST = timezone(timedelta(hours=8))

#: Short printable identifiers, as callers choose them ("d-2014-0001", "C1", ...).
refs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
#: Free text, including Chinese, never blank.
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
communities = st.sampled_from([f"C{i}" for i in range(1, 8)])
actors = st.builds(Actor, id=refs, role=st.sampled_from(list(Role)))
channels = st.none() | st.sampled_from(list(Channel))
#: Aware date-times in the programme's years, in +08:00 or UTC.
moments = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2016, 12, 31)).flatmap(
    lambda d: st.sampled_from([d.replace(tzinfo=CST), d.replace(tzinfo=UTC)])
)
dates = st.dates(min_value=date(2010, 1, 1), max_value=date(2016, 12, 31))
command_ids = st.uuids().map(lambda u: f"c-{u.hex[:16]}")


def meta_fields() -> st.SearchStrategy[dict[str, object]]:
    """The fields every command carries, as keyword arguments."""
    return st.fixed_dictionaries(
        {"command_id": command_ids, "occurred_at": moments, "actor": actors, "channel": channels}
    )


def commands_of(cls: type[Any], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid ``cls`` commands: random metadata plus the given field strategies."""
    return st.builds(
        cls, command_id=command_ids, occurred_at=moments, actor=actors, channel=channels, **fields
    )


# -- phase ------------------------------------------------------------------------------

phase_ids = st.sampled_from(list(PhaseId))
#: Real digests of random contents, upper case now and then (accepted, kept lower case).
sha256s = st.binary(max_size=32).map(lambda b: hashlib.sha256(b).hexdigest())
evidence = st.builds(
    Evidence,
    sha256=sha256s | sha256s.map(str.upper),
    title=texts,
    kind=st.sampled_from(list(EvidenceKind)),
)
#: (start, end) of a planned window, start on or before end.
windows = st.lists(dates, min_size=2, max_size=2).map(sorted)
#: A review kind with a score only where one is allowed (a self-assessment).
reviews = st.one_of(
    st.tuples(st.just(ReviewKind.SELF_ASSESSMENT), st.none() | st.integers(0, 100)),
    st.tuples(
        st.sampled_from([k for k in ReviewKind if k != ReviewKind.SELF_ASSESSMENT]), st.none()
    ),
)

phase_commands = st.one_of(
    windows.flatmap(
        lambda w: commands_of(
            phase_cmds.PlanPhase,
            phase_id=phase_ids,
            title=texts,
            window_start=st.just(w[0]),
            window_end=st.just(w[1]),
            required_deliverables=st.lists(texts, max_size=4, unique=True).map(tuple),
            community=st.just("*") | communities,
        )
    ),
    commands_of(phase_cmds.StartPhase, phase_id=phase_ids),
    commands_of(
        phase_cmds.RecordDeliverable,
        phase_id=phase_ids,
        name=texts,
        evidence=st.lists(evidence, min_size=1, max_size=3, unique_by=lambda e: e.sha256).map(
            tuple
        ),
    ),
    reviews.flatmap(
        lambda r: commands_of(
            phase_cmds.HoldPhaseReview,
            phase_id=phase_ids,
            kind=st.just(r[0]),
            score=st.just(r[1]),
            findings=texts,
        )
    ),
    commands_of(phase_cmds.CompletePhase, phase_id=phase_ids),
    commands_of(phase_cmds.MarkPhaseOverdue, phase_id=phase_ids),
)


# -- meeting ----------------------------------------------------------------------------

months = st.builds("{:04d}-{:02d}".format, st.integers(2010, 2016), st.integers(1, 12))
#: The plan's measure ids (plan-en.md).
measures = st.sampled_from(
    [f"M1.{i}" for i in range(1, 6)]
    + [f"M2.{i}" for i in range(1, 5)]
    + [f"M3.{i}" for i in range(1, 6)]
    + [f"P{i}" for i in range(1, 8)]
    + [f"S{i}" for i in range(1, 7)]
)

meeting_commands = st.one_of(
    commands_of(
        meeting_cmds.HoldMeeting,
        meeting_id=refs,
        month=months,
        attendees=st.lists(refs, min_size=1, max_size=5, unique=True).map(tuple),
        minutes=texts,
        community=st.just("*") | communities,
    ),
    commands_of(
        meeting_cmds.RaiseProblem, meeting_id=refs, problem_id=refs, text=texts, measure=measures
    ),
    commands_of(
        meeting_cmds.AssignAction,
        meeting_id=refs,
        action_id=refs,
        problem_id=refs,
        owner=refs,
        due=dates,
    ),
    commands_of(meeting_cmds.CloseAction, meeting_id=refs, action_id=refs, result=texts),
)
