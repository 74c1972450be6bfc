"""Masking identifiers in reports (docs/domain.md, *Personal data*).

Reports never hold a name, phone or ID number: those stay sealed in the events and no view
has them. What a report does show are references: a dispute's case number, a migrant
worker's reference, a staff id. Two rules, applied where such a reference is shown:

- :func:`mask_person_ref`: a reference that stands for a person (a migrant worker) keeps
  only its last four characters and its punctuation: ``w-2011-0042`` → ``*-****-0042``,
  enough for staff who hold the record to find it, too little to be looked up.
- :func:`mask_numbers`: in any other reference, a run of six or more digits (a phone or
  ID number someone typed into a reference) keeps only its last four: a safety net.
"""

from __future__ import annotations

import re

__all__ = ["mask_numbers", "mask_person_ref"]

_KEEP = 4
_LONG_NUMBER = re.compile(r"[0-9]{6,}[0-9Xx]?")


def mask_person_ref(ref: str) -> str:
    """``ref`` with every letter and digit but the last four replaced by ``*``."""
    head, tail = ref[:-_KEEP], ref[-_KEEP:]
    return "".join("*" if ch.isalnum() else ch for ch in head) + mask_numbers(tail)


def mask_numbers(text: str) -> str:
    """``text`` with each run of six or more digits masked but for its last four."""
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - _KEEP) + m[0][-_KEEP:], text)
