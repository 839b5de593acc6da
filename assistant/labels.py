"""The incident label model, and loading a folder of label files without stopping at the first problem.

Core fields are typed; everything else in a label is kept as free-form JSON (``extra="allow"``) so that
labels written by different teams (``immediate_action`` vs ``immediate_actions`` ...) stay valid and
nothing is lost on the way to passages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import LabelProblem
from .taxonomy import SUBTYPE_TO_CATEGORY, TAXONOMY, infer_subtype

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
SCHEMA_FILE = "schema.json"
MAX_LABEL_BYTES = 256 * 1024
"""Default size limit of one label file (``ASSISTANT_MAX_LABEL_BYTES``); the committed ones are < 10 KB."""
MAX_DEPTH = 32
"""Deepest nesting of objects and lists in a label (the committed ones nest 5 deep)."""


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

    # Field validators, not one model validator: a taxonomy problem is reported even when another
    # metadata field (severity, tags, ...) is invalid too.
    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in TAXONOMY:
            raise ValueError(f"unknown category {value!r}; expected one of {', '.join(TAXONOMY)}")
        return value

    @field_validator("subtype")
    @classmethod
    def _known_subtype(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        owner = SUBTYPE_TO_CATEGORY.get(value)
        category = info.data.get("category")
        if owner is None:
            allowed = TAXONOMY[category] if category in TAXONOMY else list(SUBTYPE_TO_CATEGORY)
            raise ValueError(
                f"unknown subtype {value!r}; expected one of {', '.join(allowed)} (see labels/README.md)"
            )
        if category is not None and owner != category:
            raise ValueError(f"subtype {value!r} belongs to category {owner!r}, not {category!r}")
        return value

    @model_validator(mode="after")
    def _taxonomy(self) -> Metadata:
        if self.subtype is not None:
            self.category = SUBTYPE_TO_CATEGORY[self.subtype]
        elif self.category is None:
            self.subtype = infer_subtype(self.tags)
            self.category = SUBTYPE_TO_CATEGORY.get(self.subtype) if self.subtype else None
        return self


class Label(_Open):
    """One incident write-up. ``perf_observation`` is its id, unique across the corpus."""

    perf_observation: str = Field(pattern=ID_PATTERN, description="Incident id, unique in the corpus.")
    timestamp: datetime
    title: str | None = Field(None, description="One-line title; the root cause stands in when absent.")
    symptoms: list[str] = Field([], description="What an on-call engineer first saw, one line each.")
    links: list[str] = []
    environment: Environment = Environment()
    context: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    analysis: Analysis
    resolution: dict[str, Any]
    metadata: Metadata = Metadata()

    @property
    def id(self) -> str:
        return self.perf_observation

    @property
    def display_title(self) -> str:
        return self.title or self.analysis.root_cause


@dataclass(frozen=True)
class LoadedLabel:
    """A valid label with where it came from. ``raw`` is the document as written."""

    file: str
    checksum: str
    label: Label
    raw: dict[str, Any]


@dataclass
class LabelSet:
    labels: list[LoadedLabel] = field(default_factory=list)
    problems: list[LabelProblem] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    """Checksum of every file read, valid or not, keyed like ``LoadedLabel.file``."""

    @property
    def files(self) -> int:
        return len(self.checksums)


def file_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_checksum(path: Path) -> str:
    """``file_checksum`` of a file's content, read in chunks (for files too large to load)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def json_path(loc: Iterable[int | str]) -> str:
    """Pydantic's error location as a JSON path, e.g. ``$.analysis.evidence[2]``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def label_files(root: Path) -> list[Path]:
    """Every label file under ``root`` (a folder or a single file), in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.json") if p.name != SCHEMA_FILE and not p.name.startswith("."))


