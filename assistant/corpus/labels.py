"""The incident label model: what a label file holds once it is valid, and its JSON Schema.

Core fields are typed; everything else in a label is kept as free-form JSON (``extra="allow"``) so that
labels written by different teams (``immediate_action`` vs ``immediate_actions`` ...) stay valid and
nothing is lost on the way to passages. Reading a folder of label files is ``assistant.corpus.loading``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from assistant.corpus.taxonomy import BUILTIN, Taxonomy

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
DRAFT = "draft"
TRUSTED = {"trusted": True}
"""Validation context for labels that were validated when indexed: category and subtype as written."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Environment(_Open):
    cluster_type: str | None = None
    k8s_version: str | None = None
    node_count: int | None = Field(None, ge=0)


class Analysis(_Open):
    root_cause: str = Field(min_length=3)
    evidence: list[str] = []
    contributing_factors: list[str] = []
    affected_components: list[str] = []
    investigation_tools: list[str] = []
    impact: Any = None


class Metadata(_Open):
    label_type: str | None = None
    severity: Literal["critical", "high", "medium", "low", "info"] | None = None
    component_type: str | None = None
    tags: list[str] = []
    category: str | None = Field(None, description="Taxonomy category; inferred from tags when absent.")
    subtype: str | None = Field(None, description="Taxonomy subtype; inferred from tags when absent.")

    review: str | None = Field(
        None, description='"draft" until a person has reviewed the label; drafts are not indexed.'
    )

    # Field validators check the taxonomy, so that a taxonomy problem is reported even when another
    # metadata field (severity, tags, ...) is invalid too; the model validator then fills in the rest.
    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        if value is None or context.get("trusted"):
            return value
        cells = context.get("taxonomy", BUILTIN).cells
        if value not in cells:
            raise ValueError(
                f"unknown category {value!r}; expected one of {', '.join(cells)}, or declare it "
                "in taxonomy.toml in the labels folder"
            )
        return value

    @field_validator("subtype")
    @classmethod
    def _known_subtype(cls, value: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        if value is None or context.get("trusted"):
            return value
        taxonomy: Taxonomy = context.get("taxonomy", BUILTIN)
        owner = taxonomy.category_of(value)
        if owner is None:
            raise ValueError(taxonomy.unknown_subtype_message(value))
        category = info.data.get("category")
        if category is not None and owner != category:
            raise ValueError(f"subtype {value!r} belongs to category {owner!r}, not {category!r}")
        return value

    @model_validator(mode="after")
    def _taxonomy(self, info: ValidationInfo) -> Metadata:
        context = info.context or {}
        if context.get("trusted"):
            if self.category is None:
                self.subtype = self.subtype or BUILTIN.infer_from_tags(self.tags)
                self.category = BUILTIN.category_of(self.subtype) if self.subtype else None
            return self
        taxonomy: Taxonomy = context.get("taxonomy", BUILTIN)
        if self.subtype is not None:
            self.category = taxonomy.category_of(self.subtype)
        elif self.category is None:
            self.subtype = taxonomy.infer_from_tags(self.tags)
            self.category = taxonomy.category_of(self.subtype) if self.subtype else None
        return self

    @property
    def is_draft(self) -> bool:
        return (self.review or "").strip().lower() == DRAFT


class Label(_Open):
    """One incident write-up. ``perf_observation`` (or ``id``) is its id, unique across the corpus."""

    perf_observation: str = Field(
        pattern=ID_PATTERN, description="Incident id, unique in the corpus; `id` is accepted instead."
    )
    timestamp: datetime | None = Field(
        None, description='When it started (ISO 8601); required unless metadata.review is "draft".'
    )
    title: str | None = Field(None, description="One-line title; the root cause stands in when absent.")
    symptoms: list[str] = Field([], description="What an on-call engineer first saw, one line each.")
    links: list[str] = []
    environment: Environment = Environment()
    context: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    analysis: Analysis
    resolution: dict[str, Any]
    metadata: Metadata = Metadata()

    @model_validator(mode="before")
    @classmethod
    def _id_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "id" in data:
            data = dict(data)
            ident = data.pop("id")
            if "perf_observation" in data and data["perf_observation"] != ident:
                raise ValueError("`id` and `perf_observation` differ; keep one of them")
            data["perf_observation"] = ident
        return data

    @property
    def id(self) -> str:
        return self.perf_observation

    @property
    def is_draft(self) -> bool:
        return self.metadata.is_draft

    @property
    def display_title(self) -> str:
        return self.title or self.analysis.root_cause


def indexed_label(raw: dict[str, Any]) -> Label:
    """A label read back from an index build (it was validated when indexed)."""
    return Label.model_validate(raw, context=TRUSTED)


def label_schema() -> dict[str, Any]:
    """JSON Schema of a label, as committed in ``labels/schema.json``."""
    schema = Label.model_json_schema()
    schema["$id"] = "https://incident-assistant/labels/schema.json"
    schema["title"] = "Incident label"
    # The id may be written as `id` instead of `perf_observation`.
    schema["properties"]["id"] = {
        "description": "Incident id, unique in the corpus (the same as `perf_observation`).",
        "pattern": ID_PATTERN,
        "title": "Id",
        "type": "string",
    }
    schema["required"] = [r for r in schema["required"] if r != "perf_observation"]
    schema["anyOf"] = [{"required": ["perf_observation"]}, {"required": ["id"]}]
    return schema
