"""Stories: the commands about one matter, in order, and when they were written down.

A story's commands occurred in order; the office may have written the whole story down
days later (paper records entered late). Stories are merged by the time each command was
written down, so the store receives them as the office would have, late entries included.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs

from safecomm_core.commands.base import Command
from safecomm_core.values import SUBDISTRICT_TZ, Actor, Role

__all__ = ["COMMUNITIES", "Story", "Writer", "at", "months", "staff"]

#: The subdistrict's 7 communities.
COMMUNITIES = tuple(f"C{i}" for i in range(1, 8))


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A moment on ``day`` in the subdistrict's time zone."""
    return datetime.combine(day, time(hour, minute), SUBDISTRICT_TZ)


def months(start: date, end: date) -> Iterator[date]:
    """The first day of each month from ``start`` to ``end``."""
    day = start.replace(day=1)
    while day <= end:
        yield day
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@attrs.define
class Story:
    """The commands of one matter, each with when it was written down."""

    delay: timedelta  # how long after each fact the office wrote it down
    entries: list[tuple[datetime, Command]] = attrs.field(factory=list)


class Writer:
    """Makes commands with deterministic ids, and gathers them into stories."""

    def __init__(self, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.scale = scale
        self.stories: list[Story] = []
        self._count = 0

    def count(self, mean: float) -> int:
        """A random count around ``mean × scale`` (Poisson-like, never negative)."""
        expected = mean * self.scale
        whole = int(expected)
        return (
            whole
            + (1 if self.rng.random() < expected - whole else 0)
            + self.rng.choice([-1, 0, 0, 1]) * (whole > 2)
        )

    def story(self, late_share: float = 0.08, max_delay_days: int = 20) -> Story:
        """A new story; a share of them are written down days after they happened."""
        late = self.rng.random() < late_share
        story = Story(
            timedelta(days=self.rng.randint(1, max_delay_days), hours=self.rng.randint(0, 8))
            if late
            else timedelta(minutes=self.rng.randint(0, 90))
        )
        self.stories.append(story)
        return story

    def add(
        self,
        story: Story,
        cls: type[Command],
        occurred_at: datetime,
        actor: Actor,
        **fields: Any,
    ) -> Command:
        """Make a command and append it to ``story``."""
        self._count += 1
        command = cls(
            command_id=f"hk{self.seed}-{self._count:07d}",
            occurred_at=occurred_at,
            actor=actor,
            **fields,
        )
        written = occurred_at + story.delay
        if story.entries and written < story.entries[-1][0]:
            written = story.entries[-1][0]
        story.entries.append((written, command))
        return command

    def ordered(self) -> list[Command]:
        """Every command in the order it was written down (stable within a story)."""
        rows = [
            (written, n, i, command)
            for n, story in enumerate(self.stories)
            for i, (written, command) in enumerate(story.entries)
        ]
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        return [r[3] for r in rows]


def staff(n: int, role: Role = Role.STAFF) -> Actor:
    """A staff member of the subdistrict."""
    return Actor(f"staff-{n:03d}", role)
