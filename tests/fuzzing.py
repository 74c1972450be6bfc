"""A service fuzzed against its own OpenAPI document by schemathesis: whatever a client
sends, the answer is never a 5xx and always matches the document (status, content type,
body schema)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from safecomm_core.access import Principal
from tests.serving import token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: Seconds a fuzzed request may take before the transport gives up on it.
ANSWER_WITHIN = 600


def answers_by_the_document(operation: Any, principals: Sequence[Principal]) -> None:
    """Six requests generated for ``operation``, each sent by every one of ``principals``;
    every answer checked against the document."""

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
        for who in principals:
            # The transport's own read timeout (10 s) would make a slow machine's evidence
            # bundle a failure: what is checked here is the answer, not how fast it came.
            response = case.call(
                headers={"Authorization": f"Bearer {token(who)}"}, timeout=ANSWER_WITHIN
            )
            case.validate_response(response, checks=CHECKS)

    answers()
