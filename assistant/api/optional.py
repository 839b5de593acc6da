"""Routers mounted only when their feature is configured (e.g. the Slack bot's ``/slack/events``).

Add one by importing its module lazily inside ``optional_routers`` behind the setting that enables it,
so a missing optional extra never breaks start-up of the API. Handlers reach the loaded Assistant
through ``request.app.state.runtime.assistant()`` (503 with a reason until the index is loaded).
"""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import Settings


def optional_routers(settings: Settings) -> list[APIRouter]:
    routers: list[APIRouter] = []
    if settings.slack_bot_token is not None and settings.slack_signing_secret is not None:
        from ..slack import require_slack

        require_slack()
        from ..slack.http import service_router

        routers.append(service_router(settings))
    return routers
