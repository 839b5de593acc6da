"""HTTP mode: Slack's events, commands and interactions arrive as signed POSTs at ``/slack/events``.

``slack_router`` mounts the bot on any FastAPI app (the service includes it when Slack is configured);
``create_slack_http_app`` is a FastAPI app with only the bot, for ``assistant slack`` without Socket Mode.
Signatures are checked by bolt's request verification: forged, missing or stale (over five minutes)
signatures get 401 before any listener runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from ..core import Assistant
from ..errors import AssistantError
from ..settings import Settings
from .app import create_slack_app

EVENTS_PATH = "/slack/events"


def slack_router(
    slack_app: App, *, path: str = EVENTS_PATH, bind: Callable[[Request], None] | None = None
) -> APIRouter:
    """The bot at ``path``. ``bind(request)``, if given, runs first (the service uses it to hand the
    bot its loaded Assistant)."""
    router = APIRouter(include_in_schema=False)

    @router.post(path)
    async def slack_events(request: Request) -> Response:
        if bind is not None:
            bind(request)
        body = await request.body()
        # bolt is synchronous: dispatch (verify, authorize, ack) off the event loop; listeners then
        # carry on in bolt's own thread pool after the response is sent
        bolt_response = await run_in_threadpool(slack_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    return router


def create_slack_http_app(slack_app: App, *, path: str = EVENTS_PATH) -> FastAPI:
    app = FastAPI(title="incident-assistant Slack bot", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(slack_router(slack_app, path=path))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class ServiceNotReady(AssistantError):
    """The service has not loaded its index yet (or failed to); the bot says so in Slack."""


def service_router(settings: Settings) -> APIRouter:
    """``/slack/events`` for the service (``create_app``): the bot answers with the service's own
    Assistant, reached through ``request.app.state.runtime`` once the index has loaded."""
    runtimes: list[Any] = []

    def assistant() -> Assistant:
        runtime = runtimes[0]
        status = runtime.status()
        if status.state != "ready":
            raise ServiceNotReady(status.reason or "the index is not loaded yet", hint=status.hint)
        found: Assistant = runtime.assistant()
        return found

    def bind(request: Request) -> None:
        if not runtimes:
            runtimes.append(request.app.state.runtime)

    return slack_router(create_slack_app(settings, assistant=assistant), bind=bind)
