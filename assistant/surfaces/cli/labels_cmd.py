"""``assistant labels``: validate, stats, new, schema, taxonomy (import and export: labels_import_cmd)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assistant.corpus.labels import label_schema
from assistant.corpus.loading import LabelSet, iter_taxonomy_counts, load_labels
from assistant.corpus.taxonomy import load_taxonomy
from assistant.surfaces.cli import labels_import_cmd
from assistant.surfaces.cli.output import console, err_console, print_json, settings_with

app = typer.Typer(help="Check, count, create, import and export incident labels.", no_args_is_help=True)

PathArg = Annotated[Path | None, typer.Argument(help="A label file or folder (default: the labels folder).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _load(path: Path | None) -> tuple[Path, LabelSet]:
    """Labels under ``path`` (default: the labels folder), checked against the labels folder's taxonomy."""
    settings = settings_with()
    labels_dir = settings.labels_dir
    root = path or labels_dir
    if root.is_dir():
        return root, load_labels(root, max_bytes=settings.max_label_bytes)
    taxonomy, problems = load_taxonomy(labels_dir)
    result = load_labels(root, taxonomy=taxonomy, max_bytes=settings.max_label_bytes)
    result.problems[:0] = problems
    return root, result


@app.command()
def validate(path: PathArg = None, as_json: JsonOpt = False) -> None:
    """Report every problem in every label as `file: json.path: message`; exit 1 if any."""
    _, result = _load(path)
    drafts = len(result.drafts)
    if as_json:
        print_json(
            {
                "files": result.files,
                "valid": len(result.labels),
                "drafts": drafts,
                "problems": [{"file": p.file, "path": p.path, "message": p.message} for p in result.problems],
            }
        )
    else:
        for problem in result.problems:
            console.print(str(problem), highlight=False, markup=False)
        bad = len({p.file for p in result.problems})
        colour = "red" if result.problems else "green"
        waiting = (
            f" ({drafts} draft{'s' if drafts != 1 else ''}: not indexed until reviewed)" if drafts else ""
        )
        err_console.print(
            f"[{colour}]{result.files} files: {len(result.labels)} valid{waiting}, {bad} with problems "
            f"({len(result.problems)} problems)[/]"
        )
    if result.problems:
        raise typer.Exit(1)


@app.command()
def stats(path: PathArg = None, as_json: JsonOpt = False) -> None:
    """Count labels by category and subtype."""
    root, result = _load(path)
    rows = list(iter_taxonomy_counts(result.labels, result.taxonomy))
    drafts = len(result.drafts)
    if as_json:
        print_json(
            {
                "labels": len(result.labels),
                "drafts": drafts,
                "invalid_files": len({p.file for p in result.problems}),
                "counts": [{"category": c, "subtype": s, "labels": n} for c, s, n in rows],
            }
        )
        return
    waiting = f", {drafts} of them drafts" if drafts else ""
    table = Table(title=f"{len(result.labels)} labels in {root}{waiting}")
    table.add_column("category")
    table.add_column("subtype")
    table.add_column("labels", justify="right")
    previous = None
    for category, subtype, n in rows:
        table.add_row(
            category if category != previous else "", subtype, str(n), style="red" if n == 0 else None
        )
        previous = category
    console.print(table)
    if result.problems:
        unknown = sum("unknown subtype" in p.message for p in result.problems)
        extra = f" ({unknown} with an unknown subtype, not counted above)" if unknown else ""
        err_console.print(
            f"[yellow]{len(result.problems)} problems{extra}; see `assistant labels validate`[/]"
        )


