"""A run's metrics as titled tables: one structure that both the Markdown and the HTML report render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.evaluation.results import EvalRun

RANKING_COLUMNS = ("n", "recall@5", "hit@5", "mrr", "ndcg@10", "category_hit@3", "subtype_hit@5")
LOO_COLUMNS = ("n", "subtype_hit@1", "subtype_hit@3", "subtype_hit@5", "subtype_mrr", "category_hit@3")
ANSWER_COLUMNS = (
    "n",
    "citation_validity",
    "citation_recall",
    "groundedness",
    "root_cause_terms",
    "root_cause_similarity",
    "resolution_usefulness",
    "judge_score",
)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Report:
    title: str
    tables: list[Table] = field(default_factory=list)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def _kv(title: str, data: dict[str, Any], *, note: str = "") -> Table:
    rows = [[k, fmt(v)] for k, v in data.items() if not isinstance(v, dict | list)]
    return Table(title=title, headers=["metric", "value"], rows=rows, note=note)


def _per_category(title: str, per: dict[str, dict[str, Any]], columns: tuple[str, ...]) -> Table:
    present = [c for c in columns if any(c in row for row in per.values())]
    return Table(
        title=title,
        headers=["category", *present],
        rows=[[cat, *(fmt(row.get(c)) for c in present)] for cat, row in per.items()],
    )


def _seen_before(sb: dict[str, Any]) -> list[Table]:
    summary = {k: sb.get(k) for k in ("positives", "negatives", "accuracy", "decided", "auroc", "ece")}
    counts = sb.get("verdicts", {})
    verdicts = Table(
        title="Seen-before verdicts",
        headers=["queries", "yes", "maybe", "no"],
        rows=[
            [group, *(str(counts.get(group, {}).get(v, 0)) for v in ("yes", "maybe", "no"))]
            for group in ("in_corpus", "novel")
        ],
        note="in_corpus: queries with relevant incidents (a right verdict is yes); novel: relevant=[] (no).",
    )
    reliability = Table(
        title="Seen-before reliability",
        headers=["confidence", "queries", "mean confidence", "observed share in corpus"],
        rows=[
            [f"{b['lo']:.1f}–{b['hi']:.1f}", str(b["n"]), fmt(b["mean_confidence"]), fmt(b["observed"])]
            for b in sb.get("reliability", [])
        ],
    )
    return [_kv("Seen-before quality", summary), verdicts, reliability]


def _misses(title: str, misses: list[dict[str, Any]], *, note: str) -> Table:
    rows = []
    for m in misses:
        retrieved = "; ".join(f"{r['id']} — {r['title']} ({r.get('subtype') or '-'})" for r in m["retrieved"])
        expected = ", ".join(m["relevant"]) or f"subtype {m.get('subtype') or '-'}"
        rank = m.get("first_relevant_rank")
        rows.append(
            [m["id"], m["query"], expected, fmt(rank), f"{m['verdict']} {m['confidence']:.2f}", retrieved]
        )
    return Table(
        title=title,
        headers=["case", "query", "expected", "first relevant rank", "seen-before", "retrieved (top 5)"],
        rows=rows,
        note=note,
    )


DEV_COLUMNS = ("n", "subtype_hit@1", "subtype_hit@5", "subtype_mrr", "category_hit@3", "mechanism@1")
SLICE_COLUMNS = (
    *DEV_COLUMNS,
    "verdict_yes_precision",
    "verdict_yes_recall",
    "verdict_false_no",
    "verdict_no_share",
)


def _audit(rows: list[dict[str, Any]]) -> Table:
    return Table(
        title="Contradiction rules",
        headers=["rule", "fires", "right", "precision"],
        rows=[[r["rule"], str(r["fires"]), str(r["right"]), fmt(r["precision"])] for r in rows],
        note="Every (case, retrieved incident) pair of the dev set and leave-one-out where a rule fires; "
        "right: the incident is indeed another kind of problem than the case.",
    )


def _reliability(bins: list[dict[str, Any]]) -> Table:
    return Table(
        title="Seen-before reliability (dev set)",
        headers=["confidence", "cases", "mean confidence", "observed share right"],
        rows=[
            [f"{b['lo']:.1f}–{b['hi']:.1f}", str(b["n"]), fmt(b["mean_confidence"]), fmt(b["observed"])]
            for b in bins
        ],
        note="Right = the top match is the gold kind of problem; calibrated when the two columns agree.",
    )


def _slices(per: dict[str, dict[str, Any]]) -> Table:
    table = _per_category("Dev set by slice (origin, sighting)", per, SLICE_COLUMNS)
    table.headers[0] = "slice"
    return table


def _dev_tables(m: dict[str, Any]) -> list[Table]:
    dev, loo = m["dev"], m.get("loo") or {}
    keys = [k for k in dev if not isinstance(dev[k], dict | list)]
    side = Table(
        title="Dev set and leave-one-out",
        headers=["metric", "dev set", "leave-one-out"],
        rows=[[k, fmt(dev.get(k)), fmt(loo.get(k))] for k in keys],
        note="Gold is the subtype. neighbour_hit@1: the top match is a neighbouring subtype (not a hit). "
        "mechanism@k: best cosine between the gold root cause and a top-k incident's own root cause.",
    )
    verdict = Table(
        title="Seen-before verdict",
        headers=["metric", "dev set", "leave-one-out"],
        rows=[[k, fmt(v), fmt((loo.get("verdict") or {}).get(k))] for k, v in dev["verdict"].items()],
        note="Right = the top match has the gold subtype. yes_precision: share of yes verdicts that are "
        "right; auroc: confidence ranks right top matches above wrong ones.",
    )
    return [
        side,
        verdict,
        _per_category("Dev set per category", m["per_category"], DEV_COLUMNS),
        _slices(m.get("per_slice") or {}),
        _reliability(dev.get("reliability") or []),
        _audit(m.get("contradiction_audit") or []),
        _kv("Latency of one search (ms)", m["latency_ms"]),
        _misses("Wrong yes", m["wrong_yes"], note="Dev cases told yes whose top match is another subtype."),
        _misses("Worst misses", m["worst_misses"], note="Dev cases whose gold subtype is not ranked first."),
    ]


def build_report(run: EvalRun) -> Report:
    m = run.metrics
    report = Report(title=f"Eval run {run.run_id} ({run.mode})")
    report.tables.append(
        _kv(
            "Run",
            {
                "run id": run.run_id,
                "mode": run.mode,
                "created": run.created_at.isoformat(timespec="seconds"),
                **run.config,
            },
        )
    )
    if run.mode == "retrieval":
        report.tables += _retrieval_tables(m)
    elif run.mode == "loo":
        report.tables += _loo_tables(m)
    elif run.mode == "dev":
        report.tables += _dev_tables(m)
    else:
        report.tables += _answer_tables(m)
    return report


def _retrieval_tables(m: dict[str, Any]) -> list[Table]:
    counts = {k: m.get(k) for k in ("queries", "in_corpus", "novel")}
    return [
        _kv("Retrieval (queries with relevant incidents)", {**counts, **m["retrieval"]}),
        _per_category("Per category", m["per_category"], RANKING_COLUMNS),
        *_seen_before(m["seen_before"]),
        _kv("Latency of one search (ms)", m["latency_ms"]),
        _misses(
            "Worst misses",
            m["worst_misses"],
            note="In-corpus queries whose first relevant incident is not ranked first, worst first "
            "(– = not retrieved at all).",
        ),
        _misses(
            "Novel queries called seen before",
            m["false_seen_before"],
            note="Queries with relevant=[] whose verdict was yes or maybe, most confident first.",
        ),
    ]


def _loo_tables(m: dict[str, Any]) -> list[Table]:
    counts = {k: m.get(k) for k in ("labels", "scored", "skipped_no_peer")}
    return [
        _kv("Leave-one-out (each label's symptoms, that label removed)", {**counts, **m["loo"]}),
        _per_category("Per category", m["per_category"], LOO_COLUMNS),
        _kv("Latency of one search (ms)", m["latency_ms"]),
        _misses("Worst misses", m["worst_misses"], note="Labels with no same-subtype incident in the top 5."),
    ]


def _answer_tables(m: dict[str, Any]) -> list[Table]:
    """Runs that score answers (``answers`` and ``diagnose``)."""
    counts = {k: m.get(k) for k in ("answers", "in_corpus", "novel", "answers_with_invalid_citations")}
    for key in ("fallback_rate", "model_invalid_citations"):
        if key in m:
            counts[key] = m[key]
    tables = [_kv("Answers", counts)]
    scores = m["scores"]
    tables.append(
        Table(
            title="Answer scores (mean over the answers where the metric applies)",
            headers=["metric", "mean", "answers scored"],
            rows=[
                [name, fmt(scores[name]), fmt(scores.get(f"{name}_n"))]
                for name in ANSWER_COLUMNS[1:]
                if name in scores
            ],
        )
    )
    if "judge" in m:
        tables.append(
            _kv(
                "LLM judge",
                {
                    "answers judged": m["judge"]["n"],
                    "mean score": m["judge"]["mean_score"],
                    **m["judge"]["verdicts"],
                },
            )
        )
    tables.append(_per_category("Per category", m["per_category"], ANSWER_COLUMNS))
    if "backends" in m:
        tables.append(_kv("Backends that answered", m["backends"]))
    if "seen_before" in m:
        tables += _seen_before(m["seen_before"])
    if "latency_ms" in m:
        tables.append(_kv("Latency of one answer (ms)", m["latency_ms"]))
    tables.append(_weakest_answers(m["worst_answers"]))
    return tables


def _weakest_answers(worst: list[dict[str, Any]]) -> Table:
    return Table(
        title="Weakest answers",
        headers=[
            "case",
            "query",
            "gold",
            "root-cause similarity",
            "groundedness",
            "cited",
            "unsupported claims",
            "answer",
        ],
        rows=[
            [
                w["id"],
                w["query"],
                ", ".join(w["relevant"]),
                fmt(w["root_cause_similarity"]),
                fmt(w["groundedness"]),
                ", ".join(w["cited"])
                + (f" (invalid: {', '.join(w['invalid_cited'])})" if w["invalid_cited"] else ""),
                " | ".join(w["unsupported"]),
                w["answer"],
            ]
            for w in worst
        ],
        note="In-corpus answers with the lowest root-cause similarity.",
    )
