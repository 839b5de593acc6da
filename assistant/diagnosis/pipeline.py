"""Grounded diagnosis: retrieve, build the prompt within the token budget, ask the backend, check its
answer, and fall back to the extractive answer when the model's answer cannot be used. Every answer,
the extractive one included, goes through the same checks (``citations.CitationChecker``).

``Assistant.diagnose`` and ``Assistant.diagnose_stream`` are the entry points; this module holds the
pipeline behind them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.corpus.passages import Passage
from assistant.diagnosis.budget import fit, passage_budget
from assistant.diagnosis.citations import CheckedAnswer, CitationChecker, draft_of
from assistant.diagnosis.extractive import chunks, compose
from assistant.diagnosis.model_answer import DraftAnswer, SummaryStream, drop_echoes, parse_answer
from assistant.diagnosis.prompts import DIAGNOSIS, PASSAGES, SYSTEM, Prompts
from assistant.diagnosis.results import Diagnosis
from assistant.diagnosis.tokens import TokenCounter, default_cache_dir
from assistant.errors import AssistantError
from assistant.llm.chat import EXTRACTIVE, ChatMessage, ChatModel, JsonSchema, check_name, create_chat_model
from assistant.search.index import LoadedIndex
from assistant.search.results import SimilarResult
from assistant.settings import Settings

# What caused an incident and what fixed it matter more than symptoms the query restates: passages go
# in as (evidence, resolution) of each match best first, then the symptom passages best first.
FIRST_KINDS = ("evidence", "resolution")
MAX_HISTORY_TURNS = 6
MAX_TURN_CHARS = 1500
HISTORY_FOR_RETRIEVAL = 2


@dataclass(frozen=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True)
class PromptBuild:
    messages: list[ChatMessage]
    incident_ids: list[str]
    """Incidents with at least one passage in the prompt: the only valid citations."""
    passages: list[Passage]
    dropped: int
    """Passages of retrieved incidents that did not fit the token budget."""
    instructions: str
    """The prompt without the incident data: what an answer should not merely repeat."""


def turns(history: Sequence[str] | None) -> list[Turn]:
    """Earlier turns, oldest first, alternating user / assistant (the first is the user's)."""
    items = [
        Turn("user" if i % 2 == 0 else "assistant", str(t)[:MAX_TURN_CHARS])
        for i, t in enumerate(history or [])
    ]
    return items[-MAX_HISTORY_TURNS:]


def retrieval_text(query: str, history: list[Turn], *, max_chars: int) -> str:
    """The query, preceded by the user's last turns so a follow-up question keeps its context."""
    earlier = [t.text for t in history if t.role == "user"][-HISTORY_FOR_RETRIEVAL:]
    text = "\n".join([*earlier, query])
    return text[-max_chars:] if len(text) > max_chars else text


def answer_schema(incident_ids: list[str]) -> JsonSchema:
    """The JSON a model is asked for; backends that support it constrain their output to it."""
    ids: dict[str, Any] = {"type": "string", "enum": incident_ids} if incident_ids else {"type": "string"}
    text = {"type": "string", "maxLength": 300}
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 700},
            "hypotheses": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "cause": text,
                        "confidence": {"type": "number"},
                        "incident_ids": {"type": "array", "items": ids, "minItems": 1, "maxItems": 3},
                    },
                    "required": ["cause", "confidence", "incident_ids"],
                },
            },
            "evidence_to_check": {"type": "array", "items": text, "maxItems": 5},
            "next_steps": {"type": "array", "items": text, "maxItems": 5},
            "resolutions": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"incident_id": ids, "action": text},
                    "required": ["incident_id", "action"],
                },
            },
        },
        "required": ["summary", "hypotheses", "evidence_to_check", "next_steps", "resolutions"],
    }


Search = Callable[[str, int | None], SimilarResult]


