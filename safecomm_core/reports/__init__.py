"""Reports: what the programme is judged by, computed from projections of the events."""

from safecomm_core.reports.model import Figure, Report, Section, Series, label

__all__ = ["Figure", "Report", "Section", "Series", "label"]
