"""What a diagnosis returns: hypotheses, resolutions, checked citations. Its JSON is a public interface:
keep it stable."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.search.results import Match, SeenBefore


class Hypothesis(BaseModel):
    cause: str = Field(description="A root cause, as the cited incidents' own analysis states it.")
    confidence: float = Field(
        ge=0,
        le=1,
        description=(
            "Extractive answer: estimated probability that this is the cause, i.e. that the problem is a "
            "repeat of one of the cited incidents: the seen-before confidence shared among the matches "
            "by fused retrieval score, summed over the incidents with this cause. Hypotheses are sorted "
            "by it and their confidences add up to at most the seen-before confidence. A model's answer: the "
            "model's own figure, unchecked."
        ),
    )
    incident_ids: list[str] = Field(
        description="Retrieved incidents whose own analysis states this cause (each checked)."
    )


class Resolution(BaseModel):
    incident_id: str
    action: str = Field(description="What resolved that incident.")


class UnsupportedCitation(BaseModel):
    incident_id: str
    field: str = Field(description="Where the claim was: `hypotheses[0]`, `summary`, `resolutions[1]`...")
    claim: str
    support: float = Field(description="Share of the claim's content words found in the incident's passages.")


class QuotedCommand(BaseModel):
    command: str
    field: str = Field(description="Where the command is: `resolutions[0]`, `evidence_to_check[2]`...")
    incident_id: str | None = Field(description="The incident cited beside it.")
    quoted: bool = Field(description="True when that incident's label holds the command: quoted from it.")
    risks: list[Literal["destructive", "outbound"]] = Field(
        description="destructive: deletes or overwrites data; outbound: talks to a host outside the cluster."
    )


class Diagnosis(BaseModel):
    """A grounded answer: every incident id it cites is one of ``matches``."""

    query: str
    seen_before: SeenBefore
    hypotheses: list[Hypothesis] = Field(description="Likely causes, most likely first.")
    evidence_to_check: list[str] = Field(description="Metrics, commands and logs that confirm or rule out.")
    next_steps: list[str]
    resolutions: list[Resolution] = Field(description="What resolved the similar incidents.")
    summary: str = Field(description="The answer text, with citations like [incident-id].")
    citations: list[str] = Field(description="Valid cited incident ids, in order of first citation.")
    invalid_citations: list[str] = Field(description="Cited ids that were not retrieved; removed.")
    backend: str = Field(description="The backend that wrote this answer.")
    fallback_reason: str | None = Field(
        None, description="Why the configured backend's answer was replaced by the extractive one."
    )
    matches: list[Match]
    unsupported_citations: list[UnsupportedCitation] = Field(
        default_factory=list,
        description="(claim, incident) pairs removed: that incident's passages do not state the claim.",
    )
    commands: list[QuotedCommand] = Field(
        default_factory=list, description="Commands in the answer, marked when quoted and flagged when risky."
    )
    warnings: list[str] = Field(
        default_factory=list, description="Parts left out because they read like instructions, and why."
    )
