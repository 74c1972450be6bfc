"""Commands over NATS: request/reply on ``safecomm.<store>.commands``.

A request is one JSON object, ``{"token": "...", "command": {...}}``; the reply is
``{"ok": true, "outcome": {...}}`` or ``{"ok": false, "error": {"type", "message",
"field", "rule", "errors"}}``. The token is mapped to a principal and the service applies
the access policy to it; a command is handled once per ``command_id``, so a client that
timed out sends the same request again and gets the first outcome back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from safecomm_core.access import Principal
from safecomm_core.converter import converter
from safecomm_core.errors import FieldError, InvalidCommand, SafecommError
from safecomm_core.service import Safecomm

__all__ = ["Verify", "answer", "commands_subject", "open_intake", "serve_commands"]

#: From a token to the principal it names; raises ``safecomm_tokens.InvalidToken`` when it
#: cannot vouch for it (``TokenVerifier.principal`` is one).
Verify = Callable[[str], Principal]

log = logging.getLogger("safecomm_nats")


def commands_subject(store: str) -> str:
    """The subject a store takes commands on."""
    return f"safecomm.{store}.commands"


def answer(service: Safecomm, verify: Verify, request: bytes) -> dict[str, Any]:
    """The reply to one request (see the module's notes)."""
    try:
        try:
            body = json.loads(request)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidCommand([FieldError("", f"malformed JSON: {exc}")]) from None
        if not isinstance(body, dict) or not isinstance(body.get("command"), dict):
            raise InvalidCommand([FieldError("command", "must be a JSON object")])
        principal = verify(str(body.get("token", "")))
        outcome = service.handle_json(body["command"], principal)
    except SafecommError as exc:
        return {"ok": False, "error": _error(exc)}
    return {"ok": True, "outcome": converter.unstructure(outcome)}


def _error(exc: SafecommError) -> dict[str, Any]:
    errors = getattr(exc, "errors", ())
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "field": exc.field or (errors[0].field if errors else ""),
        "rule": exc.rule or (errors[0].rule if errors else ""),
        "errors": [{"field": e.field, "rule": e.rule} for e in errors],
    }


async def open_intake(service: Safecomm, nc: Client, store: str, verify: Verify) -> Subscription:
    """Start answering command requests on the store's subject; unsubscribe to stop.

    Several intakes may run at once: they share the subject as one queue group.
    """

    async def reply(msg: Msg) -> None:
        try:
            found = answer(service, verify, msg.data)
        except Exception as exc:  # a bug or a store failure: say so, keep serving
            log.exception("command intake failed")
            found = {
                "ok": False,
                "error": {"type": "InternalError", "message": f"{type(exc).__name__}: {exc}"},
            }
        await msg.respond(json.dumps(found, ensure_ascii=False).encode())

    sub = await nc.subscribe(commands_subject(store), queue="safecomm-commands", cb=reply)
    await nc.flush()
    return sub


async def serve_commands(
    service: Safecomm, nc: Client, store: str, verify: Verify, stop: asyncio.Event
) -> None:
    """Answer command requests on the store's subject until ``stop`` is set."""
    sub = await open_intake(service, nc, store, verify)
    await stop.wait()
    await sub.unsubscribe()
