"""Through the CLI: post-mortem → draft → review → index; taxonomy.toml; ids; export for training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.corpus.loading import load_labels, parse_label
from assistant.corpus.taxonomy import load_taxonomy
from assistant.settings import Settings
from assistant.surfaces.cli import app
from tests.conftest import run_cli as run
from tests.conftest import seed_files

DATA = Path(__file__).resolve().parents[2] / "data" / "postmortems"
runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_ENCODER": "fake",
        "ASSISTANT_OPENAI_BASE_URL": "",
    }


def _json(args: list[str], env: dict[str, str]) -> Any:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_post_mortem_to_draft_to_review_to_index(env: dict[str, str], settings: Settings) -> None:
    source = DATA / "pagerduty-dns-timeouts.md"
    link = "https://example.com/postmortems/dns-timeouts"
    [imported] = _json(["labels", "import", str(source), "--link", link, "--json"], env)
    draft = Path(imported["file"])
    assert draft == settings.labels_dir / "network" / "pagerduty-dns-timeouts.json"
    assert imported["subtype"] == "dns_resolution" and imported["confidence"] >= 0.5
    label = json.loads(draft.read_text())
    assert label["links"][0] == link and label["metadata"]["review"] == "draft"

    # the draft validates and is counted, but the index leaves it out
    check = _json(["labels", "validate", "--json"], env)
    assert (check["valid"], check["drafts"], check["problems"]) == (7, 1, [])
    built = run(["index", "build", "--json"], env)
    assert json.loads(built.stdout)["labels"] == 6
    assert "left out 1 draft" in built.stderr
    assert _json(["index", "build", "--include-drafts", "--json"], env)["labels"] == 7

    # importing the same source again is refused, so a review is never overwritten
    again = run(["labels", "import", str(source), "--link", link], env)
    assert again.returncode == 0 and "already imported as" in again.stderr
    # so is the same document saved under another name with another link (known by its content)
    copy = settings.labels_dir.parent / "dns-timeouts-copy.md"
    copy.write_text(source.read_text().replace("\n", "\r\n"))
    renamed = run(["labels", "import", str(copy), "--link", "https://example.com/other"], env)
    assert renamed.returncode == 0 and f"already imported as {draft}" in renamed.stderr

    # review: remove the draft marker; now it is indexed and found
    del label["metadata"]["review"]
    draft.write_text(json.dumps(label, indent=4))
    assert _json(["labels", "validate", "--json"], env)["drafts"] == 0
    assert _json(["index", "build", "--json"], env)["labels"] == 7
    found = _json(["similar", "getaddrinfo EAI_AGAIN errors, CoreDNS replicas on one node", "--json"], env)
    assert found["matches"][0]["id"] == "pagerduty-dns-timeouts"
    assert found["matches"][0]["subtype"] == "dns_resolution"


def test_a_saved_thread_and_an_alert_group_become_drafts_with_similar_incidents_linked(
    env: dict[str, str], tmp_path: Path
) -> None:
    conversations = DATA.parent / "conversations"
    thread, alerts = conversations / "incident-thread.json", conversations / "alert-group.json"
    out = tmp_path / "drafts"
    refused = run(["labels", "import", str(thread), "--out", str(out), "--similar"], env)
    assert refused.returncode != 0 and "assistant index build" in refused.stderr, "asked for, no index"
    assert "Traceback" not in refused.stderr

    run(["index", "build"], env)
    imported = _json(["labels", "import", str(thread), str(alerts), "--out", str(out), "--json"], env)
    by_name = {Path(r["file"]).name: r for r in imported}
    from_thread = json.loads(Path(by_name["incident-thread.json"]["file"]).read_text())
    assert from_thread["related_incidents"][0] == "perf-2025031606", "linked once an index is built"
    assert by_name["incident-thread.json"]["related"] == from_thread["related_incidents"]
    assert "batch job" in from_thread["analysis"]["root_cause"]
    from_alerts = json.loads(Path(by_name["alert-group.json"]["file"]).read_text())
    assert from_alerts["timestamp"] == "2026-11-30T09:10:00Z"
    assert from_alerts["links"][0] == "http://alertmanager.example:9093", "the Alertmanager that sent it"
    assert from_alerts["analysis"]["root_cause"].startswith("TODO")

    again = _json(
        ["labels", "import", str(thread), "--out", str(tmp_path / "d2"), "--no-similar", "--json"], env
    )
    assert "related_incidents" not in json.loads(Path(again[0]["file"]).read_text())


def test_a_reviewed_label_needs_a_timestamp(env: dict[str, str], settings: Settings) -> None:
    [imported] = _json(["labels", "import", str(DATA / "github-issue-page.html"), "--json"], env)
    assert any(u.startswith("timestamp") for u in imported["unfilled"])
    path = Path(imported["file"])
    label = json.loads(path.read_text())
    del label["metadata"]["review"]
    path.write_text(json.dumps(label))
    check = run(["labels", "validate", "--json"], env)
    assert check.returncode == 1
    [problem] = json.loads(check.stdout)["problems"]
    assert problem["path"] == "$.timestamp" and "only a draft" in problem["message"]


def test_import_reports_unreadable_files_and_keeps_going(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    out = tmp_path / "drafts"
    result = run(
        ["labels", "import", str(bad), str(DATA / "freeform-thread-pool.txt"), "--out", str(out)], env
    )
    assert result.returncode == 1
    assert "invalid JSON at line 1" in result.stderr and "Traceback" not in result.stderr
    assert (out / "application" / "freeform-thread-pool.json").exists()


def test_import_subtype_option_is_checked(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "drafts"
    result = run(["labels", "import", str(DATA), "--out", str(out), "--subtype", "dns"], env)
    assert result.returncode == 2
    assert "did you mean dns_resolution" in result.stderr
    assert not out.exists()


def test_import_with_a_model_through_the_fake_backend(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "short.md"
    path.write_text("# Search slow\n\nDate: 2026-03-01\n\nThe search-api was slow after the index grew.\n")
    reply = json.dumps({"root_cause": "The search index grew and the search-api was slow"})
    env = {**env, "ASSISTANT_FAKE_LLM_SCRIPT": json.dumps([reply])}
    [imported] = _json(
        ["labels", "import", str(path), "--out", str(tmp_path / "d"), "--backend", "fake", "--json"], env
    )
    assert imported["model_fields"] == ["root_cause"]
    label = json.loads(Path(imported["file"]).read_text())
    assert label["analysis"]["root_cause"] == "The search index grew and the search-api was slow"


# --- a team's own shape ---------------------------------------------------------------------------------

TAXONOMY_TOML = """
[categories.messaging]
description = "Brokers, queues and their consumers"

