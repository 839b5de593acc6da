from __future__ import annotations

import pytest

from assistant.search.fusion import group_by_incident, rrf
from assistant.search.sparse import SparseIndex, tokenize


def test_rrf_adds_reciprocal_ranks() -> None:
    fused = rrf([[1, 2, 3], [3, 1]], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert max(fused, key=fused.__getitem__) == 1


def test_group_keeps_one_match_per_incident_scored_by_best_passage() -> None:
    fused = {0: 0.03, 1: 0.02, 2: 0.025, 3: 0.01}
    hits = group_by_incident(
        fused, incident_of=["a", "a", "b", "c"], similarity={0: 0.5, 1: 0.9, 2: 0.4, 3: 0.1}, max_score=0.03
    )
    assert [h.incident_id for h in hits] == ["a", "b", "c"]
    assert hits[0].rows == [0, 1]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].similarity == pytest.approx(0.9)


def test_bm25_ranks_by_score_then_row_and_keeps_only_positive_scores() -> None:
    texts = [
        "etcd fsync latency high",
        "kafka consumer lag growing",
        "etcd fsync latency high",  # ties row 0
        "etcd compaction",
        "dns timeouts",
    ]
    index = SparseIndex.build(texts)
    hits = index.search("etcd fsync latency", 10)
    assert [r for r, _ in hits] == [0, 2, 3]  # row 1 and 4 share no word: left out
    assert hits[0][1] == pytest.approx(hits[1][1]) and hits[1][1] > hits[2][1] > 0
    assert [r for r, _ in index.search("etcd fsync latency", 2)] == [0, 2]
    assert index.search("nothing indexed here", 10) == []
    assert index.search("etcd", 0) == []


def test_bm25_top_n_is_bm25s_own_ranking() -> None:
    texts = [f"service {i % 7} latency {i % 5} errors pod {i % 3} restart" for i in range(60)]
    index = SparseIndex.build(texts)
    tokens = tokenize("latency 3 errors pod 2 restart")
    _, scores = index._model.retrieve([tokens], k=12, show_progress=False)
    ours = index.search("latency 3 errors pod 2 restart", 12)
    assert [s for _, s in ours] == pytest.approx([float(s) for s in scores[0]])
