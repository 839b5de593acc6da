"""The service as one process: the REST API and chat page, ``/mcp``, and, when Slack is configured,
``/slack/events`` and the alert poster — every surface served over the one loaded index.

This is the only module that knows more than one surface; each surface below it knows none of the others.
Features are imported lazily behind the settings that enable them, so a missing optional extra never
breaks start-up of the API.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from assistant.live import Runtime
from assistant.metrics import Metrics
from assistant.settings import Settings
from assistant.surfaces.http.app import create_api
from assistant.surfaces.http.routes.alerts import AlertSink
from assistant.surfaces.mcp.endpoint import McpEndpoint


def create_app(settings: Settings | None = None, *, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the service. ``routers`` are mounted after the built-in ones, for features that live
    outside this package."""
    settings = settings or Settings()
    runtime = Runtime(settings, metrics=Metrics())
    return create_api(
        settings,
        runtime,
        routers=[*slack_routers(settings), *routers],
        endpoints=[McpEndpoint(settings, runtime)],
        alert_sink=slack_alert_sink,
    )


def slack_routers(settings: Settings) -> list[APIRouter]:
    """``/slack/events`` when a bot token and signing secret are set (needs the slack extra)."""
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        return []
    from assistant.surfaces.slack import require_slack

    require_slack()
    from assistant.surfaces.slack.http import service_router

    return [service_router(settings)]


def slack_alert_sink(runtime: Runtime) -> AlertSink | None:
    """The Slack poster when a channel and a bot token are configured (needs the slack extra)."""
    settings = runtime.settings
    if not settings.alerts_slack_channel or settings.slack_bot_token is None:
        return None
    from assistant.surfaces.slack import require_slack

    require_slack()
    from assistant.surfaces.slack.alerts import AlertPoster, AlertThreads
    from assistant.surfaces.slack.answer import Answerer
    from assistant.surfaces.slack.app import web_client
    from assistant.surfaces.slack.feedback import FeedbackStore

    return AlertPoster(
        client=web_client(settings),
        channel=settings.alerts_slack_channel,
        answerer=Answerer(assistant=runtime.assistant, store=FeedbackStore.in_dir(settings.data_dir)),
        threads=AlertThreads.in_dir(settings.data_dir),
        public_url=settings.public_url,
    )
