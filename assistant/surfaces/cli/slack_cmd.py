"""``assistant slack``: run the Slack bot, in Socket Mode or as an HTTP endpoint of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError
from assistant.surfaces.cli.output import err_console, settings_with


def register(app: typer.Typer) -> None:
    @app.command()
    def slack(
        socket: Annotated[
            bool, typer.Option("--socket", help="Socket Mode: connect out to Slack; no public URL needed.")
        ] = False,
        host: Annotated[str, typer.Option(help="HTTP mode: interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="HTTP mode: port.")] = 3000,
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
    ) -> None:
        """Run the Slack bot (/seen, @mentions, the “Seen this before?” shortcut).

        Without --socket: POST /slack/events on HOST:PORT (`assistant serve` mounts it too).
        """
        from assistant.surfaces.slack import require_slack

        require_slack()
        from assistant.surfaces.cli.search_cmd import load_assistant
        from assistant.surfaces.slack.app import check_config, create_slack_app

        settings = settings_with(index_dir=index)
        check_config(settings, "socket" if socket else "http")  # before the slow index and model load
        slack_app = create_slack_app(
            settings, assistant=load_assistant(index), mode="socket" if socket else "http"
        )
        if socket:
            from slack_sdk.errors import SlackClientError

            from assistant.surfaces.slack.socket_mode import socket_mode_handler

            handler = socket_mode_handler(settings, slack_app)
            err_console.print("Slack bot connecting in Socket Mode; Ctrl-C to stop.")
            try:
                handler.start()  # type: ignore[no-untyped-call]
            except (OSError, SlackClientError) as exc:
                raise AssistantError(
                    f"could not connect to Slack in Socket Mode: {type(exc).__name__}: {exc}",
                    hint="check the network to slack.com (or ASSISTANT_SLACK_API_URL) and SLACK_APP_TOKEN",
                ) from None
        else:
            import uvicorn

            from assistant.surfaces.slack.http import EVENTS_PATH, create_slack_http_app

            err_console.print(f"Slack bot listening on http://{host}:{port}{EVENTS_PATH}; Ctrl-C to stop.")
            uvicorn.run(
                create_slack_http_app(slack_app, settings=settings), host=host, port=port, log_level="warning"
            )