[subtypes.consumer_lag]
category = "messaging"
description = "Consumers fall behind producers"
keywords = ["consumer lag", "backlog", "rebalance"]

[subtypes.cpu_throttling]
keywords = ["regex backtracking"]
"""


def _label(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(seed_files()[0].read_text())
    doc.update(changes)
    return doc


def test_taxonomy_toml_adds_categories_and_subtypes(env: dict[str, str], settings: Settings) -> None:
    (settings.labels_dir / "taxonomy.toml").write_text(TAXONOMY_TOML)
    lag = _label(perf_observation="perf-lag-1")
    lag["metadata"] = {"subtype": "consumer_lag"}
    (settings.labels_dir / "lag.json").write_text(json.dumps(lag))

    assert _json(["labels", "validate", "--json"], env)["problems"] == []
    stats = _json(["labels", "stats", "--json"], env)
    counts = {(c["category"], c["subtype"]): c["labels"] for c in stats["counts"]}
    assert counts[("messaging", "consumer_lag")] == 1 and len(counts) == 25

    created = run(["labels", "new", "consumer_lag", "--id", "perf-lag-2"], env)
    assert created.returncode == 0, created.stderr
    assert (settings.labels_dir / "messaging" / "perf-lag-2.json").exists()

    # the added keywords drive inference on import
    pm = settings.labels_dir.parent / "lag.md"
    pm.write_text("# Order consumers behind\n\n## Root cause\n\nA rebalance loop left a backlog of events.\n")
    [imported] = _json(
        ["labels", "import", str(pm), "--out", str(settings.labels_dir.parent / "o"), "--json"], env
    )
    assert (imported["category"], imported["subtype"]) == ("messaging", "consumer_lag")

    # the index keeps the added subtype and serves it without the taxonomy file
    _json(["index", "build", "--json"], env)
    (settings.labels_dir / "taxonomy.toml").unlink()
    found = _json(["similar", "consumer lag backlog", "--json"], env)
    assert {m["subtype"] for m in found["matches"]} >= {"consumer_lag"}
    # without the file the label is unknown again, with a way out
    check = run(["labels", "validate", "--json"], env)
    messages = [p["message"] for p in json.loads(check.stdout)["problems"]]
    assert any("unknown subtype 'consumer_lag'" in m and "taxonomy.toml" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[subtypes.x_y]\ndescription = 'no category'", "$.subtypes.x_y", "needs `category"),
        ("[subtypes.x_y]\ncategory = 'nowhere'", "$.subtypes.x_y.category", "neither built in nor declared"),
        ("[subtypes.memory_leak]\ncategory = 'database'", "$.subtypes.memory_leak", "cannot move"),
        ("[subtypez.a]", "$.subtypez", "Extra inputs"),
        ("[subtypes", "$", "invalid TOML"),
    ],
)
def test_bad_taxonomy_files_are_reported(tmp_path: Path, text: str, where: str, message: str) -> None:
    (tmp_path / "taxonomy.toml").write_text(text)
    taxonomy, problems = load_taxonomy(tmp_path)
    assert any(p.path == where and message in p.message for p in problems), problems
    assert "memory_leak" in taxonomy.subtypes


def test_id_is_accepted_beside_perf_observation_and_drafts_may_omit_timestamp() -> None:
    doc = _label()
    ident = doc["id"] = doc.pop("perf_observation")
    loaded, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert problems == [] and loaded is not None and loaded.label.id == ident
    doc["perf_observation"] = "perf-other"
    _, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert "`id` and `perf_observation` differ" in problems[0].message
    bad = _label(id="x!")
    bad.pop("perf_observation")
    _, problems = parse_label(json.dumps(bad).encode(), file="x.json")
    assert problems[0].path == "$.id"

    draft = _label()
    draft.pop("timestamp")
    _, problems = parse_label(json.dumps(draft).encode(), file="x.json")
    assert [p.path for p in problems] == ["$.timestamp"]
    draft["metadata"]["review"] = "draft"
    loaded, problems = parse_label(json.dumps(draft).encode(), file="x.json")
    assert problems == [] and loaded is not None and loaded.label.is_draft


# --- export -----------------------------------------------------------------------------------------------


def _corpus(root: Path, n: int) -> None:
    """``n`` labels from the seeds with new ids; pairs of them share a source link (one incident)."""
    seeds = [json.loads(p.read_text()) for p in seed_files()]
    for i in range(n):
        doc = dict(seeds[i % len(seeds)], perf_observation=f"perf-x-{i:03d}")
        doc["links"] = [f"https://example.com/pm/{i // 2}"]
        (root / f"x{i:03d}.json").write_text(json.dumps(doc))


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_chat_jsonl_shape_and_an_incident_split(env: dict[str, str], tmp_path: Path) -> None:
    labels = tmp_path / "corpus"
    labels.mkdir()
    _corpus(labels, 40)
    out = tmp_path / "ft"
    result = run(
        ["labels", "export", str(labels), "--format", "chat-jsonl", "--out", str(out), "--split", "0.25"], env
    )
    assert result.returncode == 0, result.stderr
    train, validation = _lines(out / "train.jsonl"), _lines(out / "validation.jsonl")
    assert len(train) + len(validation) == 40 and len(validation) == 10
    for record in train + validation:
        assert list(record) == ["messages"]
        assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
        user, answer = record["messages"][1]["content"], record["messages"][2]["content"]
        assert "perf-x-" not in user  # no id to memorise
        assert answer.startswith("Root cause: ") and "Remediation:" in answer
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["train"]).isdisjoint(manifest["validation"])
    # labels sharing a source are one incident: never on both sides
    by_source = {}
    for path in labels.glob("*.json"):
        doc = json.loads(path.read_text())
        side = "validation" if doc["perf_observation"] in manifest["validation"] else "train"
        assert by_source.setdefault(doc["links"][0], side) == side

    seed_answer = next(
        r["messages"][2]["content"]
        for r in train + validation
        if "payment-processor" in r["messages"][1]["content"]
    )
    assert "Root cause: Memory leak in connection pool" in seed_answer
    assert "Connection pool alerts" in seed_answer  # prevention from the label

    # same seed, same split; another seed, another split
    again = tmp_path / "ft2"
    run(["labels", "export", str(labels), "--out", str(again), "--split", "0.25"], env)
    assert json.loads((again / "manifest.json").read_text())["validation"] == manifest["validation"]
    other = tmp_path / "ft3"
    run(["labels", "export", str(labels), "--out", str(other), "--split", "0.25", "--seed", "7"], env)
    assert json.loads((other / "manifest.json").read_text())["validation"] != manifest["validation"]


def test_export_alpaca_leaves_drafts_out(env: dict[str, str], settings: Settings, tmp_path: Path) -> None:
    shutil.copy(DATA / "freeform-thread-pool.txt", tmp_path / "pm.txt")
    _json(["labels", "import", str(tmp_path / "pm.txt"), "--json"], env)
    out = tmp_path / "alpaca"
    result = run(["labels", "export", "--format", "alpaca", "--out", str(out), "--split", "0"], env)
    assert result.returncode == 0, result.stderr
    records = _lines(out / "train.jsonl")
    assert len(records) == 6 and _lines(out / "validation.jsonl") == []
    assert all(set(r) == {"instruction", "input", "output"} for r in records)
    assert json.loads((out / "manifest.json").read_text())["drafts_left_out"] == 1
    assert len(load_labels(settings.labels_dir).drafts) == 1
    bad = run(["labels", "export", "--format", "csv", "--out", str(out)], env)
    assert bad.returncode == 2 and "unknown format 'csv'" in bad.stderr
