"""``assistant mcp``: the MCP server over stdio, for desktop assistants and agents that start it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from assistant.surfaces.cli.output import err_console, settings_with


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
    ) -> None:
        """Serve MCP over stdio: tools (find_similar_incidents, get_incident, diagnose), past incidents
        as incident://<id> resources, and the triage and postmortem-draft prompts."""
        from assistant.search.encoders import set_torch_threads
        from assistant.service import Assistant
        from assistant.surfaces.mcp.server import create_mcp_server

        settings = settings_with(index_dir=index)
        loaded: list[Assistant] = []
        lock = threading.Lock()

        def assistant() -> Assistant:
            # Loaded on the first tool call, so the client's handshake never waits for the model.
            with lock:
                if not loaded:
                    loaded.append(Assistant.from_settings(settings))
                    set_torch_threads(1)
                return loaded[0]

        err_console.print(
            "MCP server on stdio (tools: find_similar_incidents, get_incident, diagnose; "
            "resources: incident://<id>; prompts: triage, postmortem-draft)"
        )
        create_mcp_server(assistant, page_size=settings.mcp_page_size).run("stdio")
