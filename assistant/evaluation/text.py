"""Plain text helpers for answer scoring: sentences (claims) and content terms.

Deliberately simple and deterministic so that every score can be recomputed by hand.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_BULLET = re.compile(r"^\s*(?:[-*•>]+|\d+[.)]|#+)\s*")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just may me might more most
    must my no nor not now of off on once only or other our ours out over own same shall she should so
    some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    via per etc""".split()
)


def words(text: str) -> list[str]:
    """Lower-case alphanumeric tokens."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """A light suffix stripper: ``connections`` → ``connection``, ``leaking`` → ``leak``.

    Strips one of ``ing``, ``ed``, ``es``, ``s`` when at least four characters remain.
    """
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    """Stemmed tokens of three or more characters that are neither stop words nor plain numbers."""
    return {stem(w) for w in words(text) if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()}


def sentences(text: str) -> list[str]:
    """Lines, split further at sentence ends; list bullets and heading marks removed; empties dropped."""
    out: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip()
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def claims(text: str, *, min_words: int = 4) -> list[str]:
    """The sentences of an answer that state something: at least ``min_words`` words, not a heading
    (a line ending with a colon)."""
    return [s for s in sentences(text) if len(words(s)) >= min_words and not s.endswith(":")]
