"""Does an incident's text state a claim? Word overlap between a claim and a label's passages.

A claim is *supported* by a text when most of its content words occur in it: ``support`` is the
share of the claim's content terms (lower-case words without stopwords or answer boilerplate,
stemmed: a plural or verb ending off, then cut to six letters so ``saturated`` meets ``saturation``)
found among the text's terms. Lexical on purpose: it needs no encoder, gives the same answer with
every one, and the extractive answer, which quotes labels, always passes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.search.sparse import tokenize

STEM = 6
# Words an answer uses around a claim that say nothing about an incident.
BOILERPLATE = frozenset(
    "also again likely possibly probably maybe same similar surely look looks like seen cause causes "
    "caused root problem incident incidents issue compare check first whether then what worked start "
    "confirmed confirm see treat lead leads only not clearly closest past here one could would should "
    "may might can do does did because so if when both either unlike more other another all any some "
    "just still now here how why who also".split()
)
ID_SHAPED = re.compile(r"\b[a-z][a-z0-9]*-\d[\w.-]*", re.IGNORECASE)

# Chosen on labels/ (docs/evaluation.md "Grounding thresholds on the labels" has the counts, which
# bench/support_thresholds.py reprints). A label's own root cause is fully supported by its own evidence
# and resolution passages, for every label, and so is each of its resolution actions by its resolution
# passage. Pairs of a root cause and another label seldom reach it: near-duplicate labels and the short
# seed causes such as "Memory leak in connection pool", whose words another label's analysis also uses.
# Pairs of a label's first action and another label's resolution passage behave the same.
SUPPORTED = 0.6
# Two root causes are the same cause when each supports the other at least this much (the smaller of
# the two shares). The few pairs of labels' root causes that reach it each tell one mechanism twice (ALB
# idle timeout vs Node keep-alive 502s; gRPC pinned to old pods by kube-proxy; a consumer replay evicting
# Kafka's page cache); the pair just below it is two different listener leaks.
SAME_CAUSE = 0.45


SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    """``leaked`` → ``leak``, ``saturated`` and ``saturation`` → ``satura``; numbers stay."""
    if not word.isalpha():
        return word
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:STEM]


def terms(text: str) -> set[str]:
    """Content terms of ``text``: tokens without stopwords, boilerplate or incident ids, stemmed."""
    text = ID_SHAPED.sub(" ", text)
    return {stem(t) for t in tokenize(text) if t not in BOILERPLATE}


def support(claim: str | set[str], text_terms: set[str]) -> float | None:
    """Share of the claim's terms found in ``text_terms``; None when the claim has no content term."""
    wanted = terms(claim) if isinstance(claim, str) else claim
    if not wanted:
        return None
    return len(wanted & text_terms) / len(wanted)


def states(text: str, claim: str) -> bool:
    """True when ``text`` states ``claim``: enough of the claim's terms are in it (``SUPPORTED``)."""
    score = support(claim, terms(text))
    return score is not None and score >= SUPPORTED


def same_cause(a: str, b: str) -> bool:
    """True when two root-cause texts state the same cause (near-identical terms both ways)."""
    ta, tb = terms(a), terms(b)
    if not ta or not tb:
        return a.strip().lower() == b.strip().lower()
    return min(len(ta & tb) / len(ta), len(ta & tb) / len(tb)) >= SAME_CAUSE


def terms_of(texts: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out |= terms(t)
    return out
