"""The seen-before verdict: match reasons (shared symptoms, contradictions), the fitted model, the fit
itself (grouped out-of-fold), and the README's example query on the real corpus."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Assistant
from assistant.evaluation.dev_metrics import verdict_block
from assistant.evaluation.dev_run import DevOutcome, DevRetrieved
from assistant.evaluation.verdict_fit import dataset, fit, thresholds
from assistant.search.reasons import contradictions, missing_terms, shared_symptoms
from assistant.search.verdict import FIT_FEATURES, SubtypeClassifier, VerdictModel

README_QUERY = "checkout p99 went from 150 ms to 2.5 s after the deploy, pods OOMKilled"


def test_oom_query_contradicts_an_incident_with_normal_memory_and_no_restarts() -> None:
    found = contradictions(README_QUERY, "Symptoms:\n- CPU only 12%, memory normal, no restarts")
    assert len(found) == 1 and "OOMKilled" in found[0] and "memory normal" in found[0]
    assert contradictions(README_QUERY, "Symptoms:\n- pods restart with reason OOMKilled") == []


def test_a_query_ruling_out_restarts_contradicts_a_crashlooping_incident() -> None:
    found = contradictions("api slow, no restarts, memory normal", "pods in CrashLoopBackOff, restarts: 14")
    assert found and "no restarts" in found[0]


def test_shared_symptoms_name_the_label_line_and_the_words() -> None:
    shared = shared_symptoms(
        README_QUERY,
        ["perf-1 — title\nSymptoms:\n- checkout p99 jumped to 3s right after deploy\n- unrelated line here"],
    )
    assert shared and shared[0].label == "checkout p99 jumped to 3s right after deploy"
    assert set(shared[0].query.split()) >= {"checkout", "p99", "deploy"}


def test_missing_terms_are_query_identifiers_absent_from_the_incident() -> None:
    assert missing_terms("KubePodCrashLooping firing, OOMKilled", "pods were OOMKilled") == [
        "KubePodCrashLooping"
    ]


def _model() -> VerdictModel:
    n = len(FIT_FEATURES)
    return VerdictModel(
        encoder="x", features=list(FIT_FEATURES), mean=[0.0] * n, scale=[1.0] * n,
        coef=[4.0] + [0.0] * (n - 1), intercept=-2.0, yes=0.8, maybe=0.3,
    )  # fmt: skip


def test_model_probability_rises_with_its_feature_and_maps_to_verdicts() -> None:
    m = _model()
    low, high = m.probability({"subtype_prob": 0.0}), m.probability({"subtype_prob": 1.0})
    assert low < 0.5 < high
    assert m.verdict(high, incident_id="perf-1").verdict == "yes"
    assert m.verdict(low, incident_id="perf-1").verdict == "no"
    none = m.verdict(None, incident_id=None)
    assert none.verdict == "no" and none.incident_id is None and none.reason


def test_a_contradicted_top_match_is_never_yes() -> None:
    seen = _model().verdict(
        0.99, incident_id="perf-1", contradictions=["query says OOMKilled; this: no restarts"]
    )
    assert seen.verdict == "maybe" and "no restarts" in seen.reason and seen.incident_id == "perf-1"


def test_thresholds_reach_the_precision_target_or_never_say_yes() -> None:
    p = np.array([0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    yes, maybe = thresholds(p, y)
    assert yes == pytest.approx(0.75) and maybe <= yes
    never, _ = thresholds(p, ~y)
    assert never == 1.0


def _outcome(i: int, *, right: bool, signal: float, subtype: str) -> DevOutcome:
    features = {f: 0.0 for f in FIT_FEATURES} | {"subtype_prob": signal, "similarity": 0.5}
    top = DevRetrieved(
        id=f"perf-{i}",
        title="t",
        category="c",
        subtype=subtype if right else "other",
        score=1.0,
        similarity=0.5,
    )
    return DevOutcome(
        id=f"q{i}", query="q", category="c", subtype=subtype, root_cause="", retrieved=[top],
        verdict="maybe", confidence=0.5, features=[features], latency_ms=1.0,
    )  # fmt: skip


def test_fit_learns_a_separating_feature_and_reports_out_of_fold_figures() -> None:
    rng = np.random.default_rng(0)
    dev = []
    for i in range(80):
        right = bool(i % 2)
        signal = float(rng.normal(0.8 if right else 0.2, 0.1))
        dev.append(_outcome(i, right=right, signal=signal, subtype=f"s{i % 8}"))
    assert dataset(dev, []).x.shape == (80, len(FIT_FEATURES))
    model = fit(dev, [], encoder="enc")
    assert model.coef[model.features.index("subtype_prob")] > 0
    oof = model.fitted_on["out_of_fold"]
    assert isinstance(oof, dict)
    assert oof["dev"]["auroc"] > 0.9 and oof["dev"]["yes_precision"] >= 0.9
    assert model.probability({"subtype_prob": 0.9}) > model.yes > model.probability({"subtype_prob": 0.1})


def test_verdict_block_counts_precision_of_yes_only_over_yes() -> None:
    block = verdict_block(["yes", "yes", "maybe", "no"], [0.9, 0.8, 0.5, 0.1], [True, False, True, False])
    assert block["yes_precision"] == 0.5 and block["yes_share"] == 0.5 and block["no_precision"] == 1.0


def test_readme_example_is_not_yes_for_an_incident_that_contradicts_it(corpus: Assistant) -> None:
    result = corpus.similar(README_QUERY, 5)
    top = result.matches[0]
    assert result.seen_before.incident_id == top.id
    assert all(m.same_problem is not None for m in result.matches)
    if top.reasons.contradictions:
        assert result.seen_before.verdict != "yes"
    contradicted = [m for m in result.matches if m.reasons.contradictions]
    assert any("OOMKilled" in c for m in contradicted for c in m.reasons.contradictions)
    assert all(m.same_problem is not None for m in result.matches)
    assert result.seen_before.reason


def test_subtype_probabilities_follow_the_centroids_and_exclude_removes_incidents() -> None:
    vectors = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    classifier = SubtypeClassifier(
        vectors=vectors,
        incident_of=["a", "b", "c", "d"],
        subtype_of={"a": "oom", "b": "oom", "c": "dns", "d": "disk"},
    )
    query = np.array([0.2, 1.0, 0.1])
    probs = classifier.probabilities(query)
    assert max(probs, key=probs.__getitem__) == "dns" and sum(probs.values()) == pytest.approx(1.0)
    assert classifier.probabilities(query) == probs  # the cached centroids are not changed by a query
    without_c = classifier.probabilities(query, exclude={"c"})
    assert "dns" not in without_c and set(without_c) == {"oom", "disk"}
    between = np.array([0.7, 0.7, 0.0])  # nearer the oom centroid than dns until b leaves it
    assert classifier.probabilities(between)["oom"] > 0.8
    assert classifier.probabilities(between, exclude={"b"})["oom"] == pytest.approx(0.5, abs=0.01)
    assert classifier.probabilities(query, exclude={"unknown"}) == probs
