"""The dev-set eval: real incidents described by their first symptoms, gold = the subtype of problem.

Run through ``Assistant.search`` with the same metrics on two sets side by side: the real-incident dev
set (``eval/real.jsonl``) and leave-one-out over the corpus (each label's symptoms, that label removed).
Definitions are in eval/README.md ("Dev-set metrics").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from assistant.evaluation.answer_metrics import mean
from assistant.evaluation.calibration import auroc
from assistant.evaluation.cases import GoldCase
from assistant.evaluation.gold import root_cause
from assistant.evaluation.latency import latency_summary
from assistant.evaluation.results import Retrieved
from assistant.evaluation.retrieval_run import loo_query, rounded
from assistant.search.encoders import one_torch_thread
from assistant.service import Assistant

Progress = Callable[[int, int], None]
DEPTH = 10
MECHANISM_AT = (1, 5)
WORST = 12
# Subtypes that name close mechanisms; a hit on the neighbour is reported apart, never counted as a hit.
NEIGHBOURS: tuple[frozenset[str], ...] = (
    frozenset({"service_mesh_overhead", "service_mesh_latency"}),
    frozenset({"io_bottleneck", "storage_io"}),
    frozenset({"memory_leak", "memory_management"}),
    frozenset({"connection_pool_exhaustion", "connection_handling"}),
)


def neighbours(subtype: str | None) -> set[str]:
    out: set[str] = set()
    for group in NEIGHBOURS:
        if subtype in group:
            out |= group - {subtype}
    return out


class DevCase(BaseModel):
    id: str
    query: str
    category: str | None
    subtype: str | None
    root_cause: str = ""
    exclude: list[str] = []


class DevRetrieved(Retrieved):
    same_problem: float | None = None
    contradictions: int = 0


class DevOutcome(BaseModel):
    id: str
    query: str
    category: str | None
    subtype: str | None
    root_cause: str
    retrieved: list[DevRetrieved]
    verdict: str
    confidence: float
    features: list[dict[str, float]]
    mechanism: dict[str, float | None] = {}
    latency_ms: float

    @property
    def top_right(self) -> bool:
        return bool(self.subtype) and bool(self.retrieved) and self.retrieved[0].subtype == self.subtype

    def subtype_rank(self) -> int | None:
        for rank, r in enumerate(self.retrieved, start=1):
            if self.subtype and r.subtype == self.subtype:
                return rank
        return None


def dev_cases(cases: Sequence[GoldCase]) -> list[DevCase]:
    """Gold cases whose gold is a subtype (``subtype: null`` = nothing in the taxonomy: a negative)."""
    out = []
    for c in cases:
        extra = c.model_extra or {}
        out.append(
            DevCase(
                id=c.id,
                query=c.query,
                category=c.category,
                subtype=c.subtype,
                root_cause=str(extra.get("root_cause") or ""),
            )
        )
    return out


def loo_cases(assistant: Assistant) -> list[DevCase]:
    """Each label of a subtype with at least one other label, as a query with itself removed."""
    counts: dict[str, int] = {}
    for r in assistant.index.incidents.values():
        if r.subtype:
            counts[r.subtype] = counts.get(r.subtype, 0) + 1
    out = []
    for record in sorted(assistant.index.incidents.values(), key=lambda r: r.id):
        if not record.subtype or counts[record.subtype] < 2:
            continue
        query, _ = loo_query(record.raw, max_chars=assistant.settings.max_query_chars)
        out.append(
            DevCase(
                id=record.id,
                query=query,
                category=record.category,
                subtype=record.subtype,
                root_cause=root_cause(record.raw),
                exclude=[record.id],
            )
        )
    return out


class RootCauses:
    """Root-cause vectors of every incident, for the mechanism score (encoded once)."""

    def __init__(self, assistant: Assistant) -> None:
        self.encoder = assistant.encoder
        ids = sorted(assistant.index.incidents)
        texts = [
            root_cause(assistant.index.incidents[i].raw) or assistant.index.incidents[i].title for i in ids
        ]
        vectors = self.encoder.encode(texts) if ids else np.zeros((0, 1), dtype=np.float32)
        self.vector = dict(zip(ids, vectors, strict=True))

    def score(self, gold: str, retrieved: Sequence[str]) -> dict[str, float | None]:
        """For each cutoff k: the best cosine between the gold root cause and a top-k incident's own."""
        if not gold or not retrieved:
            return {f"@{k}": None for k in MECHANISM_AT}
        g = self.encoder.encode([gold])[0]
        sims = [float(self.vector[i] @ g) for i in retrieved if i in self.vector]
        return {f"@{k}": max(sims[:k]) if sims[:k] else None for k in MECHANISM_AT}


def run_dev(
    assistant: Assistant,
    cases: Sequence[DevCase],
    *,
    root_causes: RootCauses | None = None,
    progress: Progress | None = None,
) -> list[DevOutcome]:
    causes = root_causes or RootCauses(assistant)
    outcomes = []
    for done, case in enumerate(cases, start=1):
        with one_torch_thread():
            start = time.perf_counter()
            result, features = assistant.search(
                case.query, DEPTH, query_id=case.id, exclude=set(case.exclude)
            )
            elapsed = (time.perf_counter() - start) * 1000
            mechanism = causes.score(case.root_cause, [m.id for m in result.matches])
        outcomes.append(
            DevOutcome(
                id=case.id,
                query=result.query,
                category=case.category,
                subtype=case.subtype,
                root_cause=case.root_cause,
                retrieved=[
                    DevRetrieved.of(m, contradictions=len(m.reasons.contradictions)) for m in result.matches
                ],
                verdict=result.seen_before.verdict,
                confidence=result.seen_before.confidence,
                features=features,
                mechanism=mechanism,
                latency_ms=round(elapsed, 3),
            )
        )
        if progress:
            progress(done, len(cases))
    return outcomes


