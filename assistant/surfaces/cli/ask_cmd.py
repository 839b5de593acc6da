"""``assistant ask``: a grounded diagnosis, streamed to the terminal, then the incidents it cites."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from assistant.diagnosis.results import Diagnosis
from assistant.llm.chat import check_name
from assistant.service import Assistant
from assistant.sources.query_text import clean_query
from assistant.surfaces.cli.output import console, err_console, incident_table, query_argument, settings_with


def render_details(d: Diagnosis) -> None:
    """Everything after the streamed summary: causes, checks, steps, past fixes, cited incidents."""
    if d.fallback_reason:
        err_console.print(Text(f"note: {d.fallback_reason}; answered by the extractive backend", "yellow"))
    if d.invalid_citations:
        err_console.print(
            Text(f"removed {len(d.invalid_citations)} invalid citation(s): {', '.join(d.invalid_citations)}")
        )
    if d.unsupported_citations:
        pairs = ", ".join(f"{u.incident_id} ({u.field})" for u in d.unsupported_citations)
        err_console.print(Text(f"removed {len(d.unsupported_citations)} unsupported citation(s): {pairs}"))
    for warning in d.warnings:
        err_console.print(Text(f"warning: {warning}", "yellow"))
    for c in d.commands:
        if c.risks:
            source = f" quoted from {c.incident_id}" if c.quoted else ""
            err_console.print(Text(f"flagged ({', '.join(c.risks)}){source}: {c.command}", "red"))
    sections: list[tuple[str, list[str]]] = [
        (
            "Likely causes",
            [f"{h.cause} [{', '.join(h.incident_ids)}] ({h.confidence:.2f})" for h in d.hypotheses],
        ),
        ("Evidence to check", d.evidence_to_check),
        ("Next steps", d.next_steps),
        ("What resolved similar incidents", [f"[{r.incident_id}] {r.action}" for r in d.resolutions]),
    ]
    for title, lines in sections:
        if lines:
            console.print(Text(f"\n{title}", style="bold"))
            for n, line in enumerate(lines, start=1):
                console.print(Text(f"{n:>2}. {line}"))
    cited = {m.id: m for m in d.matches}
    console.print()
    shown = [cited[c] for c in d.citations if c in cited]
    console.print(incident_table(shown, title="Cited incidents", score=False))
    verdict = d.seen_before.reason or f"seen before: {d.seen_before.verdict}"
    console.print(Text(f"{verdict} · answered by {d.backend}", style="dim"))


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        text: Annotated[str, typer.Argument(help="What you see, in your own words; - reads it from stdin.")],
        k: Annotated[
            int | None,
            typer.Option(
                "--k",
                "-k",
                min=1,
                max=20,
                help="Incidents to retrieve.",
                show_default="$ASSISTANT_DEFAULT_K or 5",
            ),
        ] = None,
        backend: Annotated[
            str | None,
            typer.Option(
                "--backend",
                help="extractive | llamacpp | openai | fake.",
                show_default="$ASSISTANT_LLM or extractive",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the Diagnosis as JSON.")] = False,
        index: Annotated[
            Path | None,
            typer.Option("--index", help="Index folder.", show_default="$ASSISTANT_INDEX_DIR or index"),
        ] = None,
    ) -> None:
        """Diagnose TEXT from similar past incidents; every cited incident was retrieved."""
        settings = settings_with(index_dir=index, llm=backend)
        text = query_argument(text)
        clean_query(text, max_chars=settings.max_query_chars)  # fail fast, before loading anything
        check_name(settings.llm)
        with err_console.status("loading index and encoder…"):
            assistant = Assistant.from_settings(settings)
        if as_json:
            print(assistant.diagnose(text, k=k).model_dump_json(indent=2))
            return
        final: Diagnosis | None = None
        with err_console.status(f"thinking ({settings.llm})…") as status:
            for part in assistant.diagnose_stream(text, k=k):
                if isinstance(part, Diagnosis):
                    final = part
                    continue
                status.stop()
                sys.stdout.write(part)
                sys.stdout.flush()
        sys.stdout.write("\n")
        if final is not None:
            render_details(final)
