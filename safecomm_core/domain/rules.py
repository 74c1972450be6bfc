"""Rules of local practice and law, as versioned data with effective dates.

Most time limits in this work are set by no statute (docs/domain.md, *Rules*): the office sets them,
and changes them. A :class:`Rules` value is one full set; the :class:`Rulebook` records each
set adopted, for the subdistrict or one community, from an effective date. A decision uses
the set in force on the date its fact occurred, so old records keep the rules of their day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
from eventsourcing.domain import event

from safecomm_core.domain.base import Record
from safecomm_core.transcoding import value_type
from safecomm_core.validation import BrokenRule, positive
from safecomm_core.values import Meta

__all__ = ["DEFAULT_RULES", "SUBDISTRICT", "RuleVersion", "Rulebook", "Rules"]

#: The scope of rules that hold for every community without a set of its own.
SUBDISTRICT = "*"


def _flag(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not bool:
        raise BrokenRule(attribute.name, "must be a boolean")


@value_type("rules")
@attrs.frozen(kw_only=True)
class Rules:
    """One full set of rules. Defaults cite their source; (local) marks local practice."""

    #: (local) M1.2 "mediate at the first opportunity": report to first session, hours.
    first_mediation_hours: int = attrs.field(default=72, validator=positive)
    #: 人民调解工作若干规定 (2002) Art. 33: settle within one month of acceptance, days.
    settle_within_days: int = attrs.field(default=30, validator=positive)
    #: 人民调解法 Art. 33: joint application for judicial confirmation within 30 days.
    judicial_confirmation_days: int = attrs.field(default=30, validator=positive)
    #: (local) M2.3: a unit must acknowledge an alert within this many minutes.
    alert_ack_minutes: int = attrs.field(default=30, validator=positive)
    #: (local) registration of a migrant worker within this many days of arrival.
    registration_deadline_days: int = attrs.field(default=3, validator=positive)
    #: 居住证暂行条例 Art. 2: months of residence before a permit can be applied for.
    permit_min_residence_months: int = attrs.field(default=6, validator=positive)
    #: 居住证暂行条例 Art. 9: days from acceptance to issue (up to 30 in remote areas).
    permit_issue_days: int = attrs.field(default=15, validator=positive)
    #: (local) M3.3: years of residence after which services are offered unasked.
    proactive_service_years: int = attrs.field(default=3, validator=positive)
    #: 居住证暂行条例 Art. 10: the yearly endorsement is made in the month(s) before each
    #: full year of residence; earlier is refused, later suspends the permit.
    permit_endorsement_window_months: int = attrs.field(default=1, validator=positive)
    #: (local) S6: whether 基本满意 (fairly satisfied) counts as satisfied in the
    #: satisfaction rate. No standard fixes it: a jurisdiction's reading of its survey.
    fairly_satisfied_counts: bool = attrs.field(default=False, validator=_flag)
    #: (local) S6: whether 基本安全 (fairly safe) counts as safe in the sense of security.
    fairly_safe_counts: bool = attrs.field(default=False, validator=_flag)


DEFAULT_RULES = Rules()


@value_type("rule_version")
@attrs.frozen
class RuleVersion:
    """A set of rules in force for a scope from a date."""

    scope: str
    effective_from: date
    rules: Rules


class Rulebook(Record):
    """The one record of every rule set adopted (there is one rulebook per store)."""

    KIND = "rulebook"
    TOPIC = "safecomm/Rulebook"
    REF = "rulebook"

    class Opened(Record.Created):
        TOPIC = "safecomm/Rulebook/Opened"
        ref: str
        community: str

    @event(Opened)
    def __init__(self, *, meta: Meta, ref: str, community: str) -> None:
        self._created(meta, ref, community)
        self.versions: tuple[RuleVersion, ...] = ()

    class Adopted(Record.Event):
        TOPIC = "safecomm/Rulebook/Adopted"
        version: RuleVersion

    @event(Adopted)
    def _adopt(self, meta: Meta, version: RuleVersion) -> None:
        self.versions = (*self.versions, version)

    def adopt(self, meta: Meta, version: RuleVersion) -> None:
        """Adopt a set of rules for a scope from its effective date."""
        self._adopt(meta=meta, version=version)

    def in_force(self, community: str, on: date) -> Rules:
        """The rules in force in ``community`` on ``on``."""
        return rules_in_force(self.versions, community, on)


def rules_in_force(versions: tuple[RuleVersion, ...], community: str, on: date) -> Rules:
    """The latest set effective by ``on`` for the community, else the subdistrict's."""
    version = version_in_force(versions, community, on)
    return DEFAULT_RULES if version is None else version.rules


def version_in_force(
    versions: tuple[RuleVersion, ...], community: str, on: date
) -> RuleVersion | None:
    """The adopted set :func:`rules_in_force` uses; None when the defaults apply.

    Reports name it beside each verdict, so a reader can tell which version decided.
    """
    for scope in (community, SUBDISTRICT):
        found = [v for v in versions if v.scope == scope and v.effective_from <= on]
        if found:
            # Adopted later wins among sets with the same effective date.
            return max(enumerate(found), key=lambda iv: (iv[1].effective_from, iv[0]))[1]
    return None
