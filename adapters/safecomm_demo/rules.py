"""The rules the subdistrict adopted (settings of local practice, docs/domain.md, *Rules*).

At the launch the group adopted the subdistrict's rules from 1 October 2013; from
1 July 2014 community C3, after late replies to alerts in the spring, gave its units
15 minutes instead of 30 to acknowledge an alert: the same kind of alert is escalated
sooner there from that day, and earlier alerts keep the time of their day.

The other parts ask :func:`in_force` for the rules of a day, which answers with the
domain's own resolution over the same versions, so the scenario and the store agree.
"""

from __future__ import annotations

from datetime import date

from safecomm_core.commands.rules import AdoptRules
from safecomm_core.converter import converter, structure
from safecomm_core.domain.rules import SUBDISTRICT, Rules, RuleVersion, rules_in_force
from safecomm_core.values import Role
from safecomm_demo.story import Writer, at, staff

__all__ = ["ADOPTED", "in_force", "rules"]

_LAUNCH = date(2013, 10, 1)
_SUBDISTRICT_CHANGES: dict[str, int | bool] = {
    "first_mediation_hours": 48,  # M1.2 "at the first opportunity": within two days
    "alert_ack_minutes": 30,
    "registration_deadline_days": 3,
    "proactive_service_years": 3,  # M3.3
}
_C3_FROM = date(2014, 7, 1)
_C3_CHANGES: dict[str, int | bool] = {"alert_ack_minutes": 15}

#: (adopted on, scope, effective from, changes), in the order adopted.
_ADOPTIONS = (
    (date(2013, 9, 27), SUBDISTRICT, _LAUNCH, _SUBDISTRICT_CHANGES),
    (date(2014, 6, 20), "C3", _C3_FROM, _C3_CHANGES),
)


def _versions() -> tuple[RuleVersion, ...]:
    versions: list[RuleVersion] = []
    for _adopted, scope, effective, changes in _ADOPTIONS:
        base = rules_in_force(tuple(versions), scope, effective)
        rules = structure({**converter.unstructure(base), **changes}, Rules)
        versions.append(RuleVersion(scope, effective, rules))
    return tuple(versions)


#: The versions as the store will hold them.
ADOPTED = _versions()


def in_force(community: str, on: date) -> Rules:
    """The rules in force in ``community`` on ``on``, as the store resolves them."""
    return rules_in_force(ADOPTED, community, on)


def rules(w: Writer) -> None:
    """Adopt the subdistrict's rules at the launch, and C3's stricter alert time."""
    for adopted, scope, effective, changes in _ADOPTIONS:
        w.add(
            w.story(prompt=True),
            AdoptRules,
            at(adopted, 16),
            staff(1, Role.ADMIN),
            effective_from=effective,
            changes=dict(changes),
            community=scope,
        )
