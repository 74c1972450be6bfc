"""The dispatcher's HTTP listener: acknowledgements from units' systems, SMS replies.

``POST /acks`` takes a signed acknowledgement as JSON (``alert_id``, ``unit``, ``ts``,
``sig``: the same object a duty app publishes over MQTT) and answers 202 when it was
recorded, 403 when it was refused (written nowhere). ``POST /sms/<token>`` is the SMS
provider's inbound hook, at a path only the provider is given. Litestar under uvicorn, in a
thread of its own; each request is handled on the dispatcher's event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Coroutine
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

from safecomm_notify.dispatcher import Dispatcher
from safecomm_notify.mqtt import parse_ack

__all__ = ["Listener"]


class Listener:
    """Serves the dispatcher's inbound hooks on ``host``:``port`` (0: any free port)."""

    def __init__(
        self, dispatcher: Dispatcher, host: str, port: int, sms_token: str | None = None
    ) -> None:
        self._dispatcher = dispatcher
        self._token = sms_token
        self._loop: asyncio.AbstractEventLoop | None = None
        app = Litestar(route_handlers=[self._acks_route(), self._sms_route()], debug=False)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _on_loop(self, work: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    def _acks_route(self) -> Any:
        @post("/acks", status_code=202)
        async def acks(request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
            ack = parse_ack(await request.body(), "webhook")
            accepted = ack is not None and await self._on_loop(self._dispatcher.acknowledge(ack))
            return Response({"accepted": bool(accepted)}, status_code=202 if accepted else 403)

        return acks

    def _sms_route(self) -> Any:
        @post("/sms/{token:str}", status_code=200)
        async def sms(token: FromPath[str], request: Request[Any, Any, Any]) -> Response[bytes]:
            channel = self._dispatcher.sms_channel()
            if (
                channel is None
                or self._token is None
                or not hmac.compare_digest(token.encode(), self._token.encode())
            ):
                return Response(b"", status_code=404)
            answer = await self._on_loop(channel.receive(await request.body()))
            return Response(answer, media_type="application/json")

        return sms

    async def start(self) -> int:
        """Start serving; the port it listens on."""
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError("the dispatcher's listener could not start")
            await asyncio.sleep(0.02)
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 5.0)
