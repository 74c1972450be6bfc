"""``POST /v1/commands`` and ``POST /v1/commands/batch``: commands, as the principal.

The body is documented by the command classes themselves (one of them, chosen by
``type``); safecomm's converter of record (:func:`~safecomm_core.parse_command`) decides
whether it is valid, so what the web framework's decoder would let through (naive
date-times, extra keys) is refused here exactly as everywhere else.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any, Union

import attrs
from litestar import Request, Response, post
from litestar.params import JSONBody, SkipValidation

from safecomm_core import COMMANDS, Outcome, Safecomm, SafecommError
from safecomm_core.access import Principal
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.validation import COMMAND_MAX_BYTES
from safecomm_http.context import principal, server
from safecomm_http.problems import problem_of, responses

__all__ = ["CommandBody", "CommandResult", "batch", "command"]

#: Any command: the OpenAPI document lists each class, with its ``type``.
if TYPE_CHECKING:
    CommandBody = Any
else:
    CommandBody = Union[tuple(COMMANDS[t] for t in sorted(COMMANDS))]  # noqa: UP007

NDJSON = "application/x-ndjson"
#: The largest command, and the largest batch, a client may send.
COMMAND_BYTES = COMMAND_MAX_BYTES
BATCH_BYTES = 64 << 20


@attrs.frozen
class CommandResult:
    """What a command did: the records it changed; ``duplicate`` for a repeat."""

    command_id: str
    type: str
    records: tuple[str, ...]
    duplicate: bool

    @classmethod
    def of(cls, outcome: Outcome) -> CommandResult:
        return cls(outcome.command_id, outcome.type, outcome.records, outcome.duplicate)


@post(
    "/v1/commands",
    summary="Handle one command",
    responses=responses(403, 404, 409, 413, 422),
    request_max_body_size=COMMAND_BYTES,
    status_code=201,
)
async def command(
    request: Request[Any, Any, Any], data: SkipValidation[JSONBody[CommandBody]]
) -> Response[CommandResult]:
    """Handle one command as the authenticated principal (its actor must be the principal).

    201 with the records it changed; 200 with ``duplicate: true`` when the same command
    was handled before.
    """
    who = principal(request)
    outcome = await server(request).backend.write(lambda s: s.handle_json(_mapping(data), who))
    return Response(CommandResult.of(outcome), status_code=200 if outcome.duplicate else 201)


def _mapping(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidCommand([FieldError("", "a command is a JSON object")])
    return data


@attrs.frozen
class LineResult:
    """The outcome of one line of a batch: the result, or the problem."""

    line: int
    status: int
    result: CommandResult | None = None
    problem: dict[str, Any] | None = None


@post(
    "/v1/commands/batch",
    summary="Handle commands, one JSON object per line",
    responses=responses(413),
    request_max_body_size=BATCH_BYTES,
    media_type=NDJSON,
    status_code=200,
)
async def batch(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Handle each line (a command) in order; answer one JSON line per command line.

    A line that fails is answered with its problem, and the next lines go on; a repeat
    is answered 200 with ``duplicate: true``, as a single command would be.
    """
    who = principal(request)
    backend = server(request).backend
    data = await request.body()
    out = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        result = await backend.write(partial(_one, text=line, who=who, number=number))
        out.append(json.dumps(_line(result), ensure_ascii=False))
    return Response(("\n".join(out) + "\n").encode() if out else b"", media_type=NDJSON)


def _one(service: Safecomm, text: bytes, who: Principal, number: int) -> LineResult:
    try:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidCommand([FieldError("", f"malformed JSON: {exc}")]) from None
        outcome = service.handle_json(_mapping(data), who)
    except SafecommError as exc:
        problem = problem_of(exc)
        return LineResult(number, problem.status, problem=attrs.asdict(problem))
    return LineResult(number, 200 if outcome.duplicate else 201, CommandResult.of(outcome))


def _line(result: LineResult) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(result).items() if v is not None}
