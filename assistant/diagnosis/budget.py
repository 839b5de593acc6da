"""Token budget: how many retrieved passages fit in the model's context.

Passages arrive best match first. Each is taken whole or not at all (a passage is never cut): one
that does not fit is skipped and the next, smaller ones still get their chance, in rank order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# tiktoken's cl100k is denser than the small vocabularies of local models; keep headroom for that.
SAFETY = 0.85


@dataclass(frozen=True)
class Fitted(Generic[T]):
    kept: list[T]
    dropped: list[T]
    used: int
    budget: int


def passage_budget(*, context_tokens: int, answer_tokens: int, prompt_tokens: int) -> int:
    """Tokens left for passages once the prompt around them and the answer are accounted for."""
    return max(0, int(context_tokens * SAFETY) - answer_tokens - prompt_tokens)


def fit(items: Sequence[T], *, cost: Callable[[T], int], budget: int) -> Fitted[T]:
    """Take whole items in order while their summed cost stays within ``budget``."""
    kept: list[T] = []
    dropped: list[T] = []
    used = 0
    for item in items:
        c = cost(item)
        if used + c <= budget:
            kept.append(item)
            used += c
        else:
            dropped.append(item)
    return Fitted(kept=kept, dropped=dropped, used=used, budget=budget)
