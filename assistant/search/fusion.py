"""Pure retrieval logic: reciprocal-rank fusion and grouping passages into incidents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


def rrf(rankings: Sequence[Sequence[int]], *, k: int) -> dict[int, float]:
    """Reciprocal-rank fusion: each list adds ``1 / (k + rank)`` (rank from 1) to its items."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


@dataclass
class IncidentHit:
    incident_id: str
    score: float
    similarity: float
    rows: list[int] = field(default_factory=list)


def group_by_incident(
    fused: Mapping[int, float],
    *,
    incident_of: Sequence[str],
    similarity: Mapping[int, float],
    max_score: float,
) -> list[IncidentHit]:
    """One hit per incident, scored by its best passage, passages in descending fused score."""
    hits: dict[str, IncidentHit] = {}
    for row, score in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0])):
        incident = incident_of[row]
        hit = hits.get(incident)
        if hit is None:
            hit = hits[incident] = IncidentHit(incident, score / max_score, similarity.get(row, 0.0))
        else:
            hit.similarity = max(hit.similarity, similarity.get(row, 0.0))
        hit.rows.append(row)
    return sorted(hits.values(), key=lambda h: (-h.score, -h.similarity, h.incident_id))


def rerank(hits: Sequence[IncidentHit], adjust: Mapping[str, float]) -> list[IncidentHit]:
    """``hits`` re-sorted after adding ``adjust[incident_id]`` to each score (kept within 0..1)."""
    for h in hits:
        h.score = min(1.0, max(0.0, h.score + adjust.get(h.incident_id, 0.0)))
    return sorted(hits, key=lambda h: (-h.score, -h.similarity, h.incident_id))
