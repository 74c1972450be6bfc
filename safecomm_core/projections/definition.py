"""Defining a projection: a name, a version, its tables, and one handler per event it wants.

::

    DISPUTES = Projection("disputes", version=1, tables=(ROWS,))

    @DISPUTES.handles(Dispute.Reported)
    def _reported(view: ViewWriter, event: Dispute.Reported, notification_id: int) -> None:
        view.insert(ROWS, {...})

The events a projection wants are the ones it has handlers for: the runner asks the store
for those topics only and decodes nothing else. A handler writes through the
:class:`~safecomm_core.projections.writer.ViewWriter` it is given, reads only what it wrote
before (never aggregates, never the clock) and so gives the same rows on every rebuild.

Change a handler's logic → raise ``version``. Change a table or handle another event →
the :attr:`~Projection.fingerprint` changes by itself. Either way the runner builds a new
generation beside the live one and swaps it in when it has caught up (blue/green).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.utils import get_topic

from safecomm_core.projections.schema import Table

if TYPE_CHECKING:
    from safecomm_core.projections.writer import ViewWriter

__all__ = ["Handler", "Projection", "event_topic"]

E = TypeVar("E")

#: A handler: the view to write, the decoded event, its notification id (its position).
Handler = Callable[["ViewWriter", Any, int], None]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
_RESERVED = ("projection_generations", "projection_dead_letters", "projection_live")
#: Longest table name: PostgreSQL's 63-byte identifiers must hold the store prefix (≤ 32),
#: the table name, the generation suffix ``__g123456`` and an index suffix ``__i12``.
MAX_TABLE_NAME = 20


def event_topic(event_class: type[Any]) -> str:
    """The topic an event class is stored under (its ``TOPIC``, as the store writes it)."""
    topic = getattr(event_class, "TOPIC", None)
    return topic if isinstance(topic, str) and topic else get_topic(event_class)


class Projection:
    """A read model built from events: definition only; the runner does the work."""

    def __init__(self, name: str, *, version: int, tables: Iterable[Table], doc: str = "") -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"projection name {name!r}: lower-case letters, digits, _ (≤ 30)")
        if version < 1:
            raise ValueError("a projection's version starts at 1")
        self.name = name
        self.version = version
        self.tables: tuple[Table, ...] = tuple(tables)
        self.doc = doc
        names = [t.name for t in self.tables]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"projection {name!r} needs tables with distinct names")
        if set(names) & set(_RESERVED):
            raise ValueError(f"projection {name!r} uses a reserved table name")
        if max(map(len, names)) > MAX_TABLE_NAME:
            raise ValueError(f"projection {name!r}: table names have at most {MAX_TABLE_NAME}")
        self._handlers: dict[str, Handler] = {}
        self._reads: Callable[[Any], Iterable[tuple[Table, Any]]] | None = None

    def __repr__(self) -> str:
        return f"<Projection {self.name} v{self.version}>"

    def handles(
        self, event_class: type[E]
    ) -> Callable[[Callable[[ViewWriter, E, int], None]], Callable[[ViewWriter, E, int], None]]:
        """Register the decorated function as the handler of ``event_class``."""
        topic = event_topic(event_class)

        def register(
            handler: Callable[[ViewWriter, E, int], None],
        ) -> Callable[[ViewWriter, E, int], None]:
            if topic in self._handlers:
                raise ValueError(f"projection {self.name!r} already handles {topic!r}")
            self._handlers[topic] = handler
            return handler

        return register

    def reads(
        self, func: Callable[[Any], Iterable[tuple[Table, Any]]]
    ) -> Callable[[Any], Iterable[tuple[Table, Any]]]:
        """Register a function naming the rows (table, key) an event's handler will read.

        Optional, for speed: the runner reads them for a whole batch in a few statements
        instead of one statement per handler (which costs a round trip on PostgreSQL).
        """
        self._reads = func
        return func

    def rows_read(self, event: Any) -> Iterable[tuple[Table, Any]]:
        """The rows the handler of ``event`` will read, as :meth:`reads` says (or none)."""
        return self._reads(event) if self._reads is not None else ()

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics this projection reads, sorted."""
        return tuple(sorted(self._handlers))

    def handler(self, topic: str) -> Handler:
        """The handler registered for ``topic``."""
        return self._handlers[topic]

    def table(self, name: str) -> Table:
        """This projection's table called ``name``."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"projection {self.name!r} has no table {name!r}")

    @property
    def fingerprint(self) -> str:
        """What the rows depend on besides the handlers' code: the tables and the topics.

        A changed table or a newly handled event changes it, and the runner then builds a
        new generation as it does for a new ``version``.
        """
        shape = {"tables": [t.fingerprint() for t in self.tables], "topics": self.topics}
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
