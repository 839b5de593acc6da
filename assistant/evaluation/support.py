"""Sentence-level support of answer claims by the retrieved passages: embedding similarity, and an NLI
cross-encoder when one is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from assistant.evaluation.text import sentences, words
from assistant.search.encoders import Encoder


class Entailment(Protocol):
    """Probability that each premise entails its hypothesis."""

    id: str

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...


def context_units(contexts: Sequence[str], *, min_words: int = 3) -> list[str]:
    """The retrieved passages cut into sentences/lines of at least ``min_words`` words.

    Passages are longer than the encoder's window; short units keep every line visible to it.
    """
    return [s for text in contexts for s in sentences(text) if len(words(s)) >= min_words]


def best_similarity(claim_vectors: np.ndarray, unit_vectors: np.ndarray) -> np.ndarray:
    """For each claim (a unit-length row), its highest cosine against any unit; 0 when there is none."""
    if len(claim_vectors) == 0:
        return np.zeros(0, dtype=np.float32)
    if len(unit_vectors) == 0:
        return np.zeros(len(claim_vectors), dtype=np.float32)
    return np.asarray((claim_vectors @ unit_vectors.T).max(axis=1), dtype=np.float32)


class CachedEncoder:
    """An encoder that remembers every text it embedded and encodes misses shortest-first in small
    batches: eval runs embed the same passage lines for many answers, and one big batch would be
    padded to its longest text."""

    def __init__(self, encoder: Encoder, *, batch_size: int = 32, max_items: int = 50_000) -> None:
        self.encoder = encoder
        self.id = encoder.id
        self.dim = encoder.dim
        self.runtime = encoder.runtime
        self.quantization = encoder.quantization
        self.batch_size = batch_size
        self.max_items = max_items
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._cache}, key=len)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            for text, vector in zip(batch, self.encoder.encode(batch), strict=True):
                self._cache[text] = vector
        out = np.vstack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if len(self._cache) > self.max_items:
            self._cache.clear()
        return out


def embedding_support(claims: Sequence[str], units: Sequence[str], *, encoder: Encoder) -> list[float]:
    if not claims:
        return []
    if not units:
        return [0.0] * len(claims)
    vectors = encoder.encode([*claims, *units])
    return [float(v) for v in best_similarity(vectors[: len(claims)], vectors[len(claims) :])]


def entailment_support(
    claims: Sequence[str],
    units: Sequence[str],
    *,
    encoder: Encoder,
    nli: Entailment,
    premises: int = 3,
) -> list[float]:
    """For each claim, the highest entailment probability against its ``premises`` most similar units."""
    if not claims:
        return []
    if not units:
        return [0.0] * len(claims)
    vectors = encoder.encode([*claims, *units])
    sims = vectors[: len(claims)] @ vectors[len(claims) :].T
    out: list[float] = []
    for row, claim in enumerate(claims):
        top = np.argsort(-sims[row])[:premises]
        probs = nli.entailment([(units[int(i)], claim) for i in top])
        out.append(max(probs) if probs else 0.0)
    return out
