"""The earlier messages of a Slack thread, as context for a question asked in it."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.sources.slack_markup import message_text, to_plain

log = logging.getLogger(__name__)
MAX_MESSAGES = 30
MAX_PAGES = 5


def is_own(message: dict[str, Any], *, bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        (bot_user_id and message.get("user") == bot_user_id) or (bot_id and message.get("bot_id") == bot_id)
    )


def thread_messages(
    client: WebClient, *, channel: str, thread_ts: str, before_ts: str | None = None
) -> list[dict[str, Any]]:
    """The thread's messages as Slack returns them (before ``before_ts`` when given), oldest first.

    A thread the bot cannot read (missing scope, not a member) gives no messages, not an error.
    """
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for _ in range(MAX_PAGES):
            page = client.conversations_replies(
                channel=channel, ts=thread_ts, latest=before_ts, inclusive=False, limit=200, cursor=cursor
            )
            messages += page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning("cannot read thread %s in %s: %s", thread_ts, channel, exc.response.get("error"))
        return []
    ordered = sorted(messages, key=lambda m: float(m.get("ts") or 0))
    return [m for m in ordered if before_ts is None or float(m.get("ts") or 0) < float(before_ts)]


def thread_history(
    client: WebClient,
    *,
    channel: str,
    thread_ts: str,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
) -> list[str]:
    """Plain text of the thread's messages before ``before_ts``, oldest first, our own answers left out.

    Other bots' messages stay in: an alert bot's post is often the best description of the problem.
    """
    out: list[str] = []
    for message in thread_messages(client, channel=channel, thread_ts=thread_ts, before_ts=before_ts):
        if is_own(message, bot_user_id=bot_user_id, bot_id=bot_id):
            continue
        text = to_plain(message_text(message), bot_user_id=bot_user_id)
        if text:
            out.append(text)
    return out[-MAX_MESSAGES:]
