"""Hypothesis strategies shared by the tests. One section per aggregate; keep them small.

Every command strategy produces a valid command object; tests mix in invalid ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import strategies as st

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
