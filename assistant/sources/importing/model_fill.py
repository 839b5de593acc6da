"""Ask a model for the fields the document's structure did not give, and keep only answers the source
supports.

The model gets the document as quoted data and a JSON schema of the fields wanted. Its answer is read
leniently, validated against that schema, and then checked: a subtype must be in the taxonomy, every
number in a value must appear in the source, and most of a text value's words must come from the
source. What passes fills the gap; what fails is reported and the gap stays for the reviewer.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from assistant.corpus.taxonomy import Taxonomy
from assistant.diagnosis.model_answer import read_json_object
from assistant.diagnosis.prompts import Prompts
from assistant.errors import BackendUnavailable
from assistant.llm.chat import ChatMessage, ChatModel
from assistant.sources.importing.document import Document
from assistant.sources.importing.draft import (
    LOW_CONFIDENCE,
    TODO_ACTIONS,
    TODO_ROOT_CAUSE,
    TODO_SYMPTOMS,
    TODO_TITLE,
    Draft,
)

PROMPT = "import.j2"
MAX_DOCUMENT_CHARS = 12_000


class MetricFill(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    before: str = Field(min_length=1, max_length=40)
    after: str = Field(min_length=1, max_length=40)


class ModelFields(BaseModel):
    """The fields a model may fill in a draft label."""

    title: str | None = Field(None, max_length=200)
    symptoms: list[str] = Field([], max_length=8)
    root_cause: str | None = Field(None, max_length=500)
    services: list[str] = Field([], max_length=6)
    immediate_actions: list[str] = Field([], max_length=8)
    metrics: list[MetricFill] = Field([], max_length=8)
    subtype: str | None = None


def gaps(draft: Draft) -> list[str]:
    label = draft.label
    out = []
    if label.get("title") == TODO_TITLE:
        out.append("title")
    if label.get("symptoms") == [TODO_SYMPTOMS]:
        out.append("symptoms")
    if label["analysis"].get("root_cause") == TODO_ROOT_CAUSE:
        out.append("root_cause")
    if not label.get("context", {}).get("service"):
        out.append("services")
    if label["resolution"].get("immediate_actions") == [TODO_ACTIONS]:
        out.append("immediate_actions")
    if "metrics" not in label:
        out.append("metrics")
    if not label["metadata"].get("subtype") or draft.inference.confidence < LOW_CONFIDENCE:
        out.append("subtype")
    return out


_WORD = re.compile(r"[a-z0-9][a-z0-9'-]{2,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def grounded(value: str, source: str, *, words: set[str]) -> str | None:
    """None when ``value`` is supported by the source, else why not."""
    for number in _NUMBER.findall(value):
        if number not in source:
            return f"the number {number} is not in the source"
    own = _WORD.findall(value.lower())
    if own and sum(w in words for w in own) / len(own) < 0.6:
        return "most of its words are not in the source"
    return None


def fill(draft: Draft, doc: Document, *, model: ChatModel, taxonomy: Taxonomy, prompts: Prompts) -> list[str]:
    """Fill ``draft``'s gaps from the model's answer, in place. Returns notes for the person reviewing."""
    wanted = gaps(draft)
    if not wanted:
        return []
    source = doc.full_text()
    prompt = prompts.render(
        PROMPT,
        document=source[:MAX_DOCUMENT_CHARS],
        fields=wanted,
        subtypes=[(s.name, s.description) for s in taxonomy.subtypes.values()],
    )
    try:
        text = model.generate(
            [ChatMessage(role="user", content=prompt)], schema=ModelFields.model_json_schema()
        )
    except BackendUnavailable as exc:
        return [f"model not used: {exc}"]
    data = read_json_object(text)
    if data is None:
        return ["model answer was not JSON; drafted from the structure only"]
    try:
        answer = ModelFields.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return [f"model answer rejected ({where}: {first['msg']}); drafted from the structure only"]
    return _apply(draft, answer, wanted=wanted, source=source, taxonomy=taxonomy)


def _apply(
    draft: Draft, answer: ModelFields, *, wanted: list[str], source: str, taxonomy: Taxonomy
) -> list[str]:
    label, notes, used = draft.label, [], []
    words = set(_WORD.findall(source.lower()))

    def check(name: str, values: list[str]) -> bool:
        for value in values:
            if why := grounded(value, source, words=words):
                notes.append(f"model's {name} rejected: {why}")
                return False
        return bool(values)

    def done(name: str, prefix: str) -> None:
        used.append(name)
        draft.unfilled[:] = [u for u in draft.unfilled if not u.startswith(prefix)]

    if "title" in wanted and answer.title and check("title", [answer.title]):
        label["title"] = answer.title.strip()
        done("title", "title")
    symptoms = [s.strip() for s in answer.symptoms if s.strip()]
    if "symptoms" in wanted and check("symptoms", symptoms):
        label["symptoms"] = symptoms
        done("symptoms", "symptoms")
    if "root_cause" in wanted and answer.root_cause and check("root_cause", [answer.root_cause]):
        label["analysis"]["root_cause"] = answer.root_cause.strip()
        done("root_cause", "analysis.root_cause")
    services = [s.strip() for s in answer.services if s.strip()]
    if "services" in wanted and services:
        if all(s.lower() in source.lower() for s in services):
            label.setdefault("context", {})["service"] = services[0]
            done("services", "context.service")
        else:
            notes.append("model's services rejected: a name is not in the source")
    actions = [a.strip() for a in answer.immediate_actions if a.strip()]
    if "immediate_actions" in wanted and check("immediate_actions", actions):
        label["resolution"]["immediate_actions"] = actions
        done("immediate_actions", "resolution.immediate_actions")
    if "metrics" in wanted and answer.metrics:
        ok = [m for m in answer.metrics if m.before in source and m.after in source]
        if len(ok) < len(answer.metrics):
            notes.append(
                f"{len(answer.metrics) - len(ok)} of the model's metrics rejected: value not in the source"
            )
        if ok:
            key = {m.name: re.sub(r"[^a-z0-9%]+", "_", m.name.lower()).strip("_") for m in ok}
            label["metrics"] = {
                "baseline": {key[m.name]: m.before for m in ok},
                "degraded": {key[m.name]: m.after for m in ok},
            }
            done("metrics", "metrics")
    if "subtype" in wanted and answer.subtype:
        category = taxonomy.category_of(answer.subtype)
        if category is None:
            notes.append(f"model's subtype {answer.subtype!r} rejected: not in the taxonomy")
        else:
            meta: dict[str, Any] = label["metadata"]
            meta["category"], meta["subtype"] = category, answer.subtype
            done("subtype", "metadata.subtype")
    meta = label["metadata"]["import"]
    if used:
        meta["method"] = "structure+model"
        meta["model_fields"] = used
    return notes
