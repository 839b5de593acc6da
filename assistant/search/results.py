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
    contradiction_rules: list[str] = Field(
        default_factory=list, description="The rule behind each contradiction (facet and direction)."
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
    fix: str | None = Field(None, description="What fixed it (the label's first resolution step).")
    outcome: str | None = Field(
        None, description="Whether the fix held: the label's resolution.outcome, else what was checked."
    )
    started: str | None = Field(None, description="When it happened (the label's timestamp).")
    draft: bool = Field(
        False,
        description='An unreviewed draft label (metadata.review "draft"): check it before relying on it.',
    )


Level = Literal["kind", "incident"]


class Occurrence(BaseModel):
    """One past incident of a kind of problem: when, what fixed it, and whether that held."""

    id: str
    title: str
    started: str | None = Field(None, description="When it started (the label's timestamp).")
    fix: str | None = Field(None, description="What fixed it: the label's first resolution step.")
    outcome: str | None = Field(None, description="Whether the fix held: the label's outcome or checks.")


class KnownKind(BaseModel):
    """The kind of problem a "yes" is about, with how often the index has seen it."""

    category: str | None
    subtype: str
    incidents: int = Field(description="Incidents of this subtype in the index.")
    matched: list[str] = Field(description="The matches of this subtype, best first.")
    last_seen: str | None = Field(None, description="Latest timestamp among the incidents of this subtype.")
    last_fix: str | None = Field(None, description="What fixed the latest matched incident of this kind.")
    last_30_days: int = Field(0, description="Incidents of this subtype that started in the last 30 days.")
    last_365_days: int = Field(0, description="Incidents of this subtype that started in the last year.")
    recent: list[Occurrence] = Field(
        [], description="The latest incidents of this subtype (up to 3), newest first, with fix and outcome."
    )
    confirmed: int = Field(
        0, description='Answers about this subtype on-call marked "This helped": it happened again.'
    )
    confirmed_30_days: int = Field(0, description="Of those, marked in the last 30 days.")
    last_confirmed: str | None = Field(None, description="When the latest of those was marked.")


class Family(BaseModel):
    """A kind of problem that recurred in a window: how often, when, what fixed it each time."""

    category: str | None
    subtype: str
    incidents: int = Field(description="Incidents of this subtype that started in the window.")
    total: int = Field(description="Incidents of this subtype in the index, any date.")
    first: str | None = Field(None, description="The earliest start in the window.")
    last: str | None = Field(None, description="The latest start in the window.")
    occurrences: list[Occurrence] = Field(description="The incidents in the window, newest first.")
    confirmed: int = Field(0, description='Answers about it marked "This helped" in the window.')
    last_confirmed: str | None = Field(None, description="When the latest of those was marked.")


class History(BaseModel):
    """The problem families that recurred between ``since`` and ``until``."""

    since: str
    until: str
    min_count: int = Field(description="Incidents in the window a family needs to be listed.")
    families: list[Family]


class SeenBefore(BaseModel):
    verdict: Verdict
    confidence: float = Field(ge=0, le=1, description="Probability that the top match is the same problem.")
    incident_id: str | None = Field(None, description="The incident the verdict is about (the top match).")
    reason: str = Field("", description="One line a user reads: why yes, maybe or no.")
    level: Level | None = Field(
        None,
        description='What a yes means: "kind" (this kind of problem is known) or "incident" (it looks like '
        "the same incident as incident_id); null for maybe and no.",
    )
    kind: KnownKind | None = Field(None, description="The top match's kind of problem and its history.")


class SimilarResult(BaseModel):
    id: str | None = None
    query: str
    matches: list[Match]
    seen_before: SeenBefore
