"""Slack's AI-assistant threads (the app's assistant panel), through slack-bolt's ``Assistant`` middleware.

- ``assistant_thread_started``: a short greeting and suggested prompts. The greeting is sent with bolt's
  ``say``, which stores the thread's context (the channel the user is viewing) in its metadata;
  ``assistant_thread_context_changed`` is left to bolt's default listener, which updates that metadata.
- A user's message in the thread: the status "searching past incidents…" while the core searches, then
  the same answer a mention gets (seen-before verdict, diagnosis, similar incidents, buttons), with the
  diagnosis streamed into the reply as the backend writes it (``reply.ThreadReply``). The thread's
  earlier messages are part of the question, as in a channel thread.
- The suggested prompt about recurring problems is answered from ``Assistant.history``; the bare
  "Seen this before?" prompt, with nothing to search for yet, asks for the alert.

Bots' messages are not answered (bolt drops the bot's own; other bots' are acknowledged and ignored).
A direct message outside an assistant thread is not this module's: ``handlers.py`` answers it like a
mention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, Say, SetStatus, SetSuggestedPrompts
from slack_bolt import Assistant as BoltAssistant
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.errors import AssistantError
from assistant.sources.slack_markup import message_text, to_plain
from assistant.surfaces.slack.answer import Answer, Answerer
from assistant.surfaces.slack.blocks import answer_message, history_message, notice, section
from assistant.surfaces.slack.handlers import error_text
from assistant.surfaces.slack.reply import ThreadReply
from assistant.surfaces.slack.text import escape
from assistant.surfaces.slack.thread import thread_history

log = logging.getLogger(__name__)

GREETING = (
    "Hi! Paste an alert or describe what you see, and I will tell you whether we have seen it before, "
    "what caused it and what fixed it."
)
STATUS = "searching past incidents…"
PROMPTS_TITLE = "Try one of these:"
SEEN = {"title": "Seen this before? Paste an alert", "message": "Seen this before?"}
RECURRING = {"title": "What keeps recurring?", "message": "Which problems keep recurring this month?"}
PROMPTS = [
    SEEN,
    {"title": "The last DNS outage", "message": "What fixed the last DNS outage?"},
    RECURRING,
    {"title": "An example", "message": "checkout p99 tripled after the deploy, pods restarting OOMKilled"},
]
RECURRING_DAYS = 30
""""This month": the window of the recurring-problems answer."""
ASK_FOR_ALERT = (
    "Paste the alert, or describe the symptoms (what is slow or failing, since when, what changed), "
    "and I will look for it in our past incidents."
)


def normalized(text: str) -> str:
    """Text compared with the prompts: lower case, single spaces, no closing punctuation."""
    return " ".join(text.lower().split()).rstrip("?!. ")


def is_prompt(text: str, prompt: dict[str, str]) -> bool:
    return normalized(text) == normalized(prompt["message"])


def register_assistant(app: App, *, answerer: Answerer, public_url: str | None) -> None:
    """bolt's ``Assistant`` middleware with this bot's listeners. Other bots' messages in a thread are
    acknowledged and ignored (unhandled, bolt would answer them 404 and Slack would retry)."""
    threads = AssistantThreads(answerer=answerer, public_url=public_url)
    middleware = BoltAssistant(logger=app.logger)
    middleware.thread_started(threads.on_thread_started)
    middleware.user_message(threads.on_user_message)
    middleware.bot_message(_ignore)
    app.assistant(middleware)


def _ignore() -> None:
    """Nothing to do: the event is acknowledged, and that is all."""


@dataclass(frozen=True)
class AssistantThreads:
    """The assistant-thread listeners; bolt passes each the arguments its parameters name."""

    answerer: Answerer
    public_url: str | None

    def on_thread_started(
        self, payload: dict[str, Any], say: Say, set_suggested_prompts: SetSuggestedPrompts | None
    ) -> None:
        thread = payload.get("assistant_thread")
        known = isinstance(thread, dict) and thread.get("channel_id") and thread.get("thread_ts")
        if not known or set_suggested_prompts is None:  # Socket Mode events skip http.py's shape check
            log.warning("ignoring an assistant_thread_started event without a channel and thread")
            return
        say(text=GREETING, blocks=[section(escape(GREETING))])
        set_suggested_prompts(prompts=PROMPTS, title=PROMPTS_TITLE)

    def on_user_message(
        self,
        payload: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        set_status: SetStatus | None,
    ) -> None:
        channel, thread_ts = payload.get("channel"), payload.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)) or set_status is None:
            log.warning("ignoring an assistant thread message without a channel and thread")
            return
        question = to_plain(message_text(payload), bot_user_id=context.bot_user_id)
        if is_prompt(question, RECURRING):
            self._recurring(client, channel=channel, thread_ts=thread_ts)
            return
        if is_prompt(question, SEEN):
            question = ""
        before = payload.get("ts")
        history = self._history(client, context, channel=channel, thread_ts=thread_ts, before=before)
        if not question and not history:
            _post(client, channel=channel, thread_ts=thread_ts, message=notice(ASK_FOR_ALERT))
            return
        _show_status(set_status, STATUS)
        reply = ThreadReply(
            client, channel=channel, thread_ts=thread_ts, user=context.user_id, team=context.team_id
        )
        try:
            self._answer(reply, question, history)
        except Exception:
            _show_status(set_status, "")  # Slack clears the status on a reply; none was posted
            raise

    def _answer(self, reply: ThreadReply, question: str, history: list[str]) -> None:
        """Stream the diagnosis into ``reply``, then end it with the answer's blocks (or the error)."""
        answer: Answer | None = None
        try:
            for part in self.answerer.answer_stream(question, history=history):
                if isinstance(part, Answer):
                    answer = part
                else:
                    reply.add(part)
        except SlackApiError:
            raise
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("answering %r failed", question[:200])
            text, blocks = notice(error_text(exc))
            reply.finish(text, blocks, streamed_blocks=blocks)
            return
        assert answer is not None, "answer_stream ends with an Answer"
        text, blocks = answer_message(answer, public_url=self.public_url)
        _, below = answer_message(answer, public_url=self.public_url, with_summary=False)
        reply.finish(text, blocks, streamed_blocks=below)

    def _recurring(self, client: WebClient, *, channel: str, thread_ts: str) -> None:
        try:
            message = history_message(self.answerer.recurring(days=RECURRING_DAYS), days=RECURRING_DAYS)
        except AssistantError as exc:
            message = notice(error_text(exc))
        _post(client, channel=channel, thread_ts=thread_ts, message=message)

    @staticmethod
    def _history(
        client: WebClient, context: BoltContext, *, channel: str, thread_ts: str, before: Any
    ) -> list[str]:
        """The thread's earlier messages, without our own and without bare suggested prompts."""
        if not isinstance(before, str) or before == thread_ts:
            return []
        earlier = thread_history(
            client,
            channel=channel,
            thread_ts=thread_ts,
            before_ts=before,
            bot_user_id=context.bot_user_id,
            bot_id=context.bot_id,
        )
        return [m for m in earlier if not any(is_prompt(m, p) for p in PROMPTS)]


def _show_status(set_status: SetStatus, status: str) -> None:
    """Set (or, with "", clear) the thread's status; a status Slack refuses is not worth failing for."""
    try:
        set_status(status=status)
    except SlackApiError as exc:
        log.warning("could not set the assistant status: %s", exc.response.get("error"))


def _post(
    client: WebClient, *, channel: str, thread_ts: str, message: tuple[str, list[dict[str, Any]]]
) -> None:
    text, blocks = message
    client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False
    )
