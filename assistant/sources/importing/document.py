"""What every importer reads a source into: a title, sections with a canonical key, and their blocks.

Post-mortem templates name the same parts differently (Google SRE "Root Causes" and "Trigger",
PagerDuty "What Happened" and "Contributing Factors", Atlassian "Fault", "Five whys" and "Corrective
actions"); ``section_key`` maps a heading to one of ``SECTION_KEYS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["para", "item", "row", "code"]

# Ordered: the first key with a phrase found (as whole words) in a heading wins, so "what went wrong"
# is a lesson, "contributing causes" not a root cause, "remediation items" action items.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "lessons",
        (
            "lessons learned",
            "lessons",
            "learnings",
            "takeaways",
            "what went well",
            "what went wrong",
            "what didn't go well",
            "what did not go well",
            "where we got lucky",
            "how'd we do",
            "how did we do",
        ),
    ),
    (
        "action_items",
        (
            "action items",
            "action item",
            "follow-up",
            "follow-ups",
            "follow up",
            "followup",
            "corrective actions",
            "corrective action",
            "preventive actions",
            "preventative actions",
            "remediation items",
            "next steps",
            "action plan",
            "backlog check",
            "prevention",
            "future work",
        ),
    ),
    ("contributing_factors", ("contributing factors", "contributing factor", "contributing causes")),
    ("five_whys", ("five whys", "5 whys")),
    (
        "root_cause",
        (
            "root cause",
            "root causes",
            "cause",
            "causes",
            "fault",
            "technical details",
            "analysis",
            "why it happened",
            "what caused",
        ),
    ),
    ("trigger", ("trigger", "triggers")),
    ("timeline", ("timeline", "chronology", "sequence of events", "event log")),
    (
        "detection",
        (
            "detection",
            "how was it detected",
            "how we found out",
            "discovery",
            "symptoms",
            "first signs",
            "what we saw",
            "observed behavior",
            "observed behaviour",
        ),
    ),
    ("impact", ("impact", "customer impact", "user impact", "business impact", "blast radius", "scope")),
    (
        "resolution",
        (
            "resolution",
            "mitigation",
            "mitigations",
            "remediation",
            "recovery",
            "how we fixed it",
            "fix",
            "the fix",
            "response",
            "immediate actions",
            "actions taken",
            "workaround",
        ),
    ),
    (
        "summary",
        (
            "summary",
            "executive summary",
            "overview",
            "tl;dr",
            "tldr",
            "description",
            "what happened",
            "abstract",
        ),
    ),
    ("context", ("background", "leadup", "lead-up", "lead up", "context", "system overview")),
    (
        "environment",
        (
            "environment",
            "affected systems",
            "systems affected",
            "affected services",
            "services affected",
            "affected components",
            "kubernetes version",
            "cloud provider",
        ),
    ),
    ("metrics", ("metrics", "key metrics", "by the numbers")),
    ("links", ("references", "links", "related", "supporting information", "appendix")),
    ("other", ("responders", "participants", "people", "authors", "owners", "status")),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)


def normalise_heading(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"\(.*?\)", " ", text)  # "Timeline (UTC)"
    text = re.sub(r"^[\s#*_>\-]*(?:\d+[.)]|[ivx]+\.)?\s*", "", text)  # numbering
    text = re.sub(r"[\s:?.!*_]+$", "", text)
    return re.sub(r"\s+", " ", text).strip()


def section_key(heading: str, extra: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> str | None:
    """The canonical key of a heading, or None when it names none of the known sections."""
    text = normalise_heading(heading)
    if not text or len(text) > 60:
        return None
    for key, phrases in (*extra, *SECTIONS):
        for phrase in phrases:
            if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text):
                return key
    return None


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    cells: tuple[str, ...] = ()


@dataclass
class Section:
    heading: str
    level: int
    key: str | None
    blocks: list[Block] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Each block as one line of text (table rows joined with " — ")."""
        out = []
        for block in self.blocks:
            text = " — ".join(c for c in block.cells if c) if block.kind == "row" else block.text
            if text.strip():
                out.append(text.strip())
        return out


@dataclass
class Document:
    """A post-mortem or issue thread, read for its structure."""

    source: str
    kind: str
    title: str | None = None
    sections: list[Section] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    """``Key: value`` lines such as ``Date:``, ``Severity:``, ``Services:`` (lower-case keys)."""
    links: list[str] = field(default_factory=list)
    created_at: str | None = None
    labels: list[str] = field(default_factory=list)
    """Labels/tags the source itself carries (GitHub issue labels)."""

    def lines(self, key: str) -> list[str]:
        return [line for s in self.sections if s.key == key for line in s.lines()]

    def text(self, key: str) -> str:
        return "\n".join(self.lines(key))

    def has(self, key: str) -> bool:
        return any(s.key == key and s.blocks for s in self.sections)

    def full_text(self) -> str:
        parts = [self.title or ""]
        for s in self.sections:
            parts.append(s.heading)
            parts.extend(s.lines())
        return "\n".join(p for p in parts if p)
