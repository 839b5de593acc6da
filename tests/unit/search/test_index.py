from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.corpus.loading import load_labels
from assistant.errors import IndexCorrupt, IndexMismatch, IndexMissing
from assistant.search.encoders import FakeEncoder
from assistant.search.index import load_current
from assistant.service import build
from assistant.settings import Settings


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting what it embeds; optionally failing after some batches."""

    def __init__(self, fail_after_batches: int | None = None) -> None:
        super().__init__()
        self.texts = 0
        self.batches = 0
        self.fail_after_batches = fail_after_batches

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.fail_after_batches is not None and self.batches >= self.fail_after_batches:
            raise RuntimeError("encoder crashed mid-build")
        self.batches += 1
        self.texts += len(texts)
        return super().encode(texts)


def test_build_writes_a_complete_build_and_points_current_at_it(settings: Settings) -> None:
    report = build(settings)
    current = settings.index_dir / "current"
    assert current.is_symlink() and current.resolve() == report.path.resolve()
    assert {p.name for p in report.path.iterdir()} == {
        "dense.faiss",
        "bm25",
        "vocabulary.json",
        "passages.jsonl",
        "labels.jsonl",
        "manifest.json",
    }
    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["labels"] == 6 and manifest["passages"] == 18
    assert manifest["encoder"] == "fake-hashing-256" and manifest["dim"] == 256
    assert len(manifest["files"]) == 6
    assert all(len(entry["checksum"]) == 64 for entry in manifest["files"].values())
    assert {"faiss-cpu", "bm25s", "python"} <= set(manifest["versions"])


def test_rebuild_reembeds_only_the_changed_label(settings: Settings) -> None:
    first = CountingEncoder()
    build(settings, encoder=first)
    assert first.texts == 18

    target = next(settings.labels_dir.rglob("perf-2025031603.json"))
    doc = json.loads(target.read_text())
    doc["analysis"]["evidence"].append("Defrag never ran on two members")
    target.write_text(json.dumps(doc, indent=4))

    second = CountingEncoder()
    report = build(settings, encoder=second)
    assert second.texts == 3
    assert (report.manifest.embedded_passages, report.manifest.reused_passages) == (3, 15)

    third = CountingEncoder()
    build(settings, encoder=third)
    assert third.texts == 0

    # reused vectors are the same vectors a full build computes
    fresh = Settings(
        labels_dir=settings.labels_dir, index_dir=settings.index_dir.parent / "fresh", encoder="fake"
    )
    build(fresh)
    a = load_current(settings.index_dir).dense
    b = load_current(fresh.index_dir).dense
    assert np.allclose(a.reconstruct_n(0, a.ntotal), b.reconstruct_n(0, b.ntotal))


def test_a_build_that_fails_midway_leaves_the_previous_index_serving(settings: Settings) -> None:
    good = build(settings)
    for path in settings.labels_dir.rglob("*.json"):  # force a full re-embed
        path.write_text(path.read_text() + "\n")
    with pytest.raises(RuntimeError, match="mid-build"):
        build(
            settings.model_copy(update={"encode_batch_size": 4}),
            encoder=CountingEncoder(fail_after_batches=2),
        )
    assert (settings.index_dir / "current").resolve() == good.path.resolve()
    leftovers = [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == [".build.lock"], "no staging folder or link temporary is left behind"
    assistant = Assistant.from_settings(settings)
    assert assistant.similar("etcd fsync latency", k=1).matches


def test_invalid_labels_are_skipped_and_the_rest_indexed(settings: Settings) -> None:
    (settings.labels_dir / "broken.json").write_text("{ nope")
    labels = load_labels(settings.labels_dir)
    report = build(settings, labels=labels)
    assert report.manifest.labels == 6 and report.manifest.skipped_files == 1
    assert report.manifest.files["broken.json"].id is None
    assert load_current(settings.index_dir).stale_files(settings.labels_dir) == []


def test_old_builds_are_pruned(settings: Settings) -> None:
    s = settings.model_copy(update={"keep_builds": 2})
    paths = [build(s).path for _ in range(4)]
    remaining = sorted(p.name for p in s.index_dir.iterdir() if p.is_dir() and not p.is_symlink())
    assert remaining == sorted(p.name for p in paths[-2:])


def test_stale_files_lists_changed_added_and_removed_labels(settings: Settings) -> None:
    build(settings)
    index = load_current(settings.index_dir)
    changed = next(settings.labels_dir.rglob("perf-2025031601.json"))
    changed.write_text(changed.read_text().replace("payment-processor", "payments"))
    next(settings.labels_dir.rglob("perf-2025031602.json")).unlink()
    (settings.labels_dir / "new.json").write_text("{}")
    assert index.stale_files(settings.labels_dir) == [
        "network/perf-2025031602.json",
        "new.json",
        "resource_contention/perf-2025031601.json",
    ]


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing) as info:
        Assistant.from_settings(Settings(index_dir=tmp_path / "nowhere", encoder="fake"))
    assert "no index at" in str(info.value) and "assistant index build" in str(info.value)


def test_encoder_mismatch_names_both_encoders_and_the_fix(settings: Settings) -> None:
    build(settings)
    with pytest.raises(IndexMismatch) as info:
        Assistant.from_settings(settings.model_copy(update={"encoder": "minilm"}))
    message = str(info.value)
    assert "fake-hashing-256" in message and "all-MiniLM-L6-v2" in message
    assert "assistant index build" in message


def test_truncated_build_is_reported_as_corrupt(settings: Settings) -> None:
    report = build(settings)
    (report.path / "passages.jsonl").write_text("")
    with pytest.raises(IndexCorrupt, match="0 passages"):
        load_current(settings.index_dir)
    os.remove(report.path / "manifest.json")
    with pytest.raises(IndexMissing):
        load_current(settings.index_dir)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_types_find_what_flat_finds(settings: Settings, kind: str) -> None:
    build(settings)
    flat = Assistant.from_settings(settings)
    approx_settings = settings.model_copy(
        update={"index_type": kind, "index_dir": settings.index_dir.parent / kind}
    )
    report = build(approx_settings)
    assert report.manifest.index_type == kind
    approx = Assistant.from_settings(approx_settings)
    assert approx.index.dense.ntotal == flat.index.dense.ntotal
    for query in ("heap grows until OOMKilled", "kafka consumer lag", "etcd fsync latency"):
        a, b = flat.similar(query, k=3), approx.similar(query, k=3)
        assert [m.id for m in a.matches] == [m.id for m in b.matches]
        assert [m.similarity for m in a.matches] == pytest.approx([m.similarity for m in b.matches], abs=1e-5)
    # an unchanged rebuild reuses the stored vectors of an approximate index too
    assert build(approx_settings).manifest.reused_passages == report.manifest.passages
