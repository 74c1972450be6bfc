"""How the reports read views: caught up, in one consistent state, "as of" a day.

- :func:`caught_up` gives a report a projector whose views it reads are caught up (on a
  store, a projector of its own): every report writes to the views database first.
- :func:`read_views` reads live views inside one read transaction, so that every list of a
  report comes from the same moment even while a follower writes.
- :func:`~safecomm_core.dates.end_of_day` turns an "as of" day into the first moment after
  it in the subdistrict: a fact counts when it occurred before it (reports are by
  ``occurred_at``; a fact entered late counts on the day it happened).
- :func:`in_scope` says which records a report for one community covers.
- :func:`known_versions` and :func:`rule_used` find the rules in force for a record and
  name their version.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import attrs

from safecomm_core.dates import Month
from safecomm_core.domain.rules import (
    DEFAULT_RULES,
    SUBDISTRICT,
    Rules,
    RuleVersion,
    version_in_force,
)
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.projections.database import ViewDatabase, quote
from safecomm_core.projections.definition import Projection
from safecomm_core.projections.errors import ProjectionError
from safecomm_core.projections.rules import rule_versions
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import Row, Table, normalise
from safecomm_core.service import Safecomm

__all__ = [
    "Reader",
    "RuleUsed",
    "caught_up",
    "dead_letters",
    "in_scope",
    "known_versions",
    "read_views",
    "report_day",
    "rule_used",
]


def in_scope(community: str, scope: str | None) -> bool:
    """Whether a record of ``community`` belongs in a report for ``scope``.

    The subdistrict's report (``None`` or ``*``) covers everything; a community's report
    covers its own records and the subdistrict's own (``*``: the programme's phases, the
    group's meetings), which every community works under.
    """
    return scope in (None, SUBDISTRICT) or community in (scope, SUBDISTRICT)


class Reader:
    """Reads live views inside the read transaction :func:`read_views` opened."""

    def __init__(self, views: ViewDatabase) -> None:
        self.views = views

    def rows(
        self,
        table: Table,
        where: str = "",
        params: Sequence[Any] = (),
        columns: Collection[str] | None = None,
    ) -> list[Row]:
        """Every row of ``table``'s live view, in key order; with ``where`` (SQL, ``?``
        placeholders given by ``params``, as :meth:`param` makes them), only those it picks;
        with ``columns``, only those columns (and the key's) of each row."""
        table = _narrowed(table, columns)
        views = self.views
        sql = views.select_sql(views.name(table.name), table)
        batches = views.fetch_batches(f"{sql} WHERE {where}" if where else sql, params)
        decode = views.row_decoder(table)
        # Rows repeat the same texts and days (communities, facts, topics, a record's id on
        # each of its facts): each is kept once, not once a row.
        shared: dict[Any, Any] = {}

        def row(values: Sequence[Any]) -> Row:
            found = decode(values)
            for name, value in found.items():
                if type(value) is str or type(value) is date:
                    found[name] = shared.setdefault(value, value)
            return found

        return sorted((row(values) for batch in batches for values in batch), key=table.key_of)

    def stream(
        self,
        table: Table,
        where: str,
        params: Sequence[Any],
        columns: Collection[str] | None,
        order_by: Sequence[str],
    ) -> Iterator[Row]:
        """The rows :meth:`rows` gives, one at a time as the database sorts them by
        ``order_by`` (columns), none kept: for a reader that needs one record at a time.
        Read them while the read transaction is open."""
        table = _narrowed(table, columns)
        views = self.views
        sql = views.select_sql(views.name(table.name), table)
        order = ", ".join(quote(c) for c in order_by)
        decode = views.row_decoder(table)
        for batch in views.fetch_batches(f"{sql} WHERE {where} ORDER BY {order}", params):
            yield from map(decode, batch)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on the views (``?`` placeholders; tables by :meth:`name`)."""
        return self.views.fetchall(sql, params)

    def name(self, table: Table) -> str:
        """The quoted name of ``table``'s live view, for SQL."""
        return quote(self.views.name(table.name))

    def param(self, table: Table, column: str, value: Any) -> Any:
        """``value`` as a query parameter compared with ``table.column``."""
        shape = table.column(column)
        return self.views.encode(shape, normalise(shape, value))

    def value(self, table: Table, column: str, stored: Any) -> Any:
        """A value of ``table.column`` fetched by a query, as Python sees it."""
        return None if stored is None else self.views.decode(table.column(column), stored)


def _narrowed(table: Table, columns: Collection[str] | None) -> Table:
    """``table`` with only ``columns`` and its key's (None: every column)."""
    if columns is None:
        return table
    keep = {*columns, *table.key}
    return attrs.evolve(
        table, columns=tuple(c for c in table.columns if c.name in keep), indexes=()
    )


@contextmanager
def caught_up(
    source: Safecomm | Projector, projections: Iterable[Projection]
) -> Iterator[Projector]:
    """A projector over ``source`` with the views of ``projections`` caught up together
    (each event read and decoded once for all): ``source`` itself if it is one, else a
    projector of the store's own, closed afterwards."""
    if isinstance(source, Projector):
        source.catch_up_all(list(projections))
        yield source
        return
    with Projector(source) as projector:
        projector.catch_up_all(list(projections))
        yield projector


@contextmanager
def read_views(projector: Projector, projections: Sequence[Projection]) -> Iterator[Reader]:
    """A :class:`Reader` over one consistent state of the views of ``projections``.

    Raises :class:`~safecomm_core.projections.errors.ProjectionError` when a projection
    has no live view yet: catch it up first (report commands do).
    """
    for projection in projections:
        if projector.status(projection).live_generation == 0:
            raise ProjectionError(
                f"projection {projection.name!r} has not been built yet: catch it up first"
            )
    with projector.views.lean(), projector.views.snapshot():
        yield Reader(projector.views)


def dead_letters(projector: Projector, projections: Iterable[Projection]) -> int:
    """How many events the live views of ``projections`` could not process."""
    return sum(projector.status(p).dead_letters for p in projections)


@attrs.frozen
class RuleUsed:
    """The rules in force for a record, and which adopted version they are (None: defaults)."""

    rules: Rules
    version: RuleVersion | None

    def label(self, name: str) -> str:
        """``name = value`` of the rule the verdict used: ``first_mediation_hours = 48``."""
        return f"{name} = {getattr(self.rules, name)}"

    @property
    def version_label(self) -> str:
        """The version as ``scope from date`` (``C1 from 2014-06-01``), or ``default``."""
        if self.version is None:
            return "default"
        return f"{self.version.scope} from {self.version.effective_from.isoformat()}"


def known_versions(rows: Iterable[Row], before: datetime) -> tuple[RuleVersion, ...]:
    """The rule sets of the ``rulebook`` view adopted before ``before``, in adoption order.

    A set adopted after a report's day was not known on that day, even when it was made to
    take effect earlier; a report as of that day judges by what was adopted by then.
    """
    return rule_versions(row for row in rows if row["occurred_at"] < before)


def rule_used(versions: tuple[RuleVersion, ...], community: str, on: date) -> RuleUsed:
    """The rules in force in ``community`` on ``on``, and the version they come from."""
    version = version_in_force(versions, community, on)
    return RuleUsed(DEFAULT_RULES if version is None else version.rules, version)


def report_day(period: str) -> date:
    """The day a report "as of a day" is for: ``YYYY-MM-DD``, or the last day of a month
    ``YYYY-MM``; :class:`~safecomm_core.errors.InvalidCommand` naming ``period`` otherwise."""
    try:
        return date.fromisoformat(period) if len(period) == 10 else Month.parse(period).last
    except ValueError:
        raise InvalidCommand(
            [FieldError("period", "must be a day YYYY-MM-DD or a month YYYY-MM")]
        ) from None
