"""Reading what a model wrote: lenient JSON parsing, and the summary text while it streams.

Models are asked for one JSON object. Small ones wrap it in code fences, leave trailing commas, use
other key names or stop mid-way; ``parse_answer`` repairs what it can and otherwise keeps the text as
the summary (its citations are still checked later).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import json_repair
from pydantic import BaseModel

FENCE = re.compile(r"^\s*```[A-Za-z]*\s*\n?|\n?\s*```\s*$")
WORD_CONFIDENCE = {"very high": 0.9, "high": 0.8, "medium": 0.5, "moderate": 0.5, "low": 0.2, "very low": 0.1}

SYNONYMS = {
    "summary": ("summary", "answer", "diagnosis", "explanation"),
    "hypotheses": ("hypotheses", "hypothesis", "causes", "likely_causes", "root_causes"),
    "evidence_to_check": ("evidence_to_check", "evidence", "checks", "what_to_check"),
    "next_steps": ("next_steps", "steps", "actions", "recommendations"),
    "resolutions": ("resolutions", "resolution", "fixes", "past_resolutions"),
    "citations": ("citations", "cited", "sources", "incident_ids", "references"),
}
CAUSE_KEYS = ("cause", "hypothesis", "root_cause", "description", "text", "title")
IDS_KEYS = ("incident_ids", "incidents", "ids", "citations", "incident_id", "incident", "sources")
ACTION_KEYS = ("action", "resolution", "fix", "text", "description", "what")


class DraftHypothesis(BaseModel):
    cause: str
    confidence: float
    incident_ids: list[str]


class DraftResolution(BaseModel):
    incident_id: str
    action: str


class DraftAnswer(BaseModel):
    """What the model said, before its citations are checked."""

    summary: str = ""
    hypotheses: list[DraftHypothesis] = []
    evidence_to_check: list[str] = []
    next_steps: list[str] = []
    resolutions: list[DraftResolution] = []
    citations: list[str] = []
    structured: bool = False
    """False when no JSON object could be read and the text became the summary."""


def read_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, repairing fences, trailing commas and truncation."""
    text = FENCE.sub("", text.strip())
    start = text.find("{")
    if start < 0:
        return None
    obj = json_repair.loads(text[start:])
    if isinstance(obj, list):  # an object followed by more text comes back as a list of values
        obj = next((item for item in obj if isinstance(item, dict)), None)
    return obj if isinstance(obj, dict) and obj else None


def _pick(obj: dict[str, Any], names: tuple[str, ...]) -> Any:
    lowered = {str(k).lower().strip(): v for k, v in obj.items()}
    return next((lowered[n] for n in names if n in lowered and lowered[n] not in (None, "")), None)


def _as_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_as_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_as_text(v) for v in value)
    return "" if value is None else str(value).strip()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _texts(value: Any) -> list[str]:
    return [t for t in map(_as_text, _as_list(value)) if t]


def _ids(value: Any) -> list[str]:
    out: list[str] = []
    for v in _as_list(value):
        out += [s for s in re.split(r"[,;\s\[\]]+", _as_text(v)) if s]
    return out


