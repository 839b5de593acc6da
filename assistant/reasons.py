"""Why a match matched: the query's symptoms it shares, and what in it contradicts the query.

Both are plain text rules, so a user can check them against the label:

- *shared*: label lines (symptoms, metrics, alerts, evidence) with the most content words in common with
  the query, shown with those words;
- *contradictions*: a symptom facet (OOM kills, restarts, CPU, errors, latency, a recent change) that one
  side states and the other side explicitly rules out ("pods OOMKilled" vs "memory normal, no restarts");
- *missing terms*: error strings, alert names and identifiers of the query (``OOMKilled``,
  ``CrashLoopBackOff``, ``ERR_X``, ``wal_fsync``) that appear nowhere in the incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import MatchReasons, SharedSymptom
from .sparse import tokenize


@dataclass(frozen=True)
class Facet:
    name: str
    present: re.Pattern[str]
    """The text says this happens."""
    absent: re.Pattern[str]
    """The text rules it out."""


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_NORMAL = (
    r"(?:is |was |looks? |stays? |stayed |remains? |remained |)(?:normal|stable|flat|fine|unchanged|healthy)"
)
FACETS = (
    Facet(
        "OOM kills",
        _re(r"\boom[- ]?kill\w*|\bout of memory\b|\bexit(?: code)? 137\b|\boom\b"),
        _re(rf"\bmemory {_NORMAL}|\bno oom\w*|\bno (?:pod |container )?restarts?\b|\b0 restarts\b"),
    ),
    Facet(
        "restarts",
        _re(r"crash ?loop\w*|\brestart(?:s|ed|ing)\b"),
        _re(r"\bno (?:pod |container )?restarts?\b|\b0 restarts\b|\brestarts?: 0\b|\bzero restarts\b"),
    ),
    Facet(
        "high CPU",
        _re(r"\bcpu (?:at |is |was |pegged |spik\w* (?:to )?)?(?:100|9\d)\s?%|\bhigh cpu\b|\bcpu saturat\w*"),
        _re(rf"\bcpu {_NORMAL}|\bidle cpu\b|\bcpu (?:is |was )?(?:only |just )?(?:low|idle|[1-3]?\d\s?%)"),
    ),
    Facet(
        "errors",
        _re(r"\b5\d\d\b|\berrors?\b|\bfail(?:s|ed|ing|ures?)\b"),
        _re(rf"\bno errors?\b|\berror rate {_NORMAL}|\bzero errors\b"),
    ),
    Facet(
        "high latency",
        _re(r"\blatency\b|\bp9\d\b|\bslow\w*\b|\btime ?outs?\b|\btimed out\b"),
        _re(rf"\blatency {_NORMAL}|\bno latency (?:impact|change)"),
    ),
    Facet(
        "a recent change",
        _re(r"\bafter (?:the |a |our |today's |yesterday's )?(?:deploy\w*|release|rollout|upgrade)"),
        _re(r"\bno (?:recent )?(?:deploy\w*|releases?|changes?|rollouts?)\b"),
    ),
)

# Identifier-like query tokens: CamelCase (OOMKilled), snake_case, ALLCAPS_WITH_UNDERSCORE, dotted names.
_IDENT = re.compile(r"\b(?:[A-Za-z]*[a-z][A-Z]\w*|[A-Z]{2,}[a-z]\w*|\w+_\w+|[a-z]+\.[a-z][\w.]+)\b")


def identifiers(query: str) -> list[str]:
    seen: dict[str, None] = {}
    for token in _IDENT.findall(query):
        if len(token) >= 4:
            seen.setdefault(token, None)
    return list(seen)


def missing_terms(query: str, incident_text: str) -> list[str]:
    """The query's identifiers that the incident's text never mentions (case-insensitive)."""
    haystack = incident_text.lower()
    return [t for t in identifiers(query) if t.lower() not in haystack]


def _negations(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [m.group(0).strip() for m in pattern.finditer(text)]


def contradictions(query: str, symptom_text: str) -> list[str]:
    """Facets the query states and the incident rules out, or the other way round, in plain words."""
    out: list[str] = []
    for facet in FACETS:
        q_yes, q_no = facet.present.search(query), _negations(query, facet.absent)
        l_yes, l_no = facet.present.search(symptom_text), _negations(symptom_text, facet.absent)
        if q_yes and not q_no and l_no:
            out.append(
                f"query says {q_yes.group(0).strip()}; this incident: {', '.join(dict.fromkeys(l_no))}"
            )
        elif q_no and l_yes and not l_no:
            out.append(
                f"query says {', '.join(dict.fromkeys(q_no))}; this incident: {l_yes.group(0).strip()}"
            )
    return out


# Words too common in incident text to count as a shared symptom.
_COMMON = frozenset(
    "went got get getting seen see also all any now since about like look looks one two".split()
)


def _words(text: str) -> set[str]:
    return {
        w.rstrip("s") if len(w) > 3 else w
        for w in tokenize(text)
        if not w.isdigit() and len(w) > 2 and w not in _COMMON
    }


def _label_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines()[1:]:
        line = line.strip().removeprefix("- ").strip()
        if line and not line.endswith(":"):
            lines.append(line)
    return lines


def shared_symptoms(query: str, passage_texts: list[str], *, limit: int = 3) -> list[SharedSymptom]:
    """The label lines sharing the most query words (at least two), each with those words."""
    query_words = _words(query)
    scored: list[tuple[int, int, str, list[str]]] = []
    order = {w: i for i, w in enumerate(_query_order(query))}
    for position, line in enumerate(line for text in passage_texts for line in _label_lines(text)):
        common = query_words & _words(line)
        if len(common) >= 2:
            words = sorted(common, key=lambda w: order.get(w, 10**6))
            scored.append((-len(common), position, line, words))
    scored.sort()
    out: list[SharedSymptom] = []
    used: set[str] = set()
    for _, _, line, words in scored:
        if set(words) <= used:
            continue
        used.update(words)
        out.append(SharedSymptom(query=" ".join(words), label=line[:240]))
        if len(out) == limit:
            break
    return out


def _query_order(query: str) -> list[str]:
    out: list[str] = []
    for w in tokenize(query):
        w = w.rstrip("s") if len(w) > 3 else w
        if w not in out:
            out.append(w)
    return out


def match_reasons(query: str, passage_texts: list[str]) -> MatchReasons:
    return MatchReasons(
        shared=shared_symptoms(query, passage_texts),
        contradictions=contradictions(query, "\n".join(passage_texts)),
    )
