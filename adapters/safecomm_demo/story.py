"""Stories: the commands about one matter, in order, and when they were written down.

A story's commands occurred in order; the office may have written the whole story down
days later (paper records entered late). Stories are merged by the time each command was
written down, so the store receives them as the office would have, late entries included.

Three kinds of story:

- the usual one, written down within the hour or, for a share of them, days later;
- a *prompt* one, written down the moment it happens (``prompt=True``): what other stories
  rest on (a unit joining the network before alerts reach it, rules before they are used)
  is prompt, so that no late entry can overtake it;
- an *imported* one (``not_before``): records of facts from before the programme, typed in
  from paper registers when the programme began.

Each part of the scenario draws from its own random stream (:meth:`Writer.part`), so that
changing one part's volumes leaves every other part as it was.

Staff ids used by the parts (``staff-NNN``): 001 programme office, 002 mediation committee
chair, 003–009 community directors (C1–C7), 010–021 mediators, 030–039 grid workers,
040–049 police officers, 060–099 volunteers, 100–119 migrant-worker coordinators,
120–129 publicity staff, 130–139 survey takers, 200–399 custodians and gatekeepers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs

from safecomm_core.commands.base import Command
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.values import Actor, Role

__all__ = ["COMMUNITIES", "Steps", "Story", "Writer", "at", "days", "months", "staff"]

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


def days(start: date, end: date, step: int = 1) -> Iterator[date]:
    """Every ``step``-th day from ``start`` to ``end`` inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=step)


@attrs.define
class Story:
    """The commands of one matter, each with when it was written down."""

    delay: timedelta  # how long after each fact the office wrote it down
    entries: list[tuple[datetime, Command]] = attrs.field(factory=list)
    #: Nothing of the story was written down before this (records imported later).
    not_before: datetime | None = None

    @property
    def written(self) -> datetime | None:
        """When its latest command was written down (None while it has none)."""
        return self.entries[-1][0] if self.entries else None


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

    def part(self, name: str) -> None:
        """Begin a part of the scenario: from now on draw from the part's own stream."""
        self.rng = random.Random(f"{self.seed}/{name}")

    def story(
        self,
        late_share: float = 0.08,
        max_delay_days: int = 20,
        *,
        prompt: bool = False,
        not_before: datetime | None = None,
    ) -> Story:
        """A new story; a share of them are written down days after they happened.

        ``prompt``: written down as it happens. ``not_before``: written down no earlier
        than that (facts from before the programme, imported when it began).
        """
        if prompt:
            delay = timedelta(0)
        elif self.rng.random() < late_share:
            delay = timedelta(
                days=self.rng.randint(1, max_delay_days), hours=self.rng.randint(0, 8)
            )
        else:
            delay = timedelta(minutes=self.rng.randint(0, 90))
        story = Story(delay, not_before=not_before)
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
        written = max(
            w for w in (occurred_at + story.delay, story.not_before, story.written) if w is not None
        )
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


class Steps:
    """Commands of one matter gathered out of time order, then written in time order.

    ``common`` fields go into every command (the matter's id). Steps at the same moment
    keep the order they were gathered in.
    """

    def __init__(self, **common: Any) -> None:
        self.common = common
        self.items: list[tuple[datetime, type[Command], Actor, dict[str, Any]]] = []

    def add(self, t: datetime, cls: type[Command], actor: Actor, **fields: Any) -> datetime:
        """Gather a command occurring at ``t``; returns ``t``."""
        self.items.append((t, cls, actor, {**self.common, **fields}))
        return t

    def last(self, *types: type[Command]) -> datetime:
        """When the latest gathered command of one of ``types`` (of any, if none) occurs."""
        return max(t for t, cls, _actor, _fields in self.items if not types or cls in types)

    def write(self, w: Writer, story: Story) -> None:
        """Add every gathered command to ``story``, earliest first."""
        for t, cls, actor, fields in sorted(self.items, key=lambda item: item[0]):
            w.add(story, cls, t, actor, **fields)


def staff(n: int, role: Role = Role.STAFF) -> Actor:
    """A staff member of the subdistrict."""
    return Actor(f"staff-{n:03d}", role)
