"""Citation check, the same for every backend: an answer may cite only the incidents it was given, and
only for what those incidents' own labels say.

Citations are ``[incident-id]`` in text (several may share brackets), bare ids of the corpus's shape
(``perf-2025031601``), and the id lists of hypotheses, resolutions and ``citations``.

1. *Validity*: ids that are not among the given incidents are removed and recorded
   (``invalid_citations``).
2. *Support*: each remaining (claim, incident) pair is checked against that incident's passages
   (``support.support``): a hypothesis's cause against its evidence and resolution passages, a
   resolution's action against its resolution passage, a citation in text against all of its passages,
   with the clause around the citation (between neighbouring citations, within the sentence) or else the
   whole sentence as the claim. A citation whose sentence has no content word is a pointer and stays.
   Unsupported pairs are removed and recorded (``unsupported_citations``).
3. A hypothesis or resolution left with no incident is dropped, since nothing supports it.
4. *Instructions in data*: a part that reads like instructions to an assistant ("ignore previous
   instructions", "you are now...") is dropped and a warning names the incident it came from.
5. *Commands*: every command in the answer is listed (``commands``), marked as quoted when the cited
   incident's label holds it, wrapped in backticks in the text, and flagged when destructive or
   outbound (``commands.assess``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

from assistant.corpus.instructions import INSTRUCTIONS
from assistant.corpus.passages import Passage
from assistant.diagnosis.commands import assess, find_commands, mark
from assistant.diagnosis.model_answer import DraftAnswer
from assistant.diagnosis.results import Diagnosis, Hypothesis, QuotedCommand, Resolution, UnsupportedCitation
from assistant.diagnosis.support import SUPPORTED, support, terms, terms_of

BRACKETS = re.compile(r"\s?\[([^\[\]\n]{1,300})\]")
SEPARATORS = re.compile(r"\s*[,;]\s*|\s+and\s+|\s+")
ID_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[`])|\n+")
CLAIM_CHARS = 200
UNVERIFIED = "(unverified incident)"


class CheckedAnswer(BaseModel):
    summary: str
    hypotheses: list[Hypothesis]
    evidence_to_check: list[str]
    next_steps: list[str]
    resolutions: list[Resolution]
    citations: list[str]
    invalid_citations: list[str]
    unsupported_citations: list[UnsupportedCitation]
    commands: list[QuotedCommand]
    warnings: list[str]


class IncidentText:
    """An incident's passages as support terms: all of them, and by kind."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.texts = {p.kind: p.text for p in passages}
        by_kind = {p.kind: terms(p.text) for p in passages}
        self.all = terms_of([])
        for t in by_kind.values():
            self.all |= t
        self.analysis = by_kind.get("evidence", set()) | by_kind.get("resolution", set())
        self.resolution = by_kind.get("resolution", set())

    def holds(self, command: str) -> bool:
        squeeze = " ".join(command.split())
        return any(squeeze in " ".join(t.split()) for t in self.texts.values())


