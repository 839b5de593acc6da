"""``assistant similar``: the most similar past incidents for a symptom, one query or a JSONL batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..core import Assistant
from ..errors import QueryError
from ..models import SimilarResult
from .output import console, err_console, incident_table, query_argument, settings_with

VERDICT_STYLE = {"yes": "bold green", "maybe": "bold yellow", "no": "bold red"}


def load_assistant(index: Path | None = None, labels: Path | None = None) -> Assistant:
    settings = settings_with(index_dir=index, labels_dir=labels)
    with err_console.status("loading index and encoder…"):
        assistant = Assistant.from_settings(settings)
    if stale := assistant.stale_files():
        err_console.print(
            f"[yellow]warning:[/] the index is stale ({len(stale)} label files changed since it was built); "
            "run `assistant index build`"
        )
    return assistant


def render_result(result: SimilarResult) -> None:
    verdict = result.seen_before
    style = VERDICT_STYLE[verdict.verdict]
    console.print(f"Seen before: [{style}]{verdict.verdict}[/] (confidence {verdict.confidence:.2f})")
    console.print(incident_table(result.matches))


def _read_batch(path: Path) -> list[tuple[str | None, str]]:
    items: list[tuple[str | None, str]] = []
    with path.open() as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                items.append((None if obj.get("id") is None else str(obj["id"]), str(obj["query"])))
            except (json.JSONDecodeError, AttributeError, KeyError):
                raise QueryError(
                    f"{path}:{number}: expected a JSON object with a `query` field",
                    hint='each line looks like {"id": "q1", "query": "checkout p99 2s"}',
                ) from None
    return items


def register(app: typer.Typer) -> None:
    @app.command()
    def similar(
        text: Annotated[
            str | None, typer.Argument(help="What you see, in your own words; - reads it from stdin.")
        ] = None,
        k: Annotated[
            int | None,
            typer.Option(
                "--k",
                "-k",
                min=1,
                max=50,
                help="How many incidents.",
                show_default="$ASSISTANT_DEFAULT_K or 5",
            ),
        ] = None,
        input_file: Annotated[
            Path | None, typer.Option("--input", help="JSONL file of {id, query} lines; one result per line.")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print JSON (one object per line with --input).")
        ] = False,
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
    ) -> None:
        """Find the past incidents most similar to TEXT."""
        if (text is None) == (input_file is None):
            raise QueryError(
                "give either TEXT or --input FILE", hint='e.g. assistant similar "pods OOMKilled"'
            )
        if text is not None:
            text = query_argument(text)
        batch = _read_batch(input_file) if input_file else [(None, text or "")]
        if not input_file:
            # fail fast on an empty query, before loading the model
            from ..core import clean_query

            clean_query(text or "", max_chars=settings_with().max_query_chars)
        assistant = load_assistant(index)
        for query_id, query in batch:
            result = assistant.similar(query, k, query_id=query_id)
            if as_json:
                print(result.model_dump_json(indent=None if input_file else 2))
            else:
                if input_file:
                    console.rule(f"{query_id or ''} {query[:80]}")
                render_result(result)
