"""Citation check: a model may cite only the incidents it was given.

Citations are ``[incident-id]`` in text (several may share brackets), bare ids of the corpus's shape
(``perf-2025031601``), and the id lists of hypotheses, resolutions and ``citations``. Invalid ones are
removed from the answer and recorded; a hypothesis or resolution left with no valid incident is
dropped, since nothing supports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel

from .model_answer import DraftAnswer
from .models import Hypothesis, Resolution

BRACKETS = re.compile(r"\s?\[([^\[\]\n]{1,300})\]")
SEPARATORS = re.compile(r"\s*[,;]\s*|\s+and\s+|\s+")
ID_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*$")


class CheckedAnswer(BaseModel):
    summary: str
    hypotheses: list[Hypothesis]
    evidence_to_check: list[str]
    next_steps: list[str]
    resolutions: list[Resolution]
    citations: list[str]
    invalid_citations: list[str]


class CitationChecker:
    def __init__(self, *, allowed: Iterable[str], corpus_ids: Iterable[str] = ()) -> None:
        self.allowed = list(dict.fromkeys(allowed))
        self._allowed = set(self.allowed)
        known = set(corpus_ids) | self._allowed
        prefixes = sorted({i.split("-", 1)[0] for i in known if "-" in i}, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, prefixes))
        self._bare = (
            re.compile(r"(?<![\w\[-])((?:" + alternatives + r")-\d(?:[\w.-]*\w)?)(?![\w\]-])")
            if prefixes
            else None
        )
        self.valid: list[str] = []
        self.invalid: list[str] = []

    def looks_like_id(self, token: str) -> bool:
        return token in self._allowed or bool(ID_LIKE.match(token))

    def _record(self, token: str) -> bool:
        """Note a cited id; True if it is valid."""
        if token in self._allowed:
            if token not in self.valid:
                self.valid.append(token)
            return True
        if token not in self.invalid:
            self.invalid.append(token)
        return False

    def clean_text(self, text: str) -> str:
        """``text`` with its invalid citations removed (valid ones are recorded)."""

        def brackets(match: re.Match[str]) -> str:
            tokens = [t for t in SEPARATORS.split(match.group(1).strip()) if t]
            if not tokens or not all(self.looks_like_id(t) for t in tokens):
                return match.group(0)  # "[exit 137]" and friends are not citations
            kept = [t for t in tokens if self._record(t)]
            lead = match.group(0)[0] if match.group(0)[0].isspace() else ""
            return f"{lead}[{', '.join(kept)}]" if kept else ""

        text = BRACKETS.sub(brackets, text)
        if self._bare is not None:

            def bare(match: re.Match[str]) -> str:
                return match.group(1) if self._record(match.group(1)) else "(unverified incident)"

            text = self._bare.sub(bare, text)
        return re.sub(r"[ \t]+([.,;:])", r"\1", text).strip()

    def _ids(self, ids: Iterable[str]) -> list[str]:
        out: list[str] = []
        for token in ids:
            token = token.strip().strip("[]")
            if token and (self.looks_like_id(token)) and self._record(token) and token not in out:
                out.append(token)
        return out

    def check(self, draft: DraftAnswer) -> CheckedAnswer:
        summary = self.clean_text(draft.summary)
        hypotheses: list[Hypothesis] = []
        for h in draft.hypotheses:
            cause = self.clean_text(h.cause)
            in_text = [i for i in self.allowed if f"[{i}]" in cause or i in cause.split()]
            ids = list(dict.fromkeys(self._ids(h.incident_ids) + in_text))
            if ids and cause:
                hypotheses.append(Hypothesis(cause=cause, confidence=h.confidence, incident_ids=ids))
        evidence = [t for t in map(self.clean_text, draft.evidence_to_check) if t]
        steps = [t for t in map(self.clean_text, draft.next_steps) if t]
        resolutions = [
            Resolution(incident_id=r.incident_id, action=self.clean_text(r.action))
            for r in draft.resolutions
            if self._ids([r.incident_id])
        ]
        self._ids(draft.citations)
        if not summary and hypotheses:
            summary = " ".join(
                f"Likely cause: {h.cause} [{', '.join(h.incident_ids)}]." for h in hypotheses[:2]
            )
        return CheckedAnswer(
            summary=summary,
            hypotheses=hypotheses,
            evidence_to_check=evidence,
            next_steps=steps,
            resolutions=resolutions,
            citations=list(self.valid),
            invalid_citations=list(self.invalid),
        )
