"""A city: subdistricts each kept in its own store, reported together.

Every subdistrict runs its own application (its own store: a SQLite file, or one
PostgreSQL database with ``?name=`` per subdistrict); a city reads them side by side
(:func:`safecomm_core.reports.city.city_report`). The city is described by a TOML file::

    name = "Hemenkou city"

    [[subdistrict]]
    id = "S01"                       # the scope in city reports, the tokens' subdistrict claim
    name = "Hemenkou Subdistrict"
    store = "postgresql://postgres@127.0.0.1:5432/city?name=s01"

    [[subdistrict]]
    id = "S02"
    name = "Riverside Subdistrict"
    store = "sqlite:////var/lib/safecomm/riverside.db"

A relative SQLite path in the file (``sqlite:///riverside.db``) is from the file's folder,
so the file names the same stores whatever the working folder. A city is also given, for a
quick look, by a list of store URLs (:meth:`City.from_urls`; relative paths from the
working folder), each subdistrict then named by its URL's ``?name=`` (else ``S01``,
``S02``… in order). Two subdistricts may not share a store, however its URL is spelled.

A file or a list that cannot make a city raises :class:`CityError` (bad input), naming the
field (``subdistrict[2].store``) and the rule it broke.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import attrs

from safecomm_core.errors import FieldError, InvalidCommand, StoreError
from safecomm_core.store import StoreConfig, mask_url, parse_store_url

__all__ = ["City", "CityError", "Subdistrict"]

#: A subdistrict's id: a short code of letters, digits, ``_`` and ``-``, at most 32.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class CityError(InvalidCommand):
    """A city file or list of stores that does not describe a city (bad input)."""


@attrs.frozen
class Subdistrict:
    """One subdistrict of a city and the store that holds its records."""

    id: str  # short code, e.g. "S01": the scope name in city reports
    name: str  # display name
    store: str  # store URL (postgresql://…?name=s01, sqlite:///…)

    @property
    def display(self) -> str:
        """The store's URL fit for messages: its password, if any, reads ``***``."""
        return mask_url(self.store)


@attrs.frozen
class City:
    """A city's name and its subdistricts, in the order reports list them."""

    name: str
    subdistricts: tuple[Subdistrict, ...]

    def __attrs_post_init__(self) -> None:
        _check(self)

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> City:
        """The city a TOML file describes (see the module)."""
        shown = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CityError([FieldError("city", f"cannot read {shown}: {exc.strerror}")]) from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CityError([FieldError("city", f"{shown} is not TOML: {exc}")]) from None
        unknown = sorted(set(data) - {"name", "subdistrict"})
        if unknown:
            raise CityError([FieldError(unknown[0], "unknown key: use name and [[subdistrict]]")])
        entries = data.get("subdistrict", [])
        if not isinstance(entries, list):
            raise CityError([FieldError("subdistrict", "must be a list: [[subdistrict]]")])
        folder = Path(path).absolute().parent
        return cls(
            name=_text(data, "name", "name"),
            subdistricts=tuple(
                _subdistrict(entry, n, folder) for n, entry in enumerate(entries, 1)
            ),
        )

    @classmethod
    def from_urls(cls, urls: Sequence[str], name: str = "city") -> City:
        """A city of the stores ``urls``, each subdistrict's id and name the URL's
        ``?name=`` (else ``S01``, ``S02``… by position)."""
        found = []
        for n, url in enumerate(urls, 1):
            url = url.strip()
            names = parse_qs(urlsplit(url).query).get("name")
            id = names[-1].upper() if names else f"S{n:02d}"
            found.append(Subdistrict(id=id, name=id, store=url))
        return cls(name=name, subdistricts=tuple(found))

    def subdistrict(self, id: str) -> Subdistrict:
        """The subdistrict ``id``; :class:`CityError` naming the city's ids if none is."""
        for sub in self.subdistricts:
            if sub.id == id:
                return sub
        known = ", ".join(s.id for s in self.subdistricts)
        raise CityError([FieldError("scope", f"must be * or a subdistrict of the city: {known}")])

    @property
    def ids(self) -> tuple[str, ...]:
        """The subdistricts' ids, in order."""
        return tuple(s.id for s in self.subdistricts)


