"""CI gate: retrieval on the committed corpus and eval queries must stay above eval/thresholds.toml.

Uses the session's ``corpus`` fixture (labels/ indexed once with the real MiniLM encoder, shared with
the corpus tests), so the gate itself only runs the queries: about 350 single-query searches.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.evaluation.cases import load_cases
from assistant.evaluation.dev_metrics import dev_metrics
from assistant.evaluation.dev_run import (
    ANSWER_METRICS,
    DevOutcome,
    DevRetrieved,
    attribution,
    dev_cases,
    loo_cases,
    run_dev,
)
from assistant.evaluation.import_run import import_metrics
from assistant.evaluation.retrieval_run import (
    loo_metrics,
    retrieval_metrics,
    run_loo,
    run_retrieval,
    subtype_counts,
)
from assistant.evaluation.thresholds import check, load_thresholds
from tests.conftest import ROOT

QUERIES = ROOT / "eval" / "queries.jsonl"
REAL = ROOT / "eval" / "real.jsonl"
THRESHOLDS = ROOT / "eval" / "thresholds.toml"


@pytest.fixture(scope="module")
def minimums() -> dict[str, dict[str, float]]:
    return load_thresholds(THRESHOLDS)


def test_retrieval_meets_thresholds(corpus: Assistant, minimums: dict[str, dict[str, float]]) -> None:
    cases = load_cases(QUERIES)
    metrics = retrieval_metrics(run_retrieval(corpus, cases, k=10), k=10)
    assert metrics["novel"] >= 30, "seen-before quality needs the novel queries"
    shortfalls = check(metrics, minimums["retrieval"])
    assert not shortfalls, "retrieval fell below eval/thresholds.toml:\n" + "\n".join(map(str, shortfalls))


def test_leave_one_out_meets_thresholds(corpus: Assistant, minimums: dict[str, dict[str, float]]) -> None:
    metrics = loo_metrics(run_loo(corpus, k=10), peers=subtype_counts(corpus), k=10)
    assert metrics["scored"] == len(corpus.index.incidents), "every subtype has at least two labels"
    shortfalls = check(metrics, minimums["loo"])
    assert not shortfalls, "leave-one-out fell below eval/thresholds.toml:\n" + "\n".join(
        map(str, shortfalls)
    )


def test_dev_set_and_leave_one_out_meet_thresholds(
    corpus: Assistant, minimums: dict[str, dict[str, float]]
) -> None:
    """The real-incident dev set and leave-one-out through the same metrics, verdict quality included."""
    cases = dev_cases(load_cases(REAL))
    dev = run_dev(corpus, cases)
    loo = run_dev(corpus, loo_cases(corpus))
    metrics = dev_metrics(dev, loo, answers=attribution(corpus, cases))
    assert metrics["dev"]["n"] >= 120 and metrics["loo"]["n"] >= 150
    shortfalls = check(metrics, minimums["dev"])
    assert not shortfalls, "dev set fell below eval/thresholds.toml:\n" + "\n".join(map(str, shortfalls))


def test_every_threshold_names_a_real_metric(minimums: dict[str, dict[str, float]]) -> None:
    """A typo in thresholds.toml must not silently gate nothing: every key resolves in a run's metrics."""
    from assistant.evaluation.results import QueryOutcome, Retrieved

    hit = Retrieved(id="a", title="t", category="c", subtype="s", score=1.0, similarity=0.9)
    positive = QueryOutcome(
        id="q",
        query="q",
        category="c",
        subtype="s",
        relevant=["a"],
        retrieved=[hit],
        verdict="yes",
        confidence=0.9,
        latency_ms=1.0,
    )
    negative = positive.model_copy(update={"id": "n", "relevant": [], "verdict": "no", "confidence": 0.1})
    top = DevRetrieved(id="a", title="t", category="c", subtype="s", score=1.0, similarity=0.9)
    case = DevOutcome(
        id="d", query="q", category="c", subtype="s", root_cause="r", retrieved=[top], verdict="yes",
        confidence=0.9, features=[{}], mechanism={"@1": 0.5, "@5": 0.5}, latency_ms=1.0,
    )  # fmt: skip
    wrong = case.model_copy(update={"id": "e", "subtype": "z", "verdict": "no", "confidence": 0.1})
    shapes = {
        "dev": dev_metrics([case, wrong], [case, wrong], answers=dict.fromkeys(ANSWER_METRICS, 1.0)),
        "retrieval": retrieval_metrics([positive, negative], k=10),
        "loo": loo_metrics([positive, positive.model_copy(update={"id": "a2"})], peers={"s": 2}, k=10),
        "import": import_metrics([]),
    }
    assert set(minimums) <= set(shapes)
    for mode, table in minimums.items():
        missing = [s.metric for s in check(shapes[mode], table) if s.actual is None]
        assert not missing, f"[{mode}] names metrics that do not exist: {missing}"
