"""``assistant serve``: the REST API, OpenAI-compatible endpoint and chat page, with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .output import err_console, settings_with


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="Interface; 0.0.0.0 for all.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
        log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve the API and the chat page (the index loads once, at start-up)."""
        import uvicorn

        from ..api import create_app

        settings = settings_with(index_dir=index)
        err_console.print(f"chat page and API on http://{host}:{port}/  (docs at /docs)", highlight=False)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            proxy_headers=True,
            # Longer than load balancers' idle timeouts (60 s on most), so the server never closes a
            # kept-alive connection just as a client reuses it (a read error on the client).
            timeout_keep_alive=75,
        )
