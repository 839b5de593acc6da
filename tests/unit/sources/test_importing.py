"""Post-mortems and issue threads → draft labels: templates, GitHub threads, saved pages, model fill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.corpus.loading import parse_label
from assistant.corpus.taxonomy import BUILTIN
from assistant.diagnosis.prompts import Prompts
from assistant.llm.fake import FakeChatModel
from assistant.sources.importing import SourceError, read_source
from assistant.sources.importing.draft import TODO_ROOT_CAUSE, TODO_SYMPTOMS, draft_label
from assistant.sources.importing.infer import find_metrics
from assistant.sources.importing.model_fill import fill

DATA = Path(__file__).resolve().parents[2] / "data" / "postmortems"


def draft_of(name: str, **kwargs: Any) -> tuple[dict[str, Any], list[str]]:
    doc = read_source(DATA / name)
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-test-1", **kwargs)
    return draft.label, draft.unfilled


def metrics_of(label: dict[str, Any]) -> dict[str, tuple[str, str]]:
    m = label.get("metrics", {})
    return {k: (v, m["degraded"][k]) for k, v in m.get("baseline", {}).items()}


@pytest.mark.parametrize(
    ("name", "subtype", "title", "cause_words", "metric", "when"),
    [
        (
            "google-sre-checkout-latency.md",
            "cache_efficiency",
            "Checkout latency after the pricing cache rollout",
            "Redis connection per request",
            ("checkout_p99_latency", ("180 ms", "2.4 s")),
            "2026-02-11T13:44:00Z",
        ),
        (
            "pagerduty-dns-timeouts.md",
            "dns_resolution",
            "Intermittent DNS failures in the orders cluster",
            "CoreDNS had no anti-affinity",
            ("dns_lookup_p99", ("4 ms", "5.1 s")),
            "2026-03-04T09:12:00Z",
        ),
        (
            "atlassian-etcd-slowdown.md",
            "control_plane_bottleneck",
            "kubectl and deployments stalled on cluster prod-eu-2",
            "etcd fsync latency climbed",
            ("api_server_request_latency_p99", ("120 ms", "38 s")),
            "2026-01-19T16:03:00Z",  # "On 2026-01-19 between 16:03 and 17:40 UTC"
        ),
        (
            "freeform-thread-pool.txt",
            "thread_pool_saturation",
            "search API returned 503s during the evening peak",
            "blocking HTTP call inside the request thread pool",
            ("p95_latency", ("90 ms", "12 s")),
            "2026-02-27",  # a date line and no time zone: the date only
        ),
    ],
)
def test_post_mortem_templates_map_onto_the_label_format(
    name: str,
    subtype: str,
    title: str,
    cause_words: str,
    metric: tuple[str, tuple[str, str]],
    when: str,
) -> None:
    label, unfilled = draft_of(name)
    assert label["title"] == title
    assert label["metadata"]["subtype"] == subtype
    assert label["metadata"]["review"] == "draft"
    assert label["metadata"]["import"]["subtype_confidence"] >= 0.5
    assert cause_words in label["analysis"]["root_cause"]
    assert metrics_of(label)[metric[0]] == metric[1]
    assert label["timestamp"] == when
    assert label["links"][0] == str(DATA / name)
    assert label["symptoms"] and label["symptoms"] != [TODO_SYMPTOMS]
    assert not any("root_cause" in u for u in unfilled)
    # the draft is a valid label (drafts are marked, not broken)
    loaded, problems = parse_label(json.dumps(label).encode(), file="x.json")
    assert problems == [] and loaded is not None and loaded.label.is_draft


def test_sections_land_where_the_label_format_keeps_them() -> None:
    label, _ = draft_of("google-sre-checkout-latency.md")
    assert label["context"]["services"] == ["checkout-api", "pricing-service"]
    assert label["metadata"]["severity"] == "high"  # SEV-2
    assert label["analysis"]["trigger"].startswith("Release 2026.02.11-3")
    assert "Redis" in label["analysis"]["affected_components"]
    assert label["resolution"]["immediate_actions"][0].startswith("Rolled back pricing-service")
    # an action-item table: first cell per row, the header row left out, alerting items as prevention
    assert label["resolution"]["long_term_fixes"] == [
        "Reuse the pooled Redis client in the pricing cache library",
        "Roll out cache client changes one region at a time",
    ]
    assert label["resolution"]["prevention"]["monitoring_additions"] == ["Alert on cache hit rate below 80%"]
    assert (
        "Nothing in the canary watched the cache hit rate."
        in label["resolution"]["prevention"]["lessons_learned"]
    )
    # symptoms as first seen: the detection section and timeline events before the cause was found
    assert any("CheckoutLatencyHigh" in s for s in label["symptoms"])
    assert not any("Root cause identified" in s for s in label["symptoms"])
    events = [e["event"] for e in label["timeline"] if isinstance(e, dict)]
    assert events[0] == "pricing-service 2026.02.11-3 finished rolling out"


def test_pagerduty_field_table_checkboxes_and_contributing_factors() -> None:
    label, _ = draft_of("pagerduty-dns-timeouts.md")
    assert label["metadata"]["severity"] == "critical"  # SEV-1 from the field table
    assert label["resolution"]["long_term_fixes"][0] == "Add pod anti-affinity to the CoreDNS deployment"
    assert len(label["analysis"]["contributing_factors"]) == 2
    assert metrics_of(label)["order_placement_errors"] == ("0.1%", "31%")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p99 from 150 ms to 2.5 s", {"p99": ("150 ms", "2.5 s")}),
        ("Error rate rose from 0.2% to 21%.", {"error_rate": ("0.2%", "21%")}),
        ("queue depth: 12 → 4,300", {"queue_depth": ("12", "4,300")}),
        ("The deployment scaled from 3 to 40 pods", {"deployment_pods": ("3", "40")}),
        ("We upgraded Kubernetes from 1.27 to 1.28", {}),
        ("Traffic moved from the cache to the database", {}),
        ("between 2023 and 2024, from 2023 to 2024", {}),
    ],
)
def test_metrics_stated_as_before_and_after(text: str, expected: dict[str, tuple[str, str]]) -> None:
    assert {m.name: (m.before, m.after) for m in find_metrics(text)} == expected


def test_subtype_can_be_set_instead_of_inferred() -> None:
    label, _ = draft_of("freeform-thread-pool.txt", subtype="connection_handling")
    assert (label["metadata"]["category"], label["metadata"]["subtype"]) == (
        "application",
        "connection_handling",
    )
    assert label["metadata"]["import"]["method"] == "given"


def test_github_issue_json_with_its_comments() -> None:
    doc = read_source(DATA / "github-issue-hpa.json")
    label = draft_label(doc, taxonomy=BUILTIN, incident_id="gh-x-1").label
    assert label["title"] == "HPA does not scale up for 10 minutes after a traffic spike"
    assert label["links"] == [
        "https://github.com/example-org/autoscale-demo/issues/318",
        "https://github.com/example-org/autoscale-demo/pull/322",
    ]
    assert label["timestamp"] == "2026-01-08T14:22:00Z"
    assert label["environment"] == {"k8s_version": "1.29.4"}
    assert label["metadata"]["subtype"] == "autoscaling_delay"
    # "What happened?" gives the symptoms; the expected behaviour is not a symptom
    assert any("stayed at 3 replicas" in s for s in label["symptoms"])
    assert not any("should add replicas" in s for s in label["symptoms"])
    # the maintainer's explanation is the root cause, the fix comment the resolution; bots are skipped
    assert label["analysis"]["root_cause"].startswith("The cause is the metrics pipeline")
    assert "pull/322" in label["resolution"]["immediate_actions"][0]
    assert "awaiting triage" not in json.dumps(label)
    assert metrics_of(label)["p99_latency"] == ("200 ms", "6 s")


def test_gh_cli_json_with_inline_comments(tmp_path: Path) -> None:
    issue = {
        "title": "CoreDNS answers slowly under load",
        "url": "https://github.com/example-org/dns/issues/9",
        "createdAt": "2026-02-01T10:00:00Z",
        "labels": [{"name": "area/dns"}],
        "body": "Lookups take 2 s from every pod since Monday.",
        "comments": [{"author": {"login": "m"}, "body": "The root cause is ndots:5 on every pod."}],
    }
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(issue))
    label = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="gh-dns-9").label
    assert label["analysis"]["root_cause"] == "The root cause is ndots:5 on every pod."
    assert label["links"][0] == "https://github.com/example-org/dns/issues/9"
    assert label["metadata"]["subtype"] == "dns_resolution"


def test_saved_github_issue_page() -> None:
    label, unfilled = draft_of("github-issue-page.html")
    assert label["title"] == "Pods OOMKilled after upgrading the log shipper"
    assert label["links"][0] == "https://github.com/example-org/log-shipper/issues/77"
    assert label["metadata"]["subtype"] == "memory_leak"
    assert "missing flush timeout" in label["analysis"]["root_cause"]
    assert "3.2.1" in label["resolution"]["immediate_actions"][0]
    assert metrics_of(label)["memory"] == ("150Mi", "1.2Gi")
    assert "GitHub" not in " ".join(label["symptoms"])  # page chrome is not read
    assert any(u.startswith("timestamp") for u in unfilled)
    assert "timestamp" not in label


def test_saved_status_page_reads_only_the_article() -> None:
    label, _ = draft_of("status-page-lb.html")
    assert label["links"][0] == "https://status.example.com/incidents/abc123"
    assert label["title"] == "Elevated errors on the public API"
    assert label["metadata"]["subtype"] == "load_balancer_bottleneck"
    assert label["analysis"]["root_cause"].startswith("The load balancer's connection limit")
    assert "tracking script" not in json.dumps(label)
    assert label["timeline"][0] == {"time": "08:55 UTC", "event": "5xx alert fired for api.example.com"}


def test_a_document_without_structure_gets_placeholders_and_a_list_of_what_is_missing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "note.md"
    path.write_text("Something was off with the service yesterday and we fixed it.\n")
    doc = read_source(path)
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-note")
    assert draft.label["analysis"]["root_cause"] == TODO_ROOT_CAUSE
    missing = {u.split(":")[0] for u in draft.unfilled}
    assert {"analysis.root_cause", "symptoms", "timestamp", "metrics", "metadata.subtype"} <= missing
    # placeholders fail validation, even in a draft
    _, problems = parse_label(json.dumps(draft.label).encode(), file="note.json")
    assert {p.path for p in problems} >= {"$.analysis.root_cause", "$.symptoms[0]"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", "  \n", "the file is empty"),
        ("bad.json", "{", "invalid JSON at line 1"),
        ("other.json", '{"a": 1}', "not a GitHub issue"),
        ("latin.txt", b"caf\xe9", "not UTF-8 text"),
    ],
)
def test_unreadable_sources_are_clear_errors(tmp_path: Path, name: str, content: Any, message: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(SourceError, match=message):
        read_source(path)


# --- model fill -----------------------------------------------------------------------------------------


def _bare(tmp_path: Path) -> Path:
    path = tmp_path / "bare.md"
    path.write_text(
        "# Checkout errors on Tuesday\n\nDate: 2026-03-03\n\n"
        "Around noon the checkout-api started returning 503 for a quarter of requests. The team traced "
        "it to the payments database connection pool, which was capped at 20 connections after a config "
        "change, and raised the cap back to 100.\n"
    )
    return path


def test_model_fills_gaps_with_grounded_values_and_rejects_invented_ones(tmp_path: Path) -> None:
    doc = read_source(_bare(tmp_path))
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-bare")
    assert draft.label["analysis"]["root_cause"] == TODO_ROOT_CAUSE
    # the lead paragraph under the title is the document's summary: its symptoms are read, not asked for
    assert draft.label["symptoms"] == [
        "Around noon the checkout-api started returning 503 for a quarter of requests."
    ]
    reply = json.dumps(
        {
            "root_cause": "The payments database connection pool was capped at 20 connections",
            "immediate_actions": ["Raised the connection pool cap back to 100"],
            "symptoms": ["checkout-api returned 503 for 40% of requests"],  # not a gap: not taken
            "metrics": [
                {"name": "pool cap", "before": "100", "after": "20"},
                {"name": "failed share", "before": "0", "after": "40%"},  # 40 is not in the source
            ],
            "subtype": "connection_pool_exhaustion",
        }
    )
    model = FakeChatModel([reply])
    notes = fill(draft, doc, model=model, taxonomy=BUILTIN, prompts=Prompts())
    label = draft.label
    assert label["analysis"]["root_cause"].startswith("The payments database connection pool was capped")
    assert label["resolution"]["immediate_actions"] == ["Raised the connection pool cap back to 100"]
    assert label["symptoms"][0].startswith("Around noon the checkout-api")
    assert any("1 of the model's metrics rejected: value not in the source" in n for n in notes)
    assert label["metrics"] == {"baseline": {"pool_cap": "100"}, "degraded": {"pool_cap": "20"}}
    assert label["metadata"]["subtype"] == "connection_pool_exhaustion"
    assert label["metadata"]["import"]["method"] == "structure+model"
    assert "root_cause" in label["metadata"]["import"]["model_fields"]
    assert not any(u.startswith("analysis.root_cause") for u in draft.unfilled)
    # the document went to the model as quoted data
    prompt = model.calls[0][0].content
    assert "| Around noon the checkout-api" in prompt


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        ("not json at all", "not JSON"),
        ('{"symptoms": "one string, not a list"}', "model answer rejected (symptoms"),
        ('{"subtype": "gremlins"}', "subtype 'gremlins' rejected"),
        ("error", "model not used: fake backend: scripted failure"),
    ],
)
def test_model_answers_are_never_taken_on_trust(tmp_path: Path, reply: str, note: str) -> None:
    doc = read_source(_bare(tmp_path))
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-bare")
    before = json.dumps(draft.label["analysis"])
    notes = fill(draft, doc, model=FakeChatModel([reply]), taxonomy=BUILTIN, prompts=Prompts())
    assert any(note in n for n in notes), notes
    assert json.dumps(draft.label["analysis"]) == before
    assert draft.label["metadata"]["import"]["method"] == "structure"


def test_model_proposals_the_source_supports_replace_the_structures_and_the_old_value_is_kept(
    tmp_path: Path,
) -> None:
    doc = read_source(_bare(tmp_path))
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-bare")
    drafted_symptoms = list(draft.label["symptoms"])
    reply = json.dumps(
        {
            "symptoms": ["checkout-api started returning 503 for a quarter of requests around noon"],
            "title": "Checkout outage caused by gremlins in the mainframe",  # mostly not the source's words
        }
    )
    notes = fill(draft, doc, model=FakeChatModel([reply]), taxonomy=BUILTIN, prompts=Prompts())
    label = draft.label
    assert label["symptoms"] == ["checkout-api started returning 503 for a quarter of requests around noon"]
    assert label["metadata"]["import"]["replaced"] == {"symptoms": drafted_symptoms}
    assert any(n.startswith("model's title rejected") for n in notes)
    assert "title" not in label["metadata"]["import"]["model_fields"]
