"""Shared console helpers for the CLI."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from assistant.search.results import Match
from assistant.settings import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment and assistant.toml, with command-line overrides that were given."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def query_argument(text: str) -> str:
    """A query from the command line: ``-`` reads it from standard input (the service cleans pasted alert
    text of its boilerplate, as on every surface)."""
    return sys.stdin.read() if text == "-" else text


def incident_table(matches: Sequence[Match], *, title: str | None = None, score: bool = True) -> Table:
    """Matches as a table that reads at 80 columns: the id, then the title with its category / subtype
    on a dim line under it (the only column that wraps), then the numbers."""
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, expand=False)
    table.add_column("incident", no_wrap=True)
    table.add_column("title · category / subtype", ratio=1, overflow="fold")
    if score:
        table.add_column("score", justify="right", no_wrap=True)
    table.add_column("sim", justify="right", no_wrap=True)
    for m in matches:
        described = Text(m.title)
        if m.draft:
            described.append(" (draft: unreviewed)", style="yellow")
        described.append(f"\n{m.category or '-'} / {m.subtype or '-'}", style="dim")
        numbers = [f"{m.score:.2f}"] if score else []
        table.add_row(m.id, described, *numbers, f"{m.similarity:.2f}")
    return table


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colour codes), for scripts."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``update(done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def display_path(path: Path | str) -> str:
    return str(path)
