"""Retrieval choices on the dev set and leave-one-out, side by side, with paired wins/losses.

Variants (all over the current index and encoder, computed in memory):
  hybrid    RRF of dense and BM25 passage rankings, incident = its best passage (the default)
  dense     dense ranking only;  sparse: BM25 only
  weighted  RRF with the dense list weighted 0.7 and BM25 0.3
  sum       hybrid, incident scored by the sum of its passages' fused scores instead of the max
  prior     hybrid, plus 0.3 x the subtype classifier's probability of the incident's subtype
  chunked   dense over passages cut into pieces that fit the encoder window (no text past 256 tokens)
Metric per query: reciprocal rank of the first incident of the gold subtype (MRR) and hit@1.
A variant counts as better only when dev set and leave-one-out move the same way.

    .venv/bin/python bench/retrieval_choices.py [--queries eval/real.jsonl]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.evaluation.cases import load_cases
from assistant.evaluation.dev_run import DevCase, dev_cases, loo_cases
from assistant.search.fusion import rrf
from assistant.service import Assistant

Ranker = Callable[[DevCase, np.ndarray], list[str]]


def chunks(text: str, *, count: Callable[[str], int], limit: int) -> list[str]:
    """The passage cut at line boundaries into pieces of at most ``limit`` tokens, each with the head line."""
    lines = text.splitlines()
    head, body = lines[0], lines[1:]
    out, current = [], [head]
    for line in body:
        if len(current) > 1 and count("\n".join([*current, line])) > limit:
            out.append("\n".join(current))
            current = [head]
        current.append(line)
    out.append("\n".join(current))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=Path, default=Path("eval/real.jsonl"))
    args = parser.parse_args()
    a = Assistant.from_settings()
    index = a.index
    sets = {"dev": dev_cases(load_cases(args.queries)), "loo": loo_cases(a)}
    subtype = {i: r.subtype for i, r in index.incidents.items()}
    incident_of = index.incident_of
    vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
    classifier = a.subtype_classifier()

    tokenizer = a.encoder._model.tokenizer  # type: ignore[attr-defined]

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True)["input_ids"])

    pieces: list[tuple[str, str]] = []
    for p in index.passages:
        pieces += [(p.incident_id, c) for c in chunks(p.text, count=count, limit=250)]
    over = sum(count(p.text) > 256 for p in index.passages)
    print(f"passages over 256 tokens: {over} of {len(index.passages)}; chunks: {len(pieces)}")
    chunk_vectors = a.encoder.encode([c for _, c in pieces])
    chunk_of = [i for i, _ in pieces]

    def incidents(order: Sequence[int], of: Sequence[str], exclude: set[str]) -> list[str]:
        out: list[str] = []
        for row in order:
            i = of[row]
            if i not in exclude and i not in out:
                out.append(i)
        return out

    def fused_rank(
        case: DevCase, q: np.ndarray, *, w: tuple[float, float], agg: str, prior: float
    ) -> list[str]:
        ex = set(case.exclude)
        dense = [r for r in np.argsort(-(vectors @ q)) if incident_of[r] not in ex][:50]
        sparse = [r for r, _ in index.sparse_search(case.query, 200) if incident_of[r] not in ex][:50]
        fused: dict[int, float] = {}
        for weight, ranking in zip(w, (dense, sparse), strict=True):
            for row, s in rrf([ranking], k=60).items():
                fused[row] = fused.get(row, 0.0) + weight * s
        score: dict[str, float] = {}
        for row, s in fused.items():
            i = incident_of[row]
            score[i] = score.get(i, 0.0) + s if agg == "sum" else max(score.get(i, 0.0), s)
        if prior:
            probs = classifier.probabilities(q, exclude=ex)
            top = max(score.values())
            score = {i: s / top + prior * probs.get(subtype[i] or "", 0.0) for i, s in score.items()}
        return sorted(score, key=lambda i: (-score[i], i))

    def sparse_only(c: DevCase, q: np.ndarray) -> list[str]:
        return incidents([r for r, _ in index.sparse_search(c.query, 500)], incident_of, set(c.exclude))

    variants: dict[str, Ranker] = {
        "hybrid": lambda c, q: fused_rank(c, q, w=(1, 1), agg="max", prior=0),
        "dense": lambda c, q: incidents(np.argsort(-(vectors @ q)), incident_of, set(c.exclude)),
        "sparse": sparse_only,
        "weighted": lambda c, q: fused_rank(c, q, w=(0.7, 0.3), agg="max", prior=0),
        "sum": lambda c, q: fused_rank(c, q, w=(1, 1), agg="sum", prior=0),
        "prior": lambda c, q: fused_rank(c, q, w=(1, 1), agg="max", prior=0.3),
        "chunked": lambda c, q: incidents(np.argsort(-(chunk_vectors @ q)), chunk_of, set(c.exclude)),
    }
    rr: dict[tuple[str, str], np.ndarray] = {}
    for name, cases in sets.items():
        scored = [c for c in cases if c.subtype]
        qv = a.encoder.encode([c.query for c in scored])
        for v, ranker in variants.items():
            values = []
            for c, q in zip(scored, qv, strict=True):
                ranked = ranker(c, q)
                rank = next((n for n, i in enumerate(ranked, 1) if subtype[i] == c.subtype), None)
                values.append(1.0 / rank if rank else 0.0)
            rr[(name, v)] = np.asarray(values)
    print("| variant | dev MRR | dev hit@1 | dev W/L vs hybrid | LOO MRR | LOO hit@1 | LOO W/L |")
    print("|---|---|---|---|---|---|---|")
    for v in variants:
        cells = []
        for name in sets:
            x, base = rr[(name, v)], rr[(name, "hybrid")]
            wins, losses = int((x > base).sum()), int((x < base).sum())
            cells += [f"{x.mean():.3f}", f"{(x == 1).mean():.3f}", f"{wins}/{losses}"]
        print(f"| {v} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
