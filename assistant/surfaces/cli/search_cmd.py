"""``assistant similar``: the most similar past incidents for a symptom, one query or a JSONL batch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from assistant.errors import QueryError
from assistant.search.results import Match, SimilarResult
from assistant.service import Assistant
from assistant.surfaces.cli.output import console, err_console, incident_table, query_argument, settings_with

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


def render(result: SimilarResult, *, as_json: bool, batch: bool) -> None:
    if as_json:
        print(result.model_dump_json(indent=None if batch else 2))
    else:
        render_result(result)


def render_result(result: SimilarResult) -> None:
    verdict = result.seen_before
    style = VERDICT_STYLE[verdict.verdict]
    console.print(f"Seen before: [{style}]{verdict.verdict}[/] (confidence {verdict.confidence:.2f})")
    if verdict.reason:
        console.print(f"  {verdict.reason}", highlight=False, markup=False, soft_wrap=False)
    if verdict.verdict == "yes" and verdict.kind:
        for o in verdict.kind.recent:  # this kind of problem, the latest times, and whether the fix held
            fix = f": fixed by {escape(o.fix)}" if o.fix else ""
            held = f" — {escape(o.outcome)}" if o.outcome else ""
            when = (o.started or "undated")[:10]
            console.print(f"  {when} {o.id}{fix}{held}", highlight=False, soft_wrap=False)
    console.print(incident_table(result.matches))
    for rank, m in enumerate(result.matches, start=1):
        if why := _why(m):
            console.print(f"  {rank}. {m.id}: {why}", highlight=False)
        if m.fix:
            held = f" — {escape(m.outcome)}" if m.outcome else ""
            console.print(f"     fixed by: {escape(m.fix)}{held}", highlight=False, soft_wrap=False)


def _why(m: Match) -> str:
    """Why a match matched: shared query words, then what in it contradicts the query."""
    same = "" if m.same_problem is None else f"same problem {m.same_problem:.0%}"
    parts = [same] if same else []
    parts += [f"shares {escape(repr(s.query))}" for s in m.reasons.shared[:2]]
    parts += [f"[red]contradicts: {escape(c)}[/]" for c in m.reasons.contradictions]
    return "; ".join(parts)


@dataclass(frozen=True)
class BatchLine:
    number: int
    query_id: str | None
    query: str | None
    """None when the line is unusable; ``problem`` says why."""
    problem: str = ""


def _read_batch(path: Path) -> list[BatchLine]:
    """Every non-blank line of a JSONL batch; a bad line is kept with its problem, not raised."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QueryError(
            f"cannot read {path}: {exc.strerror or exc}",
            hint='give a JSONL file with one {"id": "q1", "query": "checkout p99 2s"} per line',
        ) from None
    lines: list[BatchLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict) or not isinstance(obj.get("query"), str):
                raise ValueError
        except (ValueError, RecursionError):  # JSON and UTF-8 errors are ValueErrors
            problem = 'expected a JSON object with a string `query`, e.g. {"id": "q1", "query": "..."}'
            lines.append(BatchLine(number, None, None, problem))
            continue
        query_id = None if obj.get("id") is None else str(obj["id"])
        lines.append(BatchLine(number, query_id, obj["query"]))
    return lines


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
        if input_file is None:
            text = query_argument(text or "")
            # fail fast on an empty query, before loading the model
            from assistant.sources.query_text import clean_query

            clean_query(text or "", max_chars=settings_with().max_query_chars)
            render(load_assistant(index).similar(text or "", k), as_json=as_json, batch=False)
            return
        batch = _read_batch(input_file)
        assistant = load_assistant(index)
        failed = 0
        for line in batch:
            try:
                if line.query is None:
                    raise QueryError(line.problem)
                result = assistant.similar(line.query, k, query_id=line.query_id)
            except QueryError as exc:  # one bad line costs that line only
                failed += 1
                err_console.print(f"{input_file}:{line.number}: {exc}", highlight=False, markup=False)
                continue
            if not as_json:
                console.rule(f"{line.query_id or ''} {line.query[:80]}")
            render(result, as_json=as_json, batch=True)
        if failed:
            raise QueryError(
                f"{failed} of {len(batch)} lines of {input_file} were not searched",
                hint="fix the lines listed above and run them again",
            )
