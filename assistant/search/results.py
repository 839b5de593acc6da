"""What a search returns: matches, their reasons and the seen-before verdict. Their JSON is a public
interface: keep it stable."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.corpus.passages import PassageKind

Verdict = Literal["yes", "maybe", "no"]


class PassageHit(BaseModel):
    kind: PassageKind
    text: str


class SharedSymptom(BaseModel):
    query: str = Field(description="The query's words or phrase.")
    label: str = Field(description="The incident's label line that matched them.")


class MatchReasons(BaseModel):
    shared: list[SharedSymptom] = Field(
        default_factory=list, description="What the query and the incident have in common."
    )
    contradictions: list[str] = Field(
        default_factory=list, description="What in the incident contradicts the query, in plain words."
    )


class Match(BaseModel):
    id: str
    title: str
    category: str | None
    subtype: str | None
    score: float = Field(description="Fused rank score, 1.0 = ranked first by both dense and BM25 search.")
    similarity: float = Field(description="Best cosine similarity between the query and a passage.")
    passages: list[PassageHit]
    reasons: MatchReasons = Field(default_factory=MatchReasons, description="Why it matched.")
    same_problem: float | None = Field(
        None, ge=0, le=1, description="Probability that this incident shares the query's mechanism."
    )


class SeenBefore(BaseModel):
    verdict: Verdict
    confidence: float = Field(ge=0, le=1, description="Probability that the top match is the same problem.")
    incident_id: str | None = Field(None, description="The incident the verdict is about (the top match).")
    reason: str = Field("", description="One line a user reads: why yes, maybe or no.")


class SimilarResult(BaseModel):
    id: str | None = None
    query: str
    matches: list[Match]
    seen_before: SeenBefore
