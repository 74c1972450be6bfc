"""Reports: what the programme is judged by, computed from projections of the events.

The three reports, each a :class:`Report` to render to JSON, CSV, XLSX or HTML:

- :func:`monthly_report`: the indicators of a month, per community and for the subdistrict;
- :func:`self_assessment`: the programme against the provincial standard, as of a day;
- :func:`watchlist`: the records staff must act on, as of a day.

Given a store, each first catches up the views it reads: it writes to the views database.
"""

from safecomm_core.reports.assessment import self_assessment
from safecomm_core.reports.model import Figure, Report, Section, Series, UnknownFigure, label
from safecomm_core.reports.monthly import monthly_report
from safecomm_core.reports.watch import watchlist

__all__ = [
    "Figure",
    "Report",
    "Section",
    "Series",
    "UnknownFigure",
    "label",
    "monthly_report",
    "self_assessment",
    "watchlist",
]
