"""Broken labels never abort anything: each is reported as `file: json.path: message`, and every valid
label around it is still validated, built into the index and served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.corpus.loading import MAX_DEPTH, load_labels, parse_label
from assistant.service import Assistant, build
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.conftest import run_cli, seed_files
from tests.fakes.live_server import serve


def seed_doc(index: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(seed_files()[index].read_text())
    return doc


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def write_broken(labels: Path) -> dict[str, str]:
    """One broken label of each kind beside the valid seeds; file name → the JSON path reported."""
    broken = labels / "broken"
    broken.mkdir()
    doc = seed_doc()
    text = json.dumps(dict(doc, perf_observation="perf-surrogate", title="etcd SURROGATE slow"))
    (broken / "surrogate.json").write_text(text.replace("SURROGATE", "\\ud800"))
    deep = dict(doc, perf_observation="perf-deep-100k")
    (broken / "deep100k.json").write_text(json.dumps(deep)[:-1] + ', "deep": ' + nested(100_000) + "}")
    deep300 = dict(doc, perf_observation="perf-deep-300")
    (broken / "deep300.json").write_text(json.dumps(deep300)[:-1] + ', "deep": ' + nested(300) + "}")
    big = dict(doc, perf_observation="perf-big", notes="x" * (300 * 1024))
    (broken / "big.json").write_text(json.dumps(big))
    key = json.dumps(dict(doc, perf_observation="perf-surrogate-key", context={"KEY": 1}))
    (broken / "surrogate_key.json").write_text(key.replace("KEY", "\\udfff"))
    return {
        "surrogate.json": "$.title",
        "deep100k.json": "$",
        "deep300.json": "$.deep" + "[0]" * (MAX_DEPTH - 1),
        "big.json": "$",
        "surrogate_key.json": "$.context",
    }


def test_each_broken_label_is_reported_with_its_path(seed_dir: Path) -> None:
    expected = write_broken(seed_dir)
    result = load_labels(seed_dir)
    assert len(result.labels) == 6, "every valid label still loads"
    got = {Path(p.file).name: p for p in result.problems}
    assert set(got) == set(expected)
    for name, path in expected.items():
        assert got[name].path == path, (name, got[name])
    assert "lone surrogate" in got["surrogate.json"].message
    assert "nested" in got["deep100k.json"].message
    assert f"deeper than {MAX_DEPTH}" in got["deep300.json"].message
    assert "ASSISTANT_MAX_LABEL_BYTES" in got["big.json"].message
    assert str(got["big.json"]).startswith(f"{seed_dir / 'broken' / 'big.json'}: $: file is ")


def test_label_size_limit_is_a_setting(seed_dir: Path) -> None:
    size = seed_files()[0].stat().st_size
    result = load_labels(seed_dir, max_bytes=size - 1)
    assert any(Path(p.file).name == seed_files()[0].name for p in result.problems)
    assert len(result.labels) == 5


def test_build_with_broken_labels_indexes_every_valid_one_and_serves_them(
    seed_dir: Path, tmp_path: Path
) -> None:
    write_broken(seed_dir)
    settings = Settings(labels_dir=seed_dir, index_dir=tmp_path / "index", encoder="fake")
    report = build(settings)
    assert report.manifest.labels == 6
    assert report.manifest.skipped_files == 5
    assistant = Assistant.from_settings(settings)
    assert sorted(assistant.index.incidents) == sorted(p.stem for p in seed_files())
    with serve(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        live.wait_loaded()
        for incident_id in assistant.index.incidents:
            response = http.get(f"/v1/incidents/{incident_id}")
            assert response.status_code == 200, response.text
        assert http.get("/v1/incidents/perf-deep-300").status_code == 404


def test_index_build_and_validate_cli_report_every_broken_label(seed_dir: Path, tmp_path: Path) -> None:
    expected = write_broken(seed_dir)
    env = {
        "ASSISTANT_LABELS_DIR": str(seed_dir),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
        "ASSISTANT_ENCODER": "fake",
    }
    built = run_cli(["index", "build"], env)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert "6 labels" in built.stdout and "5 files skipped" in built.stdout
    checked = run_cli(["labels", "validate"], env)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    for name, path in expected.items():
        assert f"{seed_dir / 'broken' / name}: {path}: " in checked.stdout, name


def test_taxonomy_problems_are_reported_beside_other_metadata_errors() -> None:
    doc = seed_doc()
    doc["metadata"] = {"severity": "apocalyptic", "category": "database", "subtype": "gremlins"}
    loaded, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert loaded is None
    paths = {p.path: p.message for p in problems}
    assert "$.metadata.severity" in paths
    assert "unknown subtype 'gremlins'" in paths["$.metadata.subtype"]
    doc["metadata"] = {"severity": "apocalyptic", "subtype": "gremlins"}
    _, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    message = next(p.message for p in problems if p.path == "$.metadata.subtype")
    assert "design.md" not in message and "assistant labels taxonomy" in message


@pytest.mark.parametrize("depth", [MAX_DEPTH - 2, MAX_DEPTH + 1])
def test_nesting_limit_is_exact(depth: int) -> None:
    doc = json.dumps(seed_doc())[:-1] + ', "deep": ' + nested(depth) + "}"
    loaded, problems = parse_label(doc.encode(), file="x.json")
    assert (loaded is not None) == (depth + 1 <= MAX_DEPTH), problems
