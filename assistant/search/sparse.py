"""BM25 over passages (bm25s), with the tokenizer shared by indexing and querying."""

from __future__ import annotations

import re
from pathlib import Path

import bm25s
import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER_UNIT = re.compile(r"^(\d+)([a-z]+)$")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in into is it its of on or that the their then there "
    "these this to was were which while will with after before we our i you they he she them us".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stopwords; ``150ms`` also yields ``150`` and ``ms``."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        tokens.append(word)
        if m := _NUMBER_UNIT.match(word):
            tokens.extend(m.groups())
    return tokens


class SparseIndex:
    def __init__(self, model: bm25s.BM25, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> SparseIndex:
        model = bm25s.BM25()
        model.index([tokenize(t) or ["_empty_"] for t in texts], show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> SparseIndex:
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)

    def search(self, text: str, n: int) -> list[tuple[int, float]]:
        """Top ``n`` (row, score) with a positive score."""
        tokens = [t for t in tokenize(text) if t in self._model.vocab_dict]
        if not tokens or self.size == 0 or n < 1:
            return []
        # Scores of every passage, then the top n by (score desc, row): bm25s' own ``retrieve`` does the
        # same, with a progress bar and thread pool around it that cost more than the scoring here.
        scores = self._model.get_scores(tokens)
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n] if n < self.size else np.arange(self.size)
        ranked = sorted(top.tolist(), key=lambda r: (-scores[r], r))
        return [(r, float(scores[r])) for r in ranked if scores[r] > 0]
