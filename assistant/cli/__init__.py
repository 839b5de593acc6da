"""The ``assistant`` command: thin typer commands over the core; errors become one-line fixes."""

from __future__ import annotations

import sys

import typer

from ..errors import AssistantError
from . import ask_cmd, eval_cmd, index_cmd, labels_cmd, mcp_cmd, search_cmd, serve_cmd, slack_cmd
from .output import err_console

app = typer.Typer(
    name="assistant",
    help="Find similar past incidents and draft a diagnosis that cites them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(labels_cmd.app, name="labels")
app.add_typer(index_cmd.app, name="index")
app.add_typer(eval_cmd.app, name="eval")
search_cmd.register(app)
ask_cmd.register(app)
serve_cmd.register(app)
slack_cmd.register(app)
mcp_cmd.register(app)


def main() -> None:
    try:
        app()
    except AssistantError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
