"""`assistant ask`: streamed answer then cited incidents, --json, --backend, errors at the edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.settings import Settings
from assistant.surfaces.cli import app
from tests.conftest import run_cli as run

runner = CliRunner()
QUERY = "order consumers falling behind on kafka, lag 200k, db pool maxed out"


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_ENCODER": "fake",
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }
    assert runner.invoke(app, ["index", "build"], env=env).exit_code == 0
    return env


def test_ask_streams_then_lists_cited_incidents(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", QUERY, "--k", "3"], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("seen before") < out.index("Likely causes") < out.index("Cited incidents")
    assert "perf-2025031606" in out.split("Cited incidents")[1]
    assert "answered by extractive" in out


def test_ask_json_prints_the_diagnosis(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", QUERY, "--json", "--backend", "fake"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "query", "seen_before", "hypotheses", "evidence_to_check", "next_steps", "resolutions",
        "summary", "citations", "invalid_citations", "backend", "fallback_reason", "matches",
        "unsupported_citations", "commands", "warnings",
    }  # fmt: skip
    assert data["backend"] == "fake" and data["fallback_reason"] is None
    assert set(data["hypotheses"][0]) == {"cause", "confidence", "incident_ids"}
    assert set(data["citations"]) <= {m["id"] for m in data["matches"]}


def test_ask_reports_a_fallback(env: dict[str, str]) -> None:
    env = {**env, "ASSISTANT_LLM": "fake", "ASSISTANT_FAKE_LLM_SCRIPT": '["invent"]'}
    result = runner.invoke(app, ["ask", QUERY], env=env)
    assert result.exit_code == 0, result.output
    assert "the extractive answer follows" in result.stdout
    assert "note: fake's answer cited no retrieved incident" in result.stderr
    assert "removed 2 invalid citation(s)" in result.stderr
    assert "answered by extractive" in result.stdout


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (["ask", "  "], {}, "error: the query is empty"),
        (["ask", QUERY, "--backend", "gpt5"], {}, "error: unknown backend 'gpt5'; choose one of"),
        (["ask", QUERY], {"ASSISTANT_LLM": "llamacpp", "ASSISTANT_LLM_MODEL_PATH": "/nope.gguf"}, "error: "),
    ],
)
def test_ask_user_errors_are_one_line(
    env: dict[str, str], args: list[str], extra_env: dict[str, str], message: str
) -> None:
    result = run(args, {**env, **extra_env})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_ask_flags_a_destructive_command_quoted_from_a_label(settings: Settings, tmp_path: Path) -> None:
    path = next(p for p in settings.labels_dir.rglob("*.json") if p.stem == "perf-2025031606")
    raw = json.loads(path.read_text())
    raw["resolution"]["immediate_actions"] = [
        {"action": "Reset the queue", "details": "DROP TABLE orders_outbox"}
    ]
    path.write_text(json.dumps(raw))
    env = {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_ENCODER": "fake",
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }
    assert runner.invoke(app, ["index", "build"], env=env).exit_code == 0
    result = runner.invoke(app, ["ask", QUERY, "--k", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert "flagged (destructive) quoted from perf-2025031606: DROP TABLE orders_outbox" in result.stderr
    assert "`DROP TABLE orders_outbox` (flagged: destructive" in result.stdout