def confidence(value: Any, default: float = 0.5) -> float:
    """0-1 from a number, a percentage or a word; ``default`` when unreadable."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().lower()
        if text in WORD_CONFIDENCE:
            return WORD_CONFIDENCE[text]
        match = re.match(r"^(\d+(?:\.\d+)?)\s*(%?)$", text)
        if not match:
            return default
        number = float(match.group(1)) / (100 if match.group(2) else 1)
    if number > 1:
        number /= 100
    return round(min(max(number, 0.0), 1.0), 2)


def _hypothesis(item: Any) -> DraftHypothesis | None:
    if isinstance(item, dict):
        cause = _as_text(_pick(item, CAUSE_KEYS))
        ids = _ids(_pick(item, IDS_KEYS))
        conf = confidence(_pick(item, ("confidence", "probability", "likelihood", "score")))
    else:
        cause, ids, conf = _as_text(item), [], 0.5
    return DraftHypothesis(cause=cause, confidence=conf, incident_ids=ids) if cause else None


def _resolution(item: Any) -> DraftResolution | None:
    if isinstance(item, dict):
        ids = _ids(_pick(item, (*IDS_KEYS, "id")))
        action = _as_text(_pick(item, ACTION_KEYS))
        return DraftResolution(incident_id=ids[0], action=action) if ids and action else None
    return None


def parse_answer(text: str) -> DraftAnswer:
    obj = read_json_object(text)
    if obj is None:
        return DraftAnswer(summary=FENCE.sub("", text.strip()).strip(), structured=False)
    hypotheses = [h for h in map(_hypothesis, _as_list(_pick(obj, SYNONYMS["hypotheses"]))) if h]
    resolutions = [r for r in map(_resolution, _as_list(_pick(obj, SYNONYMS["resolutions"]))) if r]
    return DraftAnswer(
        summary=_as_text(_pick(obj, SYNONYMS["summary"])),
        hypotheses=hypotheses,
        evidence_to_check=_texts(_pick(obj, SYNONYMS["evidence_to_check"])),
        next_steps=_texts(_pick(obj, SYNONYMS["next_steps"])),
        resolutions=resolutions,
        citations=_ids(_pick(obj, SYNONYMS["citations"])),
        structured=True,
    )


class SummaryStream:
    """Turns raw model chunks into the text a reader should see while the answer is written.

    For a JSON answer that is the value of its ``"summary"`` field, decoded as it arrives; for
    anything else (prose) it is the text itself.
    """

    KEY = re.compile(r'"summary"\s*:\s*"')

    def __init__(self) -> None:
        self.buffer = ""
        self.mode: str = "undecided"  # undecided | json | text | done
        self.pos = 0  # json mode: where undecoded summary text starts in buffer, -1 before the key
        self.emitted = False

    def feed(self, chunk: str) -> Iterator[str]:
        self.buffer += chunk
        if self.mode == "undecided":
            stripped = self.buffer.lstrip()
            if stripped.startswith("`"):
                if len(stripped) < 3:
                    return
                if stripped.startswith("```"):  # a code fence: look at what follows its first line
                    newline = stripped.find("\n")
                    if newline < 0:
                        return
                    stripped = stripped[newline + 1 :].lstrip()
            if not stripped:
                return
            if stripped[0] == "{":
                self.mode, self.pos = "json", -1
            else:
                self.mode, self.buffer = "text", ""
                yield from self._emit(stripped)
                return
        if self.mode == "text":
            text, self.buffer = self.buffer, ""
            yield from self._emit(text)
        elif self.mode == "json":
            yield from self._json()

    def _emit(self, text: str) -> Iterator[str]:
        if text:
            self.emitted = True
            yield text

    def _json(self) -> Iterator[str]:
        if self.pos < 0:
            match = self.KEY.search(self.buffer)
            if not match:
                return
            self.pos = match.end()
        out: list[str] = []
        i = self.pos
        buf = self.buffer
        while i < len(buf):
            ch = buf[i]
            if ch == '"':
                self.mode = "done"
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(buf):
                    break
                nxt = buf[i + 1]
                if nxt == "u":
                    if i + 6 > len(buf):
                        break
                    try:
                        out.append(chr(int(buf[i + 2 : i + 6], 16)))
                    except ValueError:
                        out.append(buf[i : i + 6])
                    i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "", "b": "", "f": ""}.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        self.pos = i
        yield from self._emit("".join(out))


def _norm(text: str) -> str:
    text = re.sub(r"\[[^\[\]\n\"{}]{0,80}\]", " ", text.lower())  # citations, not JSON arrays
    return " ".join(re.sub(r"[^\w%./:-]+", " ", text).split())


def drop_echoes(draft: DraftAnswer, instructions: str, *, min_chars: int = 8) -> tuple[DraftAnswer, int]:
    """``draft`` without the parts that merely repeat ``instructions`` (the prompt minus its data:
    format examples, the question itself), and how many parts were dropped.

    Small models often copy the example answer; text copied from the quoted incidents is kept.
    """
    source = _norm(instructions)

    def echo(text: str) -> bool:
        norm = _norm(text)
        return len(norm) >= min_chars and norm in source

    hypotheses = [h for h in draft.hypotheses if not echo(h.cause)]
    evidence = [t for t in draft.evidence_to_check if not echo(t)]
    steps = [t for t in draft.next_steps if not echo(t)]
    resolutions = [r for r in draft.resolutions if not echo(r.action)]
    summary = "" if echo(draft.summary) else draft.summary
    dropped = (
        len(draft.hypotheses)
        - len(hypotheses)
        + len(draft.evidence_to_check)
        - len(evidence)
        + len(draft.next_steps)
        - len(steps)
        + len(draft.resolutions)
        - len(resolutions)
        + (1 if draft.summary and not summary else 0)
    )
    cleaned = draft.model_copy(
        update={
            "summary": summary,
            "hypotheses": hypotheses,
            "evidence_to_check": evidence,
            "next_steps": steps,
            "resolutions": resolutions,
        }
    )
    return cleaned, dropped
