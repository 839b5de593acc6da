from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.settings import Settings
from assistant.surfaces.cli import app
from tests.conftest import run_cli as run

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
    stable = {"id", "title", "category", "subtype", "score", "similarity", "passages"}
    assert set(match) == stable | {"reasons", "same_problem", "fix", "outcome", "started", "draft"}
    assert set(match["reasons"]) == {"shared", "contradictions", "contradiction_rules"}
    assert {"verdict", "confidence", "incident_id", "reason", "level", "kind"} == set(data["seen_before"])
    assert 0 <= match["same_problem"] <= 1
    assert set(match["passages"][0]) == {"kind", "text"}
    assert data["seen_before"]["verdict"] in {"yes", "maybe", "no"}
    assert data["seen_before"]["incident_id"] == match["id"] and data["seen_before"]["reason"]
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


def test_similar_with_a_missing_input_file_is_one_line_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["similar", "--input", str(tmp_path / "missing.jsonl"), "--json"], env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot read {tmp_path / 'missing.jsonl'}" in lines[0]


def test_similar_batch_reports_bad_lines_and_keeps_going(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["index", "build"], env).returncode == 0
    batch = tmp_path / "q.jsonl"
    batch.write_bytes(
        b'{"id": "a", "query": "alert storm"}\n'
        b'{"id": "b", "query": "etcd \\ud800 slow"}\n'
        b'{"id": "c", "query": "certificate expired"}\n'
        b"not json\n"
        b'{"id": "\\udfff", "query": "kafka lag"}\n'
        b'{"id": "e", "query": "bad \xff utf-8"}\n'
        b'{"id": "f", "query": "db pool maxed"}\n'
    )
    result = run(["similar", "--input", str(batch), "--json"], env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a", "c", "f"]
    for number in (2, 4, 5, 6):
        assert f"{batch}:{number}: " in result.stderr, number
    assert "not valid Unicode" in result.stderr
    assert "4 of 7 lines" in result.stderr


def test_similar_with_undecodable_argument_bytes_is_a_user_error(env: dict[str, str]) -> None:
    """Bytes that are not UTF-8 on the command line arrive as lone surrogates (surrogateescape)."""
    assert run(["index", "build"], env).returncode == 0
    result = run(["similar", "etcd \udcff slow"], env)
    assert result.returncode == 2
    assert "not valid Unicode" in result.stderr and "Traceback" not in result.stderr


def test_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert (
        result.exit_code == 0
        and result.stdout.strip() == f"incident-assistant {version('incident-assistant')}"
    )


@pytest.mark.parametrize("command", [[], ["similar"], ["ask"], ["serve"], ["mcp"], ["index", "build"]])
def test_help_shows_defaults_and_no_type_noise(command: list[str]) -> None:
    result = run([*command, "--help"], {"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    if command == ["serve"]:
        assert "[default: 127.0.0.1]" in result.stdout and "[default: 8000;" in result.stdout
    words = " ".join(result.stdout.split())
    assert words.startswith(f"Usage: assistant {' '.join(command)}".rstrip())
    if command in (["similar"], ["ask"]):
        assert "[default: ($ASSISTANT_DEFAULT_K or 5);" in words and "- reads it from stdin" in words


PASTED = """[FIRING:1] KafkaConsumerLagCritical (prometheus-k8s-0 monitoring/k8s)
Labels:
 - alertname = KafkaConsumerLagCritical
 - topic = customer-orders
 - pod = order-processor-7d9f8c6b5-x2k4q
 - prometheus = monitoring/k8s
Annotations:
 - summary = consumer lag growing, order processing slow
Source: http://prometheus-k8s-0:9090/graph?g0.expr=kafka_consumergroup_lag
"""


def test_similar_and_ask_read_a_pasted_alert_from_stdin(env: dict[str, str]) -> None:
    assert run(["index", "build"], env).returncode == 0
    similar = run(["similar", "-", "--json"], env, stdin=PASTED)
    assert similar.returncode == 0, similar.stderr
    data = json.loads(similar.stdout)
    assert "customer-orders" in data["query"] and "consumer lag growing" in data["query"]
    assert "prometheus-k8s-0" not in data["query"] and "x2k4q" not in data["query"]
    assert data["matches"][0]["id"] == "perf-2025031606"
    ask = run(["ask", "-", "--json"], env, stdin=PASTED)
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["query"] == data["query"]
    empty = run(["similar", "-"], env, stdin="  \n")
    assert empty.returncode == 2 and "the query is empty" in empty.stderr


def test_tables_read_at_80_columns(env: dict[str, str]) -> None:
    assert run(["index", "build"], env).returncode == 0
    result = run(
        ["similar", "kafka consumer lag growing, db pool maxed", "--k", "3"], {**env, "COLUMNS": "80"}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    # every id whole on its line, category / subtype whole (not cut with an ellipsis)
    data = json.loads(
        run(["similar", "kafka consumer lag growing, db pool maxed", "--k", "3", "--json"], env).stdout
    )
    for match in data["matches"]:
        assert any(line.lstrip().startswith(match["id"]) for line in lines)
        assert f"{match['category']} / {match['subtype']}" in result.stdout
    assert "…" not in result.stdout


def test_history_lists_the_kinds_that_recurred_in_the_window(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["index", "build"], env=env).exit_code == 0
    # The six seed labels all started on 2025-03-16, one per kind.
    window = ["history", "--until", "2025-04-01", "--days", "30"]
    found = runner.invoke(app, [*window, "--min", "1", "--json"], env=env)
    assert found.exit_code == 0, found.output
    families = json.loads(found.output)["families"]
    assert len(families) == 6 and all(f["incidents"] == 1 for f in families)
    assert "perf-2025031606" in {o["id"] for f in families for o in f["occurrences"]}
    none = runner.invoke(app, window, env=env)  # by default a kind needs two incidents
    assert none.exit_code == 0 and "try a longer window" in none.output
    before = runner.invoke(app, ["history", "--until", "2025-03-01", "--min", "1", "--json"], env=env)
    assert json.loads(before.output)["families"] == []


def test_drafts_in_an_index_are_said_and_their_matches_marked(
    env: dict[str, str], settings: Settings
) -> None:
    path = next(settings.labels_dir.rglob("perf-2025031606.json"))
    raw = json.loads(path.read_text())
    raw["metadata"]["review"] = "draft"
    path.write_text(json.dumps(raw))
    assert runner.invoke(app, ["index", "build"], env=env).exit_code == 0
    assert json.loads(runner.invoke(app, ["index", "info", "--json"], env=env).output)["drafts"] == []

    built = runner.invoke(app, ["index", "build", "--include-drafts"], env=env)
    assert "includes 1 unreviewed draft (perf-2025031606)" in built.output
    info = runner.invoke(app, ["index", "info"], env=env)
    assert "includes 1 unreviewed draft" in info.output
    query = "kafka consumer lag growing, db connection pool maxed out"
    found = json.loads(runner.invoke(app, ["similar", query, "--json"], env=env).output)
    marks = {m["id"]: m["draft"] for m in found["matches"]}
    assert marks["perf-2025031606"] is True and sum(marks.values()) == 1
    assert "(draft: unreviewed)" in runner.invoke(app, ["similar", query], env=env).output
