"""Ask a model for every field of a draft, and keep only the answers the source supports.

The model gets the document as quoted data and a JSON schema of the fields. Its answer is read leniently,
validated against that schema, and then checked: a subtype must be in the taxonomy, every number in a
value must appear in the source, and most of a text value's words must come from the source. What passes
replaces what the structure drafted (the structure's value is kept in ``metadata.import.replaced``, for
the reviewer to compare); what fails is reported and the structure's value, or the gap, stays.
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


FIELDS = ("title", "symptoms", "root_cause", "services", "immediate_actions", "metrics", "subtype")


def fill(draft: Draft, doc: Document, *, model: ChatModel, taxonomy: Taxonomy, prompts: Prompts) -> list[str]:
    """Ask the model for every field; keep each value the source supports, in place. Returns notes for
    the person reviewing."""
    source = doc.full_text()
    prompt = prompts.render(
        PROMPT,
        document=source[:MAX_DOCUMENT_CHARS],
        fields=list(FIELDS),
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
    return _apply(draft, answer, source=source, taxonomy=taxonomy)


def _metrics(answer: ModelFields, source: str, notes: list[str]) -> dict[str, Any] | None:
    ok = [m for m in answer.metrics if m.before in source and m.after in source]
    if len(ok) < len(answer.metrics):
        notes.append(
            f"{len(answer.metrics) - len(ok)} of the model's metrics rejected: value not in the source"
        )
    if not ok:
        return None
    key = {m.name: re.sub(r"[^a-z0-9%]+", "_", m.name.lower()).strip("_") for m in ok}
    return {"baseline": {key[m.name]: m.before for m in ok}, "degraded": {key[m.name]: m.after for m in ok}}


def _apply(draft: Draft, answer: ModelFields, *, source: str, taxonomy: Taxonomy) -> list[str]:
    """Every proposal the verifier finds in the source replaces what the structure drafted (which is kept
    in ``metadata.import.replaced`` for the reviewer); a rejected one leaves the structure's value."""
    label, notes, used = draft.label, [], []
    replaced: dict[str, Any] = {}
    words = set(_WORD.findall(source.lower()))
    empty = set(gaps(draft))
    placeholders = (TODO_TITLE, [TODO_SYMPTOMS], TODO_ROOT_CAUSE, [TODO_ACTIONS])

    def supported(name: str, values: list[str]) -> bool:
        for value in values:
            if why := grounded(value, source, words=words):
                notes.append(f"model's {name} rejected: {why}")
                return False
        return bool(values)

    def take(name: str, prefix: str, holder: dict[str, Any], key: str, value: Any) -> None:
        before = holder.get(key)
        if before == value:
            return
        if before is not None and before not in placeholders and name not in empty:
            replaced[name] = before
        holder[key] = value
        used.append(name)
        draft.unfilled[:] = [u for u in draft.unfilled if not u.startswith(prefix)]

    if answer.title and supported("title", [answer.title]):
        take("title", "title", label, "title", answer.title.strip())
    symptoms = [x.strip() for x in answer.symptoms if x.strip()]
    if symptoms and supported("symptoms", symptoms):
        take("symptoms", "symptoms", label, "symptoms", symptoms)
    if answer.root_cause and supported("root_cause", [answer.root_cause]):
        take("root_cause", "analysis.root_cause", label["analysis"], "root_cause", answer.root_cause.strip())
    services = [x.strip() for x in answer.services if x.strip()]
    if services:
        if all(x.lower() in source.lower() for x in services):
            take("services", "context.service", label.setdefault("context", {}), "service", services[0])
        else:
            notes.append("model's services rejected: a name is not in the source")
    actions = [x.strip() for x in answer.immediate_actions if x.strip()]
    if actions and supported("immediate_actions", actions):
        take(
            "immediate_actions",
            "resolution.immediate_actions",
            label["resolution"],
            "immediate_actions",
            actions,
        )
    if answer.metrics and (metrics := _metrics(answer, source, notes)):
        take("metrics", "metrics", label, "metrics", metrics)
    if answer.subtype:
        category = taxonomy.category_of(answer.subtype)
        if category is None:
            notes.append(f"model's subtype {answer.subtype!r} rejected: not in the taxonomy")
        else:
            meta: dict[str, Any] = label["metadata"]
            meta["category"] = category
            take("subtype", "metadata.subtype", meta, "subtype", answer.subtype)
    if label.get("context") == {}:
        del label["context"]
    imported = label["metadata"]["import"]
    if used:
        imported["method"] = "structure+model"
        imported["model_fields"] = used
    if replaced:
        imported["replaced"] = replaced
    return notes
