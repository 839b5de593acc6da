"""What a run produces: per-case outcomes and the run record that reports are written from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from assistant.search.results import Match

Mode = Literal["retrieval", "loo", "dev", "answers", "diagnose"]


class Retrieved(BaseModel):
    id: str
    title: str
    category: str | None
    subtype: str | None
    score: float
    similarity: float

    @classmethod
    def of(cls, match: Match, **extra: Any) -> Self:
        """The fields of ``match`` this model has, and ``extra``."""
        fields = {name: getattr(match, name) for name in cls.model_fields if hasattr(match, name)}
        return cls.model_validate(fields | extra)


class QueryOutcome(BaseModel):
    """One retrieval query (or one leave-one-out label) and what came back."""

    id: str
    query: str
    category: str | None = None
    subtype: str | None = None
    relevant: list[str] = []
    relevant_titles: list[str] = []
    retrieved: list[Retrieved]
    verdict: str
    confidence: float
    latency_ms: float

    @property
    def ranked_ids(self) -> list[str]:
        return [r.id for r in self.retrieved]


class AnswerOutcome(BaseModel):
    """One scored answer. A metric is None where it does not apply (see eval/README.md)."""

    id: str
    query: str
    category: str | None = None
    subtype: str | None = None
    relevant: list[str] = []
    answer: str
    cited: list[str] = []
    invalid_cited: list[str] = []
    retrieved: list[str] = []
    claims: int = 0
    unsupported: list[str] = []
    citation_validity: float | None = None
    citation_recall: float | None = None
    groundedness: float | None = None
    groundedness_nli: float | None = None
    root_cause_terms: float | None = None
    root_cause_similarity: float | None = None
    resolution_usefulness: float | None = None
    judge_verdict: str | None = None
    judge_score: float | None = None
    judge_reason: str | None = None
    latency_ms: float | None = None
    backend: str | None = None
    fallback_reason: str | None = None
    verdict: str | None = None
    confidence: float | None = None
    model_invalid_citations: int | None = None


class EvalRun(BaseModel):
    run_id: str
    mode: Mode
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    config: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    cases: list[dict[str, Any]] = Field(default=[], exclude=True)


def new_run_id(mode: str, *, now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S") + f"-{mode}"
