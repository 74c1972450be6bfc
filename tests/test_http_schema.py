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
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app
from safecomm_http.commands import NDJSON

from safecomm_core import open_store
from safecomm_core.audit import generate_key
from tests.commanding import sample_commands
from tests.fuzzing import answers_by_the_document
from tests.serving import KEY, MEDIATOR_C1, OFFICE


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

OPERATIONS = [op.ok() for op in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_answer_is_a_server_error_or_off_the_document(operation: Any) -> None:
    answers_by_the_document(operation, (OFFICE, MEDIATOR_C1))


def test_every_route_is_fuzzed() -> None:
    assert len(OPERATIONS) == 15
