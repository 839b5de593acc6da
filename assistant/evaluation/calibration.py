"""Seen-before quality: is the verdict right, and does its confidence rank and calibrate well?

The positive class is "the corpus holds the same problem" (a query with relevant ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class VerdictAccuracy:
    accuracy: float | None
    """Share of decided verdicts (yes/no) that are right: yes when positive, no when negative."""
    decided: float
    """Share of all verdicts that are decided (not maybe)."""
    n: int


def verdict_accuracy(verdicts: Sequence[str], positives: Sequence[bool]) -> VerdictAccuracy:
    """Accuracy of the yes/no verdicts; ``maybe`` is an abstention and counts in neither numerator nor
    denominator (``decided`` says how often the verdict committed)."""
    if len(verdicts) != len(positives):
        raise ValueError("verdicts and labels differ in length")
    decided = [(v, p) for v, p in zip(verdicts, positives, strict=True) if v in ("yes", "no")]
    right = sum(1 for v, p in decided if (v == "yes") == p)
    n = len(verdicts)
    return VerdictAccuracy(
        accuracy=right / len(decided) if decided else None,
        decided=len(decided) / n if n else 0.0,
        n=n,
    )


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Area under the ROC curve: the probability that a random positive scores above a random negative
    (ties count half). None when either class is empty."""
    pos = [s for s, p in zip(scores, positives, strict=True) if p]
    neg = [s for s, p in zip(scores, positives, strict=True) if not p]
    if not pos or not neg:
        return None
    wins = 0.0
    for a in pos:
        for b in neg:
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return wins / (len(pos) * len(neg))


@dataclass(frozen=True)
class ReliabilityBin:
    lo: float
    hi: float
    n: int
    mean_confidence: float | None
    observed: float | None
    """Share of positives among the queries whose confidence fell in [lo, hi) ([lo, hi] for the last bin)."""


def reliability_table(
    confidences: Sequence[float], positives: Sequence[bool], *, bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width confidence bins over [0, 1] with the observed positive rate in each."""
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for c, p in zip(confidences, positives, strict=True):
        members[min(int(c * bins), bins - 1)].append((c, p))
    table = []
    for i, group in enumerate(members):
        n = len(group)
        table.append(
            ReliabilityBin(
                lo=i / bins,
                hi=(i + 1) / bins,
                n=n,
                mean_confidence=sum(c for c, _ in group) / n if n else None,
                observed=sum(1 for _, p in group if p) / n if n else None,
            )
        )
    return table


def expected_calibration_error(table: Sequence[ReliabilityBin]) -> float | None:
    """Sum over bins of (bin share of queries) x |observed rate - mean confidence|."""
    total = sum(b.n for b in table)
    if not total:
        return None
    return sum(b.n / total * abs((b.observed or 0.0) - (b.mean_confidence or 0.0)) for b in table if b.n)
