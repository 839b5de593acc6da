from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.settings import Settings

from .conftest import run_cli as run

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_ENCODER": "fake",
    }


def test_similar_json_shape(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["index", "build"], env=env).exit_code == 0
    result = runner.invoke(
        app, ["similar", "etcd fsync slow, apiserver latency", "--k", "2", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"id", "query", "matches", "seen_before"}
    assert data["id"] is None and data["query"] == "etcd fsync slow, apiserver latency"
    assert len(data["matches"]) == 2
    match = data["matches"][0]
    assert set(match) == {"id", "title", "category", "subtype", "score", "similarity", "passages"}
    assert set(match["passages"][0]) == {"kind", "text"}
    assert data["seen_before"]["verdict"] in {"yes", "maybe", "no"}
    assert 0 <= data["seen_before"]["confidence"] <= 1


def test_similar_batch_passes_ids_through(env: dict[str, str], tmp_path: Path) -> None:
    runner.invoke(app, ["index", "build"], env=env)
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a1", "query": "alert storm"}\n\n{"id": 7, "query": "certificate expired"}\n')
    result = runner.invoke(app, ["similar", "--input", str(batch), "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a1", "7"]
    assert [x["query"] for x in lines] == ["alert storm", "certificate expired"]


def test_validate_lists_every_problem_and_exits_1(env: dict[str, str], settings: Settings) -> None:
    (settings.labels_dir / "a.json").write_text("{")
    (settings.labels_dir / "b.json").write_text('{"perf_observation": "p-1"}')
    result = run(["labels", "validate"], env)
    assert result.returncode == 1
    assert f"{settings.labels_dir / 'a.json'}: $: invalid JSON" in result.stdout
    assert f"{settings.labels_dir / 'b.json'}: $.timestamp: Field required" in result.stdout
    assert f"{settings.labels_dir / 'b.json'}: $.analysis: Field required" in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_passes_on_good_labels(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["labels", "validate", "--json"], env=env)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"files": 6, "valid": 6, "drafts": 0, "problems": []}


def test_stats_counts_by_subtype(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["labels", "stats", "--json"], env=env)
    data = json.loads(result.stdout)
    counts = {(c["category"], c["subtype"]): c["labels"] for c in data["counts"]}
    assert len(counts) == 24
    assert counts[("observability", "alert_storm")] == 1
    assert counts[("network", "dns_resolution")] == 0
    assert sum(counts.values()) == 6


def test_strict_build_fails_on_an_invalid_label(env: dict[str, str], settings: Settings) -> None:
    (settings.labels_dir / "bad.json").write_text("{}")
    result = run(["index", "build", "--strict"], env)
    assert result.returncode == 2
    assert "bad.json: $.perf_observation: Field required" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (settings.index_dir / "current").exists()
    lenient = run(["index", "build"], env)
    assert lenient.returncode == 0 and "skipped" in lenient.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["similar", "pods OOMKilled"], "no index at"),
        (["similar", "   "], "the query is empty"),
        (["similar"], "give either TEXT or --input FILE"),
        (["index", "info"], "run `assistant index build`"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = run(args, env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_new_skeleton_fails_validation_until_its_placeholders_are_replaced(
    env: dict[str, str], settings: Settings
) -> None:
    result = runner.invoke(app, ["labels", "new", "dns_resolution", "--id", "perf-2026010101"], env=env)
    assert result.exit_code == 0, result.output
    created = settings.labels_dir / "network" / "perf-2026010101.json"
    doc = json.loads(created.read_text())
    assert doc["metadata"]["category"] == "network"

    check = run(["labels", "validate", str(created), "--json"], env)
    assert check.returncode == 1
    paths = {p["path"] for p in json.loads(check.stdout)["problems"]}
    assert {"$.title", "$.symptoms[0]", "$.analysis.root_cause", "$.context.service"} <= paths
    assert all("placeholder" in p["message"] for p in json.loads(check.stdout)["problems"])
    # an index build leaves the skeleton out: placeholders never reach the index
    build = run(["index", "build", "--json"], env)
    assert build.returncode == 0 and json.loads(build.stdout)["labels"] == 6

    doc.update(title="CoreDNS timeouts after the node pool upgrade", symptoms=["dig times out from pods"])
    doc["context"] = {"service": "checkout"}
    doc.pop("metrics")
    doc["analysis"]["root_cause"] = "CoreDNS pods were scheduled on one node that lost its network"
    doc["resolution"]["immediate_actions"] = ["Spread CoreDNS with a topology constraint"]
    created.write_text(json.dumps(doc))
    assert runner.invoke(app, ["labels", "validate", str(created)], env=env).exit_code == 0
    again = runner.invoke(app, ["labels", "new", "dns_resolution", "--id", "perf-2026010101"], env=env)
    assert again.exit_code == 2


def test_new_suggests_the_subtype_a_short_name_meant(env: dict[str, str]) -> None:
    result = run(["labels", "new", "dns"], env)
    assert result.returncode == 2
    assert "unknown subtype 'dns'; did you mean dns_resolution?" in result.stderr
    assert "Traceback" not in result.stderr


def test_index_info_reports_staleness(env: dict[str, str], settings: Settings) -> None:
    runner.invoke(app, ["index", "build"], env=env)
    fresh = json.loads(runner.invoke(app, ["index", "info", "--json"], env=env).stdout)
    assert fresh["stale_files"] == [] and fresh["labels"] == 6
    (settings.labels_dir / "extra.json").write_text("{}")
    stale = json.loads(runner.invoke(app, ["index", "info", "--json"], env=env).stdout)
    assert stale["stale_files"] == ["extra.json"]
