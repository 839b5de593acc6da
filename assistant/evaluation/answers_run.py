"""Answer eval: score answers from any LLM or person (``eval answers``) or from our own diagnosis
pipeline (``eval diagnose``) against the gold cases, with the metrics in ``answer_metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assistant.corpus.labels import indexed_label
from assistant.evaluation.answer_metrics import (
    best,
    citation_recall,
    citation_validity,
    groundedness,
    item_coverage,
    key_term_recall,
    mean,
)
from assistant.evaluation.cases import AnswerRecord, GoldCase
from assistant.evaluation.citations import find_cited
from assistant.evaluation.gold import resolution_items, root_cause
from assistant.evaluation.judge import JudgeVerdict
from assistant.evaluation.latency import latency_summary
from assistant.evaluation.results import AnswerOutcome
from assistant.evaluation.retrieval_run import rounded, seen_before_block
from assistant.evaluation.support import (
    CachedEncoder,
    Entailment,
    context_units,
    embedding_support,
    entailment_support,
)
from assistant.evaluation.text import claims, sentences
from assistant.search.encoders import one_torch_thread
from assistant.service import Assistant

if TYPE_CHECKING:
    from assistant.diagnosis.results import Diagnosis

Progress = Callable[[int, int], None]
METRICS = (
    "citation_validity",
    "citation_recall",
    "groundedness",
    "groundedness_nli",
    "root_cause_terms",
    "root_cause_similarity",
    "resolution_usefulness",
    "judge_score",
)
WORST = 10


class Judge(Protocol):
    @property
    def id(self) -> str: ...

    def judge(self, *, query: str, answer: str, reference: str, in_corpus: bool) -> JudgeVerdict: ...


@dataclass(frozen=True)
class ScoringOptions:
    k: int = 5
    """Incidents retrieved for an answer that brings no contexts of its own."""
    support_threshold: float = 0.6
    nli_threshold: float = 0.5
    coverage_overlap: float = 0.5


class AnswerScorer:
    """Scores one answer against one gold case. Gold incidents come from the loaded index."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        options: ScoringOptions | None = None,
        nli: Entailment | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.assistant = assistant
        self.options = options or ScoringOptions()
        self.nli = nli
        self.judge = judge
        self.corpus = set(assistant.index.incidents)
        self.encoder = CachedEncoder(assistant.encoder)
        self._passages: dict[str, list[str]] = {}
        for passage in assistant.index.passages:
            self._passages.setdefault(passage.incident_id, []).append(passage.text)

    def passages_of(self, incident_ids: Sequence[str]) -> list[str]:
        """Every passage of these incidents: what a model answering from them is given."""
        return [text for i in incident_ids for text in self._passages.get(i, [])]

    def _gold(self, case: GoldCase) -> list[dict[str, Any]]:
        return [self.assistant.index.incidents[r].raw for r in case.relevant or [] if r in self.corpus]

    def reference(self, case: GoldCase) -> str:
        """The gold facts shown to the judge: title, root cause and resolving actions per relevant id."""
        parts = []
        for raw in self._gold(case)[:2]:
            record = self.assistant.index.incidents[indexed_label(raw).id]
            actions = "\n".join(f"- {a}" for a in resolution_items(raw)[:5])
            parts.append(
                f"Incident {record.id}: {record.title}\nRoot cause: {root_cause(raw)}\n"
                f"What resolved it:\n{actions}"
            )
        return "\n\n".join(parts)

    def score(
        self,
        record: AnswerRecord,
        case: GoldCase,
        *,
        retrieved: Sequence[str] | None = None,
        contexts: Sequence[str] | None = None,
    ) -> AnswerOutcome:
        """``retrieved``/``contexts`` override what the record says (the diagnose runner passes its own)."""
        query = record.query or case.query
        answer = record.answer
        contexts = list(contexts if contexts is not None else record.contexts or [])
        if retrieved is None:
            if contexts:
                retrieved = find_cited("\n".join(contexts), known=self.corpus)
            if not retrieved:
                result = self.assistant.similar(query, self.options.k)
                retrieved = [m.id for m in result.matches]
                contexts = contexts or self.passages_of(retrieved)
        retrieved = list(retrieved)
        known = self.corpus | set(case.relevant or [])
        cited = list(record.cited) if record.cited is not None else find_cited(answer, known=known)
        gold = self._gold(case)
        encoder = self.encoder

        answer_claims = claims(answer)
        units = context_units(contexts)
        support = embedding_support(answer_claims, units, encoder=encoder)
        threshold = self.options.support_threshold
        nli_grounded = None
        if self.nli is not None:
            entail = entailment_support(answer_claims, units, encoder=encoder, nli=self.nli)
            nli_grounded = groundedness(entail, threshold=self.options.nli_threshold)

        rc_terms = rc_sim = usefulness = None
        if gold:
            causes = [root_cause(raw) for raw in gold]
            rc_terms = best([key_term_recall(answer, c) for c in causes])
            pieces = sentences(answer) or [answer]
            vectors = encoder.encode([*causes, *pieces])
            sims = vectors[: len(causes)] @ vectors[len(causes) :].T
            rc_sim = float(sims.max())
            usefulness = best(
                [
                    item_coverage(resolution_items(raw), answer, min_overlap=self.options.coverage_overlap)
                    for raw in gold
                ]
            )

        verdict = None
        if self.judge is not None:
            verdict = self.judge.judge(
                query=query, answer=answer, reference=self.reference(case), in_corpus=bool(case.relevant)
            )
        return AnswerOutcome(
            id=case.id,
            query=query,
            category=case.category,
            subtype=case.subtype,
            relevant=list(case.relevant or []),
            answer=answer,
            cited=cited,
            invalid_cited=[c for c in cited if c not in self.corpus or c not in retrieved],
            retrieved=retrieved,
            claims=len(answer_claims),
            unsupported=[c for c, s in zip(answer_claims, support, strict=True) if s < threshold][:5],
            citation_validity=citation_validity(cited, corpus=self.corpus, retrieved=retrieved),
            citation_recall=citation_recall(cited, case.relevant or []),
            groundedness=groundedness(support, threshold=threshold),
            groundedness_nli=nli_grounded,
            root_cause_terms=rc_terms,
            root_cause_similarity=rc_sim,
            resolution_usefulness=usefulness,
            judge_verdict=verdict.verdict if verdict else None,
            judge_score=verdict.score if verdict else None,
            judge_reason=verdict.reason if verdict else None,
        )


