"""The ``assistant`` command: thin typer commands over the core; errors become one-line fixes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from assistant.errors import AssistantError
from assistant.surfaces.cli import (
    ask_cmd,
    eval_cmd,
    history_cmd,
    index_cmd,
    labels_cmd,
    mcp_cmd,
    search_cmd,
    serve_cmd,
    slack_cmd,
)
from assistant.surfaces.cli.output import err_console

app = typer.Typer(
    name="assistant",
    help="Find similar past incidents and draft a diagnosis that cites them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"incident-assistant {version('incident-assistant')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find similar past incidents and draft a diagnosis that cites them."""


app.add_typer(labels_cmd.app, name="labels")
app.add_typer(index_cmd.app, name="index")
app.add_typer(eval_cmd.app, name="eval")
search_cmd.register(app)
ask_cmd.register(app)
history_cmd.register(app)
serve_cmd.register(app)
slack_cmd.register(app)
mcp_cmd.register(app)


def main() -> None:
    try:
        app(prog_name="assistant")
    except AssistantError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)  # keeps `[llamacpp]`
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
