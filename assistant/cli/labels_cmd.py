"""``assistant labels``: validate, stats, new, schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..labels import iter_taxonomy_counts, label_schema, load_labels
from ..taxonomy import TAXONOMY, category_of
from .output import console, err_console, print_json, settings_with

app = typer.Typer(help="Check, count and create incident labels.", no_args_is_help=True)

PathArg = Annotated[Path | None, typer.Argument(help="A label file or folder (default: the labels folder).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command()
def validate(path: PathArg = None, as_json: JsonOpt = False) -> None:
    """Report every problem in every label as `file: json.path: message`; exit 1 if any."""
    settings = settings_with()
    root = path or settings.labels_dir
    result = load_labels(root, max_bytes=settings.max_label_bytes)
    if as_json:
        print_json(
            {
                "files": result.files,
                "valid": len(result.labels),
                "problems": [{"file": p.file, "path": p.path, "message": p.message} for p in result.problems],
            }
        )
    else:
        for problem in result.problems:
            console.print(str(problem), highlight=False, markup=False)
        bad = len({p.file for p in result.problems})
        colour = "red" if result.problems else "green"
        err_console.print(
            f"[{colour}]{result.files} files: {len(result.labels)} valid, {bad} with problems "
            f"({len(result.problems)} problems)[/]"
        )
    if result.problems:
        raise typer.Exit(1)


@app.command()
def stats(path: PathArg = None, as_json: JsonOpt = False) -> None:
    """Count labels by category and subtype."""
    settings = settings_with()
    root = path or settings.labels_dir
    result = load_labels(root, max_bytes=settings.max_label_bytes)
    rows = list(iter_taxonomy_counts(result.labels))
    if as_json:
        print_json(
            {
                "labels": len(result.labels),
                "invalid_files": len({p.file for p in result.problems}),
                "counts": [{"category": c, "subtype": s, "labels": n} for c, s, n in rows],
            }
        )
        return
    table = Table(title=f"{len(result.labels)} labels in {root}")
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
        err_console.print(f"[yellow]{len(result.problems)} problems; see `assistant labels validate`[/]")


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


def _template(incident_id: str, category: str, subtype: str, title: str) -> dict[str, Any]:
    return {
        "perf_observation": incident_id,
        "title": title,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "symptoms": [
            "What did the first alert or report say?",
            "What did the graphs show?",
            "Who was affected?",
        ],
        "environment": {"cluster_type": "production", "k8s_version": "1.30.0", "node_count": 0},
        "context": {"service": "", "namespace": "", "duration": ""},
        "metrics": {"service": {"baseline": {"latency_p99": ""}, "degraded": {"latency_p99": ""}}},
        "analysis": {
            "root_cause": "One sentence: what caused it.",
            "evidence": [],
            "contributing_factors": [],
            "impact": {},
            "investigation_tools": [],
        },
        "resolution": {
            "immediate_actions": [],
            "long_term_fixes": [],
            "validation": {"success_criteria": [], "monitoring_period": ""},
            "prevention": {"monitoring_additions": [], "process_updates": []},
        },
        "metadata": {
            "label_type": "performance",
            "severity": "high",
            "component_type": "",
            "category": category,
            "subtype": subtype,
            "tags": [],
        },
    }


@app.command()
def new(
    subtype: Annotated[str, typer.Argument(help="Taxonomy subtype, e.g. memory_leak.")],
    title: Annotated[str, typer.Option(help="One-line title.")] = "Describe the incident in one line",
    incident_id: Annotated[
        str | None, typer.Option("--id", help="Incident id (default: perf-YYYYMMDDNN).")
    ] = None,
    labels: Annotated[Path | None, typer.Option(help="Labels folder.")] = None,
) -> None:
    """Create a label skeleton in labels/<category>/<id>.json, ready to fill in."""
    if subtype not in (s for subs in TAXONOMY.values() for s in subs):
        known = ", ".join(s for subs in TAXONOMY.values() for s in subs)
        err_console.print(f"[red]error:[/] unknown subtype {subtype!r}; choose one of: {known}")
        raise typer.Exit(2)
    root = labels or settings_with().labels_dir
    category = category_of(subtype)
    existing = {item.label.id for item in load_labels(root).labels} if root.exists() else set()
    if incident_id is None:
        stem = "perf-" + datetime.now(UTC).strftime("%Y%m%d")
        incident_id = next(f"{stem}{n:02d}" for n in range(1, 100) if f"{stem}{n:02d}" not in existing)
    elif incident_id in existing:
        err_console.print(f"[red]error:[/] id {incident_id!r} is already used; pick another with --id")
        raise typer.Exit(2)
    target = root / category / f"{incident_id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_template(incident_id, category, subtype, title), indent=4) + "\n")
    console.print(
        f"created {target}; fill it in, then run `assistant labels validate {target}`", highlight=False
    )
