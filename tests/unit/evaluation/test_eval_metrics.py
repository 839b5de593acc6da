"""Every eval metric on a tiny hand-made example whose right value is worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.evaluation.answer_metrics import (
    best,
    citation_recall,
    citation_validity,
    groundedness,
    item_coverage,
    key_term_recall,
    mean,
)
from assistant.evaluation.calibration import (
    auroc,
    expected_calibration_error,
    reliability_table,
    verdict_accuracy,
)
from assistant.evaluation.citations import find_cited
from assistant.evaluation.gold import resolution_items, root_cause
from assistant.evaluation.latency import latency_summary, percentile
from assistant.evaluation.nli import OverlapEntailment
from assistant.evaluation.ranking import (
    first_relevant_rank,
    hit_at_k,
    label_hit_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from assistant.evaluation.support import best_similarity, context_units, embedding_support
from assistant.evaluation.text import claims, content_terms, sentences, stem
from assistant.search.encoders import FakeEncoder

RANKED = ["a", "b", "c", "d"]


# Ranking ----------------------------------------------------------------------------------------------


def test_recall_at_k() -> None:
    # relevant {b, d, x}: top-2 holds b (1 of 3), top-4 holds b and d (2 of 3)
    assert recall_at_k(RANKED, {"b", "d", "x"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, {"b", "d", "x"}, 4) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        recall_at_k(RANKED, set(), 3)


def test_hit_at_k() -> None:
    assert hit_at_k(RANKED, {"b"}, 1) == 0.0
    assert hit_at_k(RANKED, {"b"}, 2) == 1.0
    assert hit_at_k(RANKED, {"z"}, 4) == 0.0


def test_reciprocal_rank() -> None:
    assert first_relevant_rank(RANKED, {"c", "d"}) == 3
    assert reciprocal_rank(RANKED, {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"z"}) == 0.0


def test_ndcg_at_k() -> None:
    # relevant {b, d} at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    # ideal puts them at ranks 1 and 2: IDCG = 1 + 1/log2(3) = 1.63093 → nDCG = 0.65092
    assert ndcg_at_k(RANKED, {"b", "d"}, 10) == pytest.approx(0.65092, abs=1e-5)
    # cut at 2: DCG = 0.63093; IDCG@2 = 1.63093 → 0.38685
    assert ndcg_at_k(RANKED, {"b", "d"}, 2) == pytest.approx(0.38685, abs=1e-5)
    assert ndcg_at_k(["b", "d"], {"b", "d"}, 10) == pytest.approx(1.0)


def test_label_hit_at_k() -> None:
    categories = ["database", "network", "application"]
    assert label_hit_at_k(categories, "application", 2) == 0.0
    assert label_hit_at_k(categories, "application", 3) == 1.0


# Seen-before ------------------------------------------------------------------------------------------


def test_verdict_accuracy_ignores_maybe() -> None:
    # decided: yes/in-corpus right, no/novel right, yes/novel wrong → 2 of 3; 3 of 4 decided
    result = verdict_accuracy(["yes", "no", "maybe", "yes"], [True, False, True, False])
    assert result.accuracy == pytest.approx(2 / 3)
    assert result.decided == pytest.approx(0.75)
    assert verdict_accuracy(["maybe"], [True]).accuracy is None


def test_auroc_counts_ties_half() -> None:
    # positives 0.9, 0.4; negatives 0.5, 0.4: pairs 1 + 1 + 0 + 0.5 = 2.5 of 4
    assert auroc([0.9, 0.4, 0.5, 0.4], [True, True, False, False]) == pytest.approx(0.625)
    assert auroc([0.9, 0.1], [True, False]) == 1.0
    assert auroc([0.9], [True]) is None


def test_reliability_table_and_ece() -> None:
    # two bins: [0, .5) holds .1, .3 (mean .2, one of two positive: .5); [.5, 1] holds .6, .9, 1.0
    # (mean .8333, two of three positive: .6667). ECE = 2/5·|.5 − .2| + 3/5·|.6667 − .8333| = .12 + .1
    table = reliability_table([0.1, 0.3, 0.6, 0.9, 1.0], [False, True, True, True, False], bins=2)
    assert [b.n for b in table] == [2, 3]
    assert table[0].mean_confidence == pytest.approx(0.2)
    assert table[0].observed == pytest.approx(0.5)
    assert table[1].mean_confidence == pytest.approx(2.5 / 3)
    assert table[1].observed == pytest.approx(2 / 3)
    assert expected_calibration_error(table) == pytest.approx(0.22)


# Latency ----------------------------------------------------------------------------------------------


def test_percentile_interpolates() -> None:
    # p50 of 10, 20, 30, 40 sits halfway between 20 and 30; p95 at position 2.85 → 30 + 0.85·10
    assert percentile([40, 10, 30, 20], 50) == pytest.approx(25.0)
    assert percentile([40, 10, 30, 20], 95) == pytest.approx(38.5)
    assert latency_summary([10, 20, 30, 40]) == {"p50": 25.0, "p95": 38.5, "mean": 25.0, "max": 40}
    assert percentile(list(np.arange(101.0)), 95) == pytest.approx(np.percentile(np.arange(101.0), 95))


# Answers ----------------------------------------------------------------------------------------------


def test_citation_validity() -> None:
    # a exists and was retrieved; b exists but was not retrieved; zz does not exist → 1 of 3
    assert citation_validity(["a", "b", "zz"], corpus={"a", "b", "c"}, retrieved={"a", "c"}) == pytest.approx(
        1 / 3
    )
    assert citation_validity([], corpus={"a"}, retrieved={"a"}) is None


def test_citation_recall() -> None:
    assert citation_recall(["a", "q"], ["a", "b"]) == pytest.approx(0.5)
    assert citation_recall(["a"], []) is None


def test_groundedness() -> None:
    assert groundedness([0.9, 0.5, 0.7], threshold=0.6) == pytest.approx(2 / 3)
    assert groundedness([], threshold=0.6) is None


def test_text_helpers() -> None:
    assert stem("connections") == "connection"
    assert stem("leaking") == "leak"
    assert stem("timed") == "timed"  # too short to strip
    assert content_terms("The pool was exhausted by 200 leaked connections") == {
        "pool",
        "exhaust",
        "leak",
        "connection",
    }
    assert sentences("- First point. Second point!\n# Heading\n\n2) third") == [
        "First point.",
        "Second point!",
        "Heading",
        "third",
    ]
    assert claims("Short one.\nThis sentence has enough words.\nWhat resolved similar incidents:") == [
        "This sentence has enough words."
    ]


def test_key_term_recall() -> None:
    # reference terms {connection, pool, exhaust, leak}; the answer has pool and connection → 2 of 4
    reference = "Connection pool exhausted by leaked connections"
    answer = "The pool ran out because of slow queries; connections timed out"
    assert key_term_recall(answer, reference) == pytest.approx(0.5)
    assert key_term_recall("pool exhausted: connections leaking", reference) == pytest.approx(1.0)
    assert key_term_recall("anything", "the of and") is None


def test_item_coverage() -> None:
    # item 1 {raise, pool, size}: pool, size → 2/3 covered; item 2 {fix, connection, leak, retry, handler}:
    # fix, connection, leak → 3/5 covered; item 3 {add, alert}: none → 2 of 3 items
    items = ["Raise pool size to 200", "Fix the connection leak in retry handler", "Add alerting"]
    answer = "Increase the pool size and fix the connection leak"
    assert item_coverage(items, answer) == pytest.approx(2 / 3)
    assert item_coverage(items, answer, min_overlap=0.7) == pytest.approx(0.0)
    assert item_coverage([], answer) is None


def test_best_and_mean_skip_undefined() -> None:
    assert best([None, 0.2, 0.7]) == 0.7
    assert best([None]) is None
    assert mean([None, 0.2, 0.4]) == pytest.approx(0.3)
    assert mean([]) is None


def test_find_cited_catches_known_and_made_up_ids() -> None:
    text = "Looks like [perf-1] again (see perf-2 too); also [made-up-9] and perf-10."
    assert find_cited(text, known={"perf-1", "perf-2", "perf-3"}) == ["perf-1", "perf-2", "made-up-9"]


def test_best_similarity() -> None:
    claims_v = np.array([[1.0, 0.0], [0.0, 1.0]])
    units_v = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert best_similarity(claims_v, units_v).tolist() == pytest.approx([1.0, 0.8])
    assert best_similarity(claims_v, np.zeros((0, 2))).tolist() == [0.0, 0.0]


def test_embedding_support_with_the_fake_encoder() -> None:
    units = context_units(["perf-1 — Pool exhaustion\nRoot cause: connection pool exhausted by a leak"])
    assert units == ["perf-1 — Pool exhaustion", "Root cause: connection pool exhausted by a leak"]
    support = embedding_support(
        ["Root cause: connection pool exhausted by a leak", "quantum entanglement of teapots xyz"],
        units,
        encoder=FakeEncoder(),
    )
    assert support[0] == pytest.approx(1.0, abs=1e-5)
    assert support[1] < 0.3


def test_overlap_entailment() -> None:
    # hypothesis terms {pool, exhaust, quickly}; the premise has pool and exhaust → 2/3
    nli = OverlapEntailment()
    assert nli.entailment([("the pool was exhausted", "the pool exhausted quickly")]) == [
        pytest.approx(2 / 3)
    ]


def test_gold_root_cause_and_resolution_items() -> None:
    raw = {
        "analysis": {"root_cause": "Leaked connections"},
        "resolution": {
            "immediate_action": [{"action": "Restart pods", "effect": "pool freed"}, "Raise pool size"],
            "long_term_solutions": {"description": "Fix the leak"},
            "validation": {"success_criteria": ["p99 under 200ms"]},
        },
    }
    assert root_cause(raw) == "Leaked connections"
    assert resolution_items(raw) == ["Restart pods pool freed", "Raise pool size", "Fix the leak"]
    # no key names an action: every item counts
    assert resolution_items({"resolution": {"steps": ["a b c"]}}) == ["a b c"]
    assert resolution_items({}) == []


def test_one_torch_thread_restores_the_thread_count() -> None:
    import torch

    from assistant.search.encoders import one_torch_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_torch_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_cached_encoder_embeds_each_text_once_shortest_first() -> None:
    from assistant.evaluation.support import CachedEncoder

    class Counting(FakeEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[list[str]] = []

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls.append(list(texts))
            return super().encode(texts)

    inner = Counting()
    cached = CachedEncoder(inner, batch_size=2)
    texts = ["a much longer text", "short", "a much longer text", "mid size"]
    first = cached.encode(texts)
    assert inner.calls == [["short", "mid size"], ["a much longer text"]]
    assert np.allclose(first, FakeEncoder().encode(texts))
    cached.encode(["short", "mid size"])
    assert len(inner.calls) == 2, "cached texts are not embedded again"
