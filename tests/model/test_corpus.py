"""The committed corpus: taxonomy coverage, unique ids, no near-copies; eval queries well-formed and
worded independently of the labels they point to."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Assistant
from assistant.corpus.loading import load_labels
from assistant.corpus.taxonomy import SUBTYPE_TO_CATEGORY, TAXONOMY
from tests.conftest import LABELS, ROOT

QUERIES = ROOT / "eval" / "queries.jsonl"
MIN_PER_SUBTYPE = 6
NEAR_DUPLICATE = 0.95  # cosine between two labels' symptom passages
REAL_PREFIX = "real-"  # labels written from a real public incident; their source is links[0]
LONGEST_SHARED_SPAN = 7  # words a query may not copy verbatim from its relevant label
_WORD = re.compile(r"[a-z0-9]+")


@pytest.fixture(scope="module")
def labels() -> dict[str, dict[str, Any]]:
    result = load_labels(LABELS)
    assert result.problems == [], [str(p) for p in result.problems[:5]]
    return {x.label.id: x.raw for x in result.labels}


@pytest.fixture(scope="module")
def queries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUERIES.read_text().splitlines() if line.strip()]


def test_corpus_covers_every_subtype(labels: dict[str, dict[str, Any]]) -> None:
    result = load_labels(LABELS)
    counts = Counter((x.label.metadata.category, x.label.metadata.subtype) for x in result.labels)
    assert len(result.labels) >= 300
    for category, subtypes in TAXONOMY.items():
        for subtype in subtypes:
            assert counts[(category, subtype)] >= MIN_PER_SUBTYPE, (category, subtype)
    assert counts[(None, None)] == 0


def test_real_labels_name_their_public_source(labels: dict[str, dict[str, Any]]) -> None:
    real = {i: raw for i, raw in labels.items() if i.startswith(REAL_PREFIX)}
    assert len(real) >= 150
    sources = [raw.get("links", [""])[0] for raw in real.values()]
    assert all(re.match(r"https?://[^/\s]+\.[a-z]{2,}/", s) for s in sources), sources
    assert len(set(sources)) == len(sources), "two real labels share a source"
    covered = Counter(raw["metadata"]["subtype"] for raw in real.values())
    assert set(covered) == set(SUBTYPE_TO_CATEGORY), set(SUBTYPE_TO_CATEGORY) - set(covered)


OPERATOR_KINDS = ("postmortem", "status-page")  # an operator's own write-up, not an issue thread


def test_the_corpus_holds_operators_incidents_imported_and_reviewed(
    labels: dict[str, dict[str, Any]],
) -> None:
    assert len(labels) >= 420
    operators = {i: raw for i, raw in labels.items() if raw["metadata"].get("source_kind") in OPERATOR_KINDS}
    assert len(operators) >= 100 and all(i.startswith(REAL_PREFIX) for i in operators)
    imported = {i: raw["metadata"] for i, raw in labels.items() if "imported" in raw["metadata"]}
    assert len(imported) >= 80
    for incident_id, meta in imported.items():
        assert meta.get("review") == "reviewed", incident_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["imported"]), incident_id


def test_label_files_are_named_and_filed_by_id_and_category() -> None:
    for item in load_labels(LABELS).labels:
        path = Path(item.file)
        assert path.name == f"{item.label.id}.json", item.file
        assert path.parent.name == item.label.metadata.category, item.file


def test_new_labels_carry_title_symptoms_and_taxonomy(labels: dict[str, dict[str, Any]]) -> None:
    for incident_id, raw in labels.items():
        if incident_id.startswith("perf-20250316"):  # the seed examples stay as written
            continue
        assert raw.get("title"), incident_id
        # A real incident's write-up sometimes states only two symptoms; none is made up to reach three.
        fewest = 2 if incident_id.startswith(REAL_PREFIX) else 3
        assert fewest <= len(raw.get("symptoms", [])) <= 6, incident_id
        assert raw["metadata"].get("subtype") in SUBTYPE_TO_CATEGORY, incident_id


def test_no_two_labels_are_near_copies(corpus: Assistant) -> None:
    rows = [i for i, p in enumerate(corpus.index.passages) if p.kind == "symptom"]
    ids = [corpus.index.passages[i].incident_id for i in rows]
    vectors = corpus.index.dense.reconstruct_batch(np.asarray(rows, dtype=np.int64))
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    i, j = np.unravel_index(np.argmax(sims), sims.shape)
    assert sims[i, j] < NEAR_DUPLICATE, f"{ids[i]} and {ids[j]} look like copies (cosine {sims[i, j]:.3f})"


def test_near_duplicate_check_would_catch_a_copy(corpus: Assistant) -> None:
    """The threshold above is meaningful: a lightly edited copy of a label scores above it."""
    passage = next(p for p in corpus.index.passages if p.kind == "symptom")
    edited = passage.text.replace("production", "prod").replace(passage.incident_id, "perf-copy")
    a, b = corpus.encoder.encode([passage.text, edited])
    assert float(a @ b) > NEAR_DUPLICATE


def test_queries_are_well_formed(queries: list[dict[str, Any]], labels: dict[str, dict[str, Any]]) -> None:
    ids = [q["id"] for q in queries]
    assert len(ids) == len(set(ids))
    assert len(queries) >= 150
    assert sum(1 for q in queries if q["relevant"] == []) >= 30
    for q in queries:
        assert set(q) >= {"id", "query", "category", "subtype", "relevant"}, q["id"]
        assert q["query"].strip(), q["id"]
        for rid in q["relevant"]:
            assert rid in labels, (q["id"], rid)
            assert labels[rid]["metadata"]["subtype"] == q["subtype"], q["id"]
        if not q["relevant"]:
            assert q["category"] is None and q["subtype"] is None, q["id"]


def _spans(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_queries_do_not_copy_their_labels(
    queries: list[dict[str, Any]], labels: dict[str, dict[str, Any]]
) -> None:
    copied = []
    for q in queries:
        for rid in q["relevant"]:
            shared = _spans(q["query"], LONGEST_SHARED_SPAN) & _spans(
                json.dumps(labels[rid]), LONGEST_SHARED_SPAN
            )
            if shared:
                copied.append((q["id"], " ".join(sorted(shared)[0])))
    assert copied == []


def test_copy_check_would_catch_a_copied_query(labels: dict[str, dict[str, Any]]) -> None:
    raw = next(iter(labels.values()))
    sentence = raw["analysis"]["evidence"][0]
    assert len(_WORD.findall(sentence.lower())) >= LONGEST_SHARED_SPAN
    assert _spans(f"seeing this again: {sentence}", LONGEST_SHARED_SPAN) & _spans(
        json.dumps(raw), LONGEST_SHARED_SPAN
    )
