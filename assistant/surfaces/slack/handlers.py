"""Slack listeners: thin adapters from events, commands, shortcuts and button clicks to the answerer.

- ``/seen <symptoms>``: acknowledged at once, then answered in the channel (or only to the asker).
- ``@assistant <symptoms>`` and the message shortcut "Seen this before?": answered in the message's
  thread; in a thread, its earlier messages are part of the query.
- A direct message to the bot outside an assistant thread: answered in its thread, like a mention
  (assistant threads are ``assistant_threads.py``'s). Other message events are acknowledged, ignored.
- "This helped" / "Not it": stored in the feedback store.

Bot messages and the bot's own messages are never answered; Slack's retries of an event already seen
are dropped before any listener runs. Domain errors become a one-line Slack message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.errors import AssistantError, QueryError
from assistant.sources.slack_markup import message_text, to_plain
from assistant.surfaces.slack.answer import Answer, Answerer
from assistant.surfaces.slack.blocks import HELPED, NOT_IT, answer_message, notice
from assistant.surfaces.slack.dedupe import EventLog
from assistant.surfaces.slack.feedback import Vote
from assistant.surfaces.slack.text import clip, escape
from assistant.surfaces.slack.thread import is_own, thread_history

log = logging.getLogger(__name__)

COMMAND = "/seen"
SHORTCUT = "seen_before"
USAGE = (
    "Describe what you see and I will look for it in our incident history, e.g. "
    "`/seen checkout p99 went from 150 ms to 2.5 s after the deploy, pods OOMKilled` — "
    "or mention me in a thread, or use the “Seen this before?” shortcut on a message."
)
FAILED = "Something went wrong on my side while answering; the bot's log has the details."
NOT_MEMBER = "I cannot post in this channel's threads until I am invited: `/invite @assistant`. Meanwhile:"


def error_text(exc: Exception) -> str:
    if isinstance(exc, QueryError):
        return f"{exc}. {USAGE}"
    if isinstance(exc, AssistantError):
        return f"Sorry, I cannot answer right now: {exc}"
    return FAILED


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes one delivery unique: an event's ``event_id``; a command's, shortcut's or button
    click's ``trigger_id`` (Slack makes a new one each time a person acts)."""
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        return f"event:{event_id}" if isinstance(event_id, str) and event_id else None
    trigger_id = body.get("trigger_id")
    return f"trigger:{trigger_id}" if isinstance(trigger_id, str) and trigger_id else None


