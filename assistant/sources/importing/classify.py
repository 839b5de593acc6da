"""The taxonomy cell of a document: its category, and its subtype when the text says which.

Each subtype scores the taxonomy's keywords and the importer's cue phrases (``cues``) found in the
document, weighted by where they stand: the drafted root cause and the title most, then the root-cause
section, analysis and summary, the story least. Pasted logs and commands (code blocks, inline code of
more than one word) and quoted chat count little or nothing, and a negated mention ("not a DNS
problem", "disk space was ruled out as the cause") not at all. The boundary rules of labels/README.md
that a text can decide are applied: a database's own disk is ``storage_io``, any other disk
``io_bottleneck``; running out of memory without growth over time is ``memory_management``.

The category is the one whose subtypes and category cues score most, so a document can get a clear
category ("a networking issue") while its subtype stays open for the reviewer.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.corpus.taxonomy import Taxonomy, norm_tag
from assistant.sources.importing.cues import (
    CATEGORY_CUE_WEIGHT,
    CATEGORY_CUES,
    DATABASE,
    DISK_OF,
    GC_PAUSES,
    GROWTH,
    MEMORY,
    OTHER_SENSE,
    SUBTYPE_CUES,
)
from assistant.sources.importing.document import Document

# How much a section's words count towards the cell: the cause counts most, the story least.
SECTION_WEIGHTS = {
    "root_cause": 3.0,
    "trigger": 2.0,
    "analysis": 2.0,
    "five_whys": 2.0,
    "contributing_factors": 1.5,
    "summary": 1.5,
    "detection": 1.0,
    "impact": 0.8,
    "resolution": 1.0,
    "action_items": 0.5,
    "timeline": 0.6,
    "lessons": 0.4,
    "discussion": 0.4,
    "links": 0.1,
}
OTHER_WEIGHT = 0.4
TITLE_WEIGHT = 3.0
CAUSE_WEIGHT = 4.0
QUOTED_WEIGHT = 0.3
MAX_HITS = 3
SUBTYPE_SHARE = 0.5
"""A subtype is drafted when it holds at least this share of its category's evidence."""
MIN_SCORE = 2.0
"""Less evidence than this for the top category drafts no cell."""
_WINDOW = 120
_REACH = 200  # how far a clause is looked at around a mention (keeps reading linear)

_INLINE_CODE = re.compile(r"`([^`\n]{1,300})`")
_BOUNDARY = re.compile(r"[.;!?\n]")
_NEG_SENTENCE = re.compile(
    r"\bruled\sout\b|\bnot\sthe\s(?:\w+\s)?(?:cause|problem|issue)\b|\bunrelated\b|\bred\sherring\b",
    re.IGNORECASE,
)
_FINE = re.compile(
    r"\b(?:was|were|is|are|looked|looks|seems?|seemed)\s(?:both\s|all\s)?(?:fine|ok|okay|valid|healthy|normal)\b",
    re.IGNORECASE,
)
_PHRASE_BOUNDARY = re.compile(r"[,;:.!?\n()]")
_NOT_BEFORE = re.compile(r"\bnot\s(?:a\s|an\s|the\s)?$", re.IGNORECASE)
_NO_BEFORE = re.compile(r"\b(?:no|never|nor|isn't|wasn't|aren't|weren't|without)\s(?:\w+\s)?$", re.IGNORECASE)
_PROBLEM_AFTER = re.compile(r"^\s?(?:problems?|issues?|faults?|errors?|causes?|related|involved)\b", re.I)


@dataclass(frozen=True)
class Inference:
    subtype: str | None
    category: str | None
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    """The words that pointed at the chosen subtype."""
    category_confidence: float = 0.0


def _without_commands(text: str) -> str:
    """``text`` with inline code of more than one word (a pasted command or log line) left out."""
    return _INLINE_CODE.sub(lambda m: " " if " " in m.group(1).strip() else m.group(1), text)


