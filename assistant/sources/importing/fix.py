"""What stopped the impact (a draft's ``resolution.immediate_actions``), apart from what the team will
do later (``long_term_fixes``).

The immediate fix is what restored service: the actions of a resolution, mitigation or recovery section
("Rolled back the release", "The faulty manifest has been deleted"), the timeline's last actions up to
the entry that says service came back ("rolled back ...", then "back to normal"), and, when no section
states it, the summary's sentence that says what fixed it ("..., which fixed the problem"). A recovery
with no action ("the cluster self-healed") is stated as such. Future work, apologies and cause
statements in a resolution section are not actions: future work goes to the long-term fixes.
"""

from __future__ import annotations

import re

from assistant.sources.importing.cause import cue_of
from assistant.sources.importing.document import Document
from assistant.sources.importing.sentences import sentences, shorten
from assistant.sources.importing.timeline import Entry

MAX_ACTIONS = 6
FROM_TIMELINE = 2
SIMILAR = 0.6

# Verbs (and the forms timelines write them in) of something done to the system.
_ACTIONS = (
    r"roll(?:ed|ing|s)?(?:\s|-)?back",
    r"rollback",
    r"roll(?:ed|ing)?\s(?:out|the)",
    r"revert\w*",
    r"restart\w*",
    r"reboot\w*",
    r"updat(?:ed|ing)\s(?:to|the)",
    r"chang(?:ed|ing|es)\s(?:the|our|it|to)",
    r"rebuil\w*",
    r"re-?deploy(?:ed|ing|s)?",
    r"deploy(?:ed|ing|s)?",
    r"re-?ran",
    r"re-?run",
    r"ran\sthe",
    r"scal(?:ed|ing)",
    r"increas\w*",
    r"raised",
    r"bump\w*",
    r"decreas\w*",
    r"reduc\w*",
    r"lowered",
    r"disabl\w*",
    r"re-?enabl\w*",
    r"enabl\w*",
    r"turn(?:ed|ing)?\soff",
    r"switch\w*",
    r"drain\w*",
    r"cordon\w*",
    r"uncordon\w*",
    r"delet\w*",
    r"remov\w*",
    r"clear(?:ed|ing)",
    r"cleaned",
    r"clean(?:ed|ing)?\sup",
    r"purg\w*",
    r"flush\w*",
    r"kill\w*",
    r"block(?:ed|ing)?",
    r"ban",
    r"bann(?:ed|ing)",
    r"unbann?(?:ed|ing)?",
    r"fix(?:ed|ing|es)?",
    r"patch\w*",
    r"appl(?:ied|ying|y)",
    r"upgrad\w*",
    r"downgrad\w*",
    r"re-?creat\w*",
    r"replac\w*",
    r"migrat(?:ed|ing|e)",
    r"moved",
    r"fail(?:ed)?\s?over",
    r"resiz\w*",
    r"added",
    r"expand\w*",
    r"cull\w*",
    r"freed",
    r"dumped",
    r"re-?queued",
    r"rebalanc\w*",
    r"recycl\w*",
    r"terminat\w*",
    r"paus(?:ed|ing)",
    r"resum(?:ed|ing)",
    r"suspend(?:ed|ing)",
    r"evict\w*",
    r"throttl\w*",
    r"rate[- ]limit\w*",
    r"limit(?:ed)?\s(?:to|the)",
    r"stopp(?:ed|ing)\sthe",
)
ACTION = re.compile(rf"\b(?:{'|'.join(_ACTIONS)})\b", re.IGNORECASE)
FUTURE = re.compile(
    r"\b(?:will|we'll|going\sto|plan(?:s|ned)?\sto|should|needs?\sto|must|follow[- ]?ups?|long[- ]term|"
    r"in\sthe\sfuture|next\sstep|todo|consider\w*|we\swant\sto|would\slike\sto|proposed?)\b",
    re.IGNORECASE,
)
DIAGNOSTIC = re.compile(
    r"\bto\s(?:understand|investigate|debug|diagnose|see\sif|check|find\sout|figure\sout|look\sinto)\b|"
    r"\bdebug\s(?:log|logging|level)\b|\b(?:meant|supposed|designed|intended)\sto\b",
    re.IGNORECASE,
)
APOLOGY = re.compile(r"\b(?:apologi[sz]e|sorry|bear\swith\sus)\b", re.IGNORECASE)
RESTORED = re.compile(
    r"\bback\sto\s\d+%|\b(?:back\sto\s(?:normal|working|usual)|(?:returned|returns?|back)\sto\sa\snormal\sstate|returns?\sto\snormal|returned\sto\snormal|"
    r"(?:is|was|are|were|comes|came|is\snow|are\snow)\sback(?:\sup|\sonline)?\b|restored|recovered|resolved|"
    r"working\sagain|working\sorder|fully\soperational|(?:problem|issue)\s(?:was|is)\sgone|"
    r"(?:errors?|timeouts?|failures?|alerts?)\s(?:stopped|disappeared|went\saway|cleared)|"
    r"back\sonline|returns?\s(?:close\sto\s|back\sto\s|to\s)(?:zero|normal|baseline)|back\sto\sbaseline|"
    r"(?:is|are|was|were|looks?|now)\shealthy|stabili[sz]ed|self-?heal\w*|mitigated|"
    r"incident\s(?:is\s)?(?:resolved|closed|over))\b",
    re.IGNORECASE,
)
NOT_RESTORED = re.compile(
    r"(?:\bnot|n't|\bnever|\bno\slonger)\s(?:\w+\s)?(?:fix|resolv|restor|recover|help|work)\w*|\bto\sno\savail\b|"
    r"\bpersist\w*|\bstill\s(?:fail\w*|down|broken)|\b(?:caus\w*|throw\w*|rais\w*|hit)\s(?:an?\s)?(?:new\s)?error\b|"
    r"\bfailed\b(?!\sover)",
    re.IGNORECASE,
)
ON_ITS_OWN = re.compile(
    r"\bself-?heal\w*|\bwithout\s(?:any\s)?intervention\b|\bon\sits\sown\b|\bby\sitself\b|"
    r"\brecovered\sitself\b|\bhealed\sitself\b",
    re.IGNORECASE,
)
FIXED_BY = re.compile(
    r"\b(?:fixed|resolved|mitigated|solved)\sby\b|\b(?:which|this|that|it)\s(?:has\s|have\s)?(?:\w+ly\s)?"
    r"(?:fixed|resolved|mitigated|solved)\b|\bresolved\sthe\b|\bwent\sback\sto\snormal\b|"
    r"\b(?:fixed|solved|mitigated)\sthe\s(?:problem|issue|outage|incident|errors?)\b|"
    r"\bback\sto\snormal\b|\brestored\s(?:by|after|once|when|without)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9]{3,}")


