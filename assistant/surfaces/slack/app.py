"""The Slack app factory: a slack-bolt ``App`` built from settings and an ``Assistant``, answering
commands, mentions, shortcuts and buttons (``handlers.py``) and assistant threads
(``assistant_threads.py``).

Nothing talks to Slack at build time (the bot's identity is looked up with ``auth.test`` on the first
request), so building the app is cheap and safe in any factory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Literal

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from assistant.corpus.taxonomy import load_taxonomy
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.surfaces.slack.answer import Answerer
from assistant.surfaces.slack.assistant_threads import register_assistant
from assistant.surfaces.slack.dedupe import EventLog
from assistant.surfaces.slack.feedback import FeedbackStore
from assistant.surfaces.slack.handlers import register
from assistant.surfaces.slack.postmortem import register_postmortem

Mode = Literal["http", "socket"]


class _QuietTokenNotice(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; it is the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("assistant.surfaces.slack.bolt")
    if not any(isinstance(f, _QuietTokenNotice) for f in logger.filters):
        logger.addFilter(_QuietTokenNotice())
    return logger


class SlackNotConfigured(AssistantError):
    """A Slack token or secret the chosen mode needs is not set."""


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


def bot_token(settings: Settings) -> str:
    if settings.slack_bot_token is None:
        raise SlackNotConfigured(
            "SLACK_BOT_TOKEN is not set", hint="set it to the bot token (xoxb-...) from the app's OAuth page"
        )
    return settings.slack_bot_token.get_secret_value()


def check_config(settings: Settings, mode: Mode) -> None:
    """Raise a one-line fix when a token or secret ``mode`` needs is missing (before any slow loading)."""
    bot_token(settings)
    if mode == "http" and settings.slack_signing_secret is None:
        raise SlackNotConfigured(
            "SLACK_SIGNING_SECRET is not set",
            hint="set it from the Slack app's Basic Information page, or use Socket Mode (--socket)",
        )
    if mode == "socket" and settings.slack_app_token is None:
        raise SlackNotConfigured(
            "SLACK_APP_TOKEN is not set",
            hint="create an app-level token with connections:write (Basic Information → App-Level Tokens)",
        )


def web_client(settings: Settings) -> WebClient:
    return WebClient(token=bot_token(settings), base_url=api_url(settings))


def create_slack_app(
    settings: Settings,
    *,
    assistant: Assistant | Callable[[], Assistant],
    mode: Mode = "http",
    client: WebClient | None = None,
    store: FeedbackStore | None = None,
    events: EventLog | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """The bot. ``assistant`` may be a callable, for hosts that load the index after building the app.

    ``mode="http"`` verifies every request's signature with ``SLACK_SIGNING_SECRET``; Socket Mode
    requests arrive over the authenticated websocket and need no secret.
    """
    check_config(settings, mode)
    client = client or web_client(settings)
    secret = settings.slack_signing_secret
    app = App(
        name="incident-assistant",
        logger=bolt_logger(),
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        request_verification_enabled=mode == "http",
        token_verification_enabled=False,
        listener_executor=listener_executor,
    )
    provider: Callable[[], Assistant] = (lambda: assistant) if isinstance(assistant, Assistant) else assistant
    answerer = Answerer(assistant=provider, store=store or FeedbackStore.in_dir(settings.data_dir))
    # before ``register``'s mention listener, which would answer "@assistant postmortem" as a question
    register_postmortem(
        app,
        assistant=provider,
        folder=settings.drafts_dir or settings.data_dir / "drafts",
        taxonomy=load_taxonomy(settings.labels_dir)[0],
        public_url=settings.public_url,
    )
    register(
        app,
        answerer=answerer,
        events=events or EventLog.in_dir(settings.data_dir),
        visibility=settings.slack_command_visibility,
        public_url=settings.public_url,
    )
    # after ``register``'s retry filter, so a retried assistant event is dropped before it is answered
    register_assistant(app, answerer=answerer, public_url=settings.public_url)
    return app
