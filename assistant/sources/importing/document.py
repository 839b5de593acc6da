"""What every importer reads a source into: a title, sections with a canonical key, and their blocks.

Post-mortem templates name the same parts differently (Google SRE "Root Causes" and "Trigger",
PagerDuty "What Happened" and "Contributing Factors", Atlassian "Fault", "Five whys" and "Corrective
actions"); ``section_key`` maps a heading to one of ``SECTION_KEYS``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["para", "item", "row", "code", "header"]
"""``header``: a table's header row (its column names, such as "Time (UTC)"), kept out of ``lines()``."""

# The phrase found first in a heading wins (the longest when two start together), so "analyzing what
# went wrong" is analysis, "contributing causes" not a root cause, "remediation items" action items.
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
            "future measures",
            "review actions",
            "improvements",
            "actions",
            "long-term fixes",
            "long term fixes",
            "what we will do",
            "what we'll do",
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
            "why it happened",
            "what caused",
        ),
    ),
    (
        "analysis",
        (
            "analysis",
            "analyzing",
            "analysing",
            "investigation",
            "conclusions",
            "conclusion",
            "technical details",
        ),
    ),
    ("trigger", ("trigger", "triggers")),
    ("timeline", ("timeline", "chronology", "sequence of events", "event log", "key events")),
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
            "action taken",
            "workaround",
            "restoration",
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


# A heading asking a yes/no question ("Were we alerted quickly?", "Did the rollback work?").
_YES_NO = re.compile(r"^(?:were|was|did|do|does|is|are|could|can|should|would|have|has|had)\s", re.IGNORECASE)


def is_retro_question(heading: str) -> bool:
    """A heading that asks a yes/no question of the response: a lesson, whatever words it holds."""
    return bool(_YES_NO.match(normalise_heading(heading))) and heading.rstrip().endswith("?")


def section_key(heading: str, extra: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> str | None:
    """The canonical key of a heading, or None when it names none of the known sections. The phrase
    that starts first in the heading wins, the longest of those that start together; ``extra``
    (a source's own sections) wins ties."""
    text = normalise_heading(heading)
    if not text or len(text) > 60:
        return None
    best: tuple[int, int, int] | None = None
    key_of: dict[int, str] = {}
    for order, (key, phrases) in enumerate((*extra, *SECTIONS)):
        key_of[order] = key
        for phrase in phrases:
            m = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
            if m and (best is None or (m.start(), -len(phrase), order) < best):
                best = (m.start(), -len(phrase), order)
    return None if best is None else key_of[best[2]]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    cells: tuple[str, ...] = ()
    quoted: bool = False
    """Inside a block quote: someone else's words (a pasted chat, a note), not the report's own."""


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
            if block.kind == "header":
                continue
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
    """Labels/tags the source itself carries (GitHub issue labels, a page's front-matter tags)."""
    content_hash: str | None = None
    """``content_hash`` of the file's text: the same document under another name or link has the same."""

    def lines(self, key: str) -> list[str]:
        return [line for s in self.sections if s.key == key for line in s.lines()]

    def text(self, key: str) -> str:
        return "\n".join(self.lines(key))

    def has(self, key: str) -> bool:
        return any(s.key == key and s.blocks for s in self.sections)

    def prose_text(self) -> str:
        """The title, headings and text, without code blocks (pasted logs, commands, output)."""
        parts = [self.title or ""]
        for s in self.sections:
            parts.append(s.heading)
            parts.extend(b.text for b in s.blocks if b.kind in ("para", "item"))
            parts.extend(" — ".join(c for c in b.cells if c) for b in s.blocks if b.kind == "row")
        return "\n".join(p for p in parts if p)

    def full_text(self) -> str:
        parts = [self.title or ""]
        for s in self.sections:
            parts.append(s.heading)
            parts.extend(s.lines())
        return "\n".join(p for p in parts if p)


_MARKUP = re.compile(r"[\W_]+")


def content_hash(text: str) -> str:
    """A hash of what a text says, not how it is laid out: Unicode-normalised, case-folded, and with
    markup, punctuation and whitespace dropped, so a copy re-saved with other line endings, another
    indentation or Markdown emphasis hashes the same. ``sha256:`` followed by hex digits."""
    words = _MARKUP.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split()
    return "sha256:" + hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