class CitationChecker:
    def __init__(
        self,
        *,
        allowed: Iterable[str],
        passages: Mapping[str, Sequence[Passage]],
        corpus_ids: Iterable[str] = (),
    ) -> None:
        self.allowed = list(dict.fromkeys(allowed))
        self._allowed = set(self.allowed)
        self._texts = {i: IncidentText(passages.get(i, [])) for i in self.allowed}
        known = set(corpus_ids) | self._allowed
        prefixes = sorted({i.split("-", 1)[0] for i in known if "-" in i}, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, prefixes))
        self._bare = (
            re.compile(r"(?<![\w\[-])((?:" + alternatives + r")-\d(?:[\w.-]*\w)?)(?![\w\]-])")
            if prefixes
            else None
        )
        self.invalid: list[str] = []
        self.unsupported: list[UnsupportedCitation] = []
        self.warnings: list[str] = []

    def looks_like_id(self, token: str) -> bool:
        return token in self._allowed or bool(ID_LIKE.match(token))

    def _valid(self, token: str) -> bool:
        """Note a cited id; True if it is one of the given incidents."""
        if token in self._allowed:
            return True
        if token not in self.invalid:
            self.invalid.append(token)
        return False

    def _supported(self, claim: str | set[str], incident_id: str, *, kind: str) -> bool | None:
        """Whether ``incident_id``'s passages of ``kind`` state ``claim``; None if it claims nothing."""
        text = self._texts[incident_id]
        pool = {"analysis": text.analysis, "resolution": text.resolution}.get(kind, text.all)
        score = support(claim, pool)
        return None if score is None else score >= SUPPORTED

    def _drop(self, claim: str, incident_id: str, where: str) -> None:
        text = self._texts[incident_id]
        score = support(claim, text.all) or 0.0
        self.unsupported.append(
            UnsupportedCitation(
                incident_id=incident_id, field=where, claim=claim[:CLAIM_CHARS], support=round(score, 2)
            )
        )

    def _unbracket(self, match: re.Match[str]) -> str:
        """A citation bracket inside a cause goes (the ids are in ``incident_ids``); others stay."""
        tokens = [t for t in SEPARATORS.split(match.group(1).strip()) if t]
        return "" if tokens and all(t in self._allowed for t in tokens) else match.group(0)

    def _ids(self, ids: Iterable[str]) -> list[str]:
        out: list[str] = []
        for token in ids:
            token = token.strip().strip("[]")
            if token and self.looks_like_id(token) and self._valid(token) and token not in out:
                out.append(token)
        return out

    def _instructions(self, text: str, where: str, ids: Iterable[str] = ()) -> bool:
        """True (and a warning) when ``text`` reads like instructions to an assistant."""
        found = INSTRUCTIONS.search(text)
        if not found:
            return False
        cited = [i for i in dict.fromkeys([*ids, *self._in_text(text)]) if i in self._allowed]
        source = f" from {', '.join(f'[{i}]' for i in cited)}" if cited else ""
        self.warnings.append(
            f"Left out of {where}: text{source} that reads like instructions to an assistant "
            f"({found.group(0).strip()!r}); labels are data, review that label."
        )
        return True

    def _in_text(self, text: str) -> list[str]:
        return [i for i in self.allowed if i in text]

    def clean_text(self, text: str, where: str = "summary") -> str:
        """``text`` with invalid and unsupported citations removed."""
        text = self._remove_invalid(text)
        sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
        kept = [self._support_sentence(s, where) for s in sentences]
        kept = [s for s in kept if not self._instructions(s, where)]
        return re.sub(r"[ \t]+([.,;:])", r"\1", " ".join(s.strip() for s in kept if s.strip())).strip()

    def _remove_invalid(self, text: str) -> str:
        def brackets(match: re.Match[str]) -> str:
            tokens = [t for t in SEPARATORS.split(match.group(1).strip()) if t]
            if not tokens or not all(self.looks_like_id(t) for t in tokens):
                return match.group(0)  # "[exit 137]" and friends are not citations
            kept = [t for t in tokens if self._valid(t)]
            lead = match.group(0)[0] if match.group(0)[0].isspace() else ""
            return f"{lead}[{', '.join(kept)}]" if kept else ""

        text = BRACKETS.sub(brackets, text)
        if self._bare is not None:

            def bare(match: re.Match[str]) -> str:
                return match.group(1) if self._valid(match.group(1)) else UNVERIFIED

            text = self._bare.sub(bare, text)
        return text

    def _spans(self, sentence: str) -> list[tuple[int, int, list[str], bool]]:
        """Citations in ``sentence``: (start, end, ids, bracketed), in order."""
        spans: list[tuple[int, int, list[str], bool]] = []
        for m in BRACKETS.finditer(sentence):
            tokens = [t for t in SEPARATORS.split(m.group(1).strip()) if t]
            if tokens and all(t in self._allowed for t in tokens):
                spans.append((m.start(), m.end(), tokens, True))
        if self._bare is not None:
            for m in self._bare.finditer(sentence):
                inside = any(s <= m.start() < e for s, e, _, _ in spans)
                if not inside and m.group(1) in self._allowed:
                    spans.append((m.start(1), m.end(1), [m.group(1)], False))
        return sorted(spans)

    def _support_sentence(self, sentence: str, where: str) -> str:
        spans = self._spans(sentence)
        if not spans:
            return sentence
        plain = sentence
        for s, e, _, _ in reversed(spans):
            plain = plain[:s] + " " + plain[e:]
        plain = plain.replace(UNVERIFIED, " ")
        whole = terms(plain)
        out: list[str] = []
        pos = 0
        for n, (start, end, ids, bracketed) in enumerate(spans):
            left = sentence[spans[n - 1][1] if n else 0 : start].replace(UNVERIFIED, " ")
            right = sentence[end : spans[n + 1][0] if n + 1 < len(spans) else len(sentence)]
            right = right.replace(UNVERIFIED, " ")
            kept: list[str] = []
            for i in ids:
                verdicts = [self._supported(c, i, kind="all") for c in (terms(left), terms(right), whole)]
                if any(verdicts) or all(v is None for v in verdicts):
                    kept.append(i)
                else:
                    self._drop(" ".join(plain.split()), i, where)
            out.append(sentence[pos:start])
            if kept:
                lead = sentence[start] if bracketed and sentence[start].isspace() else ""
                out.append(f"{lead}[{', '.join(kept)}]" if bracketed else kept[0])
            pos = end
        out.append(sentence[pos:])
        return "".join(out)

    def check(self, draft: DraftAnswer) -> CheckedAnswer:
        hypotheses: list[Hypothesis] = []
        for n, h in enumerate(draft.hypotheses):
            where = f"hypotheses[{n}]"
            cause = self._remove_invalid(h.cause).strip()
            in_text = [i for i in self.allowed if f"[{i}]" in cause or i in cause.split()]
            ids = list(dict.fromkeys(self._ids(h.incident_ids) + in_text))
            if not cause or self._instructions(cause, where, ids):
                continue
            claim = BRACKETS.sub(" ", cause)
            supported = []
            for i in ids:
                if self._supported(claim, i, kind="analysis") is False:
                    self._drop(claim, i, where)
                else:
                    supported.append(i)
            cause = " ".join(BRACKETS.sub(self._unbracket, cause).split())
            if supported and cause:
                hypotheses.append(Hypothesis(cause=cause, confidence=h.confidence, incident_ids=supported))
        evidence = self._texts_of(draft.evidence_to_check, "evidence_to_check")
        steps = self._texts_of(draft.next_steps, "next_steps")
        resolutions: list[Resolution] = []
        for n, r in enumerate(draft.resolutions):
            where = f"resolutions[{n}]"
            action = self._remove_invalid(r.action).strip()
            if (
                not self._ids([r.incident_id])
                or not action
                or self._instructions(action, where, [r.incident_id])
            ):
                continue
            if self._supported(action, r.incident_id, kind="resolution") is False:
                self._drop(action, r.incident_id, where)
                continue
            resolutions.append(Resolution(incident_id=r.incident_id, action=action))
        self._ids(draft.citations)
        summary = self.clean_text(draft.summary, "summary")
        if not self._spans(summary) and hypotheses:
            summary = " ".join(
                f"Likely cause: {h.cause} [{', '.join(h.incident_ids)}]." for h in hypotheses[:2]
            )
        checked = CheckedAnswer(
            summary=summary,
            hypotheses=hypotheses,
            evidence_to_check=evidence,
            next_steps=steps,
            resolutions=resolutions,
            citations=[],
            invalid_citations=list(self.invalid),
            unsupported_citations=list(self.unsupported),
            commands=[],
            warnings=list(dict.fromkeys(self.warnings)),
        )
        checked = self._commands(checked)
        return checked.model_copy(update={"citations": self._cited(checked)})

    def _texts_of(self, texts: Iterable[str], field: str) -> list[str]:
        return [t for t in (self.clean_text(x, f"{field}[{n}]") for n, x in enumerate(texts)) if t]

    def _cited(self, answer: CheckedAnswer) -> list[str]:
        """Incidents the checked answer still cites, in order of first citation."""
        found: list[str] = []
        texts = [
            answer.summary,
            *(f"{h.cause} [{', '.join(h.incident_ids)}]" for h in answer.hypotheses),
            *answer.evidence_to_check,
            *answer.next_steps,
            *(f"[{r.incident_id}]" for r in answer.resolutions),
        ]
        for text in texts:
            for _start, _end, ids, _ in self._spans(text):
                found += [i for i in ids if i not in found]
        return found

    def _commands(self, answer: CheckedAnswer) -> CheckedAnswer:
        """Commands listed, marked and flagged in evidence, steps and resolutions (and the summary)."""
        commands: list[QuotedCommand] = []

        def visit(text: str, where: str, ids: list[str]) -> str:
            found = find_commands(text)
            for command in found:
                source = next((i for i in ids if self._texts[i].holds(command)), None)
                commands.append(
                    QuotedCommand(
                        command=command,
                        field=where,
                        incident_id=source or (ids[0] if ids else None),
                        quoted=source is not None,
                        risks=assess(command),
                    )
                )
            return mark(text, found)

        def cited(text: str) -> list[str]:
            return [i for _, _, ids, _ in self._spans(text) for i in ids]

        evidence = [
            visit(t, f"evidence_to_check[{n}]", cited(t)) for n, t in enumerate(answer.evidence_to_check)
        ]
        steps = [visit(t, f"next_steps[{n}]", cited(t)) for n, t in enumerate(answer.next_steps)]
        resolutions = [
            Resolution(
                incident_id=r.incident_id, action=visit(r.action, f"resolutions[{n}]", [r.incident_id])
            )
            for n, r in enumerate(answer.resolutions)
        ]
        summary = visit(answer.summary, "summary", cited(answer.summary))
        return answer.model_copy(
            update={
                "summary": summary,
                "evidence_to_check": evidence,
                "next_steps": steps,
                "resolutions": resolutions,
                "commands": commands,
            }
        )


