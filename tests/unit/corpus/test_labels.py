from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from assistant.corpus.labels import Label, label_schema
from assistant.corpus.loading import load_labels, parse_label
from assistant.corpus.taxonomy import TAXONOMY, infer_subtype
from tests.conftest import LABELS, ROOT, SEED_IDS, seed_files

# SHA-256 of the six seed examples exactly as ../shared/seed/label-design.md has them.
SEED_SHA256 = {
    "perf-2025031601": "f1873bb867ed01b98e949360d2b5dc28273aa2eb4fc8ae4ff649d0e0b7190b89",
    "perf-2025031602": "fe6e6a23294c24a318f7c004e89dd14c947b64ba6a384d8fae042d81a3dfa4f8",
    "perf-2025031603": "a07545d6ae879b69a204c5bd3bbf6eb5edd45547801ce362deda0296d9bd0daf",
    "perf-2025031604": "75832c6c1a114a0fc61e3303661ac586c33757517a059c69ff82d08d2e0458d4",
    "perf-2025031605": "56c08db581ec19f42be80fcfff5be339c1662c1b39cce7a32a56851386791d6b",
    "perf-2025031606": "da592e001ec0a7349238562e1b286724504be9d3c9f5a785da34d4165cc6e4a4",
}
EXPECTED_TAXONOMY = {
    "perf-2025031601": ("resource_contention", "memory_leak"),
    "perf-2025031602": ("network", "service_mesh_latency"),
    "perf-2025031603": ("scalability", "control_plane_bottleneck"),
    "perf-2025031604": ("observability", "alert_storm"),
    "perf-2025031605": ("observability", "certificate_expiry"),
    "perf-2025031606": ("database", "connection_pool_exhaustion"),
}


def test_seed_files_are_the_design_examples_unchanged() -> None:
    files = {p.stem: p for p in seed_files()}
    assert sorted(files) == SEED_IDS
    for incident_id, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == SEED_SHA256[incident_id], path
    design = ROOT.parent / "shared" / "seed" / "label-design.md"
    if design.exists():  # where the design notes sit beside the repo, compare with them directly
        blocks = re.findall(r"```json\n(.*?)```", design.read_text(), re.S)[1:]
        assert {json.loads(b)["perf_observation"]: b.encode() for b in blocks} == {
            k: p.read_bytes() for k, p in files.items()
        }


def test_seed_examples_load_with_inferred_taxonomy(seed_dir: Path) -> None:
    result = load_labels(seed_dir)
    assert result.problems == []
    assert len(result.labels) == 6
    got = {x.label.id: (x.label.metadata.category, x.label.metadata.subtype) for x in result.labels}
    assert got == EXPECTED_TAXONOMY
    # free-form resolution keys survive as written
    by_id = {x.label.id: x.label for x in result.labels}
    assert "immediate_action" in by_id["perf-2025031601"].resolution
    assert "long_term_solutions" in by_id["perf-2025031603"].resolution


def test_every_problem_is_reported_with_file_and_json_path(tmp_path: Path) -> None:
    good = json.loads(seed_files()[0].read_text())
    bad = dict(good, perf_observation="perf-bad-1", timestamp="not a time")
    bad["analysis"] = {"evidence": ["x", 3]}  # root_cause missing, evidence[1] not a string
    bad["metadata"] = {"category": "database", "subtype": "memory_leak"}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "broken.json").write_text('{"perf_observation": "x",\n  oops}')
    (tmp_path / "list.json").write_text("[]")

    result = load_labels(tmp_path)

    assert [x.label.id for x in result.labels] == [good["perf_observation"]]
    problems = {(Path(p.file).name, p.path) for p in result.problems}
    assert ("bad.json", "$.timestamp") in problems
    assert ("bad.json", "$.analysis.root_cause") in problems
    assert ("bad.json", "$.analysis.evidence[1]") in problems
    assert ("bad.json", "$.metadata.subtype") in problems
    assert ("broken.json", "$") in problems
    assert ("list.json", "$") in problems
    broken = next(p for p in result.problems if p.file.endswith("broken.json"))
    assert "line 2" in broken.message
    mismatch = next(p for p in result.problems if p.path == "$.metadata.subtype")
    assert "belongs to category 'resource_contention'" in mismatch.message


def test_duplicate_ids_are_reported_once_per_extra_file(tmp_path: Path) -> None:
    text = seed_files()[0].read_text()
    (tmp_path / "a.json").write_text(text)
    (tmp_path / "b.json").write_text(text)
    result = load_labels(tmp_path)
    assert len(result.labels) == 1
    assert len(result.problems) == 1
    assert "duplicate id" in result.problems[0].message
    assert result.problems[0].file.endswith("b.json")


def test_explicit_taxonomy_wins_over_tags() -> None:
    doc = json.loads(seed_files()[0].read_text())
    doc["metadata"]["category"] = "application"
    doc["metadata"]["subtype"] = "memory_management"
    loaded, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert problems == [] and loaded is not None
    assert (loaded.label.metadata.category, loaded.label.metadata.subtype) == (
        "application",
        "memory_management",
    )


def test_subtype_alone_implies_category_and_unknown_subtype_fails() -> None:
    doc = json.loads(seed_files()[0].read_text())
    doc["metadata"]["subtype"] = "dns_resolution"
    loaded, _ = parse_label(json.dumps(doc).encode(), file="x.json")
    assert loaded is not None and loaded.label.metadata.category == "network"
    doc["metadata"]["subtype"] = "gremlins"
    loaded, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert loaded is None and "unknown subtype 'gremlins'" in problems[0].message


@pytest.mark.parametrize(
    ("tags", "subtype"),
    [
        (["CPU-Throttling", "go"], "cpu_throttling"),
        (["coredns", "ndots"], "dns_resolution"),
        (["misc"], None),
    ],
)
def test_infer_subtype_from_tags(tags: list[str], subtype: str | None) -> None:
    assert infer_subtype(tags) == subtype


def test_taxonomy_has_the_six_categories_of_four_subtypes() -> None:
    assert len(TAXONOMY) == 6
    assert all(len(v) == 4 for v in TAXONOMY.values())


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads((LABELS / "schema.json").read_text())
    assert committed == label_schema()
    assert {"required": ["perf_observation"]} in committed["anyOf"]
    assert {"required": ["id"]} in committed["anyOf"]
    assert set(Label.model_fields) <= set(committed["properties"])
