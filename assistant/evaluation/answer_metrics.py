"""Answer metrics: pure functions of an answer, its citations and the gold case.

Each returns None when the metric does not apply to the case (e.g. citation recall for a query whose
gold answer is "not in the corpus"); aggregates average over the cases where it applies.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from assistant.evaluation.text import content_terms


def citation_validity(
    cited: Collection[str], *, corpus: Collection[str], retrieved: Collection[str]
) -> float | None:
    """Share of the distinct cited ids that exist in the corpus and were among the retrieved incidents."""
    distinct = set(cited)
    if not distinct:
        return None
    valid = {c for c in distinct if c in corpus and c in retrieved}
    return len(valid) / len(distinct)


def citation_recall(cited: Collection[str], relevant: Collection[str]) -> float | None:
    """Share of the gold relevant ids that the answer cites."""
    gold = set(relevant)
    if not gold:
        return None
    return len(gold & set(cited)) / len(gold)


def groundedness(support: Sequence[float], *, threshold: float) -> float | None:
    """Share of claims whose support score (best similarity or entailment against the retrieved
    passages) reaches ``threshold``. None for an answer with no claim."""
    if not support:
        return None
    return sum(1 for s in support if s >= threshold) / len(support)


def key_term_recall(answer: str, reference: str) -> float | None:
    """Share of the reference's content terms (stemmed, stop words and numbers removed) that the answer
    contains."""
    terms = content_terms(reference)
    if not terms:
        return None
    return len(terms & content_terms(answer)) / len(terms)


def item_coverage(items: Sequence[str], answer: str, *, min_overlap: float = 0.5) -> float | None:
    """Share of ``items`` (e.g. the actions that resolved the gold incident) that the answer covers.

    An item is covered when at least ``min_overlap`` of its content terms appear in the answer.
    """
    scored = [content_terms(item) for item in items]
    scored = [terms for terms in scored if terms]
    if not scored:
        return None
    have = content_terms(answer)
    covered = sum(1 for terms in scored if len(terms & have) / len(terms) >= min_overlap)
    return covered / len(scored)


def best(values: Sequence[float | None]) -> float | None:
    """The largest defined value (a case with several relevant incidents scores against its best one)."""
    defined = [v for v in values if v is not None]
    return max(defined) if defined else None


def mean(values: Sequence[float | None]) -> float | None:
    """Mean over the defined values; None when none is defined."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None
