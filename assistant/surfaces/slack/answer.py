"""One Slack question → one answer: the core's diagnosis (matches, seen-before verdict, a short
summary with citations), plus each match's root cause and fixes from its incident record.

A thread's messages come from several people, not alternating user / assistant turns, so they go into
the query text itself rather than into ``history``. The answer is remembered in the feedback store under
a fresh id, which the feedback buttons carry. ``answer_stream`` gives the diagnosis text as the backend
writes it, for replies that stream; ``answer`` is the same answer at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.corpus.facts import IncidentFacts, incident_facts
from assistant.diagnosis.results import Diagnosis
from assistant.errors import AssistantError, BackendUnavailable, QueryError
from assistant.search.results import History, Match, SeenBefore
from assistant.service import Assistant
from assistant.surfaces.slack.feedback import FeedbackStore

TOP = 3
"""Incidents shown per answer."""


@dataclass(frozen=True)
class Card:
    """One similar incident as the answer shows it."""

    match: Match
    facts: IncidentFacts


@dataclass
class Answer:
    id: str
    query: str
    """The text retrieval saw: the question with the thread's earlier messages before it."""
    question: str
    """The question alone, as the user wrote it."""
    history_used: int
    seen_before: SeenBefore
    cards: list[Card]
    summary: str | None = None
    citations: list[str] = field(default_factory=list)
    backend: str | None = None
    note: str | None = None

    def matches_json(self) -> list[dict[str, Any]]:
        return [
            {
                "id": c.match.id,
                "title": c.match.title,
                "score": c.match.score,
                "similarity": c.match.similarity,
            }
            for c in self.cards
        ]


def compose_query(question: str, history: Sequence[str], *, max_chars: int) -> tuple[str, int]:
    """The question with as many of the latest thread messages before it as fit in ``max_chars``.

    Returns the text and how many history messages it holds. A question longer than the limit is cut
    (a pasted log should not be refused).
    """
    question = question.strip()[:max_chars]
    kept: list[str] = []
    room = max_chars - len(question)
    for message in reversed([h.strip() for h in history if h.strip()]):
        if len(message) + 1 > room:
            break
        kept.insert(0, message)
        room -= len(message) + 1
    return "\n".join([*kept, question]).strip(), len(kept)


class Answerer:
    def __init__(self, *, assistant: Callable[[], Assistant], store: FeedbackStore, top: int = TOP) -> None:
        self._assistant = assistant
        self.store = store
        self.top = top

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        """Answer ``question``; ``history`` holds the thread's earlier messages, oldest first.

        Raises ``QueryError`` when there is nothing to search for, and other ``AssistantError``s from the
        core (no index, ...); the handlers turn them into a Slack message.
        """
        for part in self.answer_stream(question, history=history):
            if isinstance(part, Answer):
                return part
        raise RuntimeError("the answer stream ended without an Answer")

    def answer_stream(self, question: str, *, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """``answer``, with the diagnosis text first: its chunks as the backend yields them, then exactly
        one ``Answer``. Errors are raised before any chunk (the core checks the query, the index and
        the backend before it generates anything)."""
        assistant = self._assistant()
        query, used = compose_query(question, history, max_chars=assistant.settings.max_query_chars)
        if not query.strip():
            raise QueryError("there is nothing to search for", hint="describe the symptoms")
        try:
            stream = assistant.diagnose_stream(query, k=self.top)
        except BackendUnavailable as exc:  # a model that cannot be used: still show what was found
            result = assistant.similar(query, k=self.top)
            answer = self._new(
                assistant,
                query=query,
                question=question,
                used=used,
                matches=result.matches,
                seen=result.seen_before,
            )
            answer.note = f"No diagnosis this time: {exc}"
            self._remember(answer)
            yield answer
            return
        for part in stream:
            if isinstance(part, Diagnosis):
                yield self.from_diagnosis(part, question=question, used=used)
                return
            yield part
        raise RuntimeError("the diagnosis stream ended without a Diagnosis")

    def recurring(self, *, days: int) -> History:
        """The kinds of problem that recurred in the last ``days`` days (``Assistant.history``)."""
        return self._assistant().history(days=days)

    def from_diagnosis(self, diagnosis: Diagnosis, *, question: str, used: int = 0) -> Answer:
        """The answer to post for a diagnosis already made (e.g. of an alert), remembered for votes."""
        answer = self._new(
            self._assistant(),
            query=diagnosis.query,
            question=question,
            used=used,
            matches=diagnosis.matches,
            seen=diagnosis.seen_before,
        )
        answer.summary = diagnosis.summary or None
        answer.citations = list(diagnosis.citations)
        answer.backend = diagnosis.backend
        if diagnosis.fallback_reason:
            answer.note = (
                f"The model's answer was replaced by the extractive one: {diagnosis.fallback_reason}"
            )
        self._remember(answer)
        return answer

    def _remember(self, answer: Answer) -> None:
        self.store.remember(
            answer_id=answer.id,
            query=answer.query,
            matches=answer.matches_json(),
            verdict=answer.seen_before.verdict,
        )

    def _new(
        self,
        assistant: Assistant,
        *,
        query: str,
        question: str,
        used: int,
        matches: Sequence[Match],
        seen: SeenBefore,
    ) -> Answer:
        return Answer(
            id=uuid.uuid4().hex,
            query=query,
            question=question.strip(),
            history_used=used,
            seen_before=seen,
            cards=[Card(match=m, facts=self._facts(assistant, m.id)) for m in matches[: self.top]],
        )

    @staticmethod
    def _facts(assistant: Assistant, incident_id: str) -> IncidentFacts:
        try:
            return incident_facts(assistant.incident(incident_id).raw)
        except AssistantError:
            return IncidentFacts(root_cause=None)
