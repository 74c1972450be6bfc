"""Projections: read models built from the store's events, kept exactly once.

Define a projection (:class:`Projection`: tables and one handler per event it wants),
then run it with a :class:`Projector`::

    from safecomm_core import open_store
    from safecomm_core.projections import Projector, builtin_projections

    with open_store("sqlite:///safecomm.db") as service, Projector(service) as projector:
        for projection in builtin_projections():
            projector.catch_up(projection)
        rows = projector.rows(DISPUTES, "disputes")

How the runner keeps rows and position in one transaction, builds generations side by side
and swaps them, and checks a rebuild against the live view is told in
:mod:`safecomm_core.projections.runner`; where views are stored, in
:mod:`safecomm_core.projections.database`.

Adding a report's projection: define it in a module of this package (tables, handlers,
optionally :meth:`Projection.reads` for speed), list it in
:func:`~safecomm_core.projections.catalog.builtin_projections`, and read it after a
catch-up, either as rows (:meth:`Projector.rows`) or with SQL on the stable view names,
which always show the live generation::

    projector.catch_up(DISPUTES)  # reports catch up first: never a stale view by accident
    views = projector.views
    with views.snapshot():  # one consistent state for every query of the report
        rows = views.fetchall(
            f'SELECT community, count(*) FROM "{views.name("disputes")}" '
            "WHERE reported_on >= ? AND reported_on < ? GROUP BY community",
            ("2014-03-01", "2014-04-01"),  # SQL uses ? on both backends
        )
    skipped = projector.status(DISPUTES).dead_letters  # say what the figures left out
"""

from safecomm_core.projections.catalog import builtin_projections
from safecomm_core.projections.database import (
    PostgresViews,
    SQLiteViews,
    ViewDatabase,
    open_views,
    views_path,
)
from safecomm_core.projections.definition import Handler, Projection, event_topic
from safecomm_core.projections.digest import Difference, Digest, TableDigest
from safecomm_core.projections.disputes import DISPUTE_FACTS, DISPUTE_ROWS, DISPUTES
from safecomm_core.projections.errors import ProjectionError, ViewDatabaseError
from safecomm_core.projections.runner import Projector
from safecomm_core.projections.schema import (
    BOOLEAN,
    DATE,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Column,
    ColumnType,
    Row,
    Table,
)
from safecomm_core.projections.status import DeadLetter, Generation, Progress, ProjectionStatus
from safecomm_core.projections.writer import RowExists, ViewWriter

__all__ = [
    "BOOLEAN",
    "DATE",
    "DISPUTES",
    "DISPUTE_FACTS",
    "DISPUTE_ROWS",
    "INTEGER",
    "REAL",
    "TEXT",
    "TIMESTAMP",
    "Column",
    "ColumnType",
    "DeadLetter",
    "Difference",
    "Digest",
    "Generation",
    "Handler",
    "PostgresViews",
    "Progress",
    "Projection",
    "ProjectionError",
    "ProjectionStatus",
    "Projector",
    "Row",
    "RowExists",
    "SQLiteViews",
    "Table",
    "TableDigest",
    "ViewDatabase",
    "ViewDatabaseError",
    "ViewWriter",
    "builtin_projections",
    "event_topic",
    "open_views",
    "views_path",
]
