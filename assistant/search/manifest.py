"""What an index build records about itself and its labels: ``manifest.json`` (how it was built, from
which files) and the ``labels.jsonl`` records that let a build answer without the labels folder.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.corpus.labels import indexed_label
from assistant.corpus.loading import LoadedLabel
from assistant.errors import IndexCorrupt, IndexMissing
from assistant.search.encoders import EncoderSpec

INDEX_FORMAT = 1
_VERSIONED = (
    "incident-assistant",
    "faiss-cpu",
    "bm25s",
    "sentence-transformers",
    "torch",
    "onnxruntime",
    "onnx",
    "tokenizers",
    "numpy",
    "pydantic",
)


class LabelEntry(BaseModel):
    id: str | None = None
    """None for a file that was invalid at build time and skipped."""
    checksum: str


class Manifest(BaseModel):
    format: int = INDEX_FORMAT
    build_id: str
    built_at: datetime
    encoder: str
    runtime: str = "torch"
    """Encoder runtime (torch | onnx | onnx-int8 | fake); builds before runtimes existed used torch."""
    quantization: str = "none"
    dim: int
    index_type: str = "flat"
    passage_format: int
    labels: int
    passages: int
    skipped_files: int
    drafts: list[str] = []
    """Ids of the draft labels (metadata.review "draft") in the build: included with --include-drafts."""
    embedded_passages: int
    reused_passages: int
    files: dict[str, LabelEntry]
    versions: dict[str, str]


@dataclass(frozen=True)
class IncidentRecord:
    """What the index keeps of a label: enough to answer without the labels folder."""

    id: str
    title: str
    category: str | None
    subtype: str | None
    file: str
    raw: dict[str, Any]


def versions() -> dict[str, str]:
    """Python's version and those of the installed packages that shape a build."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def built_with(manifest: Manifest) -> EncoderSpec:
    """The encoder a build was embedded with."""
    return EncoderSpec(id=manifest.encoder, runtime=manifest.runtime, quantization=manifest.quantization)


def read_manifest(build: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((build / "manifest.json").read_bytes())
    except FileNotFoundError as exc:
        raise IndexMissing(f"no index at {build.parent}") from exc
    except (ValidationError, ValueError) as exc:
        raise IndexCorrupt(f"unreadable manifest in {build}: {exc}") from exc


def label_record(item: LoadedLabel, *, file: str) -> dict[str, Any]:
    """One line of ``labels.jsonl``: the label as written, with ``file`` relative to the labels folder."""
    return {
        "file": file,
        "checksum": item.checksum,
        "category": item.label.metadata.category,
        "subtype": item.label.metadata.subtype,
        "raw": item.raw,
    }


def incident_record(record: dict[str, Any]) -> IncidentRecord:
    """A ``labels.jsonl`` line read back."""
    label = indexed_label(record["raw"])
    return IncidentRecord(
        id=label.id,
        title=label.display_title,
        category=record.get("category", label.metadata.category),
        subtype=record.get("subtype", label.metadata.subtype),
        file=record["file"],
        raw=record["raw"],
    )
