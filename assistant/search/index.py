"""On-disk index builds: ``index/<build-id>/`` (FAISS, BM25, passages, labels, manifest) and the
``index/current`` link that is swapped atomically once a build is complete.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
from pydantic import BaseModel, ValidationError

from assistant.corpus.labels import LabelSet, indexed_label, label_files, path_checksum
from assistant.corpus.passages import PASSAGE_FORMAT, Passage, build_passages
from assistant.errors import IndexCorrupt, IndexMismatch, IndexMissing
from assistant.search.encoders import Encoder, EncoderSpec, spec_of
from assistant.search.sparse import SparseIndex

CURRENT = "current"
LOCK = ".build.lock"
STAGING = ".staging-"
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

Progress = Callable[[int, int], None]


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


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def current_dir(index_dir: Path) -> Path:
    return index_dir / CURRENT


def read_manifest(build: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((build / "manifest.json").read_bytes())
    except FileNotFoundError as exc:
        raise IndexMissing(f"no index at {build.parent}") from exc
    except (ValidationError, ValueError) as exc:
        raise IndexCorrupt(f"unreadable manifest in {build}: {exc}") from exc


def _previous_vectors(index_dir: Path, encoder: Encoder) -> dict[tuple[str, str], np.ndarray]:
    """Vectors of the current build, keyed by (label id, label checksum), when they can be reused."""
    build = current_dir(index_dir)
    try:
        manifest = read_manifest(build)
        if not _spec(manifest).compatible_with(spec_of(encoder)) or manifest.passage_format != PASSAGE_FORMAT:
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


@contextmanager
def build_lock(index_dir: Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One build at a time per index folder: an exclusive ``flock`` on ``index_dir/.build.lock``,
    released by the kernel when the holder exits, even by ``kill -9``."""
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove_leftovers(index_dir: Path) -> None:
    """Staging folders and link temporaries of builds that died. Called under the build lock, so no
    other build is writing them."""
    for path in index_dir.iterdir():
        if path.name.startswith(STAGING) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{CURRENT}-") and path.is_symlink():
            path.unlink(missing_ok=True)


def _spec(manifest: Manifest) -> EncoderSpec:
    return EncoderSpec(id=manifest.encoder, runtime=manifest.runtime, quantization=manifest.quantization)


@dataclass(frozen=True)
class IndexType:
    """Which FAISS index a build writes. ``flat`` is exact; ``hnsw`` and ``ivf`` trade a little recall
    for search time that grows slower than the passage count (bench/retrieval.py measures both)."""

    kind: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = 32
    ivf_lists: int = 0
    """0: 4·√passages cells."""


@dataclass(frozen=True)
class SearchParams:
    hnsw_ef_search: int = 64
    ivf_probe: int = 16


