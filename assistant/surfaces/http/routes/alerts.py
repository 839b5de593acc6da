"""``POST /v1/alerts/alertmanager``: Alertmanager's webhook. The firing alerts of a group become one
cleaned query (alert names, the labels that matter, summaries and descriptions) and a diagnosis; with
``ASSISTANT_ALERTS_SLACK_CHANNEL`` and a bot token set, the answer is also posted to Slack, one thread
per alert group (the sink the server passes in; see ``assistant.surfaces.server``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from assistant.diagnosis.results import Diagnosis
from assistant.live import Runtime
from assistant.settings import Settings
from assistant.sources.alerts import AlertmanagerPayload, alerts_query
from assistant.surfaces.http.answers import final_diagnosis, timed_diagnosis
from assistant.surfaces.web.auth import Authorized
from assistant.surfaces.web.errors import SEARCHES, ApiError, ErrorBody


class Posted(Protocol):
    @property
    def action(self) -> Literal["posted", "updated", "resolved", "unchanged", "nothing_to_post"]: ...
    @property
    def channel(self) -> str: ...
    @property
    def thread_ts(self) -> str | None: ...


class AlertSink(Protocol):
    """Where an answered alert group is also sent (the Slack bot's poster, when configured)."""

    def notify(self, payload: AlertmanagerPayload, diagnosis: Diagnosis | None) -> Posted: ...


SinkFactory = Callable[[Runtime], AlertSink | None]

log = logging.getLogger("assistant.surfaces.http")


class SlackDelivery(BaseModel):
    action: Literal["posted", "updated", "resolved", "unchanged", "nothing_to_post"] = Field(
        description="posted: a new thread; updated / resolved: a reply in the group's thread; "
        "unchanged: a repeat, nothing posted; nothing_to_post: resolved before it was seen firing."
    )
    channel: str
    thread_ts: str | None


class AlertAnswer(BaseModel):
    group_key: str
    status: Literal["firing", "resolved"]
    firing: int = Field(description="Firing alerts in this notification.")
    query: str | None = Field(
        description="What was searched for; null when nothing fires or the alerts hold nothing to search."
    )
    truncated: bool = Field(False, description="The alerts' text was cut to the query limits.")
    note: str | None = Field(None, description="What was cut, or why nothing was searched.")
    diagnosis: Diagnosis | None = Field(description="The answer for the firing alerts; null when resolved.")
    slack: SlackDelivery | None = Field(description="What was posted to Slack; null when Slack is off.")


def alerts_router(settings: Settings, *, sink: SinkFactory | None = None) -> APIRouter:
    """The webhook; ``sink(runtime)`` is built on the first alert and gets every answered group."""
    router = APIRouter(prefix="/v1/alerts", tags=["alerts"], dependencies=[Authorized])
    posters: list[AlertSink | None] = []

    @router.post(
        "/alertmanager",
        response_model=AlertAnswer,
        responses={**SEARCHES, 502: {"model": ErrorBody, "description": "Posting to Slack failed."}},
    )
    def alertmanager(body: AlertmanagerPayload, request: Request) -> AlertAnswer:
        """Alertmanager webhook receiver (payload version 4): a diagnosis of the group's firing alerts,
        posted to Slack once per alert group when configured."""
        runtime: Runtime = request.app.state.runtime
        assistant = runtime.assistant()
        firing = body.firing()
        built = alerts_query(
            firing, max_chars=settings.max_query_chars, max_value_chars=settings.max_input_chars
        )
        query = built.text or None
        note = f"truncated: kept {built.kept}" if built.truncated else None
        if firing and not query:
            note = "nothing to search in this alert: no alert name, and no label or text about a problem"
        diagnosis = None
        if query:
            items = timed_diagnosis(assistant, runtime.metrics, text=query, k=None, backend=None, history=[])
            diagnosis = final_diagnosis(items)
        if not posters:
            posters.append(sink(runtime) if sink else None)
        poster, slack = posters[0], None
        if poster is not None:
            try:
                posted = poster.notify(body, diagnosis)
            except Exception as exc:
                log.warning("posting alert group %s to Slack failed: %s", body.group_key, exc)
                raise ApiError(
                    502,
                    type="slack_failed",
                    message=f"posting to Slack failed: {exc}",
                    hint="check SLACK_BOT_TOKEN and that the bot is in ASSISTANT_ALERTS_SLACK_CHANNEL "
                    "(/invite @assistant); Alertmanager retries the notification",
                ) from None
            slack = SlackDelivery(action=posted.action, channel=posted.channel, thread_ts=posted.thread_ts)
        return AlertAnswer(
            group_key=body.group_key,
            status=body.status,
            firing=len(firing),
            query=query,
            truncated=built.truncated,
            note=note,
            diagnosis=diagnosis,
            slack=slack,
        )

    return router