def dedupe_retries(events: EventLog) -> Callable[..., BoltResponse | None]:
    """Global middleware: a delivery seen before (Slack's retry of an event, or a signed request
    replayed within the five minutes its signature is valid) is acknowledged and dropped."""

    def middleware(body: dict[str, Any], req: Any, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = delivery_key(body)
        if key and not events.first_time(key):
            retry = (req.headers.get("x-slack-retry-num") or ["?"])[0] if req is not None else "?"
            log.info("dropping repeat delivery of %s (retry %s)", key, retry)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def register(
    app: App, *, answerer: Answerer, events: EventLog, visibility: str, public_url: str | None
) -> None:
    app.use(dedupe_retries(events))
    listeners = Listeners(answerer=answerer, visibility=visibility, public_url=public_url)
    app.command(COMMAND)(listeners.on_seen)
    app.event("app_mention")(listeners.on_mention)
    app.event("message")(listeners.on_message)
    app.shortcut(SHORTCUT)(listeners.on_shortcut)
    app.action(HELPED)(listeners.on_vote)
    app.action(NOT_IT)(listeners.on_vote)


@dataclass(frozen=True)
class Listeners:
    """The listeners ``register`` adds; bolt passes each the arguments its parameters name."""

    answerer: Answerer
    visibility: str
    """``response_type`` of a ``/seen`` answer: ``in_channel`` or ``ephemeral``."""
    public_url: str | None

    def answer_or_error(
        self, question: str, history: list[str]
    ) -> tuple[Answer | None, str, list[dict[str, Any]]]:
        try:
            answer = self.answerer.answer(question, history=history)
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("answering %r failed", question[:200])
            text, blocks = notice(error_text(exc))
            return None, text, blocks
        text, blocks = answer_message(answer, public_url=self.public_url)
        return answer, text, blocks

    def on_seen(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        question = to_plain(command.get("text") or "")
        if not question:
            ack(text=USAGE, response_type="ephemeral")
            return
        ack(text=f"Looking for “{clip(escape(question), 150)}” in past incidents…", response_type="ephemeral")
        answer, text, blocks = self.answer_or_error(question, [])
        respond(
            text=text,
            blocks=blocks,
            response_type=self.visibility if answer else "ephemeral",
            replace_original=False,
            unfurl_links=False,
        )

    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("bot_id") or event.get("subtype") == "bot_message":
            return  # never answer bots (our own messages are dropped by bolt before this)
        channel, ts = event["channel"], event["ts"]
        parent = event.get("thread_ts")
        question = to_plain(event.get("text") or "", bot_user_id=context.bot_user_id)
        history = _history(client, context, channel=channel, parent=parent, before=ts)
        _, text, blocks = self.answer_or_error(question, history)
        client.chat_postMessage(
            channel=channel, thread_ts=parent or ts, text=text, blocks=blocks, unfurl_links=False
        )

    def on_message(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """A person's direct message (``message.im``) is a question; edits, deletions and any other
        message event are only acknowledged (unhandled, bolt would answer 404 and Slack retry)."""
        if event.get("channel_type") != "im" or event.get("subtype") not in (None, "file_share"):
            return
        self.on_mention(event, context, client)

    def on_shortcut(
        self, ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        ack()
        target = shortcut_target(shortcut, respond, name="Seen this before?")
        if target is None:
            return
        channel, message = target
        if is_own(message, bot_user_id=context.bot_user_id, bot_id=context.bot_id):
            respond(
                text="That is one of my own answers; ask about the original message.",
                response_type="ephemeral",
            )
            return
        ts, parent = message["ts"], message.get("thread_ts")
        question = to_plain(message_text(message), bot_user_id=context.bot_user_id)
        history = _history(client, context, channel=channel, parent=parent, before=ts)
        if not question and not history:
            respond(text="That message has no text I can search for.", response_type="ephemeral")
            return
        _, text, blocks = self.answer_or_error(question, history)
        try:
            client.chat_postMessage(
                channel=channel, thread_ts=parent or ts, text=text, blocks=blocks, unfurl_links=False
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_in_channel", "channel_not_found"):
                raise
            _, hint_blocks = notice(NOT_MEMBER)
            respond(text=text, blocks=hint_blocks + blocks, response_type="ephemeral", replace_original=False)

    def on_vote(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        vote: Vote = "up" if action.get("action_id") == HELPED else "down"
        user = (body.get("user") or {}).get("id") or "unknown"
        stored = self.answerer.store.vote(answer_id=str(action.get("value") or ""), user=user, vote=vote)
        if stored is None:
            reply = "I no longer have that answer on record, so the vote was not stored."
        elif vote == "up":
            reply = "Thanks, noted that this helped."
        else:
            reply = "Thanks, noted that it was not it. A label for this incident would teach me next time."
        respond(text=reply, response_type="ephemeral", replace_original=False)


def shortcut_target(
    shortcut: dict[str, Any], respond: Respond, *, name: str
) -> tuple[str, dict[str, Any]] | None:
    """The channel and message a message shortcut was used on; None (and a hint to the user) when the
    payload has neither, as when the shortcut is run from somewhere other than a message's menu."""
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id")
    if not channel or not message.get("ts"):
        respond(text=f"Use “{name}” from a message's menu.", response_type="ephemeral")
        return None
    return str(channel), message


def _history(
    client: WebClient, context: BoltContext, *, channel: str, parent: str | None, before: str
) -> list[str]:
    """Earlier messages of the thread ``before`` is in; none for a message that starts no thread."""
    if not parent or parent == before:
        return []
    return thread_history(
        client,
        channel=channel,
        thread_ts=parent,
        before_ts=before,
        bot_user_id=context.bot_user_id,
        bot_id=context.bot_id,
    )
