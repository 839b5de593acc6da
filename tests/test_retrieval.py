from __future__ import annotations

import pytest

from assistant.retrieval import group_by_incident, rrf


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
