"""The REST app factory: ``create_api(settings, runtime)`` wires routes, middleware and error handling.

Surfaces served beside the REST API (``/mcp``, ``/slack/events``) come in as ``routers`` and ``endpoints``;
``assistant.surfaces.server.create_app`` composes them. Nothing heavy happens here or at import: the
index and encoder load in a worker thread started by the lifespan (see ``assistant.live``).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from assistant import tracing
from assistant.live import Runtime
from assistant.metrics import RequestMetrics
from assistant.settings import Settings
from assistant.surfaces.http.routes import alerts, chat, diagnose, health, history, page, search
from assistant.surfaces.web.admission import Admission
from assistant.surfaces.web.errors import install_error_handlers
from assistant.surfaces.web.limits import BodyLimit

DESCRIPTION = """Find similar past incidents and draft a diagnosis that cites them.

Send `Authorization: Bearer <key>` when the server has `ASSISTANT_API_KEYS` set.
Errors are `{"error": {"type", "message", "hint"}}`."""


class Endpoint(Protocol):
    """An ASGI app served at ``path`` inside the service's lifespan (the MCP endpoint)."""

    path: str

    def running(self) -> AbstractAsyncContextManager[None]: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


def create_api(
    settings: Settings,
    runtime: Runtime,
    *,
    routers: Sequence[APIRouter] = (),
    endpoints: Sequence[Endpoint] = (),
    alert_sink: alerts.SinkFactory | None = None,
) -> FastAPI:
    """Build the service over ``runtime``. ``routers`` are mounted after the built-in ones;
    ``alert_sink`` receives every answered Alertmanager group."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        traced = not tracing.enabled() and tracing.configure(settings)  # off without an OTLP endpoint
        # Daemon threads: /healthz answers while the model loads, and shutdown never waits on them.
        threading.Thread(target=runtime.load, name="index-loader", daemon=True).start()
        stop = threading.Event()
        threading.Thread(target=runtime.watch, args=(stop,), name="index-watcher", daemon=True).start()
        async with AsyncExitStack() as running:
            for endpoint in endpoints:
                await running.enter_async_context(endpoint.running())
            yield
        stop.set()
        if traced:
            tracing.shutdown()  # flushes the spans still batched

    app = FastAPI(
        title="incident-assistant",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)

    webhook = alerts.alerts_router(settings, sink=alert_sink)
    for router in (
        health.router,
        search.router,
        history.router,
        diagnose.router,
        chat.router,
        webhook,
        *routers,
        page.router,
    ):
        app.include_router(router)
    for endpoint in endpoints:
        app.router.add_route(endpoint.path, endpoint, include_in_schema=False)  # type: ignore[arg-type]
    app.mount("/static", page.static_files(), name="static")

    # Added innermost first: metrics see every response, including 413s, CORS refusals and 429s.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        Admission,
        limit=settings.max_in_progress,
        workers=settings.search_threads,
        metrics=runtime.metrics,
    )
    app.add_middleware(RequestMetrics, metrics=runtime.metrics)
    return app
