"""Retrieval eval: run the eval queries (or each label, leave-one-out) through ``Assistant.similar``
and aggregate the ranking, taxonomy, seen-before and latency metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from assistant.corpus.labels import indexed_label
from assistant.corpus.passages import build_passages
from assistant.evaluation.answer_metrics import mean
from assistant.evaluation.calibration import (
    auroc,
    expected_calibration_error,
    reliability_table,
    verdict_accuracy,
)
from assistant.evaluation.cases import GoldCase
from assistant.evaluation.latency import latency_summary
from assistant.evaluation.ranking import (
    first_relevant_rank,
    hit_at_k,
    label_hit_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from assistant.evaluation.results import QueryOutcome, Retrieved
from assistant.search.encoders import one_torch_thread
from assistant.search.results import SimilarResult
from assistant.service import Assistant

Progress = Callable[[int, int], None]
CUTOFFS = (1, 3, 5, 10)
NDCG_AT = 10
CATEGORY_AT = 3
SUBTYPE_AT = 5
WORST = 10


def depth_for(k: int) -> int:
    """How many incidents to retrieve so that every reported cutoff is computable."""
    return max(k, NDCG_AT, SUBTYPE_AT)


def _outcome(
    result: SimilarResult,
    *,
    case_id: str,
    latency_ms: float,
    relevant: list[str],
    titles: list[str],
    **extra: Any,
) -> QueryOutcome:
    return QueryOutcome(
        id=case_id,
        query=result.query,
        relevant=relevant,
        relevant_titles=titles,
        retrieved=[Retrieved.of(m) for m in result.matches],
        verdict=result.seen_before.verdict,
        confidence=result.seen_before.confidence,
        latency_ms=round(latency_ms, 3),
        **extra,
    )


def _title(assistant: Assistant, incident_id: str) -> str:
    record = assistant.index.incidents.get(incident_id)
    return record.title if record else "(not in the index)"


def run_retrieval(
    assistant: Assistant, cases: Sequence[GoldCase], *, k: int = 10, progress: Progress | None = None
) -> list[QueryOutcome]:
    """One outcome per labelled case (``relevant`` not null), retrieving ``depth_for(k)`` incidents."""
    labelled = [c for c in cases if c.relevant is not None]
    depth = depth_for(k)
    outcomes: list[QueryOutcome] = []
    for done, case in enumerate(labelled, start=1):
        with one_torch_thread():
            start = time.perf_counter()
            result = assistant.similar(case.query, depth, query_id=case.id)
            elapsed = (time.perf_counter() - start) * 1000
        relevant = list(case.relevant or [])
        outcomes.append(
            _outcome(
                result,
                case_id=case.id,
                latency_ms=elapsed,
                relevant=relevant,
                titles=[_title(assistant, r) for r in relevant],
                category=case.category,
                subtype=case.subtype,
            )
        )
        if progress:
            progress(done, len(labelled))
    return outcomes


def _ranking_block(outcomes: Sequence[QueryOutcome], *, k: int) -> dict[str, float | int | None]:
    """Ranking and taxonomy metrics over queries that have relevant ids."""
    block: dict[str, float | int | None] = {"n": len(outcomes)}
    if not outcomes:
        return block
    for cut in sorted({*(c for c in CUTOFFS if c <= k), k}):
        block[f"recall@{cut}"] = mean([recall_at_k(o.ranked_ids, o.relevant, cut) for o in outcomes])
        block[f"hit@{cut}"] = mean([hit_at_k(o.ranked_ids, o.relevant, cut) for o in outcomes])
    block["mrr"] = mean([reciprocal_rank(o.ranked_ids, o.relevant) for o in outcomes])
    block[f"ndcg@{NDCG_AT}"] = mean([ndcg_at_k(o.ranked_ids, o.relevant, NDCG_AT) for o in outcomes])
    block[f"category_hit@{CATEGORY_AT}"] = mean(
        [
            label_hit_at_k([r.category for r in o.retrieved], o.category, CATEGORY_AT)
            for o in outcomes
            if o.category
        ]
    )
    block[f"subtype_hit@{SUBTYPE_AT}"] = mean(
        [
            label_hit_at_k([r.subtype for r in o.retrieved], o.subtype, SUBTYPE_AT)
            for o in outcomes
            if o.subtype
        ]
    )
    return block


def seen_before_block(
    verdicts: Sequence[str], confidences: Sequence[float], positives: Sequence[bool]
) -> dict[str, Any]:
    accuracy = verdict_accuracy(verdicts, positives)
    table = reliability_table(confidences, positives)
    counts: dict[str, dict[str, int]] = {"in_corpus": {}, "novel": {}}
    for v, p in zip(verdicts, positives, strict=True):
        group = counts["in_corpus" if p else "novel"]
        group[v] = group.get(v, 0) + 1
    return {
        "positives": sum(positives),
        "negatives": len(positives) - sum(positives),
        "accuracy": accuracy.accuracy,
        "decided": accuracy.decided,
        "verdicts": counts,
        "auroc": auroc(confidences, positives),
        "ece": expected_calibration_error(table),
        "reliability": [
            {
                "lo": b.lo,
                "hi": b.hi,
                "n": b.n,
                "mean_confidence": b.mean_confidence,
                "observed": b.observed,
            }
            for b in table
        ],
    }


def _round_any(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _round_any(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_round_any(item) for item in value]
    return value


def rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    """Floats rounded to four places, for readable JSON."""
    return {key: _round_any(item) for key, item in metrics.items()}


def _first_rank(o: QueryOutcome) -> float:
    rank = first_relevant_rank(o.ranked_ids, o.relevant)
    return float("inf") if rank is None else float(rank)


def _brief(o: QueryOutcome, *, shown: int = 5) -> dict[str, Any]:
    return {
        "id": o.id,
        "query": o.query,
        "category": o.category,
        "subtype": o.subtype,
        "relevant": [f"{r} — {t}" for r, t in zip(o.relevant, o.relevant_titles, strict=False)],
        "first_relevant_rank": first_relevant_rank(o.ranked_ids, o.relevant) if o.relevant else None,
        "verdict": o.verdict,
        "confidence": o.confidence,
        "retrieved": [
            {"id": r.id, "title": r.title, "subtype": r.subtype, "score": r.score, "similarity": r.similarity}
            for r in o.retrieved[:shown]
        ],
    }


def retrieval_metrics(outcomes: Sequence[QueryOutcome], *, k: int = 10) -> dict[str, Any]:
    """Every retrieval metric of a run (definitions in eval/README.md)."""
    in_corpus = [o for o in outcomes if o.relevant]
    novel = [o for o in outcomes if not o.relevant]
    categories = sorted({o.category or "(none)" for o in in_corpus})
    metrics: dict[str, Any] = {
        "queries": len(outcomes),
        "in_corpus": len(in_corpus),
        "novel": len(novel),
        "retrieval": _ranking_block(in_corpus, k=k),
        "recall_curve": {
            str(c): mean([recall_at_k(o.ranked_ids, o.relevant, c) for o in in_corpus])
            for c in range(1, k + 1)
        }
        if in_corpus
        else {},
        "per_category": {
            cat: _ranking_block([o for o in in_corpus if (o.category or "(none)") == cat], k=k)
            for cat in categories
        },
        "seen_before": seen_before_block(
            [o.verdict for o in outcomes],
            [o.confidence for o in outcomes],
            [bool(o.relevant) for o in outcomes],
        ),
        "latency_ms": latency_summary([o.latency_ms for o in outcomes]),
        "worst_misses": [
            _brief(o)
            for o in sorted(
                (o for o in in_corpus if _first_rank(o) > 1),
                key=lambda o: (-_first_rank(o), o.id),
            )[:WORST]
        ],
        "false_seen_before": [
            _brief(o)
            for o in sorted((o for o in novel if o.verdict != "no"), key=lambda o: (-o.confidence, o.id))[
                :WORST
            ]
        ],
    }
    return rounded(metrics)


# Leave-one-out ---------------------------------------------------------------------------------------


def loo_query(raw: dict[str, Any], *, max_chars: int) -> tuple[str, str]:
    """The query standing in for a label: its symptoms, else its symptom passage without the id/title
    line. Returns (query, source)."""
    label = indexed_label(raw)
    if label.symptoms:
        return "\n".join(label.symptoms)[:max_chars], "symptoms"
    symptom = build_passages(label, raw)[0].text
    body = "\n".join(symptom.splitlines()[1:]).strip()
    return (body or label.display_title)[:max_chars], "symptom_passage"


def run_loo(assistant: Assistant, *, k: int = 10, progress: Progress | None = None) -> list[QueryOutcome]:
    """Each label's symptoms as the query, with that label's passages removed from the candidates."""
    records = sorted(assistant.index.incidents.values(), key=lambda r: r.id)
    depth = depth_for(k)
    outcomes: list[QueryOutcome] = []
    for done, record in enumerate(records, start=1):
        query, _source = loo_query(record.raw, max_chars=assistant.settings.max_query_chars)
        with one_torch_thread():
            start = time.perf_counter()
            result = assistant.similar(query, depth, query_id=record.id, exclude={record.id})
            elapsed = (time.perf_counter() - start) * 1000
        outcomes.append(
            _outcome(
                result,
                case_id=record.id,
                latency_ms=elapsed,
                relevant=[],
                titles=[],
                category=record.category,
                subtype=record.subtype,
            )
        )
        if progress:
            progress(done, len(records))
    return outcomes


def _subtype_rank(o: QueryOutcome) -> int | None:
    for rank, r in enumerate(o.retrieved, start=1):
        if r.subtype == o.subtype:
            return rank
    return None


def _loo_block(outcomes: Sequence[QueryOutcome], *, k: int) -> dict[str, float | int | None]:
    block: dict[str, float | int | None] = {"n": len(outcomes)}
    if not outcomes:
        return block
    for cut in sorted({*(c for c in CUTOFFS if c <= k), k}):
        block[f"subtype_hit@{cut}"] = mean(
            [label_hit_at_k([r.subtype for r in o.retrieved], o.subtype or "", cut) for o in outcomes]
        )
    block["subtype_mrr"] = mean([1.0 / r if (r := _subtype_rank(o)) else 0.0 for o in outcomes])
    block[f"category_hit@{CATEGORY_AT}"] = mean(
        [label_hit_at_k([r.category for r in o.retrieved], o.category or "", CATEGORY_AT) for o in outcomes]
    )
    return block


def loo_metrics(outcomes: Sequence[QueryOutcome], *, peers: dict[str, int], k: int = 10) -> dict[str, Any]:
    """Leave-one-out metrics over the labels that have a subtype and at least one other label of it
    (``peers``: labels per subtype in the index)."""
    scored = [o for o in outcomes if o.subtype and peers.get(o.subtype, 0) > 1]
    categories = sorted({o.category or "(none)" for o in scored})
    verdicts: dict[str, int] = {}
    for o in scored:
        verdicts[o.verdict] = verdicts.get(o.verdict, 0) + 1
    metrics: dict[str, Any] = {
        "labels": len(outcomes),
        "scored": len(scored),
        "skipped_no_peer": len(outcomes) - len(scored),
        "loo": _loo_block(scored, k=k),
        "subtype_curve": {
            str(c): mean(
                [label_hit_at_k([r.subtype for r in o.retrieved], o.subtype or "", c) for o in scored]
            )
            for c in range(1, k + 1)
        }
        if scored
        else {},
        "per_category": {
            cat: _loo_block([o for o in scored if (o.category or "(none)") == cat], k=k) for cat in categories
        },
        "seen_before": {"verdicts": verdicts, "mean_confidence": mean([o.confidence for o in scored])},
        "latency_ms": latency_summary([o.latency_ms for o in outcomes]),
        "worst_misses": [
            _brief(o)
            for o in sorted(
                (o for o in scored if (_subtype_rank(o) or 10**6) > SUBTYPE_AT),
                key=lambda o: (-(_subtype_rank(o) or 10**6), o.id),
            )[:WORST]
        ],
    }
    return rounded(metrics)


def subtype_counts(assistant: Assistant) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in assistant.index.incidents.values():
        if record.subtype:
            counts[record.subtype] = counts.get(record.subtype, 0) + 1
    return counts
