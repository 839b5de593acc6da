"""How ``assistant eval`` shows a run: its report folder, summary tables, threshold check, and the
deltas between two runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from assistant.evaluation.cases import EvalDataError
from assistant.evaluation.compare import Delta
from assistant.evaluation.reports import write_run
from assistant.evaluation.results import EvalRun
from assistant.evaluation.thresholds import check, load_thresholds
from assistant.settings import Settings
from assistant.surfaces.cli.output import console, err_console, print_json

LOWER_IS_BETTER = ("latency_ms", "ece", "fallback_rate", "invalid_citations", "skipped")


def finish(
    run: EvalRun,
    settings: Settings,
    *,
    out: Path | None,
    as_json: bool,
    thresholds: Path | None = None,
) -> None:
    """Write the run's report folder, print its summary (or its JSON), then check ``thresholds``:
    exit 1 when a metric is below its minimum."""
    folder = write_run(run, out or settings.eval_reports_dir)
    if as_json:
        print_json(run.model_dump(mode="json"))
    else:
        summary(run)
        console.print(f"report: {folder / 'report.html'}", highlight=False)
    if thresholds is not None:
        check_thresholds(run.metrics, thresholds, mode=run.mode)


def check_thresholds(metrics: dict[str, Any], thresholds: Path, *, mode: str) -> None:
    """Exit 1, naming each shortfall, when a metric is below its minimum in ``thresholds`` ``[mode]``."""
    minimums = load_thresholds(thresholds).get(mode, {})
    if not minimums:
        raise EvalDataError(f"{thresholds}: no [{mode}] table")
    shortfalls = check(metrics, minimums)
    for s in shortfalls:
        err_console.print(f"[bold red]below threshold:[/] {s}", highlight=False)
    if shortfalls:
        raise typer.Exit(1)
    err_console.print(f"[green]all {len(minimums)} {mode} thresholds met[/]")


def import_table(m: dict[str, Any]) -> Table:
    table = Table(title=f"importer on {m['n']} real post-mortems", title_justify="left")
    for column in ("field", "scored", "right", "wrong", "empty", "accuracy"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name, block in m.items():
        if isinstance(block, dict) and "accuracy" in block:
            table.add_row(
                name, *(str(block[k]) for k in ("n", "right", "wrong", "empty")), num(block["accuracy"])
            )
    pairs = m["metric_pairs"]
    table.add_row(
        "metric pairs found", str(pairs["stated"]), str(pairs["found"]), "", "", num(pairs["recall"])
    )
    table.add_row("configuration taken as metrics", "", "", str(m["config_as_metrics"]), "", "")
    table.add_row("metric values not in the document", "", "", str(m["ungrounded_values"]), "", "")
    return table


def row_table(title: str, data: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in data.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.3f}")
        elif isinstance(value, int | str):
            table.add_row(key, str(value))
    return table


def side_by_side(m: dict[str, Any]) -> Table:
    dev, loo = m["dev"], m.get("loo") or {}
    table = Table(
        title=f"dev set ({dev['n']} cases) · leave-one-out ({loo.get('n', 0)} labels)", title_justify="left"
    )
    for column in ("metric", "dev set", "leave-one-out"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    rows = [(k, dev[k], loo.get(k)) for k in dev if not isinstance(dev[k], dict | list)]
    rows += [(f"verdict.{k}", v, (loo.get("verdict") or {}).get(k)) for k, v in dev["verdict"].items()]
    for key, a, b in rows:
        table.add_row(key, num(a), num(b))
    return table


SLICE_SHOWN = ("n", "subtype_hit@1", "subtype_hit@5", "verdict_yes_precision", "verdict_false_no")


def slice_table(per: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="dev set by slice", title_justify="left")
    table.add_column("slice")
    for column in SLICE_SHOWN:
        table.add_column(
            column.removeprefix("subtype_").replace("verdict_", "").replace("_", " "), justify="right"
        )
    for name, row in per.items():
        table.add_row(name, *(num(row.get(c)) for c in SLICE_SHOWN))
    return table


def summary(run: EvalRun) -> None:
    m = run.metrics
    if run.mode == "retrieval":
        console.print(row_table(f"retrieval ({m['in_corpus']} in-corpus queries)", m["retrieval"]))
        sb = m["seen_before"]
        console.print(
            row_table(
                f"seen-before ({sb['positives']} in corpus, {sb['negatives']} novel)",
                {k: sb[k] for k in ("accuracy", "decided", "auroc", "ece") if sb.get(k) is not None},
            )
        )
        console.print(row_table("latency (ms)", m["latency_ms"]))
    elif run.mode == "loo":
        console.print(row_table(f"leave-one-out ({m['scored']} labels)", m["loo"]))
    elif run.mode == "dev":
        console.print(side_by_side(m))
        if m.get("per_slice"):
            console.print(slice_table(m["per_slice"]))
    else:
        console.print(row_table(f"{run.mode} ({m['answers']} answers)", m["scores"]))
        if "judge" in m:
            console.print(
                row_table("judge", {"mean_score": m["judge"]["mean_score"], **m["judge"]["verdicts"]})
            )
        if "backends" in m:
            answered = ", ".join(f"{name} {count}" for name, count in m["backends"].items())
            console.print(f"answered by: {answered}; fallback rate {m['fallback_rate']:.2f}", highlight=False)
        if "latency_ms" in m:
            console.print(row_table("latency (ms)", m["latency_ms"]))


def delta_table(deltas: Sequence[Delta], *, title: str) -> Table:
    """Metric deltas (B − A), green where B is better, red where it is worse."""
    table = Table(title=title, title_justify="left")
    for column in ("metric", "A", "B", "Δ"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for d in deltas:
        if d.delta is None or abs(d.delta) < 1e-9:
            style = ""
        else:
            better = (d.delta < 0) if any(w in d.metric for w in LOWER_IS_BETTER) else (d.delta > 0)
            style = "green" if better else "red"
        delta = num(d.delta, sign=True) if d.delta is not None else ""
        shown = f"[{style}]{delta}[/]" if style else delta
        table.add_row(d.metric, num(d.a), num(d.b), shown)
    return table


def num(value: float | None, *, sign: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:+d}" if sign else str(value)
    return f"{value:+.3f}" if sign else f"{value:.3f}"
