"""The service against its own OpenAPI document, fuzzed in process by schemathesis.

Whatever a client sends, the answer is never a 5xx and always matches the document (status,
content type, body schema). The store holds the CLI's sample dispute, so that records,
reports and events have something to show; the token is the office's, which may read
everything, and a mediator's, which may not.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app
from safecomm_http.commands import NDJSON
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from safecomm_core import open_store
from safecomm_core.audit import generate_key
from tests.commanding import sample_commands
from tests.serving import KEY, MEDIATOR_C1, OFFICE, token


def _app() -> Any:
    """The service over a store holding the sample dispute (built once, at collection)."""
    service = open_store("memory://")
    for data in sample_commands():
        service.handle_json(data)
    private, _ = generate_key(Path(tempfile.mkdtemp(prefix="safecomm-seal-")) / "seal.key")
    return create_app(
        Backend(service),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=1e6, burst=1e6),
        seal_key=str(private),
        close_store=False,  # schemathesis starts and stops the app around every call
    )


@schemathesis.serializer(NDJSON)
def _lines(_ctx: Any, value: Any) -> bytes:
    """A batch body: the generated text, as is."""
    return value if isinstance(value, bytes) else str(value).encode()


schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _app())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


OPERATIONS = [op.ok() for op in schema.get_all_operations()]
#: Seconds a fuzzed request may take before the transport gives up on it.
ANSWER_WITHIN = 600


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_answer_is_a_server_error_or_off_the_document(operation: Any) -> None:
    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(operation.as_strategy())
    def answers(case: Any) -> None:
        if case.query and "follow" in case.query:
            case.query["follow"] = "false"  # a followed stream never ends; reads are the same
        for who in (OFFICE, MEDIATOR_C1):
            # The transport's own read timeout (10 s) would make a slow machine's evidence
            # bundle a failure: what is checked here is the answer, not how fast it came.
            response = case.call(
                headers={"Authorization": f"Bearer {token(who)}"}, timeout=ANSWER_WITHIN
            )
            case.validate_response(response, checks=CHECKS)

    answers()


def test_every_route_is_fuzzed() -> None:
    assert len(OPERATIONS) == 15
