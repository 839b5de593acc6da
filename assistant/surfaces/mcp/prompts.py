"""MCP prompts: ``triage`` and ``postmortem-draft``, messages for the client's own model.

Each prompt searches the incident history for its text (with the same limits as every query, so an
empty or oversized argument gets the REST API's message) and embeds the similar incidents' passages as
delimited, quoted data, the way the diagnosis prompt does: a label that holds instructions cannot steer
the model. After the instruction message come links to the incidents (``incident://<id>``), so a
client can attach their full write-ups.

Templates are files, ``mcp_triage.j2`` and ``mcp_postmortem_draft.j2`` beside this module; one of the
same name in ``ASSISTANT_PROMPTS_DIR`` replaces ours, as for the diagnosis prompts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp.types import ResourceLink

from assistant.corpus.taxonomy import load_taxonomy
from assistant.diagnosis.prompts import PASSAGES, Prompts
from assistant.search.results import SimilarResult
from assistant.service import Assistant
from assistant.surfaces.mcp.resources import MIME_TYPE, incident_uri

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TRIAGE = "mcp_triage.j2"
POSTMORTEM_DRAFT = "mcp_postmortem_draft.j2"


class PromptTemplates(Prompts):
    """The diagnosis prompts' machinery (``StrictUndefined``, the ``quote`` filter, ``PromptError``)
    over three folders, first match wins: yours (``ASSISTANT_PROMPTS_DIR``), these, and the bundled
    diagnosis templates (for ``passages.j2``)."""

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__(folder)
        self.folders.insert(len(self.folders) - 1, TEMPLATES_DIR)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(f)) for f in self.folders])


@lru_cache(maxsize=4)
def templates_for(folder: Path | None) -> PromptTemplates:
    """Built once per prompt folder: settings do not change while a server runs."""
    return PromptTemplates(folder)


@dataclass(frozen=True)
class Grounding:
    """The similar incidents of a text, and their passages rendered as quoted data blocks."""

    result: SimilarResult
    passages: str
    delimiter: str

    @property
    def incident_ids(self) -> list[str]:
        return [m.id for m in self.result.matches]

    def data(self) -> dict[str, Any]:
        """What both templates take about the incidents."""
        return {
            "delimiter": self.delimiter,
            "passages": self.passages,
            "incidents": self.result.matches,
            "incident_ids": self.incident_ids,
        }


def ground(assistant: Assistant, templates: Prompts, text: str) -> Grounding:
    """Search for ``text`` (``QueryError`` when it is empty or too long) and render every passage of
    each match, best match first, inside blocks whose delimiter depends on all of the text."""
    result = assistant.similar(text)
    passages = [p for m in result.matches for p in assistant.index.passages_of(m.id)]
    digest = hashlib.sha256("\n".join([text, *(p.text for p in passages)]).encode()).hexdigest()
    delimiter = digest[:12]
    data = [
        {"incident_id": p.incident_id, "kind": p.kind, "title": p.text.split("\n", 1)[0], "text": p.text}
        for p in passages
    ]
    block = templates.render(PASSAGES, passages=data, delimiter=delimiter) if data else ""
    return Grounding(result=result, passages=block, delimiter=delimiter)


def links(result: SimilarResult) -> list[Message]:
    """One message per similar incident, linking its resource."""
    return [
        UserMessage(
            ResourceLink(
                uri=incident_uri(m.id),
                name=m.id,
                title=m.title,
                description=f"Past incident {m.id}: its label as written, root cause and fixes.",
                mime_type=MIME_TYPE,
            )
        )
        for m in result.matches
    ]


def triage_messages(assistant: Assistant, alert: str) -> list[Message]:
    templates = templates_for(assistant.settings.prompts_dir)
    grounding = ground(assistant, templates, alert)
    text = templates.render(TRIAGE, alert=alert, seen_before=grounding.result.seen_before, **grounding.data())
    return [UserMessage(text), *links(grounding.result)]


def postmortem_draft_messages(assistant: Assistant, text: str) -> list[Message]:
    templates = templates_for(assistant.settings.prompts_dir)
    grounding = ground(assistant, templates, text)
    taxonomy, _ = load_taxonomy(assistant.settings.labels_dir)  # a broken file: the built-in one is used
    subtypes = [(s.name, s.category, s.description) for s in taxonomy.subtypes.values()]
    body = templates.render(POSTMORTEM_DRAFT, text=text, subtypes=subtypes, **grounding.data())
    return [UserMessage(body), *links(grounding.result)]
