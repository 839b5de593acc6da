from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import NotFound, QueryError
from assistant.search.encoders import Encoder
from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.langchain import IncidentRetriever


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder, models_dir: Path) -> Assistant:
    """The six seed labels indexed with the real MiniLM encoder."""
    from tests.conftest import seed_files

    root = tmp_path_factory.mktemp("real")
    labels = root / "labels"
    labels.mkdir()
    for path in seed_files():
        (labels / path.name).write_bytes(path.read_bytes())
    settings = Settings(
        labels_dir=labels, index_dir=root / "index", encoder="minilm", model_cache_dir=models_dir
    )
    build(settings, encoder=minilm)
    return Assistant.from_settings(settings, encoder=minilm)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "java service heap keeps climbing for days, GC can't free it, pods get OOM killed",
            "perf-2025031601",
        ),
        ("envoy sidecars pegged on cpu, latency between services 4x, retransmits up", "perf-2025031602"),
        ("kubectl is super slow, apiserver requests take seconds, etcd disk busy", "perf-2025031603"),
        ("we got paged 1000 times in an hour, alertmanager is drowning", "perf-2025031604"),
        (
            "nobody got paged for 8 hours although things were crashlooping; webhook TLS errors",
            "perf-2025031605",
        ),
        ("order consumers falling behind on kafka, lag 200k, db pool maxed out", "perf-2025031606"),
    ],
)
def test_paraphrased_symptom_finds_the_incident(real: Assistant, query: str, expected: str) -> None:
    result = real.similar(query, k=3)
    assert result.matches[0].id == expected
    assert result.matches[0].passages, "a match carries the passages that hit"


def test_one_match_per_incident_in_rank_order(real: Assistant) -> None:
    result = real.similar("latency went up", k=6)
    ids = [m.id for m in result.matches]
    assert len(ids) == len(set(ids)) == 6
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)


def test_unrelated_query_is_not_seen_before(real: Assistant) -> None:
    related = real.similar("alertmanager notifications silently failing because webhook certificate expired")
    unrelated = real.similar("the marketing site's hero image is blurry on retina iPads")
    # "no" is kept for what is surely another kind (false "no" <= 10 % out of fold), so an unrelated query
    # may get "maybe"; it never gets "yes", and is far less likely than a related one
    assert unrelated.seen_before.verdict != "yes"
    assert unrelated.seen_before.confidence < real.verdict_model.yes
    assert related.seen_before.confidence > unrelated.seen_before.confidence + 0.2


def test_bad_queries_raise_query_error(real: Assistant) -> None:
    with pytest.raises(QueryError, match="empty"):
        real.similar("   ")
    with pytest.raises(QueryError, match="limit is 4000"):
        real.similar("x" * 4001)


def test_incident_lookup(real: Assistant) -> None:
    record = real.incident("perf-2025031603")
    assert record.category == "scalability" and record.raw["context"]["component"] == "etcd"
    with pytest.raises(NotFound):
        real.incident("perf-nope")


def test_langchain_retriever_returns_documents_with_incident_metadata(real: Assistant) -> None:
    docs = IncidentRetriever(assistant=real, k=2).invoke("kafka consumer lag, database connection pool full")
    assert len(docs) == 2
    assert docs[0].metadata["id"] == "perf-2025031606"
    assert docs[0].metadata["category"] == "database"
    assert docs[0].page_content.startswith("perf-2025031606 —")
    assert set(docs[0].metadata) >= {"title", "subtype", "score", "similarity", "seen_before"}


def test_similar_on_fake_encoder_is_deterministic(settings: Settings, tmp_path: Path) -> None:
    build(settings)
    a = Assistant.from_settings(settings).similar("etcd compaction disk iops", k=3)
    b = Assistant.from_settings(settings).similar("etcd compaction disk iops", k=3)
    assert a == b and a.matches[0].id == "perf-2025031603"