class Diagnoser:
    """Owns the prompts, the token counter and the loaded chat models of one loaded index.

    ``search(text, k)`` is the retrieval the service runs (with its limits and instrumentation)."""

    def __init__(self, *, settings: Settings, index: LoadedIndex, search: Search) -> None:
        self.settings = settings
        self.index = index
        self.search = search
        self.prompts = Prompts(self.settings.prompts_dir)
        self._tokens: TokenCounter | None = None
        self._models: dict[str, ChatModel] = {}
        self._lock = threading.Lock()

    @property
    def tokens(self) -> TokenCounter:
        """tiktoken, loaded from its seeded offline cache the first time a prompt is built."""
        if self._tokens is None:
            self._tokens = TokenCounter(cache_dir=default_cache_dir(self.settings.data_dir))
        return self._tokens

    def model(self, name: str) -> ChatModel:
        """The chat model for backend ``name``, loaded once. Raises ``BackendUnavailable``."""
        with self._lock:
            if name not in self._models:
                self._models[name] = create_chat_model(name, self.settings)
            return self._models[name]

    def build_prompt(self, query: str, history: list[Turn], result: SimilarResult) -> PromptBuild:
        """System and user messages holding as many retrieved passages as the token budget allows."""
        ranked = [p for m in result.matches for p in self.index.passages_of(m.id)]
        candidates = [p for p in ranked if p.kind in FIRST_KINDS] + [
            p for p in ranked if p.kind not in FIRST_KINDS
        ]
        digest = hashlib.sha256("\n".join([query, *(p.text for p in candidates)]).encode()).hexdigest()
        delimiter = digest[:12]
        ids = [m.id for m in result.matches]

        def block(ps: list[Passage]) -> str:
            data = [
                {
                    "incident_id": p.incident_id,
                    "kind": p.kind,
                    "title": p.text.split("\n", 1)[0],
                    "text": p.text,
                }
                for p in ps
            ]
            return self.prompts.render(PASSAGES, passages=data, delimiter=delimiter)

        def user(ps: list[Passage], cited: list[str]) -> str:
            return self.prompts.render(
                DIAGNOSIS,
                query=query,
                history=history,
                passages=block(ps) if ps else "",
                incident_ids=cited,
                seen_before=result.seen_before,
            )

        system = self.prompts.render(SYSTEM, id_example=ids[0] if ids else "incident-id")
        bare = user([], ids)
        around = self.tokens.count(system) + self.tokens.count(bare)
        budget = passage_budget(
            context_tokens=self.settings.context_tokens,
            answer_tokens=self.settings.llm_max_tokens,
            prompt_tokens=around,
        )
        fitted = fit(candidates, cost=lambda p: self.tokens.count(block([p])) + 1, budget=budget)
        kept = sorted(fitted.kept, key=candidates.index)
        cited = [i for i in ids if any(p.incident_id == i for p in kept)]
        messages = [ChatMessage("system", system), ChatMessage("user", user(kept, cited))]
        return PromptBuild(
            messages=messages,
            incident_ids=cited,
            passages=kept,
            dropped=len(fitted.dropped),
            instructions=f"{system}\n{bare}",
        )

    def stream(
        self,
        text: str,
        *,
        k: int | None = None,
        backend: str | None = None,
        history: Sequence[str] | None = None,
    ) -> Iterator[str | Diagnosis]:
        """Loads the backend now (so its errors come before any output), then returns the stream: text
        chunks, then one ``Diagnosis``. ``text`` is a query the service has already checked."""
        query = text
        name = check_name(backend or self.settings.llm)
        model = None if name == EXTRACTIVE else self.model(name)
        return self._run(query, name=name, model=model, k=k, history=turns(history))

    def _run(
        self, query: str, *, name: str, model: ChatModel | None, k: int | None, history: list[Turn]
    ) -> Iterator[str | Diagnosis]:
        s = self.settings
        earlier = history
        result = self.search(retrieval_text(query, earlier, max_chars=s.max_query_chars), k)
        records = {m.id: self.index.incidents[m.id] for m in result.matches}
        composed = compose(query=query, result=result, records=records, settings=s)
        extractive = self._checked(composed, self.check(draft_of(composed), [m.id for m in result.matches]))
        if model is None:
            yield from chunks(extractive.summary)
            yield extractive
            return

        prompt = self.build_prompt(query, earlier, result)
        if not prompt.incident_ids:
            yield from self._fallback(
                extractive, f"{name}: no retrieved passage fits the context budget", None
            )
            return
        raw: list[str] = []
        shown = SummaryStream()
        try:
            for chunk in model.stream(prompt.messages, schema=answer_schema(prompt.incident_ids)):
                raw.append(chunk)
                yield from shown.feed(chunk)
        except AssistantError as exc:
            yield from self._fallback(extractive, f"{name} failed: {exc}", None, shown=shown.emitted)
            return

        draft, echoed = drop_echoes(parse_answer("".join(raw)), prompt.instructions)
        checked = self.check(draft, prompt.incident_ids)
        if not checked.citations:
            reason = f"{name}'s answer cited no retrieved incident"
            if checked.invalid_citations:
                reason += f" ({len(checked.invalid_citations)} invalid citations removed)"
            if checked.unsupported_citations:
                reason += f" ({len(checked.unsupported_citations)} unsupported citations removed)"
            if echoed:
                reason += f" ({echoed} parts only repeated the prompt)"
            if not draft.structured:
                reason += "; it was not JSON"
            yield from self._fallback(extractive, reason, checked, shown=shown.emitted)
            return
        diagnosis = self._checked(composed, checked).model_copy(update={"backend": name})
        if not shown.emitted:
            yield from chunks(diagnosis.summary)
        yield diagnosis

    def check(self, draft: DraftAnswer, allowed: list[str]) -> CheckedAnswer:
        """``draft`` checked against the incidents in ``allowed`` and their passages."""
        checker = CitationChecker(
            allowed=allowed,
            passages={i: self.index.passages_of(i) for i in allowed},
            corpus_ids=self.index.incidents,
        )
        return checker.check(draft)

    @staticmethod
    def _checked(composed: Diagnosis, checked: CheckedAnswer) -> Diagnosis:
        return composed.model_copy(update={k: getattr(checked, k) for k in CheckedAnswer.model_fields})

    @staticmethod
    def _fallback(
        extractive: Diagnosis, reason: str, rejected: CheckedAnswer | None, *, shown: bool = False
    ) -> Iterator[str | Diagnosis]:
        """The extractive answer instead; the rejected answer's removed citations are what is reported."""
        if shown:
            yield f"\n\n({reason}; the extractive answer follows)\n\n"
        yield from chunks(extractive.summary)
        update: dict[str, Any] = {"fallback_reason": reason}
        if rejected is not None:
            invalid = [*extractive.invalid_citations, *rejected.invalid_citations]
            update["invalid_citations"] = list(dict.fromkeys(invalid))
            update["unsupported_citations"] = [
                *extractive.unsupported_citations,
                *rejected.unsupported_citations,
            ]
        yield extractive.model_copy(update=update)