def _hit(o: DevOutcome, k: int) -> float:
    rank = o.subtype_rank()
    return 1.0 if rank is not None and rank <= k else 0.0


def verdict_block(
    verdicts: Sequence[str], confidences: Sequence[float], right: Sequence[bool]
) -> dict[str, Any]:
    """Verdict quality against "the top match is the same kind of problem" (``right``)."""
    n = len(verdicts)
    yes = [r for v, r in zip(verdicts, right, strict=True) if v == "yes"]
    no = [r for v, r in zip(verdicts, right, strict=True) if v == "no"]
    return {
        "n": n,
        "yes_share": len(yes) / n if n else None,
        "yes_precision": mean([float(r) for r in yes]) if yes else None,
        "yes_recall": (len([r for r in yes if r]) / sum(right)) if sum(right) else None,
        "maybe_share": sum(1 for v in verdicts if v == "maybe") / n if n else None,
        "no_share": len(no) / n if n else None,
        "no_precision": mean([float(not r) for r in no]) if no else None,
        "auroc": auroc(list(confidences), list(right)),
        "yes": len(yes),
        "yes_wrong": len([r for r in yes if not r]),
    }


def set_metrics(outcomes: Sequence[DevOutcome]) -> dict[str, Any]:
    """Ranking, mechanism and verdict metrics of one set of outcomes."""
    scored = [o for o in outcomes if o.subtype]
    block: dict[str, Any] = {
        "n": len(outcomes),
        "scored": len(scored),
        "negatives": len(outcomes) - len(scored),
    }
    for k in (1, 3, 5, 10):
        block[f"subtype_hit@{k}"] = mean([_hit(o, k) for o in scored])
    block["subtype_mrr"] = mean([1.0 / r if (r := o.subtype_rank()) else 0.0 for o in scored])
    block["category_hit@3"] = mean(
        [1.0 if o.category in [r.category for r in o.retrieved[:3]] else 0.0 for o in scored if o.category]
    )
    block["neighbour_hit@1"] = mean(
        [1.0 if o.retrieved and o.retrieved[0].subtype in neighbours(o.subtype) else 0.0 for o in scored]
    )
    for k in MECHANISM_AT:
        values = [v for o in scored if (v := o.mechanism.get(f"@{k}")) is not None]
        block[f"mechanism@{k}"] = mean(values) if values else None
    block["verdict"] = verdict_block(
        [o.verdict for o in outcomes], [o.confidence for o in outcomes], [o.top_right for o in outcomes]
    )
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    block["verdicts"] = counts
    return block


def _brief(o: DevOutcome, shown: int = 5) -> dict[str, Any]:
    return {
        "id": o.id,
        "query": o.query,
        "subtype": o.subtype,
        "relevant": [],
        "first_relevant_rank": o.subtype_rank(),
        "verdict": o.verdict,
        "confidence": o.confidence,
        "retrieved": [
            {"id": r.id, "title": r.title, "subtype": r.subtype, "score": r.score, "similarity": r.similarity}
            for r in o.retrieved[:shown]
        ],
    }


ANSWER_METRICS = ("attribution_precision", "unsupported_citations")


def attribution(assistant: Assistant, cases: Sequence[DevCase], *, k: int = 5) -> dict[str, Any]:
    """The extractive diagnosis of every case: attribution precision (share of (hypothesis, cited
    incident) pairs whose incident's own root cause states that cause, ``citations.attribution_precision``)
    and how many cited pairs the support check dropped."""
    from assistant.diagnosis.citations import attribution_precision
    from assistant.diagnosis.extractive import root_cause

    diagnoses = [assistant.diagnose(c.query, k=k, backend="extractive") for c in cases]
    causes = {i: root_cause(r) for i, r in assistant.index.incidents.items()}
    precision = attribution_precision(diagnoses, root_causes=causes)
    dropped = sum(len(d.unsupported_citations) for d in diagnoses)
    return dict(zip(ANSWER_METRICS, (precision, dropped), strict=True))


def dev_metrics(
    dev: Sequence[DevOutcome], loo: Sequence[DevOutcome], *, answers: dict[str, Any] | None = None
) -> dict[str, Any]:
    per_category: dict[str, dict[str, Any]] = {}
    for cat in sorted({o.category for o in dev if o.category}):
        members = [o for o in dev if o.category == cat]
        per_category[cat] = {k: v for k, v in set_metrics(members).items() if not isinstance(v, dict)}
    metrics: dict[str, Any] = {
        "dev": {**set_metrics(dev), **(answers or {})},
        "loo": set_metrics(loo) if loo else {},
        "per_category": per_category,
        "latency_ms": latency_summary([o.latency_ms for o in dev]),
        "wrong_yes": [_brief(o) for o in dev if o.verdict == "yes" and not o.top_right][:WORST],
        "worst_misses": [
            _brief(o)
            for o in sorted(
                (o for o in dev if o.subtype and (o.subtype_rank() or 99) > 1),
                key=lambda o: (-(o.subtype_rank() or 99), o.id),
            )[:WORST]
        ],
    }
    return rounded(metrics)
