"""A city: its subdistricts, each an application in its own store.

Each subdistrict keeps its own store (one PostgreSQL database holds them all, one
application name each: ``postgresql://…/db?name=s01``); a city file lists them::

    name = "Hemen city"

    [[subdistrict]]
    id = "S01"
    name = "Hemenkou"
    store = "postgresql://safecomm@db/city?name=s01"

A subdistrict's ``id`` is its scope in the city's reports and what a principal's
``subdistricts`` name (docs/access.md).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from safecomm_core.errors import FieldError, InvalidCommand, NotFound, StoreError
from safecomm_core.store import parse_store_url

__all__ = ["City", "Subdistrict"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


@attrs.frozen
class Subdistrict:
    """One subdistrict of a city and where its store is."""

    #: A short code (``S01``): its scope in city reports, and a principal's claim.
    id: str
    name: str
    #: Its store's URL.
    store: str


@attrs.frozen
class City:
    """A city's name and its subdistricts, in the order its file lists them."""

    name: str
    subdistricts: tuple[Subdistrict, ...]

    def __attrs_post_init__(self) -> None:
        errors = []
        if not self.subdistricts:
            errors.append(FieldError("subdistrict", "a city has at least one subdistrict"))
        seen: set[str] = set()
        for n, sub in enumerate(self.subdistricts, start=1):
            if not _ID.fullmatch(sub.id) or sub.id in seen:
                errors.append(
                    FieldError(
                        f"subdistrict[{n}].id",
                        "a unique code of letters, digits, - and _ (at most 32)",
                    )
                )
            seen.add(sub.id)
            try:
                parse_store_url(sub.store)
            except StoreError as exc:
                errors.append(FieldError(f"subdistrict[{n}].store", exc.message))
        if errors:
            raise InvalidCommand(errors)

    @classmethod
    def from_file(cls, path: str | Path) -> City:
        """The city a TOML file describes (``name``, and ``[[subdistrict]]`` tables of
        ``id``, ``name`` and ``store``)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidCommand([FieldError("city", f"{path}: {exc}")]) from None
        found = data.get("subdistrict", [])
        if not isinstance(found, list) or not all(isinstance(s, dict) for s in found):
            raise InvalidCommand([FieldError("subdistrict", "a list of [[subdistrict]] tables")])
        return cls(
            _text(data, "name"),
            tuple(_subdistrict(n, s) for n, s in enumerate(found, start=1)),
        )

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> City:
        """A city of one subdistrict per store URL, coded ``S01``, ``S02`` … in order."""
        return cls(
            "city",
            tuple(
                Subdistrict(f"S{n:02d}", f"S{n:02d}", url) for n, url in enumerate(urls, start=1)
            ),
        )

    def subdistrict(self, id: str) -> Subdistrict:
        """The subdistrict coded ``id``; :class:`NotFound` if the city has none."""
        for sub in self.subdistricts:
            if sub.id == id:
                return sub
        raise NotFound("subdistrict", id, "subdistrict")


def _text(data: dict[str, Any], key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand([FieldError(f"{where}{key}", "must be a non-empty string")])
    return value


def _subdistrict(n: int, data: dict[str, Any]) -> Subdistrict:
    where = f"subdistrict[{n}]."
    return Subdistrict(
        _text(data, "id", where), _text(data, "name", where), _text(data, "store", where)
    )