def _unusable_values(raw: dict[str, Any], *, file: str) -> list[LabelProblem]:
    """Text that cannot be written as UTF-8 (lone surrogates from ``\\ud800`` escapes) and nesting
    deeper than ``MAX_DEPTH``, located by JSON path. Iterative: the depth is what is being checked."""
    problems: list[LabelProblem] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(raw, ())]
    while stack and len(problems) < 20:
        value, loc = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                problems.append(
                    LabelProblem(
                        file,
                        json_path(loc),
                        f"text holds a lone surrogate ({value[exc.start]!r}), which is not valid Unicode; "
                        "fix the \\u escape",
                    )
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if len(loc) >= MAX_DEPTH:
            problems.append(
                LabelProblem(file, json_path(loc), f"nested deeper than {MAX_DEPTH} levels; flatten it")
            )
            continue
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for key, item in reversed(items):
            if isinstance(key, str):
                stack.append((key, loc))  # a key's surrogate is reported at the object holding it
            stack.append((item, (*loc, key)))
    return problems


def parse_label(data: bytes, *, file: str) -> tuple[LoadedLabel | None, list[LabelProblem]]:
    """Parse one label document; return it, or every problem found in it."""
    try:
        raw = json.loads(data)
    except UnicodeDecodeError as exc:
        return None, [LabelProblem(file, "$", f"not UTF-8 text ({exc.reason})")]
    except json.JSONDecodeError as exc:
        return None, [
            LabelProblem(file, "$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        ]
    except RecursionError:
        return None, [LabelProblem(file, "$", f"nested far deeper than {MAX_DEPTH} levels; flatten it")]
    if not isinstance(raw, dict):
        return None, [LabelProblem(file, "$", f"expected a JSON object, got {type(raw).__name__}")]
    if unusable := _unusable_values(raw, file=file):
        return None, unusable
    try:
        label = Label.model_validate(raw)
    except ValidationError as exc:
        return None, [LabelProblem(file, json_path(e["loc"]), e["msg"]) for e in exc.errors()]
    return LoadedLabel(file=file, checksum=file_checksum(data), label=label, raw=raw), []


def load_labels(root: Path, *, max_bytes: int = MAX_LABEL_BYTES) -> LabelSet:
    """Load every label under ``root``; invalid files are reported in ``problems``, never raised.

    Files over ``max_bytes`` are reported without being read into memory."""
    result = LabelSet()
    if not root.exists():
        result.problems.append(LabelProblem(str(root), "$", "no such file or folder"))
        return result
    seen: dict[str, str] = {}
    for path in label_files(root):
        try:
            size = path.stat().st_size
            if size > max_bytes:
                result.checksums[str(path)] = path_checksum(path)
                result.problems.append(
                    LabelProblem(
                        str(path),
                        "$",
                        f"file is {size} bytes; the limit is {max_bytes} (ASSISTANT_MAX_LABEL_BYTES): "
                        "shorten it, or raise the limit",
                    )
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            result.problems.append(LabelProblem(str(path), "$", f"cannot read file: {exc.strerror}"))
            continue
        result.checksums[str(path)] = file_checksum(data)
        loaded, problems = parse_label(data, file=str(path))
        result.problems.extend(problems)
        if loaded is None:
            continue
        first = seen.get(loaded.label.id)
        if first is not None:
            result.problems.append(
                LabelProblem(
                    str(path), "$.perf_observation", f"duplicate id {loaded.label.id!r}, also in {first}"
                )
            )
            continue
        seen[loaded.label.id] = str(path)
        result.labels.append(loaded)
    return result


def iter_taxonomy_counts(labels: Iterable[LoadedLabel]) -> Iterator[tuple[str, str, int]]:
    """(category, subtype, count) for every taxonomy cell, zeros included, then any uncategorised."""
    counts: dict[tuple[str, str], int] = {}
    for item in labels:
        meta = item.label.metadata
        key = (meta.category or "uncategorised", meta.subtype or "-")
        counts[key] = counts.get(key, 0) + 1
    for category, subtypes in TAXONOMY.items():
        for subtype in subtypes:
            yield category, subtype, counts.pop((category, subtype), 0)
    for (category, subtype), n in sorted(counts.items()):
        yield category, subtype, n


def label_schema() -> dict[str, Any]:
    """JSON Schema of a label, as committed in ``labels/schema.json``."""
    schema = Label.model_json_schema()
    schema["$id"] = "https://incident-assistant/labels/schema.json"
    schema["title"] = "Incident label"
    return schema
