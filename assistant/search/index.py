"""On-disk index builds: ``index/<build-id>/`` (FAISS, BM25, passages, labels, manifest) and the
``index/current`` link that is swapped atomically once a build is complete.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from assistant.corpus.loading import LabelSet, label_files, path_checksum
from assistant.corpus.passages import PASSAGE_FORMAT, Passage, build_passages
from assistant.corpus.vocabulary import EMPTY, Vocabulary
from assistant.errors import IndexCorrupt, IndexMismatch, IndexMissing
from assistant.search.dense import IndexType as IndexType
from assistant.search.dense import SearchParams as SearchParams
from assistant.search.dense import dense_index as dense_index
from assistant.search.embedding import Progress, embed_passages, previous_vectors
from assistant.search.encoders import Encoder, EncoderSpec
from assistant.search.manifest import IncidentRecord as IncidentRecord
from assistant.search.manifest import (
    LabelEntry,
    Manifest,
    built_with,
    incident_record,
    label_record,
    versions,
)
from assistant.search.manifest import read_manifest as read_manifest
from assistant.search.sparse import SparseIndex

CURRENT = "current"
LOCK = ".build.lock"
STAGING = ".staging-"
VOCABULARY = "vocabulary.json"


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def current_dir(index_dir: Path) -> Path:
    return index_dir / CURRENT


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
    previous = previous_vectors(current_dir(index_dir), encoder)
    per_label = [(item, build_passages(item.label, item.raw)) for item in labels.labels]
    passages = [p for _, ps in per_label for p in ps]
    matrix, embedded = embed_passages(
        per_label,
        previous=previous,
        encoder=encoder,
        batch_size=batch_size,
        progress=progress,
    )
    ids = {item.file: item.label.id for item in labels.labels}
    try:
        _write_build(
            staging,
            matrix=matrix,
            dim=encoder.dim,
            index_type=index_type,
            passages=passages,
            labels=labels,
            labels_root=labels_root,
        )
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
            drafts=[item.label.id for item in labels.drafts],
            embedded_passages=embedded,
            reused_passages=len(passages) - embedded,
            files={
                _relative(file, labels_root): LabelEntry(id=ids.get(file), checksum=checksum)
                for file, checksum in labels.checksums.items()
            },
            versions=versions(),
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


def _write_build(
    staging: Path,
    *,
    matrix: np.ndarray,
    dim: int,
    index_type: IndexType,
    passages: list[Passage],
    labels: LabelSet,
    labels_root: Path,
) -> None:
    """Everything of a build but its manifest: the dense and sparse indexes, passages and labels."""
    dense = dense_index(matrix, dim=dim, index_type=index_type)
    faiss.write_index(dense, str(staging / "dense.faiss"))
    SparseIndex.build([p.searched for p in passages]).save(staging / "bm25")
    with (staging / "passages.jsonl").open("w") as out:
        out.writelines(p.model_dump_json() + "\n" for p in passages)
    with (staging / "labels.jsonl").open("w") as out:
        for item in labels.labels:
            record = label_record(item, file=_relative(item.file, labels_root))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    (staging / VOCABULARY).write_text(json.dumps(labels.vocabulary.to_json(), indent=1, sort_keys=True))


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
        built = built_with(self.manifest)
        if expected is not None and not built.compatible_with(expected):
            raise IndexMismatch(
                f"the index at {build.parent} was built with encoder {built.describe()}, "
                f"but the configured encoder is {expected.describe()}"
            )
        # One query at a time: FAISS's OpenMP threads only add start-up cost and, spinning after each
        # search, slow the next query encode (bench/retrieval.py measures it).
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
                    incident = incident_record(json.loads(line))
                    self.incidents[incident.id] = incident
            vocabulary = build / VOCABULARY  # absent in builds made before the vocabulary existed
            self.vocabulary = Vocabulary(json.loads(vocabulary.read_text())) if vocabulary.exists() else EMPTY
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
