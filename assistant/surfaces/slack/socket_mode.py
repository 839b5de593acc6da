"""Socket Mode: the bot opens a websocket to Slack, so it needs no public URL (only an app token)."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from assistant.settings import Settings
from assistant.surfaces.slack.app import check_config


def socket_mode_handler(settings: Settings, slack_app: App) -> SocketModeHandler:
    """A handler for ``slack_app``; ``.start()`` blocks serving, ``.connect()`` returns at once."""
    check_config(settings, "socket")
    token = settings.slack_app_token
    assert token is not None
    # the app's WebClient (and so ``slack_api_url``) also opens the connection
    return SocketModeHandler(slack_app, token.get_secret_value(), web_client=slack_app.client)
