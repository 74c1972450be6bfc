"""A city's own routes against the city's OpenAPI document, fuzzed in process by
schemathesis (tests/fuzzing.py): the roll-up, its explanations, readiness and liveness.

Each subdistrict's routes, under ``/subdistricts/{subdistrict}``, are one store's: they
are fuzzed in tests/test_http_schema.py. The city's two SQLite stores hold the CLI's
sample dispute each, so that the roll-up has figures to show; the tokens are the city
office's (the whole city), one subdistrict's office and a mediator of one community,
whose reads of the roll-up are refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from safecomm_http import RateLimits, TokenVerifier
from safecomm_http.city import PREFIX, create_city_app, open_backends

from safecomm_core.city import City, Subdistrict
from tests.fuzzing import answers_by_the_document
from tests.serving import KEY
from tests.test_http_city import CITY_OFFICE, S01_MEDIATOR_C1, S01_OFFICE, stock


def _app() -> Any:
    """The city's service over two stocked SQLite stores (built once, at collection)."""
    folder = Path(tempfile.mkdtemp(prefix="safecomm-city-"))
    city = City(
        "Fuzzed city",
        tuple(
            Subdistrict(s, f"subdistrict {s}", f"sqlite:///{folder / s}.db") for s in ("S01", "S02")
        ),
    )
    stock(city)
    return create_city_app(
        city,
        open_backends(city),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=1e6, burst=1e6),
        close_store=False,  # schemathesis starts and stops the app around every call
    )


schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _app())

OPERATIONS = [
    op.ok() for op in schema.get_all_operations() if not op.ok().path.startswith(PREFIX + "/")
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_answer_of_the_city_is_a_server_error_or_off_the_document(operation: Any) -> None:
    answers_by_the_document(operation, (CITY_OFFICE, S01_OFFICE, S01_MEDIATOR_C1))


def test_every_route_of_the_city_is_fuzzed() -> None:
    assert sorted(op.path for op in OPERATIONS) == [
        "/healthz",
        "/readyz",
        "/v1/city/reports/explain/{indicator}",
        "/v1/city/reports/monthly",
    ]