def dense_index(matrix: np.ndarray, *, dim: int, index_type: IndexType) -> Any:
    """A FAISS inner-product index over the unit rows of ``matrix``, able to return stored vectors."""
    dense: Any
    if index_type.kind == "hnsw":
        dense = faiss.IndexHNSWFlat(dim, index_type.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        dense.hnsw.efConstruction = 80
    elif index_type.kind == "ivf":
        lists = index_type.ivf_lists or round(4 * len(matrix) ** 0.5)
        lists = max(1, min(lists, len(matrix)))
        dense = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        if len(matrix):
            dense.train(matrix)
        dense.make_direct_map()  # reconstruct() by row, for cosine() and vector reuse
    else:
        dense = faiss.IndexFlatIP(dim)
    if len(matrix):
        dense.add(matrix)
    return dense


@dataclass(frozen=True)
class BuildReport:
    manifest: Manifest
    path: Path


def build_index(
    *,
    labels: LabelSet,
    labels_root: Path,
    index_dir: Path,
    encoder: Encoder,
    batch_size: int = 32,
    keep: int = 3,
    index_type: IndexType | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
) -> BuildReport:
    """Embed and index ``labels``, then point ``index_dir/current`` at the new build.

    Passages of labels whose file checksum is unchanged since the current build reuse its vectors.
    A failure at any point, ``kill -9`` included, leaves the previous build serving; what a killed
    build left in ``index_dir/.staging-*`` is removed by the next one. Builds of one index folder run
    one at a time (``on_wait`` is called when this one has to wait for another).
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(index_dir, on_wait=on_wait):
        _remove_leftovers(index_dir)
        try:
            return _build_locked(
                labels=labels,
                labels_root=labels_root,
                index_dir=index_dir,
                encoder=encoder,
                batch_size=batch_size,
                keep=keep,
                index_type=index_type or IndexType(),
                progress=progress,
            )
        except BaseException:
            _remove_leftovers(index_dir)  # this build's own staging folder
            raise


def _build_locked(
    *,
    labels: LabelSet,
    labels_root: Path,
    index_dir: Path,
    encoder: Encoder,
    batch_size: int,
    keep: int,
    index_type: IndexType,
    progress: Progress | None,
) -> BuildReport:
    # The staging folder exists from the start, so a build killed while embedding leaves a trace
    # that the next build removes (and that tests can see).
    built_at = datetime.now(UTC)
    build_id = built_at.strftime("%Y%m%dT%H%M%S.%f") + "-" + uuid.uuid4().hex[:6]  # sorts by time
    staging = index_dir / f"{STAGING}{build_id}"
    staging.mkdir()
    previous = _previous_vectors(index_dir, encoder)
    per_label = [(item, build_passages(item.label, item.raw)) for item in labels.labels]
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
    todo.sort(key=lambda r: len(passages[r].text))
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch_size):
        rows = todo[start : start + batch_size]
        encoded = encoder.encode([passages[r].text for r in rows])
        for r, vec in zip(rows, encoded, strict=True):
            vectors[r] = vec
        if progress:
            progress(min(start + batch_size, len(todo)), len(todo))

    matrix = (
        np.vstack([v for v in vectors if v is not None]).astype(np.float32)
        if passages
        else np.zeros((0, encoder.dim), dtype=np.float32)
    )
    ids = {item.file: item.label.id for item in labels.labels}
    try:
        dense = dense_index(matrix, dim=encoder.dim, index_type=index_type)
        faiss.write_index(dense, str(staging / "dense.faiss"))
        SparseIndex.build([p.text for p in passages]).save(staging / "bm25")
        with (staging / "passages.jsonl").open("w") as out:
            out.writelines(p.model_dump_json() + "\n" for p in passages)
        with (staging / "labels.jsonl").open("w") as out:
            for item in labels.labels:
                record = {
                    "file": _relative(item.file, labels_root),
                    "checksum": item.checksum,
                    "category": item.label.metadata.category,
                    "subtype": item.label.metadata.subtype,
                    "raw": item.raw,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        manifest = Manifest(
            build_id=build_id,
            built_at=built_at,
            encoder=encoder.id,
            runtime=encoder.runtime,
            quantization=encoder.quantization,
            dim=encoder.dim,
            index_type=index_type.kind,
            passage_format=PASSAGE_FORMAT,
            labels=len(labels.labels),
            passages=len(passages),
            skipped_files=labels.files - len(labels.labels),
            embedded_passages=len(todo),
            reused_passages=len(passages) - len(todo),
            files={
                _relative(file, labels_root): LabelEntry(id=ids.get(file), checksum=checksum)
                for file, checksum in labels.checksums.items()
            },
            versions=_versions(),
        )
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        final = index_dir / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point_current(index_dir, build_id)
    _prune(index_dir, keep=keep)
    return BuildReport(manifest=manifest, path=final)


def _point_current(index_dir: Path, build_id: str) -> None:
    link = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    os.symlink(build_id, link)
    os.replace(link, current_dir(index_dir))


def _prune(index_dir: Path, *, keep: int) -> None:
    """Remove the oldest builds beyond ``keep``: never the live one, a newer one or a staging folder."""
    live = os.readlink(current_dir(index_dir))
    builds = sorted(
        (
            p
            for p in index_dir.iterdir()
            if not p.name.startswith(".")
            and p.is_dir()
            and not p.is_symlink()
            and (p / "manifest.json").exists()
        ),
        key=lambda p: p.name,
    )
    others = [p for p in builds if p.name < live]
    for old in others[: max(0, len(others) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)


class LoadedIndex:
    """A read-only index build in memory: dense and sparse search over its passages."""

    def __init__(
        self, build: Path, *, expected: EncoderSpec | None = None, search: SearchParams | None = None
    ) -> None:
        if not build.exists():
            raise IndexMissing(f"no index at {build.parent}")
        self.path = build.resolve()
        self.manifest = read_manifest(build)
        built_with = _spec(self.manifest)
        if expected is not None and not built_with.compatible_with(expected):
            raise IndexMismatch(
                f"the index at {build.parent} was built with encoder {built_with.describe()}, "
                f"but the configured encoder is {expected.describe()}"
            )
        # One query at a time: FAISS's OpenMP threads only add start-up cost and, spinning after each
        # search, slow the next query encode (bench/retrieval.py at 100k passages: dense 17 → 7 ms).
        faiss.omp_set_num_threads(1)
        try:
            self.dense = faiss.read_index(str(build / "dense.faiss"))
            _set_search(self.dense, search or SearchParams())
            self.sparse = SparseIndex.load(build / "bm25", self.manifest.passages)
            with (build / "passages.jsonl").open() as f:
                self.passages = [Passage.model_validate_json(line) for line in f]
            self.incident_of = [p.incident_id for p in self.passages]
            self.by_incident: dict[str, list[Passage]] = {}
            for p in self.passages:
                self.by_incident.setdefault(p.incident_id, []).append(p)
            self.incidents: dict[str, IncidentRecord] = {}
            with (build / "labels.jsonl").open() as f:
                for line in f:
                    incident = _record(json.loads(line))
                    self.incidents[incident.id] = incident
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise IndexCorrupt(f"index build {build} is incomplete or unreadable: {exc}") from exc
        if self.dense.ntotal != len(self.passages):
            raise IndexCorrupt(
                f"index build {build} has {self.dense.ntotal} vectors for {len(self.passages)} passages"
            )

    def passages_of(self, incident_id: str) -> list[Passage]:
        """The incident's passages in index order (symptom, evidence, resolution); [] if unknown."""
        return self.by_incident.get(incident_id, [])

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if self.dense.ntotal == 0:
            return []
        scores, rows = self.dense.search(vector.reshape(1, -1), min(n, self.dense.ntotal))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def cosine(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Exact query-passage cosine for the given rows (vectors are unit length)."""
        if not rows:
            return {}
        stored = self.dense.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        return dict(zip(rows, (stored @ vector.reshape(-1)).tolist(), strict=True))

    def sparse_search(self, text: str, n: int) -> list[tuple[int, float]]:
        return self.sparse.search(text, n)

    def stale_files(self, labels_root: Path) -> list[str]:
        """Label files added, removed or changed since this build (relative paths)."""
        current: dict[str, str] = {}
        for path in label_files(labels_root):
            try:
                current[_relative(str(path), labels_root)] = path_checksum(path)
            except OSError:
                continue
        built = {name: entry.checksum for name, entry in self.manifest.files.items()}
        return sorted(name for name in current.keys() | built.keys() if current.get(name) != built.get(name))


def _set_search(dense: Any, search: SearchParams) -> None:
    if isinstance(dense, faiss.IndexHNSW):
        dense.hnsw.efSearch = search.hnsw_ef_search
    elif isinstance(dense, faiss.IndexIVF):
        dense.nprobe = search.ivf_probe
        dense.make_direct_map()


def _record(record: dict[str, Any]) -> IncidentRecord:
    label = indexed_label(record["raw"])
    return IncidentRecord(
        id=label.id,
        title=label.display_title,
        category=record.get("category", label.metadata.category),
        subtype=record.get("subtype", label.metadata.subtype),
        file=record["file"],
        raw=record["raw"],
    )


def load_current(
    index_dir: Path, *, expected: EncoderSpec | None = None, search: SearchParams | None = None
) -> LoadedIndex:
    """The build ``index/current`` points at, resolved once: a build swapped in meanwhile is never
    read half from one build and half from another."""
    current = current_dir(index_dir)
    try:
        build = index_dir / os.readlink(current)
    except OSError:
        build = current
    return LoadedIndex(build, expected=expected, search=search)