def weighted_texts(doc: Document, *, cause: str | None = None) -> list[tuple[str, float]]:
    """The document's prose as (lower-cased text, weight) pairs; code blocks left out."""
    out = [((doc.title or "").lower(), TITLE_WEIGHT)]
    if cause:
        out.append((cause.lower(), CAUSE_WEIGHT))
    for section in doc.sections:
        weight = SECTION_WEIGHTS.get(section.key or "", OTHER_WEIGHT)
        own: list[str] = []
        quoted: list[str] = []
        for block in section.blocks:
            if block.kind in ("code", "header"):
                continue
            text = " — ".join(block.cells) if block.kind == "row" else block.text
            (quoted if block.quoted else own).append(_without_commands(text))
        out.append(("\n".join([section.heading, *own]).lower(), weight))
        if quoted:
            out.append(("\n".join(quoted).lower(), weight * QUOTED_WEIGHT))
    return [(text, weight) for text, weight in out if text.strip()]


@lru_cache(maxsize=4096)
def _phrase(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words; a phrase of several words also in the plural ("health checks")."""
    plural = "(?:s|es)?" if " " in phrase else ""
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}{plural}(?![\w-])")


def _span(text: str, start: int, end: int, boundary: re.Pattern[str]) -> str:
    """The stretch of ``text`` around ``text[start:end]`` between two ``boundary`` characters."""
    floor = max(0, start - _REACH)
    left = max((m.end() for m in boundary.finditer(text, floor, start)), default=floor)
    right = boundary.search(text, end, end + _REACH)
    return text[left : right.start() if right else min(len(text), end + _REACH)]


def _negated(text: str, start: int, end: int) -> bool:
    """Whether the mention at ``text[start:end]`` is denied: its sentence rules it out, the phrase it
    stands in calls it fine, or "not" / "no ... problem" frames it."""
    if _NEG_SENTENCE.search(_span(text, start, end, _BOUNDARY)):
        return True
    if _FINE.search(_span(text, start, end, _PHRASE_BOUNDARY)):
        return True
    before = text[max(0, start - 30) : start]
    before = before[max((m.end() for m in _BOUNDARY.finditer(before)), default=0) :]
    return bool(_NOT_BEFORE.search(before)) or (
        bool(_NO_BEFORE.search(before)) and bool(_PROBLEM_AFTER.match(text[end : end + 20]))
    )


def mentions(text: str, phrase: str) -> list[tuple[int, int]]:
    """Where ``phrase`` stands in ``text`` as whole words, in the sense meant, and not denied."""
    if phrase not in text:  # most phrases are in no text: skip the regex
        return []
    sense = OTHER_SENSE.get(phrase)
    return [
        (m.start(), m.end())
        for m in _phrase(phrase).finditer(text)
        if not _negated(text, m.start(), m.end())
        and not (sense and sense.search(text[max(0, m.start() - 20) : m.start()]))
    ]


@dataclass
class _Tally:
    scores: dict[str, float] = field(default_factory=dict)
    hits: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, name: str, amount: float, word: str, n: int) -> None:
        self.scores[name] = self.scores.get(name, 0.0) + amount
        self.hits.setdefault(name, Counter())[word] += n


def _keywords(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """(subtype, phrase) for every keyword of the taxonomy and every cue of a built-in subtype."""
    pairs = [(sub.name, k) for sub in taxonomy.subtypes.values() for k in sub.keywords]
    pairs += [
        (name, k)
        for name, cues in SUBTYPE_CUES.items()
        if name in taxonomy.subtypes and taxonomy.subtypes[name].builtin
        for k in cues
    ]
    return list(dict.fromkeys(pairs))


def _score_subtypes(texts: list[tuple[str, float]], taxonomy: Taxonomy) -> _Tally:
    tally = _Tally()
    for name, keyword in _keywords(taxonomy):
        bonus = 1.5 if " " in keyword or "-" in keyword else 1.0
        for text, weight in texts:
            found = mentions(text, keyword)[:MAX_HITS]
            for start, end in found:
                target = name
                if name in DISK_OF and DATABASE.search(text[max(0, start - _WINDOW) : end + _WINDOW]):
                    target = DISK_OF[name]
                if target in taxonomy.subtypes:
                    tally.add(target, weight * bonus, keyword, 1)
    return tally


def _apply_memory_rule(tally: _Tally, doc: Document, taxonomy: Taxonomy) -> None:
    """Memory that grows with time or traffic is a leak; running out of it without growth (a limit
    below the working set, one large allocation) is memory management; GC pauses stay management."""
    names = ("memory_leak", "memory_management")
    if not any(n in tally.scores for n in names) or not all(n in taxonomy.subtypes for n in names):
        return
    prose = doc.prose_text()
    grows = any(MEMORY.search(s) and GROWTH.search(s) for s in re.split(r"(?<=[.!?;])\s+", prose))
    source, target = ("memory_management", "memory_leak") if grows else ("memory_leak", "memory_management")
    if source in tally.scores and not (grows and GC_PAUSES.search(prose)):
        tally.scores[target] = tally.scores.get(target, 0.0) + tally.scores.pop(source)
        tally.hits.setdefault(target, Counter()).update(tally.hits.pop(source, Counter()))


def _category_scores(tally: _Tally, texts: list[tuple[str, float]], taxonomy: Taxonomy) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, score in tally.scores.items():
        category = taxonomy.category_of(name)
        if category:
            out[category] = out.get(category, 0.0) + score
    for category, cues in CATEGORY_CUES.items():
        if category not in taxonomy.categories:
            continue
        for cue, (text, weight) in itertools.product(cues, texts):
            n = len(mentions(text, cue)[:MAX_HITS])
            if n:
                out[category] = out.get(category, 0.0) + n * weight * CATEGORY_CUE_WEIGHT
    return out


def _damped(share: float, score: float) -> float:
    return round(share * (1 - math.exp(-score / 6)), 2)


def infer_subtype(doc: Document, taxonomy: Taxonomy, *, cause: str | None = None) -> Inference:
    """The document's category and subtype (see the module docstring). ``cause``: the drafted root
    cause, which weighs most. ``confidence`` is the subtype's share of all subtype evidence, damped
    when the evidence is thin (a ranking signal, not a calibrated probability)."""
    texts = weighted_texts(doc, cause=cause)
    tally = _score_subtypes(texts, taxonomy)
    _apply_memory_rule(tally, doc, taxonomy)
    by_rule = taxonomy.infer_from_tags({norm_tag(t) for t in doc.labels})
    if by_rule:
        tally.add(by_rule, 4.0, f"tag {by_rule}", 1)
    categories = _category_scores(tally, texts, taxonomy)
    if not categories or max(categories.values()) < MIN_SCORE:
        return Inference(subtype=None, category=None, confidence=0.0)
    category, cat_score = max(categories.items(), key=lambda kv: kv[1])
    ranked = sorted(tally.scores.items(), key=lambda kv: -kv[1])
    total = sum(tally.scores.values()) or 1.0
    inside = [(n, s) for n, s in ranked if taxonomy.category_of(n) == category]
    top, top_score = inside[0] if inside else (None, 0.0)
    share_inside = top_score / (sum(s for _, s in inside) or 1.0)
    subtype = top if top and share_inside >= SUBTYPE_SHARE else None
    return Inference(
        subtype=subtype,
        category=category,
        confidence=_damped(top_score / total, top_score) if subtype else 0.0,
        alternatives=[(n, round(s / total, 2)) for n, s in ranked if n != subtype][:3],
        keywords=[k for k, _ in tally.hits.get(top or "", Counter()).most_common(6)],
        category_confidence=_damped(cat_score / sum(categories.values()), cat_score),
    )