@app.command()
def taxonomy(as_json: JsonOpt = False) -> None:
    """List categories and subtypes: the built-in ones and those added by labels/taxonomy.toml."""
    tax, problems = load_taxonomy(settings_with().labels_dir)
    for problem in problems:
        err_console.print(f"[yellow]{problem}[/] (using the built-in taxonomy)", highlight=False)
    subs = list(tax.subtypes.values())
    if as_json:
        print_json(
            [
                {
                    "category": s.category,
                    "subtype": s.name,
                    "description": s.description,
                    "keywords": list(s.keywords),
                    "builtin": s.builtin,
                }
                for s in subs
            ]
        )
        return
    table = Table(title=f"taxonomy ({'built in, extended by ' + tax.source if tax.source else 'built in'})")
    for column in ("category", "subtype", "description"):
        table.add_column(column)
    for s in sorted(subs, key=lambda s: list(tax.cells).index(s.category)):
        table.add_row(s.category, s.name + ("" if s.builtin else " (added)"), s.description)
    console.print(table)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the JSON Schema of a label."""
    text = json.dumps(label_schema(), indent=2) + "\n"
    if output:
        output.write_text(text)
        err_console.print(f"wrote {output}")
    else:
        print(text, end="")


def _template(incident_id: str, category: str, subtype: str, title: str | None) -> dict[str, Any]:
    """A skeleton whose ``TODO:`` text fails `labels validate` until a person replaces it."""
    return {
        "perf_observation": incident_id,
        "title": title or "TODO: describe the incident in one line",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "symptoms": [
            "TODO: what did the first alert or report say?",
            "TODO: what did the graphs show?",
            "TODO: who was affected?",
        ],
        "context": {"service": "TODO: the service that degraded"},
        "metrics": {
            "service": {
                "baseline": {"latency_p99": "TODO: before, e.g. 150ms"},
                "degraded": {"latency_p99": "TODO: during, e.g. 2.5s"},
            }
        },
        "analysis": {
            "root_cause": "TODO: one sentence: what caused it",
            "evidence": [],
            "contributing_factors": [],
            "investigation_tools": [],
        },
        "resolution": {
            "immediate_actions": ["TODO: what stopped the impact"],
            "long_term_fixes": [],
            "prevention": {"monitoring_additions": [], "process_updates": []},
        },
        "metadata": {"label_type": "performance", "category": category, "subtype": subtype, "tags": []},
    }


@app.command()
def new(
    subtype: Annotated[str, typer.Argument(help="Taxonomy subtype, e.g. memory_leak.")],
    title: Annotated[str | None, typer.Option(help="One-line title.")] = None,
    incident_id: Annotated[
        str | None, typer.Option("--id", help="Incident id (default: perf-YYYYMMDDNN).")
    ] = None,
    labels: Annotated[Path | None, typer.Option(help="Labels folder.")] = None,
) -> None:
    """Create a label skeleton in labels/<category>/<id>.json; it validates once its TODOs are replaced."""
    root = labels or settings_with().labels_dir
    tax, problems = load_taxonomy(root)
    for problem in problems:
        err_console.print(f"[yellow]{problem}[/] (using the built-in taxonomy)", highlight=False)
    category = tax.category_of(subtype)
    if category is None:
        err_console.print(f"[red]error:[/] {tax.unknown_subtype_message(subtype)}", highlight=False)
        raise typer.Exit(2)
    existing = {item.label.id for item in load_labels(root).labels} if root.exists() else set()
    if incident_id is None:
        stem = "perf-" + datetime.now(UTC).strftime("%Y%m%d")
        incident_id = next(f"{stem}{n:02d}" for n in range(1, 100) if f"{stem}{n:02d}" not in existing)
    elif incident_id in existing:
        err_console.print(f"[red]error:[/] id {incident_id!r} is already used; pick another with --id")
        raise typer.Exit(2)
    target = root / category / f"{incident_id}.json"
    if target.exists():
        err_console.print(f"[red]error:[/] {target} already exists; pick another id with --id")
        raise typer.Exit(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_template(incident_id, category, subtype, title), indent=4) + "\n")
    console.print(
        f"created {target}; replace every TODO, then run `assistant labels validate {target}`",
        highlight=False,
    )


labels_import_cmd.register(app)
