"""The order of facts in the world, for facts that follow another fact of the same record.

:meth:`Record.check_after_creation <safecomm_core.domain.base.Record.check_after_creation>`
keeps every fact after the record began; some facts must also follow a later one (materials
after the campaign was held, an answer after its question). Reports "as of" a date would
otherwise count a consequence before its cause.
"""

from __future__ import annotations

from datetime import datetime

from safecomm_core.domain.base import Record
from safecomm_core.errors import RuleViolation
from safecomm_core.values import Meta

__all__ = ["require_not_before"]


def require_not_before(record: Record, meta: Meta, earlier: datetime, what: str) -> None:
    """Refuse a fact of ``record`` said to occur before ``earlier``, the moment of ``what``."""
    if meta.occurred_at < earlier:
        raise RuleViolation(
            f"{record.KIND} {record.ref!r}: {what} at {earlier.isoformat()}; "
            "occurred_at cannot be earlier",
            field="occurred_at",
            rule=f"must not be before {what}",
        )
