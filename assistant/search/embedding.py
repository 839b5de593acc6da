"""The vectors of a new build's passages: reused from the current build for labels whose file is
unchanged, the rest embedded in batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from assistant.corpus.loading import LoadedLabel
from assistant.corpus.passages import PASSAGE_FORMAT, Passage
from assistant.errors import IndexCorrupt, IndexMissing
from assistant.search.encoders import Encoder, spec_of
from assistant.search.manifest import built_with, read_manifest

Progress = Callable[[int, int], None]


def previous_vectors(build: Path, encoder: Encoder) -> dict[tuple[str, str], np.ndarray]:
    """Vectors of ``build`` (the current one), keyed by (label id, label checksum), when they can be
    reused."""
    try:
        manifest = read_manifest(build)
        if (
            not built_with(manifest).compatible_with(spec_of(encoder))
            or manifest.passage_format != PASSAGE_FORMAT
        ):
            return {}
        dense = faiss.read_index(str(build / "dense.faiss"))
        vectors = dense.reconstruct_n(0, dense.ntotal)
        ids = [json.loads(line)["incident_id"] for line in (build / "passages.jsonl").open()]
    except (IndexMissing, IndexCorrupt, OSError, RuntimeError, ValueError, KeyError):
        return {}
    checksums = {entry.id: entry.checksum for entry in manifest.files.values() if entry.id}
    grouped: dict[tuple[str, str], list[np.ndarray]] = {}
    for row, incident in enumerate(ids):
        if incident in checksums:
            grouped.setdefault((incident, checksums[incident]), []).append(vectors[row])
    return {key: np.vstack(rows) for key, rows in grouped.items()}


def embed_passages(
    per_label: list[tuple[LoadedLabel, list[Passage]]],
    *,
    previous: dict[tuple[str, str], np.ndarray],
    encoder: Encoder,
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, int]:
    """The vector of every passage, in order, and how many were embedded rather than reused from
    ``previous`` (a label's vectors are reused when its checksum and passage count are unchanged)."""
    passages = [p for _, ps in per_label for p in ps]
    vectors: list[np.ndarray | None] = []
    todo: list[int] = []
    for item, ps in per_label:
        reused = previous.get((item.label.id, item.checksum))
        if reused is not None and len(reused) == len(ps):
            vectors.extend(reused)
        else:
            todo.extend(range(len(vectors), len(vectors) + len(ps)))
            vectors.extend([None] * len(ps))

    # Similar lengths in one batch waste less padding in the transformer.
    todo.sort(key=lambda r: len(passages[r].searched))
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch_size):
        rows = todo[start : start + batch_size]
        encoded = encoder.encode([passages[r].searched for r in rows])
        for r, vec in zip(rows, encoded, strict=True):
            vectors[r] = vec
        if progress:
            progress(min(start + batch_size, len(todo)), len(todo))

    matrix = (
        np.vstack([v for v in vectors if v is not None]).astype(np.float32)
        if passages
        else np.zeros((0, encoder.dim), dtype=np.float32)
    )
    return matrix, len(todo)
