"""The root cause a document states, chosen by what its sentences say, not where they stand.

Every sentence outside code, action items and references is a candidate, scored by the cue it carries
(an explicit "the root cause was", "caused by"; a causal connective such as "due to", "because",
"resulted in", "led to"; a resource running out) times how much its section speaks for the cause (a
root-cause section most, then analysis, the summary and lead, the timeline; quoted chat and lessons
least). A root-cause section's own sentences count without a cue: the section says they are the cause.
A cue a reader would not take as the cause does not count: negated ("ruled out as the cause"), the
reason for noticing or deciding ("noticed because", "decided ... because"), a question.

The chosen sentence takes the list its lead-in announces ("the outage had three causes:"), the sentence
it points back to ("The outage was caused by that bug"), and the sentences after it that continue the
chain ("Consequently, ..."); in a root-cause section, its other causal sentences too. A document that
says the cause is unknown gets "Unknown: <what it says>", with what it suspects; a hedged cause
("we suspect", "probably", "might") is drafted as "Suspected: ...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.sources.importing.document import Document, Section
from assistant.sources.importing.markdown import TIME_LED
from assistant.sources.importing.sentences import sentences, shorten
from assistant.sources.importing.when import find_clock

MAX_CAUSE = 600
MAX_SENTENCES = 3
MAX_LIST = 8
SHORT_SENTENCE = 6  # words: a sentence this short leans on the one before it ("It turned out it did.")
HEDGED = 0.8
QUOTED = 0.5
WEAK = 1.5
"""A cue this weak ("thus", ", so") in a hedged sentence is not a cause statement."""

# How much a section speaks for the cause.
SECTION_WEIGHT: dict[str | None, float] = {
    "root_cause": 3.0,
    "five_whys": 2.0,
    "analysis": 2.0,
    "summary": 1.5,
    "trigger": 1.2,
    "timeline": 1.2,
    "resolution": 0.8,
    None: 0.8,
    "contributing_factors": 0.6,
    "lessons": 0.6,
    "discussion": 0.6,
    "detection": 0.5,
    "impact": 0.5,
    "context": 0.5,
    "other": 0.3,
}
# Sections whose sentences state the cause even without a cue word.
STATES_CAUSE = frozenset({"root_cause", "five_whys", "trigger"})
SKIPPED = frozenset({"action_items", "links", "environment", "metrics", "reproduction"})

_ROOT = r"root[\s-]causes?"
CUES: tuple[tuple[float, re.Pattern[str]], ...] = tuple(
    (strength, re.compile(pattern, re.IGNORECASE))
    for strength, pattern in (
        (
            4.0,
            rf"\b{_ROOT}\s(?:is|was|were|are|appears|seems|might|may|could|of\s[^.]{{0,60}}?\s(?:is|was))\b",
        ),
        (4.0, rf"\b{_ROOT}(?:\s(?:identified|found))?\s?:\s"),
        (
            4.0,
            r"\b(?:is|was|are|were)\s(?:believed\sto\sbe\s|thought\sto\sbe\s)?the\s(?:\w+\s)?(?:root\s)?cause\b",
        ),
        (4.0, r"\bto\sbe\sthe\s(?:\w+\s)?cause\b"),
        (
            4.0,
            r"\bthe\s(?:ultimate|underlying|real|main|primary|actual|direct|proximate|original)\s(?:root\s)?cause\b",
        ),
        (4.0, r"\bcaused\sby\b|\b(?:was|were)\scaused\b"),
        (
            4.0,
            r"\bthe\s(?:problem|issue|cause|culprit|reason)\s(?:was|is|here\swas)\s"
            r"(?:that|a|an|the|caused|due|in|with|our|their|its|this|these|those|how|what|not\s(?:the|a|an))\b",
        ),
        (4.0, r"\bthis\sis\sthe\sproblem\b|\bturn(?:s|ed)\sout\b|\b(?:had|has|have)\s(?:\w+\s)?causes\b"),
        (3.0, r"\bdue\sto\b|\bbecause\b|\bresult(?:ed|s)?\s(?:in|from)\b|\bas\sa\sresult\sof\b"),
        (3.0, r"\btriggered\sby\b"),
        (2.5, r"\bcaused\b|\bcauses\b|\b(?:would|will|to|can|could|did)\scause\b"),
        (2.5, r"\b(?:led|lead|leads|leading)\sto\b(?!\s(?:the\s)?conclusions?)"),
        (2.5, r"\bwhich\s(?:broke|made|meant|caused|led)\b"),
        (2.5, r"\b(?:ran|run|runs|running|is|was|were|are)\sout\sof\b|\bexhaust(?:ed|ion|ing)?\b"),
        (2.5, r"\bno\s(?:available\s)?(?:disk\s)?(?:space|memory)\s(?:left|available|was\sleft)\b"),
        (
            2.5,
            r"\b(?:reached|hit|hitting|exceeded)\s(?:the|its|our|their)\s(?:\w+\s){0,2}?(?:limit|quota|capacity|maximum)\b",
        ),
        (3.0, r"\bidentified\sas\b|\bculprit\b"),
        (3.0, r"\bsuspect(?:ed|s)?\s(?:that\s)?(?:it|this|the\s\w+)\s(?:was|is|were|to\sbe)\b"),
        (2.5, r"\bsaturat(?:ed|ing|ion)\b|\bused\sup\sall\b|\bconcluded\b"),
        (2.5, r"\bexplains\b|\bexplained\sby\b"),
        (
            2.5,
            r"\bsince\s(?:the|it|its|they|their|there|we|our)\s(?:\w+\s){0,2}?(?:had|was|were|has|did|could)\b",
        ),
        (1.5, r"\bcausing\b|\btriggering\b|\btriggered\b|\bthus\b|\bhence\b|\btherefore\b|\bconsequently\b"),
        (1.5, r",\sso\s|\bthis\smeant\b|,\sas\s(?:the|a|an|our|it|there|we)\b|\bcontributed\sto\b"),
    )
)
NEGATED = re.compile(
    r"\bruled\sout\b|\bnot\s(?:the\s(?:\w+\s)?cause|caused\sby|related)\b|\bunrelated\b|\bred\sherring\b|"
    r"\b(?:did|does|was|were|is)(?:\s|n't\s)not\scause\b|\bwasn't\s(?:the\s)?cause",
    re.IGNORECASE,
)
# A "because" that gives the reason someone noticed or decided something, not why the incident happened;
# work on the root cause ("investigation into root cause"), not a statement of it.
_NOT_A_CAUSE = re.compile(
    r"\b(?:decid\w*|chose|choose|opted|agreed|plann?\w*|want\w*|notic\w*|detect\w*|spotted|alerted|"
    r"found|discovered|paged)\b[^.;]{0,60}?\bbecause\b|"
    r"\b(?:investigat\w*|look\w*|work|dig\w*|research\w*)\s(?:\w+\s){0,2}?(?:into|of|on|for|at)\s(?:the\s)?"
    r"root[\s-]causes?",
    re.IGNORECASE,
)
HEDGE = re.compile(
    r"\b(?:suspect\w*|probabl[ey]|possibl[ey]|might|may\shave|perhaps|likely|believed?|seem(?:s|ed)?\sto|"
    r"appears?\sto|we\sthink|presumably|hypothes\w*|theory|best\sguess|could\shave)\b",
    re.IGNORECASE,
)
_NOT_FOUND = r"(?:known|clear|identified|determined|understood|found)"
UNKNOWN = re.compile(
    rf"\b(?:{_ROOT}|cause)\s(?:is|was|remains|remained|has|have)\s(?:still\s|yet\s|so\sfar\s)?"
    rf"(?:unknown|unclear|undetermined|been\s(?:unknown|unclear)|not\s(?:yet\s)?(?:been\s)?{_NOT_FOUND})"
    rf"|\b(?:{_ROOT}|cause)\s(?:isn't|wasn't|hasn't|haven't)\s(?:yet\s)?(?:been\s)?{_NOT_FOUND}"
    r"|\b(?:have|has|had|did|could|were|was)(?:\snot|n't)\s(?:yet\s)?(?:been\sable\sto\s)?"
    rf"(?:find|found|identify|identified|determine|determined)\s(?:the\s|a\s|any\s)?(?:{_ROOT}|cause)"
    r"|\bunable\sto\s(?:debug|determine\sthe\scause|find\sthe\scause|identify\sthe\scause)"
    rf"|\bno\s{_ROOT}\s(?:was\s|has\sbeen\s)?(?:found|identified|determined)",
    re.IGNORECASE,
)
_CONTINUES = re.compile(
    r"^(?:consequently|as\sa\sresult|therefore|thus|hence|so|and|also|this\s(?:caused|led|meant|made|"
    r"resulted|in\sturn)|which|in\sturn)\b",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(
    r"\b(?:that|this|the\sabove|these|those)\s(?:bug|issue|problem|change|behaviou?r|error|mistake|"
    r"failure|fault)\b",
    re.IGNORECASE,
)
_AFTER_TIME = re.compile(r"^\s?(?:(?i:[ap]\.?m\.?)|[A-Z]{2,4}\b)?[\]):\s–—|-]*")


@dataclass(frozen=True)
class Sentence:
    text: str
    key: str | None
    section: int
    block: int
    index: int
    cue: float
    quoted: bool

    @property
    def hedged(self) -> bool:
        return bool(HEDGE.search(self.text))

    def score(self) -> float:
        weight = SECTION_WEIGHT.get(self.key, 0.8)
        if self.cue == 0 and self.key not in STATES_CAUSE:
            return 0.0
        value = weight * (1 + self.cue)
        if self.hedged:
            value *= HEDGED
        if self.quoted:
            value *= QUOTED
        return value


def cue_of(sentence: str) -> float:
    """The strength of the strongest cause cue in ``sentence`` (0: none, or one that does not count:
    a question, a negated cause, a statement that the cause is unknown, a hedged weak connective)."""
    if sentence.rstrip().endswith("?") or NEGATED.search(sentence) or UNKNOWN.search(sentence):
        return 0.0
    text = _NOT_A_CAUSE.sub(" ", sentence)
    cue = max((strength for strength, pattern in CUES if pattern.search(text)), default=0.0)
    return 0.0 if cue <= WEAK and HEDGE.search(sentence) else cue


def _clean(text: str, key: str | None) -> str:
    """A timeline line without the time it opens with."""
    if key == "timeline" and TIME_LED.match(text) and (clock := find_clock(text)):
        rest = text[clock.end :]
        after = _AFTER_TIME.match(rest)
        return rest[after.end() if after else 0 :].strip()
    return text.strip()


def candidates(doc: Document) -> list[Sentence]:
    """Every sentence of the document that could state the cause, in document order."""
    out: list[Sentence] = []
    for si, section in enumerate(doc.sections):
        if section.key in SKIPPED:
            continue
        for bi, block in enumerate(section.blocks):
            if block.kind in ("code", "header"):
                continue
            text = " — ".join(c for c in block.cells if c) if block.kind == "row" else block.text
            for n, sentence in enumerate(sentences(_clean(text, section.key))):
                if len(sentence) < 12:
                    continue
                out.append(Sentence(sentence, section.key, si, bi, n, cue_of(sentence), block.quoted))
    return out


def _list_after(section: Section, block: int) -> list[str]:
    """The list items right after ``block`` (the list a lead-in sentence announces)."""
    items: list[str] = []
    for b in section.blocks[block + 1 :]:
        if b.kind != "item" or len(items) >= MAX_LIST:
            break
        items.append(b.text.strip().rstrip("."))
    return items


def _with_context(best: Sentence, pool: list[Sentence], doc: Document) -> str:
    """The chosen sentence with what it needs to be read alone (see the module docstring)."""
    same = [s for s in pool if s.section == best.section]
    before = [s for s in same if (s.block, s.index) < (best.block, best.index)]
    after = [s for s in same if (s.block, s.index) > (best.block, best.index)]
    parts = [best.text]
    if (
        before
        and before[-1].block == best.block
        and (len(best.text.split()) <= SHORT_SENTENCE or _POINTS_BACK.search(best.text))
    ):
        parts.insert(0, before[-1].text)
    if best.text.rstrip().endswith(":") and (items := _list_after(doc.sections[best.section], best.block)):
        return shorten(f"{' '.join(parts)} {'; '.join(items)}.", MAX_CAUSE)
    if best.key == "root_cause":  # the section's causal sentences, in its order
        causal = [s for s in same if s.cue > 0 and not s.hedged and s is not best]
        ordered = sorted([best, *causal][:MAX_SENTENCES], key=lambda s: (s.block, s.index))
        parts = list(dict.fromkeys([*parts[:-1], *(s.text for s in ordered)]))
        return shorten(" ".join(parts), MAX_CAUSE)
    for s in after:
        if len(parts) >= MAX_SENTENCES or not (
            s.block == best.block and (s.cue > 0 or _CONTINUES.match(s.text))
        ):
            break
        parts.append(s.text)
    return shorten(" ".join(parts), MAX_CAUSE)


def _unknown(pool: list[Sentence]) -> str | None:
    """What the document says when it says the cause is unknown, with what it suspects."""
    said = next((s for s in pool if UNKNOWN.search(s.text)), None)
    if said is None:
        return None
    near = [s for s in pool if s.section == said.section and s is not said and HEDGE.search(s.text)]
    suspected = min(near, key=lambda s: abs(s.block - said.block) + abs(s.index - said.index), default=None)
    if suspected is None:
        hedged = [s for s in pool if s.hedged and s.score() > 0]
        suspected = max(hedged, key=lambda s: s.score(), default=None)
    text = f"Unknown: {shorten(said.text)}"
    return f"{text} Suspected: {shorten(suspected.text)}" if suspected else text


@dataclass(frozen=True)
class Cause:
    text: str | None
    known: bool = True
    """False when the document says the cause is unknown."""


def _best(scored: list[Sentence]) -> Sentence | None:
    """The highest score; on a tie the weightier section, then the earlier sentence, except in a
    timeline, where a later finding supersedes an earlier guess."""

    def rank(s: Sentence) -> tuple[float, float, tuple[int, int, int]]:
        sign = 1 if s.key == "timeline" else -1
        return s.score(), SECTION_WEIGHT.get(s.key, 0.8), (sign * s.section, sign * s.block, sign * s.index)

    return max(scored, key=rank, default=None)


def _choose(pool: list[Sentence]) -> Sentence | None:
    """A document's own root-cause section speaks first: its most causal sentence, unless none of its
    sentences carries a cue and the document names the root cause explicitly elsewhere ("the root
    cause is severe I/O throttling" in the timeline). Without such a section, the best sentence."""
    scored = [s for s in pool if s.score() > 0]
    own = [s for s in scored if s.key == "root_cause"] or [s for s in scored if s.key == "five_whys"]
    explicit = [s for s in scored if s.cue >= 4.0 and s not in own and not s.quoted]
    if own and (any(s.cue > 0 for s in own) or not explicit):
        return _best(own)
    return _best(explicit or scored)


def find_cause(doc: Document) -> Cause:
    """The document's root cause, as the draft states it (see the module docstring)."""
    pool = candidates(doc)
    best = _choose(pool)
    firm = best is not None and best.cue >= 4.0 and not best.hedged
    if not firm and (unknown := _unknown(pool)):
        return Cause(unknown, known=False)
    if best is None:
        return Cause(None)
    text = _with_context(best, pool, doc)
    return Cause(f"Suspected: {text}" if best.hedged else text)
