"""Adopting rules of local practice (``rules.adopt``): versioned by effective date."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.converter import converter, structure
from safecomm_core.domain.rules import SUBDISTRICT, Rulebook, Rules, RuleVersion
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import day, ident, shown_name

__all__ = ["AdoptRules"]


def _known_rules(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, dict):  # else the type check names it
        unknown = sorted(map(shown_name, set(value) - set(attrs.fields_dict(Rules))))
        if unknown:
            raise InvalidCommand(
                [FieldError(f"{attribute.name}.{name}", "unknown rule") for name in unknown]
            )


@command("rules.adopt", serves=("S1",))
@attrs.frozen(kw_only=True)
class AdoptRules(Command):
    """Change some rules for a community (or ``*``: the subdistrict) from a date.

    ``changes`` names only the rules that change; the others keep the values in force
    for that scope on ``effective_from``. Time limits are whole numbers; the survey's
    readings (``fairly_satisfied_counts``, ``fairly_safe_counts``) are booleans.
    """

    effective_from: date = day()
    changes: dict[str, int | bool] = attrs.field(validator=_known_rules)
    community: str = ident(default=SUBDISTRICT)

    def run(self, ctx: Context) -> None:
        if not self.changes:
            raise InvalidCommand([FieldError("changes", "name at least one rule")])
        base = converter.unstructure(ctx.rules(self.community, self.effective_from))
        try:
            rules = structure({**base, **self.changes}, Rules)
        except InvalidCommand as exc:
            raise InvalidCommand(
                [FieldError(f"changes.{e.field}", e.rule) for e in exc.errors]
            ) from None
        if ctx.exists(Rulebook, Rulebook.REF):
            book = ctx.load(Rulebook, Rulebook.REF)
        else:
            book = Rulebook(meta=ctx.meta, ref=Rulebook.REF, community=SUBDISTRICT)
            ctx.add(book)
        book.adopt(ctx.meta, RuleVersion(self.community, self.effective_from, rules))
