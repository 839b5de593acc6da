"""Result types shared by every surface. Their JSON is a public interface: keep it stable."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .passages import PassageKind

Verdict = Literal["yes", "maybe", "no"]


class PassageHit(BaseModel):
    kind: PassageKind
    text: str


class Match(BaseModel):
    id: str
    title: str
    category: str | None
    subtype: str | None
    score: float = Field(description="Fused rank score, 1.0 = ranked first by both dense and BM25 search.")
    similarity: float = Field(description="Best cosine similarity between the query and a passage.")
    passages: list[PassageHit]


class SeenBefore(BaseModel):
    verdict: Verdict
    confidence: float = Field(ge=0, le=1, description="Probability that the top match is the same problem.")


class SimilarResult(BaseModel):
    id: str | None = None
    query: str
    matches: list[Match]
    seen_before: SeenBefore
