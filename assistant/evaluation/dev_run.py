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
from pydantic import BaseModel, Field

from assistant.evaluation.cases import GoldCase
from assistant.evaluation.gold import root_cause
from assistant.evaluation.results import Retrieved
from assistant.evaluation.retrieval_run import loo_query
from assistant.search.encoders import one_torch_thread
from assistant.service import Assistant

Progress = Callable[[int, int], None]
DEPTH = 10
MECHANISM_AT = (1, 5)


class DevCase(BaseModel):
    id: str
    query: str
    category: str | None
    subtype: str | None
    root_cause: str = ""
    exclude: list[str] = []
    slices: dict[str, str] = {}
    """``origin`` and ``sighting`` of a dev case, reported apart (``eval dev``'s per-slice table)."""


SLICE_FIELDS = ("origin", "sighting")


class DevRetrieved(Retrieved):
    same_problem: float | None = None
    contradictions: int = 0
    contradiction_rules: list[str] = Field(default_factory=list)


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
    slices: dict[str, str] = {}

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
                slices={f: str(extra[f]) for f in SLICE_FIELDS if extra.get(f)},
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
                    DevRetrieved.of(
                        m,
                        contradictions=len(m.reasons.contradictions),
                        contradiction_rules=m.reasons.contradiction_rules,
                    )
                    for m in result.matches
                ],
                verdict=result.seen_before.verdict,
                confidence=result.seen_before.confidence,
                features=features,
                mechanism=mechanism,
                latency_ms=round(elapsed, 3),
                slices=case.slices,
            )
        )
        if progress:
            progress(done, len(cases))
    return outcomes


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
