"""Write a run to ``<reports>/<run-id>/``: metrics.json, cases.jsonl, report.md and report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.evaluation.cases import write_jsonl
from assistant.evaluation.report_render import to_html, to_markdown
from assistant.evaluation.report_tables import build_report
from assistant.evaluation.results import EvalRun

Figure = tuple[str, bytes]


def figures(run: EvalRun) -> list[Figure]:
    from assistant.evaluation import plots

    m = run.metrics
    out: list[Figure] = []
    latencies = [float(c["latency_ms"]) for c in run.cases if c.get("latency_ms") is not None]
    if run.mode == "retrieval" and m.get("recall_curve"):
        out.append(
            ("Recall@k", plots.curve({"recall@k": m["recall_curve"]}, title="Recall@k", ylabel="recall"))
        )
        out.append(
            (
                "Per category",
                plots.grouped_bars(
                    m["per_category"],
                    metrics=["recall@5", "category_hit@3", "subtype_hit@5"],
                    title="Per category",
                ),
            )
        )
    if run.mode == "loo" and m.get("subtype_curve"):
        out.append(
            (
                "Same-subtype hit@k",
                plots.curve(
                    {"subtype hit@k": m["subtype_curve"]},
                    title="Leave-one-out: same-subtype hit@k",
                    ylabel="hit rate",
                ),
            )
        )
        out.append(
            (
                "Per category",
                plots.grouped_bars(
                    m["per_category"], metrics=["subtype_hit@5", "category_hit@3"], title="Per category"
                ),
            )
        )
    if run.mode == "dev":
        curves = {
            name: {str(k): m[name].get(f"subtype_hit@{k}") for k in (1, 3, 5, 10)}
            for name in ("dev", "loo")
            if m.get(name)
        }
        out.append(("Subtype hit@k", plots.curve(curves, title="Same-subtype hit@k", ylabel="hit rate")))
    if run.mode in ("answers", "diagnose"):
        scores = {k: v for k, v in m["scores"].items() if k != "n" and not k.endswith("_n")}
        if scores:
            out.append(("Answer scores", plots.bars(scores, title="Mean answer scores")))
        if m.get("per_category"):
            out.append(
                (
                    "Per category",
                    plots.grouped_bars(
                        m["per_category"],
                        metrics=["groundedness", "root_cause_similarity", "resolution_usefulness"],
                        title="Per category",
                    ),
                )
            )
    if run.mode == "dev" and m["dev"].get("reliability"):
        title = "Seen-before reliability (dev set: is the top match the same kind?)"
        out.append(("Seen-before reliability", plots.reliability(m["dev"]["reliability"], title=title)))
    sb = m.get("seen_before", {})
    if sb.get("reliability") and sb.get("negatives"):
        out.append(
            ("Seen-before reliability", plots.reliability(sb["reliability"], title="Seen-before reliability"))
        )
    if latencies:
        out.append(("Latency", plots.histogram(latencies, title="Latency", xlabel="milliseconds")))
    return out


def write_run(run: EvalRun, reports_dir: Path) -> Path:
    """Write every file of the run and return its folder."""
    folder = reports_dir / run.run_id
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = run.model_dump(mode="json")
    (folder / "metrics.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    write_jsonl(folder / "cases.jsonl", run.cases)
    report = build_report(run)
    (folder / "report.md").write_text(to_markdown(report))
    (folder / "report.html").write_text(to_html(report, figures(run)))
    return folder
