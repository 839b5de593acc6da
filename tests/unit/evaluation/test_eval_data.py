"""Eval data plumbing: case files, thresholds, run comparison, feedback export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.evaluation.cases import EvalDataError, load_answers, load_cases
from assistant.evaluation.compare import compare, flatten
from assistant.evaluation.feedback import feedback_cases
from assistant.evaluation.thresholds import check, load_thresholds, lookup
from assistant.sources.feedback_log import FeedbackLogError, read_votes


def write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_cases_load_and_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    good = write(
        tmp_path / "q.jsonl",
        [
            {"id": "q1", "query": "pods OOMKilled", "category": "application", "relevant": ["perf-1"]},
            {"id": "q2", "query": "printer on fire", "relevant": []},
        ],
    )
    cases = load_cases(good)
    assert [c.relevant for c in cases] == [["perf-1"], []]
    bad = write(
        tmp_path / "bad.jsonl", [{"id": "q1", "query": "x", "relevant": []}, {"id": "q2", "relevant": []}]
    )
    with pytest.raises(EvalDataError, match=r"bad.jsonl:2: query"):
        load_cases(bad)
    dup = write(tmp_path / "dup.jsonl", [{"id": "q1", "query": "x", "relevant": []}] * 2)
    with pytest.raises(EvalDataError, match="duplicate case id 'q1'"):
        load_cases(dup)
    with pytest.raises(EvalDataError, match="no such file"):
        load_cases(tmp_path / "missing.jsonl")


def test_answers_load(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", [{"id": "q1", "answer": "it is DNS", "cited": ["perf-1"]}])
    [record] = load_answers(path)
    assert record.cited == ["perf-1"] and record.contexts is None


def test_thresholds_check(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[retrieval]\n"retrieval.recall@5" = 0.8\n"seen_before.auroc" = 0.9\n')
    minimums = load_thresholds(path)["retrieval"]
    metrics = {"retrieval": {"recall@5": 0.85}, "seen_before": {"auroc": 0.7}}
    [short] = check(metrics, minimums)
    assert (short.metric, short.actual) == ("seen_before.auroc", 0.7)
    assert "0.7000 < minimum 0.9000" in str(short)
    assert check({"retrieval": {}}, {"retrieval.mrr": 0.5})[0].actual is None
    assert lookup({"a": {"b.c": 2}}, "a.b.c") == 2.0
    path.write_text("[retrieval]\nrecall = 'high'\n")
    with pytest.raises(EvalDataError, match="must be a number"):
        load_thresholds(path)


def test_compare_flattens_numbers_and_computes_deltas() -> None:
    a = {"retrieval": {"recall@5": 0.8, "n": 10}, "worst_misses": [{"id": "x"}], "latency_ms": {"p50": 20}}
    b = {"retrieval": {"recall@5": 0.9, "n": 10}, "latency_ms": {"p50": 15}, "new": 1}
    assert flatten(a) == {"retrieval.recall@5": 0.8, "retrieval.n": 10.0, "latency_ms.p50": 20.0}
    deltas = {d.metric: d.delta for d in compare(a, b)}
    assert deltas["retrieval.recall@5"] == pytest.approx(0.1)
    assert deltas["latency_ms.p50"] == pytest.approx(-5)
    assert deltas["new"] is None


def feedback_db(path: Path, rows: list[tuple[str, list[dict[str, str]], str, str, str, str]]) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE feedback "
            "(query TEXT, matches JSON, verdict TEXT, user TEXT, vote TEXT, created_at TEXT)"
        )
        db.executemany(
            "INSERT INTO feedback VALUES (?,?,?,?,?,?)",
            [(q, json.dumps(m), v, u, vote, c) for q, m, v, u, vote, c in rows],
        )
    return path


def test_feedback_becomes_eval_cases(tmp_path: Path) -> None:
    shown = [{"id": "perf-1", "title": "pool"}, {"id": "perf-2", "title": "dns"}]
    db = feedback_db(
        tmp_path / "feedback.sqlite3",
        [
            ("DB pool maxed", shown, "yes", "U1", "up", "2025-01-01T10:00:00+00:00"),
            ("db pool  MAXED", shown, "yes", "U2", "up", "2025-01-01T11:00:00+00:00"),
            ("printer on fire", shown, "no", "U1", "up", "2025-01-02T10:00:00+00:00"),
            ("dns slow", shown, "maybe", "U3", "down", "2025-01-03T10:00:00+00:00"),
        ],
    )
    votes = read_votes(db)
    assert len(votes) == 4 and votes[0].matches == ["perf-1", "perf-2"]
    cases = {
        c["query"]: c
        for c in feedback_cases(votes, taxonomy={"perf-1": ("database", "connection_pool_exhaustion")})
    }
    assert len(cases) == 3, "votes on the same query (case and spaces folded) make one case"
    pool = cases["db pool  MAXED"]
    assert pool["relevant"] == ["perf-1"] and pool["votes"] == {"up": 2, "down": 0}
    assert (pool["category"], pool["subtype"]) == ("database", "connection_pool_exhaustion")
    assert cases["printer on fire"]["relevant"] == [], "an up vote on a 'no' verdict confirms a novel case"
    dns = cases["dns slow"]
    assert dns["relevant"] is None and dns["rejected"] == ["perf-1", "perf-2"]
    # the exported file loads as eval cases; the unlabelled one is kept but marked
    out = write(tmp_path / "fb.jsonl", list(cases.values()))
    assert sorted(c.relevant is None for c in load_cases(out)) == [False, False, True]


def test_feedback_store_missing_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedbackLogError, match="no feedback store"):
        read_votes(tmp_path / "none.sqlite3")


def test_feedback_written_by_the_slack_store_exports(tmp_path: Path) -> None:
    """The table the Slack bot writes is the one the export reads (a schema change breaks this)."""
    from assistant.surfaces.slack.feedback import FeedbackStore

    store = FeedbackStore.in_dir(tmp_path)
    matches = [{"id": "perf-1", "title": "pool", "score": 1.0, "similarity": 0.8}]
    store.remember(answer_id="a1", query="db pool maxed", matches=matches, verdict="yes")
    store.vote(answer_id="a1", user="U1", vote="up")
    [case] = feedback_cases(read_votes(tmp_path / "feedback.sqlite3"))
    assert (case["query"], case["relevant"], case["votes"]) == (
        "db pool maxed",
        ["perf-1"],
        {"up": 1, "down": 0},
    )
