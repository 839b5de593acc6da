"""The seen-before verdict: how likely a match shares the query's mechanism, from more than its cosine.

Each match gets a feature vector (``FEATURES``); a logistic model fitted on the real-incident dev set and
leave-one-out queries (``assistant eval fit-verdict``, stored as JSON in ``verdict_model.json``) turns it
into ``same_problem``, the probability that the incident is the same kind of problem (same subtype). The
verdict is about the top match: ``yes`` at or above the model's ``yes`` threshold, ``no`` below ``maybe``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from assistant.search.results import KnownKind, Level, SeenBefore, Verdict

DEFAULT_MODEL = Path(__file__).with_name("verdict_model.json")

FEATURES = (
    "similarity",  # best query-passage cosine of the incident
    "margin",  # its similarity minus the best similarity of any other incident
    "fused",  # fused rank score (1.0 = first in dense and sparse search)
    "dense_first",  # 1 when it is the first incident of the dense ranking
    "sparse_first",  # 1 when it is the first incident of the BM25 ranking
    "subtype_prob",  # subtype classifier: probability of the incident's subtype for the query
    "subtype_share",  # share of the other top-5 incidents with the same subtype
    "contradictions",  # symptom facets the query states and the incident rules out (or back)
    "missing_terms",  # share of the query's identifiers (error strings, alerts) absent from the incident
    "query_words",  # log of the query's word count: long pasted texts score higher cosines by default
)


# The features the fitted model uses, chosen on the dev set and leave-one-out (eval/README.md): the top
# cosine, margin, agreement flag of dense search and query length added nothing out of fold on either.
FIT_FEATURES = ("subtype_prob", "subtype_share", "fused", "sparse_first", "contradictions")


class SubtypeClassifier:
    """Nearest-centroid subtype classifier over the index's passage vectors: each subtype's centroid is
    the mean of its incidents' (mean passage) vectors; probabilities are a softmax over cosines.

    Fitted from the index at load time (cheap: one mean per subtype), so it always matches the encoder
    and labels the index was built with; ``exclude`` removes incidents (leave-one-out).
    """

    TEMPERATURE = 0.02

    def __init__(
        self, *, vectors: np.ndarray, incident_of: Sequence[str], subtype_of: Mapping[str, str | None]
    ):
        rows: dict[str, list[int]] = {}
        for row, incident in enumerate(incident_of):
            rows.setdefault(incident, []).append(row)
        self.incident_vector = {
            i: _unit(vectors[r].mean(axis=0)) for i, r in rows.items() if subtype_of.get(i) is not None
        }
        self.subtype_of = {i: str(subtype_of[i]) for i in self.incident_vector}
        self.subtypes = sorted(set(self.subtype_of.values()))
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        self._sums = {s: np.zeros(dim, dtype=np.float64) for s in self.subtypes}
        for incident, vector in self.incident_vector.items():
            self._sums[self.subtype_of[incident]] += vector
        self._centroids = self._centroid_rows(self._sums)  # what a query without ``exclude`` uses

    def _centroid_rows(self, sums: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
        names = [s for s in self.subtypes if np.linalg.norm(sums[s]) > 1e-9]
        return names, np.vstack([_unit(sums[s]) for s in names]) if names else np.zeros((0, 0))

    def probabilities(self, vector: np.ndarray, *, exclude: Collection[str] = ()) -> dict[str, float]:
        names, centroids = self._centroids
        excluded = [incident for incident in exclude if incident in self.subtype_of]
        if excluded:
            sums = dict(self._sums)
            for incident in excluded:
                s = self.subtype_of[incident]
                sums[s] = sums[s] - self.incident_vector[incident]
            names, centroids = self._centroid_rows(sums)
        if not names:
            return {}
        logits = centroids @ np.asarray(vector, dtype=np.float64).reshape(-1) / self.TEMPERATURE
        weights = np.exp(logits - logits.max())
        weights /= weights.sum()
        return dict(zip(names, weights.tolist(), strict=True))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass(frozen=True)
class Candidate:
    """What the verdict knows of one retrieved incident."""

    incident_id: str
    subtype: str | None
    similarity: float
    fused: float
    contradictions: int
    missing_terms: float


def feature_rows(
    candidates: Sequence[Candidate],
    *,
    dense_first: str | None,
    sparse_first: str | None,
    subtype_probs: Mapping[str, float],
    query_words: int,
) -> list[dict[str, float]]:
    """One feature dict per candidate (in ``FEATURES`` order of keys)."""
    rows = []
    top5 = candidates[:5]
    for c in candidates:
        others = [o.similarity for o in candidates if o.incident_id != c.incident_id]
        peers = [o for o in top5 if o.incident_id != c.incident_id]
        rows.append(
            {
                "similarity": c.similarity,
                "margin": c.similarity - (max(others) if others else 0.0),
                "fused": c.fused,
                "dense_first": float(c.incident_id == dense_first),
                "sparse_first": float(c.incident_id == sparse_first),
                "subtype_prob": subtype_probs.get(c.subtype or "", 0.0),
                "subtype_share": (
                    sum(1 for o in peers if c.subtype and o.subtype == c.subtype) / len(peers)
                    if peers
                    else 0.0
                ),
                "contradictions": float(c.contradictions),
                "missing_terms": c.missing_terms,
                "query_words": math.log1p(query_words),
            }
        )
    return rows


class VerdictModel(BaseModel):
    """A logistic model over standardised features, and the two verdict thresholds."""

    encoder: str = Field(description="Encoder the features were measured with when fitted.")
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    yes: float = Field(ge=0, le=1, description="same_problem at or above which the verdict is yes.")
    maybe: float = Field(ge=0, le=1, description="same_problem at or above which it is maybe; below: no.")
    incident_similarity: float = Field(
        1.01, description="A yes is about the same incident when the top match's cosine reaches this..."
    )
    incident_margin: float = Field(1.01, description="... and leads the next incident's by this much.")
    fitted_on: dict[str, object] = Field(default_factory=dict, description="Data and out-of-fold figures.")

    @classmethod
    def load(cls, path: Path | None = None) -> VerdictModel:
        return cls.model_validate_json((path or DEFAULT_MODEL).read_text())

    def save(self, path: Path | None = None) -> None:
        (path or DEFAULT_MODEL).write_text(self.model_dump_json(indent=2) + "\n")

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.intercept
        for name, mean, scale, coef in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += coef * (features.get(name, 0.0) - mean) / scale
        return 1.0 / (1.0 + math.exp(-z))

    def same_incident(self, features: Mapping[str, float]) -> bool:
        """Whether a match is close enough to be the same incident, not only the same kind."""
        return (
            features.get("similarity", 0.0) >= self.incident_similarity
            and features.get("margin", 0.0) >= self.incident_margin
        )

    def verdict(
        self,
        probability: float | None,
        *,
        incident_id: str | None,
        contradictions: Sequence[str] = (),
        kind: KnownKind | None = None,
        same_incident: bool = False,
        title: str = "",
    ) -> SeenBefore:
        """The verdict on the top match. A match that contradicts the query is never a yes. A yes says
        which answer it is: this kind of problem is known (``kind``), or this looks like the same
        incident (``same_incident``)."""
        if probability is None:
            return SeenBefore(
                verdict="no", confidence=0.0, incident_id=None, reason="no incident in the index is similar"
            )
        v: Verdict = "yes" if probability >= self.yes else "maybe" if probability >= self.maybe else "no"
        if v == "yes" and contradictions:
            v = "maybe"
        level: Level | None = None if v != "yes" else "incident" if same_incident else "kind"
        reason = _reason(v, level, round(probability * 100), incident_id, kind, title)
        if contradictions:
            reason += "; but " + "; ".join(contradictions)
        return SeenBefore(
            verdict=v,
            confidence=round(probability, 4),
            incident_id=incident_id,
            reason=reason,
            level=level,
            kind=kind,
        )


def _recurrence(kind: KnownKind | None) -> str:
    """ ", 3 of them in the last 30 days": said when the kind recurred lately, in the labels or as
    answers about it marked helpful."""
    if kind is None:
        return ""
    said = ""
    if kind.last_30_days:
        said = f", {kind.last_30_days} of them in the last 30 days"
    elif kind.last_365_days:
        said = f", {kind.last_365_days} of them in the last year"
    if kind.confirmed_30_days:
        times = "once" if kind.confirmed_30_days == 1 else f"{kind.confirmed_30_days} times"
        said += f", confirmed again {times} in the last 30 days"
    return said


def _reason(
    v: Verdict, level: Level | None, pct: int, incident_id: str | None, kind: KnownKind | None, title: str
) -> str:
    name = kind.subtype.replace("_", " ") if kind else "this kind of problem"
    if level == "incident":
        return f"yes — looks like the same incident as {incident_id} ({pct}%): {title}"
    if level == "kind":
        seen = f"{kind.incidents} past incident{'s' if kind.incidents != 1 else ''}" if kind else "seen"
        last = f"; last fixed by: {kind.last_fix}" if kind and kind.last_fix else ""
        return f"yes — a known kind of problem: {name}, {seen}{_recurrence(kind)} ({pct}%){last}"
    if v == "maybe":
        return f"maybe — {incident_id} may be the same kind of problem ({name}, {pct}%); check its symptoms"
    return f"no — nothing in the index looks like the same kind of problem (best: {incident_id}, {pct}%)"
