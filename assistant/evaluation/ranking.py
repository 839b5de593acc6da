"""Ranking metrics for one query: a ranked list of retrieved ids against a set of relevant ids.

All functions are pure and take the full ranked list; ``k`` cuts it. Relevance is binary.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def first_relevant_rank(ranked: Sequence[str], relevant: Collection[str]) -> int | None:
    """1-based rank of the first relevant id, or None when none was retrieved."""
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return rank
    return None


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top ``k``."""
    if not relevant:
        raise ValueError("recall is undefined without relevant ids")
    found = set(ranked[:k]) & set(relevant)
    return len(found) / len(set(relevant))


def hit_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when at least one relevant id is in the top ``k``, else 0.0."""
    return 1.0 if set(ranked[:k]) & set(relevant) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """1 / rank of the first relevant id; 0.0 when none was retrieved (MRR is its mean)."""
    rank = first_relevant_rank(ranked, relevant)
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary gains: DCG / ideal DCG at ``k``.

    DCG = sum over ranks i <= k of rel_i / log2(i + 1); the ideal ranking puts every relevant id first.
    """
    relevant = set(relevant)
    if not relevant:
        raise ValueError("nDCG is undefined without relevant ids")
    seen: set[str] = set()
    dcg = 0.0
    for i, item in enumerate(ranked[:k], start=1):
        if item in relevant and item not in seen:
            dcg += 1.0 / math.log2(i + 1)
            seen.add(item)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def label_hit_at_k(ranked_labels: Sequence[str | None], expected: str, k: int) -> float:
    """1.0 when one of the top ``k`` results carries the expected label (a category or a subtype)."""
    return 1.0 if expected in ranked_labels[:k] else 0.0
