"""A service's morning job: what staff must act on today, and where the programme stands.

Copy it and change what you need. It uses the library in-process, as a governance
platform would::

    python examples/morning_watchlist.py sqlite:///safecomm.db --as-of 2014-06-20 --community C1

1. Makes both reports; each first catches up the views it reads (never a stale view).
2. Prints each watchlist list with its rows: the record (a case number, a migrant
   worker's reference masked), how far past its limit, and the rule and rule version.
3. Prints the self-assessment's gaps: measures without evidence, phases overdue,
   deliverables missing, the self-assessment's score, months without a meeting.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

from safecomm_core import SUBDISTRICT_TZ, open_store, self_assessment, watchlist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", help="store URL, e.g. sqlite:///safecomm.db")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    parser.add_argument("--community", default=None, help="one community (default: all)")
    args = parser.parse_args(argv)
    day = args.as_of or datetime.now(SUBDISTRICT_TZ).date()

    # Each report catches up the views it reads first, in the store's views database.
    with open_store(args.store) as service:
        todo = watchlist(service, as_of=day, community=args.community)
        review = self_assessment(service, as_of=day, community=args.community)

    print(f"{todo.en} as of {todo.period}, {todo.scope}")
    for section in todo.sections[1:]:  # the first is the summary
        print(f"\n{section.en}: {len(section.rows)}")
        keys = [c.key for c in section.columns]
        for row in section.rows:
            print("  " + ", ".join(f"{k}={v}" for k, v in zip(keys, row, strict=True)))
    gaps = next(s for s in review.sections if s.id == "gaps")
    print(f"\n{review.en}: {len(gaps.rows)} gaps")
    for kind, subject, detail in gaps.rows:
        print(f"  {kind} {subject}" + ("" if detail is None else f" ({detail})"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
