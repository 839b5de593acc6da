"""The app factory: ``create_app(settings)`` wires routes, middleware and error handling.

Nothing heavy happens here or at import: the index and encoder load in a worker thread started by
the lifespan (see runtime.py).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ..settings import Settings
from .errors import install_error_handlers
from .limits import BodyLimit
from .mcp_endpoint import PATH as MCP_PATH
from .mcp_endpoint import McpEndpoint
from .metrics import Metrics, RequestMetrics
from .optional import optional_routers
from .routes import alerts, chat, diagnose, health, page, search
from .runtime import Runtime

DESCRIPTION = """Find similar past incidents and draft a diagnosis that cites them.

Send `Authorization: Bearer <key>` when the server has `ASSISTANT_API_KEYS` set.
Errors are `{"error": {"type", "message", "hint"}}`."""


def create_app(settings: Settings | None = None, *, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the service. ``routers`` are mounted after the built-in ones (and after
    ``optional_routers(settings)``), for features that live outside this package."""
    settings = settings or Settings()
    runtime = Runtime(settings, metrics=Metrics())
    mcp = McpEndpoint(settings, runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A daemon thread: /healthz answers while the model loads, and shutdown never waits on it.
        threading.Thread(target=runtime.load, name="index-loader", daemon=True).start()
        async with mcp.running():
            yield

    app = FastAPI(
        title="incident-assistant",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)

    builtin = (health.router, search.router, diagnose.router, chat.router, alerts.alerts_router(settings))
    for router in (*builtin, *optional_routers(settings), *routers, page.router):
        app.include_router(router)
    app.router.add_route(MCP_PATH, mcp, include_in_schema=False)  # type: ignore[arg-type]
    app.mount("/static", page.static_files(), name="static")

    # Added innermost first: metrics see every response, including 413s and CORS refusals.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(RequestMetrics, metrics=runtime.metrics)
    return app
