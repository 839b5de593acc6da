"""``assistant history``: the kinds of problem that keep happening, from the labels' timestamps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assistant.search.results import History
from assistant.surfaces.cli.output import console
from assistant.surfaces.cli.search_cmd import load_assistant


def register(app: typer.Typer) -> None:
    @app.command()
    def history(
        days: Annotated[int, typer.Option("--days", min=1, help="How many days back to look.")] = 90,
        min_count: Annotated[
            int, typer.Option("--min", min=1, help="Incidents in the window a kind needs to be listed.")
        ] = 2,
        until: Annotated[
            datetime | None,
            typer.Option("--until", help="End of the window (default: now).", formats=["%Y-%m-%d"]),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
    ) -> None:
        """Recurring problems: each kind with at least --min incidents in the window (labels, and answers
        about it marked "This helped" in Slack), most frequent first, with when each happened, what fixed
        it and whether that held."""
        result = load_assistant(index).history(days=days, min_count=min_count, until=until)
        if as_json:
            print(result.model_dump_json(indent=2))
        else:
            render_history(result)


def render_history(result: History) -> None:
    window = f"{result.since[:10]} to {result.until[:10]}"
    if not result.families:
        console.print(
            f"No kind of problem happened {result.min_count} times or more from {window}; "
            "try a longer window (--days) or --min 1.",
            highlight=False,
        )
        return
    table = Table(title=f"Recurring problems, {window}", title_justify="left")
    for column in ("kind", "incidents", "of all", "confirmed", "first", "last"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for f in result.families:
        kind = f"{f.category or '-'} / {f.subtype}"
        last = max(f.last or "", f.last_confirmed or "")[:10]
        table.add_row(kind, str(f.incidents), str(f.total), str(f.confirmed), (f.first or "")[:10], last)
    console.print(table)
    for f in result.families:
        console.print(f"{f.subtype.replace('_', ' ')}:", highlight=False)
        for o in f.occurrences:
            fix = f" — fixed by: {escape(o.fix)}" if o.fix else ""
            held = f" ({escape(o.outcome)})" if o.outcome else ""
            console.print(
                f"  {(o.started or '')[:10]} {o.id}: {escape(o.title)}{fix}{held}",
                highlight=False,
                soft_wrap=False,
            )
