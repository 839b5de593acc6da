"""Shared console helpers for the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..settings import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment and assistant.toml, with command-line overrides that were given."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


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
