"""Keeping breakdowns from singling out a person (docs/domain.md, *Suppression of small cells*).

Applies to tables that count people or their cases by more than the scope (disputes by
kind and outcome, by community; migrant registrations by community). Indicator figures
are not suppressed: they are rates whose counts the programme is judged by, and they are
published per community only.

The rule (version 1):

1. **Primary**: a count of 1 or 2 is shown as ``"<3"``.
2. **Complementary**: totals of a table's rows and columns can be found elsewhere (the
   figures count the same cases), so a line with exactly one suppressed cell would give
   it away by subtraction. In every row and every count column with exactly one
   suppressed cell, the smallest other non-zero count of that line is withheld too, shown
   as ``"x"``; repeated until no line has exactly one (or the line has nothing left to
   withhold).

Zeros are shown: a zero singles nobody out.
"""

from __future__ import annotations

from collections.abc import Sequence

from safecomm_core.reports.model import Cell

__all__ = ["SMALL", "SUPPRESSED", "WITHHELD", "suppress"]

#: Counts below this (and above 0) are suppressed.
SMALL = 3
#: What a suppressed count is shown as.
SUPPRESSED = f"<{SMALL}"
#: What a count withheld so that a suppressed one cannot be worked out is shown as.
WITHHELD = "x"

Row = tuple[Cell, ...]


def suppress(rows: Sequence[Row], counts: Sequence[int]) -> tuple[Row, ...]:
    """``rows`` with the counts in columns ``counts`` suppressed by the module's rule."""
    value = {(r, c): rows[r][c] for r in range(len(rows)) for c in counts}
    number = {k: v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}
    primary = {k for k, v in number.items() if 0 < v < SMALL}
    hidden = set(primary)
    lines = [[(r, c) for c in counts] for r in range(len(rows))]
    lines += [[(r, c) for r in range(len(rows))] for c in counts]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(k in hidden for k in line) != 1:
                continue
            others = [k for k in line if k not in hidden and number.get(k, 0) > 0]
            if others:
                hidden.add(min(others, key=lambda k: (number[k], k)))
                changed = True
    out = []
    for r, row in enumerate(rows):
        cells = list(row)
        for c in counts:
            if (r, c) in primary:
                cells[c] = SUPPRESSED
            elif (r, c) in hidden:
                cells[c] = WITHHELD
        out.append(tuple(cells))
    return tuple(out)
