"""Request and response models of the REST API (the OpenAI-compatible ones live in openai_schemas.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.corpus.facts import incident_facts
from assistant.corpus.passages import Passage
from assistant.search.index import IncidentRecord
from assistant.search.results import PassageHit
from assistant.sources.json_types import WHOLE

# Requests are strict: `"k": "5"`, `"k": true` or `"stream": 0` are errors, not guesses.
STRICT = ConfigDict(strict=True)

# The arguments every surface takes (REST bodies, MCP tools), so each accepts exactly the same values.
QueryArg = Annotated[
    str,
    Field(
        description="What you see, in plain words or as a pasted alert, e.g. "
        "'checkout p99 2.5 s after the deploy, pods OOMKilled'.",
        examples=["etcd fsync slow, kubectl hangs"],
        # For the spec: some text that is not only blanks (checked by the service, with its own message).
        json_schema_extra={"minLength": 1, "pattern": r"\S"},
    ),
]
KArg = Annotated[
    int, Field(ge=1, le=50, strict=True, description="How many past incidents to consider."), WHOLE
]

DaysArg = Annotated[int, Field(ge=1, le=36500, strict=True, description="How many days back to look."), WHOLE]
MinCountArg = Annotated[
    int,
    Field(ge=1, le=1000, strict=True, description="Incidents in the window a kind needs to be listed."),
    WHOLE,
]


class SimilarRequest(BaseModel):
    model_config = STRICT

    query: QueryArg
    k: KArg | None = Field(None, description="How many incidents (default ASSISTANT_DEFAULT_K).")
    id: str | None = Field(None, description="Echoed back, to match answers to queries.")


class DiagnoseRequest(BaseModel):
    model_config = STRICT

    query: QueryArg
    k: KArg | None = Field(None, description="How many similar incidents to ground the answer on.")
    backend: str | None = Field(None, description="Answer backend; default ASSISTANT_LLM.")
    history: list[str] = Field(
        [], max_length=50, description="Earlier turns of the conversation, oldest first."
    )
    stream: bool = Field(False, description="Stream server-sent events: `token` chunks, then `diagnosis`.")


class IncidentDetail(BaseModel):
    id: str
    title: str
    category: str | None
    subtype: str | None
    severity: str | None = Field(None, description="The label's metadata.severity.")
    started: str | None = Field(None, description="When it started or was detected (the label's timestamp).")
    duration: str | None = Field(None, description="How long it lasted (the label's context.duration).")
    root_cause: str | None = Field(None, description="The label's analysis.root_cause.")
    fixes: list[str] = Field([], description="What resolved it: one line per step, immediate ones first.")
    file: str = Field(description="Label file, relative to the labels folder the index was built from.")
    label: dict[str, Any] = Field(description="The label as written.")
    passages: list[PassageHit]

    @classmethod
    def of(cls, record: IncidentRecord, passages: Sequence[Passage]) -> IncidentDetail:
        raw = record.raw
        facts = incident_facts(raw)
        meta: dict[str, Any] = raw["metadata"] if isinstance(raw.get("metadata"), dict) else {}
        context: dict[str, Any] = raw["context"] if isinstance(raw.get("context"), dict) else {}

        def text(value: Any) -> str | None:
            return str(value) if isinstance(value, str | int | float) and str(value).strip() else None

        return cls(
            id=record.id,
            title=record.title,
            category=record.category,
            subtype=record.subtype,
            severity=text(meta.get("severity")),
            started=text(raw.get("timestamp")) or text(context.get("detection_time")),
            duration=text(context.get("duration")),
            root_cause=facts.root_cause,
            fixes=facts.fixes,
            file=record.file,
            label=raw,
            passages=[PassageHit(kind=p.kind, text=p.text) for p in passages],
        )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    pid: int = Field(default_factory=os.getpid, description="The server process (tells workers apart).")


class IndexInfo(BaseModel):
    build_id: str
    built_at: datetime
    encoder: str
    incidents: int
    passages: int


class Readiness(BaseModel):
    status: Literal["ready", "loading", "failed"]
    reason: str = Field("", description="Why the service is not ready.")
    hint: str = Field("", description="What to run to fix it.")
    index: IndexInfo | None = None
    stale_files: int = Field(0, description="Label files changed since the serving build, counted now.")
    refused_build: str | None = Field(
        None, description="A newer build in index/current that could not be loaded (see warning)."
    )
    warning: str | None = None
