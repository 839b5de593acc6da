"""``/mcp`` on the service: the MCP server over streamable HTTP, behind the same API keys as ``/v1``.

Tools, resources and prompts reach the service's loaded Assistant through the runtime, so until the index
is loaded each answers with the same reason and hint as ``/readyz``. Stateless streamable HTTP: every
request is a POST answered on its own (no ``Mcp-Session-Id``, no server-sent stream on GET), so any
replica can answer any request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from assistant.live import Runtime
from assistant.settings import Settings
from assistant.surfaces.web.auth import key_matches

if TYPE_CHECKING:
    from assistant.surfaces.mcp.server import ASGIApp, Receive, Scope, Send

PATH = "/mcp"


class McpEndpoint:
    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        from assistant.surfaces.mcp.server import create_mcp_server, http_app  # imports the mcp SDK

        self.server = create_mcp_server(runtime.assistant, page_size=settings.mcp_page_size)
        self.path = PATH
        self.keys = settings.api_keys
        self._app: ASGIApp = http_app(self.server, allowed_hosts=settings.mcp_allowed_hosts, path=PATH)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the host's lifespan: the SDK's session manager serves requests only inside it."""
        async with self.server.session_manager.run():
            yield

    def _authorized(self, scope: Scope) -> str | None:
        """None when the request may pass, else the reason it may not."""
        if not self.keys:
            return None
        headers = dict(scope.get("headers") or [])
        scheme, _, given = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return "missing API key"
        return None if key_matches(given.strip(), self.keys) else "invalid API key"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (reason := self._authorized(scope)):
            await _reply(
                send,
                401,
                {
                    "type": "unauthorized",
                    "message": reason,
                    "hint": "send `Authorization: Bearer <key>` with one of ASSISTANT_API_KEYS",
                },
                extra=[(b"www-authenticate", b"Bearer")],
            )
            return
        if scope["type"] == "http" and scope.get("method") == "GET":
            await _reply(
                send,
                405,
                {
                    "type": "method_not_allowed",
                    "message": "this MCP endpoint offers no server-sent event stream on GET",
                    "hint": "send JSON-RPC requests with POST (streamable HTTP)",
                },
                extra=[(b"allow", b"POST, DELETE")],
            )
            return
        await self._app(scope, receive, send)


async def _reply(send: Send, status: int, error: dict[str, str], *, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