def is_action(text: str) -> bool:
    """A sentence that reports something done to stop the impact."""
    return bool(ACTION.search(text)) and not (
        FUTURE.search(text) or APOLOGY.search(text) or DIAGNOSTIC.search(text)
    )


def _restores(text: str) -> bool:
    return bool(RESTORED.search(text)) and not NOT_RESTORED.search(text)


def _split(lines: list[str]) -> tuple[list[str], list[str]]:
    """A resolution section's lines as (actions taken, future work)."""
    done: list[str] = []
    later: list[str] = []
    for line in lines:
        parts = sentences(line) or [line]
        if FUTURE.search(line) and not any(is_action(p) for p in parts):
            later.append(shorten(line))
            continue
        kept = [p for p in parts if is_action(p) or ON_ITS_OWN.search(p)]
        kept = [p for p in kept if not (cue_of(p) >= 3 and not ACTION.search(p))]
        if kept:
            done.append(shorten(" ".join(kept)))
    return done, later


def _from_timeline(entries: list[Entry]) -> list[str]:
    """The actions just before (or in) the timeline's last entry that says service came back."""
    restored = [i for i, e in enumerate(entries) if _restores(e.event)]
    if not restored:
        return []
    last = restored[-1]
    on_its_own = [shorten(entries[i].event) for i in restored if ON_ITS_OWN.search(entries[i].event)][:1]
    if ON_ITS_OWN.search(entries[last].event):
        return on_its_own
    picked: list[str] = []
    for i in range(last, -1, -1):
        event = entries[i].event
        said = sentences(event)
        came_back = next((n for n, s in enumerate(said) if _restores(s)), len(said))
        acts = [s for s in said[: came_back + 1] if is_action(s) and not NOT_RESTORED.search(s)][-2:]
        if acts:
            picked.append(shorten(" ".join(acts[:2])))
        elif i != last and not _restores(event):
            break
        if len(picked) >= FROM_TIMELINE:
            break
    return on_its_own + picked[::-1]


def _from_summary(doc: Document) -> list[str]:
    return [
        shorten(s)
        for line in doc.lines("summary")
        for s in sentences(line)
        if FIXED_BY.search(s) or ON_ITS_OWN.search(s)
    ][:2]


def _similar(a: str, b: str) -> bool:
    wa, wb = set(_WORDS.findall(a.lower())), set(_WORDS.findall(b.lower()))
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= SIMILAR


def immediate_actions(doc: Document, entries: list[Entry]) -> tuple[list[str], list[str]]:
    """What stopped the impact, and the resolution section's future work (for the long-term fixes)."""
    done, later = _split(doc.lines("resolution"))
    extra = _from_timeline(entries)
    if not done:
        extra = _from_summary(doc) + extra
    for line in extra:
        if not any(_similar(line, d) for d in done):
            done.append(line)
    return done[:MAX_ACTIONS], later
