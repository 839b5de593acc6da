from __future__ import annotations

import json
from typing import Any

from assistant.corpus.loading import parse_label
from assistant.corpus.passages import build_passages, render_metrics
from tests.conftest import seed_files


def _passages(doc: dict[str, Any]) -> dict[str, str]:
    loaded, problems = parse_label(json.dumps(doc).encode(), file="x.json")
    assert problems == [] and loaded is not None
    return {p.kind: p.text for p in build_passages(loaded.label, loaded.raw)}


def _seed(incident_id: str) -> dict[str, Any]:
    return json.loads(next(p for p in seed_files() if p.stem == incident_id).read_text())


def test_three_passages_each_start_with_id_and_title() -> None:
    texts = _passages(_seed("perf-2025031601"))
    assert list(texts) == ["symptom", "evidence", "resolution"]
    for text in texts.values():
        assert text.startswith("perf-2025031601 — Memory leak in connection pool")


def test_metrics_render_as_baseline_arrow_degraded() -> None:
    symptom = _passages(_seed("perf-2025031601"))["symptom"]
    assert "- response time p95: 150ms → 2500ms" in symptom
    assert "- oom kills: 23 (during incident)" in symptom
    assert "- heap dumps location: s3://debug-artifacts/heap-20250316/" in symptom
    etcd = _passages(_seed("perf-2025031603"))["symptom"]
    assert "- system disk iops: 1000 → 5000" in etcd
    assert "- etcd metrics write latency p99: 10ms → 250ms" in etcd


def test_render_metrics_pairs_nested_groups() -> None:
    lines = list(
        render_metrics({"db": {"normal": {"pool": {"active": 20}}, "degraded": {"pool": {"active": 50}}}})
    )
    assert lines == ["- db pool active: 20 → 50"]


def test_sections_go_to_the_right_passage() -> None:
    texts = _passages(_seed("perf-2025031606"))
    assert "Alerts: KafkaConsumerLagCritical" in texts["symptom"]
    assert "Root cause: Database connection pool saturation" in texts["evidence"]
    assert "Missing database index on frequently queried column" in texts["evidence"]
    assert "Increase DB connection pool" in texts["resolution"]
    assert "Root cause" not in texts["symptom"]


def test_symptoms_and_title_lead_the_symptom_passage() -> None:
    doc = _seed("perf-2025031602")
    doc["title"] = "Checkout latency tripled across the mesh"
    doc["symptoms"] = ["p99 on catalog 800ms", "5xx from envoy upstream"]
    symptom = _passages(doc)["symptom"]
    assert symptom.splitlines()[:4] == [
        "perf-2025031602 — Checkout latency tripled across the mesh",
        "Symptoms:",
        "- p99 on catalog 800ms",
        "- 5xx from envoy upstream",
    ]


def test_nothing_is_dropped_unknown_keys_included() -> None:
    doc = _seed("perf-2025031604")
    doc["postmortem_owner"] = {"team": "sre-observability", "pager": "obs-oncall"}
    doc["analysis"]["timeline_notes"] = ["14:02 first page", "14:40 silenced"]
    doc["resolution"]["follow_up_ticket"] = "OBS-4411"
    doc["links"] = ["https://wiki.example/postmortems/4411"]
    everything = "\n".join(_passages(doc).values())
    for needle in (
        "sre-observability",
        "obs-oncall",
        "14:40 silenced",
        "OBS-4411",
        "wiki.example/postmortems/4411",
    ):
        assert needle in everything

    def leaves(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [x for v in value.values() for x in leaves(v)]
        if isinstance(value, list):
            return [x for v in value for x in leaves(v)]
        return [] if value is None or isinstance(value, bool) else [str(value)]

    missing = [leaf for leaf in leaves(doc) if leaf not in everything]
    assert missing == []
