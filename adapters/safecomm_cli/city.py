"""The options that name a city (``--city FILE``, ``--stores URL,URL``) and the city they give.

Shared by ``safecomm report monthly``, ``report explain`` and ``audit replay``; kept apart
from both command groups so that either can be imported first.
"""

from __future__ import annotations

from pathlib import Path

import click

from safecomm_core.city import City

__all__ = ["CITY_OPTION", "STORES_OPTION", "city_of"]

CITY_OPTION = click.option(
    "--city",
    "city_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A city: a TOML file naming each subdistrict's id, name and store.",
)
STORES_OPTION = click.option(
    "--stores",
    metavar="URL,URL,...",
    help="A city of these subdistrict stores (ids from each URL's ?name=, else S01, S02...).",
)


def city_of(city_file: Path | None, stores: str | None) -> City | None:
    """The city ``--city`` or ``--stores`` names (None: neither was given)."""
    if city_file is not None and stores is not None:
        raise click.UsageError("give --city or --stores, not both")
    if city_file is not None:
        return City.from_file(city_file)
    if stores is not None:
        return City.from_urls([url for url in stores.split(",") if url.strip()])
    return None