def _text(data: dict[str, Any], key: str, field: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CityError([FieldError(field, "is required: a non-empty string")])
    return value.strip()


def _subdistrict(entry: object, number: int, folder: Path) -> Subdistrict:
    where = f"subdistrict[{number}]"
    if not isinstance(entry, dict):
        raise CityError([FieldError(where, "must be a table with id, name and store")])
    unknown = sorted(set(entry) - {"id", "name", "store"})
    if unknown:
        raise CityError([FieldError(f"{where}.{unknown[0]}", "unknown key: use id, name, store")])
    return Subdistrict(
        id=_text(entry, "id", f"{where}.id"),
        name=_text(entry, "name", f"{where}.name"),
        store=_from(folder, _text(entry, "store", f"{where}.store")),
    )


def _from(folder: Path, url: str) -> str:
    """``url`` with a relative SQLite path made absolute from ``folder`` (the city file's),
    so that the file names the same stores from any working folder; other URLs as they are.
    """
    parts = urlsplit(url)
    path = unquote(parts.path[1:]) if parts.scheme == "sqlite" else ""
    if not path or Path(path).is_absolute():
        return url
    query = f"?{parts.query}" if parts.query else ""
    return f"sqlite:///{quote(str(folder / path))}{query}"


def _check(city: City) -> None:
    if not city.name.strip():
        raise CityError([FieldError("name", "is required: a non-empty string")])
    if not city.subdistricts:
        raise CityError([FieldError("subdistrict", "a city needs at least one subdistrict")])
    seen: dict[str, int] = {}
    names: dict[str, int] = {}
    stores: dict[tuple[str, ...], int] = {}
    for number, sub in enumerate(city.subdistricts, 1):
        where = f"subdistrict[{number}]"
        if not _ID.fullmatch(sub.id):
            raise CityError(
                [FieldError(f"{where}.id", "must be letters, digits, _ or - (at most 32)")]
            )
        if sub.id == "*":
            raise CityError([FieldError(f"{where}.id", "* is the whole city")])
        # Ids that differ in case alone (S01, s01) would be told apart by nobody reading.
        if sub.id.casefold() in seen:
            taken = seen[sub.id.casefold()]
            raise CityError(
                [FieldError(f"{where}.id", f"{sub.id!r} is taken by subdistrict[{taken}]")]
            )
        seen[sub.id.casefold()] = number
        # Reports name subdistricts by name beside their ids: two alike read as one.
        if sub.name.casefold() in names:
            taken = names[sub.name.casefold()]
            raise CityError(
                [FieldError(f"{where}.name", f"{sub.name!r} is taken by subdistrict[{taken}]")]
            )
        names[sub.name.casefold()] = number
        try:
            config = parse_store_url(sub.store)
        except StoreError as exc:
            raise CityError([FieldError(f"{where}.store", exc.message)]) from None
        if config.kind == "memory":
            raise CityError([FieldError(f"{where}.store", "must be a stored database")])
        place = _place(config)
        if place in stores:
            raise CityError(
                [FieldError(f"{where}.store", f"is also subdistrict[{stores[place]}]'s store")]
            )
        stores[place] = number


def _place(config: StoreConfig) -> tuple[str, ...]:
    """Where a store is, the same for every spelling of its URL: a SQLite file by its real
    path (one file is one store, whatever ``?name=``), a PostgreSQL store by its database
    and name."""
    path = config.env.get("SQLITE_DBNAME")
    if path is not None:
        return (config.kind, os.path.realpath(path))
    return (config.kind, config.conninfo, config.name)
