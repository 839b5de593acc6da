"""Why a match matched: the query's symptoms it shares, and what in it contradicts the query.

Both are plain text rules, so a user can check them against the label:

- *shared*: label lines (symptoms, metrics, alerts, evidence) with the most content words in common with
  the query, shown with those words;
- *contradictions*: a symptom facet (OOM kills, restarts, CPU, latency, a recent change) that one
  side states and the other side explicitly rules out ("pods OOMKilled" vs "memory normal, no restarts");
- *missing terms*: error strings, alert names and identifiers of the query (``OOMKilled``,
  ``CrashLoopBackOff``, ``ERR_X``, ``wal_fsync``) that appear nowhere in the incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.search.results import MatchReasons, SharedSymptom
from assistant.search.sparse import tokenize


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

# Words too common in incident text to count as a shared symptom.
_COMMON = frozenset(
    "went got get getting seen see also all any now since about like look looks one two".split()
)


def identifiers(query: str) -> list[str]:
    seen: dict[str, None] = {}
    for token in _IDENT.findall(query):
        if len(token) >= 4:
            seen.setdefault(token, None)
    return list(seen)


def _stem(word: str) -> str:
    return word.rstrip("s") if len(word) > 3 else word


def _words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in tokenize(text) if not w.isdigit() and len(w) > 2 and w not in _COMMON)


def _label_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines()[1:]:
        line = line.strip().removeprefix("- ").strip()
        if line and not line.endswith(":"):
            lines.append(line)
    return lines


@dataclass(frozen=True)
class FacetReading:
    stated: str | None
    """The first words saying the facet happens, if any."""
    ruled_out: tuple[str, ...]
    """Every phrase ruling it out."""


def _read_facets(text: str) -> tuple[FacetReading, ...]:
    """Each facet's first statement outside a phrase ruling it out ("restarts" in "no restarts" does
    not state restarts), and every phrase ruling it out."""
    out = []
    for facet in FACETS:
        no = list(facet.absent.finditer(text))
        yes = next(
            (
                m
                for m in facet.present.finditer(text)
                if not any(n.start() < m.end() and m.start() < n.end() for n in no)
            ),
            None,
        )
        ruled_out = tuple(dict.fromkeys(m.group(0).strip() for m in no))
        out.append(FacetReading(yes.group(0).strip() if yes else None, ruled_out))
    return tuple(out)


@dataclass(frozen=True)
class IncidentText:
    """What the rules read from an incident's symptom and evidence passages, read once per incident:
    its label lines with their words, its facets, and its text for identifier lookups."""

    lines: tuple[tuple[str, frozenset[str]], ...]
    facets: tuple[FacetReading, ...]
    lower: str

    @classmethod
    def of(cls, passage_texts: list[str]) -> IncidentText:
        lines = [line for text in passage_texts for line in _label_lines(text)]
        joined = "\n".join(passage_texts)
        return cls(tuple((line, _words(line)) for line in lines), _read_facets(joined), joined.lower())


@dataclass(frozen=True)
class QueryText:
    """What the rules read from a query, read once per query."""

    words: frozenset[str]
    order: dict[str, int]
    facets: tuple[FacetReading, ...]
    identifiers: tuple[str, ...]

    @classmethod
    def of(cls, query: str) -> QueryText:
        order: dict[str, int] = {}
        for w in tokenize(query):
            order.setdefault(_stem(w), len(order))
        return cls(_words(query), order, _read_facets(query), tuple(identifiers(query)))


@dataclass(frozen=True)
class Contradiction:
    rule: str
    """``<facet>: query states, incident rules out`` or the reverse: what the eval audit counts by."""
    text: str
    """What a user reads."""


def _contradictions(query: QueryText, incident: IncidentText) -> list[Contradiction]:
    """A facet one side states and the other only rules out. A side that both states and rules out a
    facet (a title saying "OOMKilled" over an evidence line "heap looked fine") contradicts nothing."""
    out: list[Contradiction] = []
    for facet, q, i in zip(FACETS, query.facets, incident.facets, strict=True):
        if q.stated and not q.ruled_out and i.ruled_out and not i.stated:
            text = f"query says {q.stated}; this incident: {', '.join(i.ruled_out)}"
            out.append(Contradiction(f"{facet.name}: query states, incident rules out", text))
        elif q.ruled_out and not q.stated and i.stated and not i.ruled_out:
            text = f"query says {', '.join(q.ruled_out)}; this incident: {i.stated}"
            out.append(Contradiction(f"{facet.name}: query rules out, incident states", text))
    return out


def contradictions(query: str, symptom_text: str) -> list[str]:
    """Facets the query states and the incident rules out, or the other way round, in plain words."""
    return [c.text for c in _contradictions(QueryText.of(query), IncidentText.of([symptom_text]))]


def _shared(query: QueryText, incident: IncidentText, *, limit: int = 3) -> list[SharedSymptom]:
    scored: list[tuple[int, int, str, list[str]]] = []
    for position, (line, line_words) in enumerate(incident.lines):
        common = query.words & line_words
        if len(common) >= 2:
            words = sorted(common, key=lambda w: query.order.get(w, 10**6))
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


def shared_symptoms(query: str, passage_texts: list[str], *, limit: int = 3) -> list[SharedSymptom]:
    """The label lines sharing the most query words (at least two), each with those words."""
    return _shared(QueryText.of(query), IncidentText.of(passage_texts), limit=limit)


def _missing(query: QueryText, incident: IncidentText) -> list[str]:
    return [t for t in query.identifiers if t.lower() not in incident.lower]


def missing_terms(query: str, incident_text: str) -> list[str]:
    """The query's identifiers that the incident's text never mentions (case-insensitive)."""
    return _missing(QueryText.of(query), IncidentText.of([incident_text]))


def missing_share(query: QueryText, incident: IncidentText) -> float:
    """The share of the query's identifiers the incident never mentions (0 for a query without any)."""
    return len(_missing(query, incident)) / len(query.identifiers) if query.identifiers else 0.0


def match_reasons(query: QueryText, incident: IncidentText) -> MatchReasons:
    found = _contradictions(query, incident)
    return MatchReasons(
        shared=_shared(query, incident),
        contradictions=[c.text for c in found],
        contradiction_rules=[c.rule for c in found],
    )
