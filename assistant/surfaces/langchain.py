"""LangChain adapter: our hybrid retrieval as a ``BaseRetriever`` for users' own chains."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.service import Assistant


class IncidentRetriever(BaseRetriever):
    """One ``Document`` per similar incident: its matched passages, with the match fields as metadata.

    >>> retriever = IncidentRetriever(assistant=Assistant.from_settings(), k=3)
    >>> docs = retriever.invoke("checkout p99 2s after deploy")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.assistant.similar(query, self.k)
        return [
            Document(
                id=match.id,
                page_content="\n\n".join(p.text for p in match.passages),
                metadata={
                    "id": match.id,
                    "title": match.title,
                    "category": match.category,
                    "subtype": match.subtype,
                    "score": match.score,
                    "similarity": match.similarity,
                    "passage_kinds": [p.kind for p in match.passages],
                    "seen_before": result.seen_before.verdict,
                },
            )
            for match in result.matches
        ]