def join_answers(
    answers: Sequence[AnswerRecord], cases: Sequence[GoldCase]
) -> tuple[list[tuple[AnswerRecord, GoldCase]], list[str]]:
    """Answers paired with their gold case by id; the ids with no labelled gold case are returned apart."""
    gold = {c.id: c for c in cases if c.relevant is not None}
    pairs = [(a, gold[a.id]) for a in answers if a.id in gold]
    return pairs, [a.id for a in answers if a.id not in gold]


def score_answers(
    scorer: AnswerScorer,
    pairs: Sequence[tuple[AnswerRecord, GoldCase]],
    *,
    progress: Progress | None = None,
) -> list[AnswerOutcome]:
    outcomes = []
    for done, (record, case) in enumerate(pairs, start=1):
        with one_torch_thread():
            outcomes.append(scorer.score(record, case))
        if progress:
            progress(done, len(pairs))
    return outcomes


def diagnosis_text(d: Diagnosis) -> str:
    """A diagnosis as the engineer reads it: summary, causes, next steps, what fixed similar incidents."""
    lines = [d.summary]
    if d.hypotheses:
        lines.append("Likely causes:")
        lines += [f"- {h.cause} [{', '.join(h.incident_ids)}]" for h in d.hypotheses]
    if d.next_steps:
        lines.append("Next steps:")
        lines += [f"- {step}" for step in d.next_steps]
    if d.resolutions:
        lines.append("What resolved similar incidents:")
        lines += [f"- {r.action} [{r.incident_id}]" for r in d.resolutions]
    return "\n".join(lines)


