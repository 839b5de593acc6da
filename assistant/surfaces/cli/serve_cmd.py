"""``assistant serve``: the REST API, OpenAI-compatible endpoint and chat page, with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from assistant.surfaces.cli.output import err_console, settings_with


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
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers", min=1, help="Server processes.", show_default="$ASSISTANT_SERVE_WORKERS or 1"
            ),
        ] = None,
    ) -> None:
        """Serve the API and the chat page (a new index build is picked up without a restart)."""
        import uvicorn

        from assistant.surfaces.server import create_app

        settings = settings_with(index_dir=index)
        workers = workers or settings.serve_workers
        err_console.print(f"chat page and API on http://{host}:{port}/  (docs at /docs)", highlight=False)
        if workers > 1:  # each worker process makes its app from the environment
            os.environ["ASSISTANT_INDEX_DIR"] = str(settings.index_dir)
        uvicorn.run(
            create_app(settings) if workers == 1 else "assistant.surfaces.server:create_app",
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            proxy_headers=True,
            # Longer than load balancers' idle timeouts (60 s on most), so the server never closes a
            # kept-alive connection just as a client reuses it (a read error on the client).
            timeout_keep_alive=75,
        )
