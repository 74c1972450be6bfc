"""The codes a report's cells may hold, by vocabulary, so that renderers show words.

A report keeps codes in its cells (``agreement_written``, ``urgent``, ``no_evidence``): they
are its JSON contract, stable for scripts. A column that holds codes names its vocabulary
(:attr:`~safecomm_core.reports.model.Column.codes`); the renderers give each code its
Chinese and English words (``safecomm_reports.labels``). Every closed vocabulary is listed
here with all its codes, most of them an enum's values, so that a test can hold the
words to every code that can reach a page or an export.

A cell may hold several codes joined by ``"; "``, and a code may carry what it is about
after ``:``, a count after ``×`` or a value after ``" = "`` (``no_evidence:M1.2;
action_overdue×2``, ``first_mediation_hours = 72``): the words replace the code and keep
the rest.
"""

from __future__ import annotations

import enum

import attrs

from safecomm_core.domain.campaign import CampaignTheme
from safecomm_core.domain.dispute import DisputeKind
from safecomm_core.domain.grid_alert import AlertCategory, AlertPriority
from safecomm_core.domain.phase import PhaseStatus, ReviewKind
from safecomm_core.domain.rules import Rules
from safecomm_core.indicators import INDICATORS, Unit

__all__ = [
    "AGREEMENT",
    "ALERT_CATEGORY",
    "ALERT_PRIORITY",
    "CAMPAIGN_THEME",
    "CODE_SETS",
    "DISPUTE_KIND",
    "ELEMENT_STATUS",
    "GAP",
    "INDICATOR",
    "MEASURE_STATUS",
    "OPEN_SETS",
    "PERMIT_STATUS",
    "PHASE_STATUS",
    "POLICE_CATEGORY",
    "REVIEW_KIND",
    "RULE",
    "RULE_VERSION",
    "UNIT",
    "WATCH_LIST",
    "YES_NO",
    "split_codes",
]

DISPUTE_KIND = "dispute_kind"
AGREEMENT = "agreement"
ALERT_CATEGORY = "alert_category"
ALERT_PRIORITY = "alert_priority"
PERMIT_STATUS = "permit_status"
WATCH_LIST = "watch_list"
ELEMENT_STATUS = "element_status"
MEASURE_STATUS = "measure_status"
PHASE_STATUS = "phase_status"
REVIEW_KIND = "review_kind"
YES_NO = "yes_no"
GAP = "gap"
INDICATOR = "indicator"
UNIT = "unit"
#: A rule that decided a row, as ``name = value`` (the watchlist's "rule" column).
RULE = "rule"
CAMPAIGN_THEME = "campaign_theme"
#: Which rule set decided a row: ``default``, ``<scope> from <date>`` or ``meeting <ref>``.
RULE_VERSION = "rule_version"
#: The police station's own case categories: an open set (any lower-case code), of which
#: the usual ones have words; another shows its code.
POLICE_CATEGORY = "police_category"


def _values(cls: type[enum.StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in cls)


#: Every closed vocabulary and all its codes, but the watchlist's lists (``WATCH_LIST``:
#: ``watch.LISTS``) and the self-assessment's gaps (``GAP``: ``assessment.GAP_KINDS``),
#: which are listed with their words where they are defined.
CODE_SETS: dict[str, tuple[str, ...]] = {
    DISPUTE_KIND: _values(DisputeKind),
    # How a dispute ended, as the disputes view keeps it (projections/disputes.py).
    AGREEMENT: ("agreement_written", "agreement_oral", "terminated", "refused"),
    ALERT_CATEGORY: _values(AlertCategory),
    ALERT_PRIORITY: _values(AlertPriority),
    PERMIT_STATUS: ("due", "overdue", "suspended"),
    ELEMENT_STATUS: ("met", "partial", "gap"),
    MEASURE_STATUS: ("evidence", "no_evidence"),
    PHASE_STATUS: (*_values(PhaseStatus), "not_planned"),
    REVIEW_KIND: _values(ReviewKind),
    YES_NO: ("yes", "no"),
    INDICATOR: tuple(INDICATORS),
    UNIT: _values(Unit),
    CAMPAIGN_THEME: _values(CampaignTheme),
    # Every rule of a rule set, and a meeting action's own due date.
    RULE: (*(field.name for field in attrs.fields(Rules)), "due"),
}

#: Vocabularies whose codes are not known in advance, or are composed (a rule set's scope
#: and date).
OPEN_SETS = frozenset({POLICE_CATEGORY, RULE_VERSION})


def split_codes(cell: str) -> list[tuple[str, str]]:
    """A cell's codes, each with what follows it (``":M1.2"``, ``"×2"``, ``" = 72"``, ``""``).

    >>> split_codes("no_evidence:M1.2; action_overdue×2")
    [('no_evidence', ':M1.2'), ('action_overdue', '×2')]
    >>> split_codes("first_mediation_hours = 72")
    [('first_mediation_hours', ' = 72')]
    """
    found = []
    for part in cell.split("; "):
        cuts = (part.find(":"), part.find("×"), part.find(" = "))
        cut = min((i for i in cuts if i >= 0), default=len(part))
        found.append((part[:cut], part[cut:]))
    return found