def run_diagnose(
    scorer: AnswerScorer,
    cases: Sequence[GoldCase],
    *,
    backend: str | None = None,
    k: int | None = None,
    progress: Progress | None = None,
) -> list[AnswerOutcome]:
    """Our pipeline (``Assistant.diagnose``) over the labelled cases, each answer scored like any other."""
    labelled = [c for c in cases if c.relevant is not None]
    outcomes = []
    for done, case in enumerate(labelled, start=1):
        with one_torch_thread():
            start = time.perf_counter()
            diagnosis = scorer.assistant.diagnose(case.query, k=k, backend=backend)
            elapsed = (time.perf_counter() - start) * 1000
            record = AnswerRecord(id=case.id, query=case.query, answer=diagnosis_text(diagnosis))
            outcome = scorer.score(
                record.model_copy(update={"cited": list(diagnosis.citations)}),
                case,
                retrieved=[m.id for m in diagnosis.matches],
                contexts=scorer.passages_of([m.id for m in diagnosis.matches]),
            )
        outcomes.append(
            outcome.model_copy(
                update={
                    "latency_ms": round(elapsed, 2),
                    "backend": diagnosis.backend,
                    "fallback_reason": diagnosis.fallback_reason,
                    "verdict": diagnosis.seen_before.verdict,
                    "confidence": diagnosis.seen_before.confidence,
                    "model_invalid_citations": len(diagnosis.invalid_citations),
                }
            )
        )
        if progress:
            progress(done, len(labelled))
    return outcomes


def _means(outcomes: Sequence[AnswerOutcome]) -> dict[str, Any]:
    block: dict[str, Any] = {"n": len(outcomes)}
    for name in METRICS:
        values = [getattr(o, name) for o in outcomes]
        if any(v is not None for v in values):
            block[name] = mean(values)
            block[f"{name}_n"] = sum(1 for v in values if v is not None)
    return block


def _worst_key(o: AnswerOutcome) -> tuple[float, float, str]:
    return (
        o.root_cause_similarity if o.root_cause_similarity is not None else 2.0,
        o.groundedness or 0.0,
        o.id,
    )


def answers_metrics(outcomes: Sequence[AnswerOutcome], *, unmatched: Sequence[str] = ()) -> dict[str, Any]:
    """Aggregates of a scored answer set (definitions in eval/README.md)."""
    in_corpus = [o for o in outcomes if o.relevant]
    categories = sorted({o.category or "(none)" for o in outcomes})
    metrics: dict[str, Any] = {
        "answers": len(outcomes),
        "in_corpus": len(in_corpus),
        "novel": len(outcomes) - len(in_corpus),
        "unmatched": list(unmatched),
        "scores": _means(outcomes),
        "per_category": {
            cat: _means([o for o in outcomes if (o.category or "(none)") == cat]) for cat in categories
        },
        "answers_with_invalid_citations": sum(1 for o in outcomes if o.invalid_cited),
    }
    judged = [o for o in outcomes if o.judge_verdict]
    if judged:
        counts: dict[str, int] = {}
        for o in judged:
            counts[o.judge_verdict or ""] = counts.get(o.judge_verdict or "", 0) + 1
        metrics["judge"] = {
            "n": len(judged),
            "verdicts": counts,
            "mean_score": mean([o.judge_score for o in judged]),
        }
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    if latencies:
        metrics["latency_ms"] = latency_summary(latencies)
    backends: dict[str, int] = {}
    for o in outcomes:
        if o.backend:
            backends[o.backend] = backends.get(o.backend, 0) + 1
    if backends:
        metrics["backends"] = backends
        metrics["fallback_rate"] = sum(1 for o in outcomes if o.fallback_reason) / len(outcomes)
        metrics["model_invalid_citations"] = sum(o.model_invalid_citations or 0 for o in outcomes)
    with_verdict = [o for o in outcomes if o.verdict is not None and o.confidence is not None]
    if with_verdict:
        metrics["seen_before"] = seen_before_block(
            [o.verdict or "" for o in with_verdict],
            [o.confidence or 0.0 for o in with_verdict],
            [bool(o.relevant) for o in with_verdict],
        )
    metrics["worst_answers"] = [
        {
            "id": o.id,
            "query": o.query,
            "relevant": o.relevant,
            "answer": o.answer[:600],
            "cited": o.cited,
            "invalid_cited": o.invalid_cited,
            "root_cause_similarity": o.root_cause_similarity,
            "groundedness": o.groundedness,
            "unsupported": o.unsupported,
            "judge": o.judge_verdict,
        }
        for o in sorted(in_corpus, key=_worst_key)[:WORST]
    ]
    return rounded(metrics)