def draft_of(diagnosis: Diagnosis) -> DraftAnswer:
    """A composed (extractive) diagnosis as a draft, so it goes through the same checks."""
    return DraftAnswer.model_validate(
        {
            "summary": diagnosis.summary,
            "hypotheses": [h.model_dump() for h in diagnosis.hypotheses],
            "evidence_to_check": diagnosis.evidence_to_check,
            "next_steps": diagnosis.next_steps,
            "resolutions": [r.model_dump() for r in diagnosis.resolutions],
            "citations": diagnosis.citations,
            "structured": True,
        }
    )


class Attribution(BaseModel):
    incident_id: str
    cause: str
    stated: bool
    """The incident's own analysis (its root cause) states this cause."""


def attributions(diagnosis: Diagnosis, *, root_causes: Mapping[str, str]) -> list[Attribution]:
    """Every (hypothesis, cited incident) pair of ``diagnosis``, judged against ``root_causes``
    (incident id → the root cause its label's analysis states)."""
    out: list[Attribution] = []
    for h in diagnosis.hypotheses:
        cause = terms(h.cause)
        for i in h.incident_ids:
            score = support(cause, terms(root_causes.get(i, "")))
            out.append(
                Attribution(incident_id=i, cause=h.cause, stated=score is not None and score >= SUPPORTED)
            )
    return out


def attribution_precision(diagnoses: Iterable[Diagnosis], *, root_causes: Mapping[str, str]) -> float | None:
    """Share of (hypothesis, cited incident) pairs, over ``diagnoses``, whose incident's own root cause
    states the hypothesis's cause (``support.support`` of the cause in it ≥ ``support.SUPPORTED``);
    None when no hypothesis cites anything."""
    pairs = [a for d in diagnoses for a in attributions(d, root_causes=root_causes)]
    return sum(a.stated for a in pairs) / len(pairs) if pairs else None
