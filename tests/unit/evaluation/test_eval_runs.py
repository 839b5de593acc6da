"""Whole eval runs over a small index (seed labels plus two near-copies, fake encoder): retrieval,
leave-one-out, answers; the report folder; the CLI commands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.evaluation import runner
from assistant.evaluation.answers_run import AnswerScorer, ScoringOptions
from assistant.evaluation.cases import AnswerRecord, GoldCase, load_cases
from assistant.evaluation.nli import OverlapEntailment
from assistant.evaluation.reports import write_run
from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.cli import app
from tests.unit.evaluation.test_eval_judge import FakeOpenAI

MEMORY = "perf-2025031601"
ETCD = "perf-2025031603"
MEMORY_COPY = "perf-2099000001"
ETCD_COPY = "perf-2099000003"

CASES = [
    {
        "id": "q-mem",
        "query": "java heap keeps growing for days, gc cannot free memory, pods OOMKilled",
        "category": "resource_contention",
        "subtype": "memory_leak",
        "relevant": [MEMORY, MEMORY_COPY],
    },
    {
        "id": "q-etcd",
        "query": "kubectl hangs, apiserver requests slow, etcd disk fsync latency high",
        "category": "scalability",
        "subtype": "control_plane_bottleneck",
        "relevant": [ETCD, ETCD_COPY],
    },
    {"id": "q-novel", "query": "the office printer jams on every second page of paper", "relevant": []},
    {"id": "q-unlabelled", "query": "something from feedback", "relevant": None},
]


def derive(source: Path, target: Path, *, new_id: str, symptoms: list[str]) -> None:
    raw = json.loads(source.read_text())
    raw["perf_observation"] = new_id
    raw["symptoms"] = symptoms
    target.write_text(json.dumps(raw))


@pytest.fixture
def small(settings: Settings) -> Settings:
    """Seed labels plus a near-copy of the memory-leak and of the etcd incident (so each has a peer)."""
    root = Path(settings.labels_dir)
    memory = next(root.rglob(f"{MEMORY}.json"))
    etcd = next(root.rglob(f"{ETCD}.json"))
    derive(
        memory,
        memory.parent / f"{MEMORY_COPY}.json",
        new_id=MEMORY_COPY,
        symptoms=[
            "heap usage climbs steadily for days",
            "old gen never shrinks after full GC",
            "pods OOMKilled",
        ],
    )
    derive(
        etcd,
        etcd.parent / f"{ETCD_COPY}.json",
        new_id=ETCD_COPY,
        symptoms=["kubectl get pods takes 20s", "etcd wal fsync duration p99 above 1s", "apiserver 504s"],
    )
    build(settings)
    return settings


@pytest.fixture
def assistant(small: Settings) -> Assistant:
    return Assistant.from_settings(small)


@pytest.fixture
def cases() -> list[GoldCase]:
    return [GoldCase.model_validate(c) for c in CASES]


def test_retrieval_run_metrics(assistant: Assistant, cases: list[GoldCase]) -> None:
    run = runner.retrieval(assistant, cases, k=5)
    m = run.metrics
    assert (m["queries"], m["in_corpus"], m["novel"]) == (3, 2, 1)
    assert run.config["unlabelled_skipped"] == 1
    outcomes = {c["id"]: c for c in run.cases}
    assert outcomes["q-etcd"]["retrieved"][0]["id"] in (ETCD, ETCD_COPY)
    assert outcomes["q-mem"]["retrieved"][0]["id"] in (MEMORY, MEMORY_COPY)
    # each query has two relevant ids and one of them ranks first: recall@1 = 1/2, hit@1 = 1
    assert m["retrieval"]["recall@1"] == pytest.approx(0.5)
    assert m["retrieval"]["hit@1"] == 1.0
    assert m["retrieval"]["category_hit@3"] == 1.0
    assert set(m["per_category"]) == {"resource_contention", "scalability"}
    assert list(m["recall_curve"]) == ["1", "2", "3", "4", "5"]
    sb = m["seen_before"]
    assert (sb["positives"], sb["negatives"]) == (2, 1)
    assert sum(sum(v.values()) for v in sb["verdicts"].values()) == 3
    assert set(m["latency_ms"]) == {"p50", "p95", "mean", "max"}


def test_report_folder_is_complete_and_self_contained(
    assistant: Assistant, cases: list[GoldCase], tmp_path: Path
) -> None:
    run = runner.retrieval(assistant, cases, k=5, run_id="r1")
    folder = write_run(run, tmp_path / "reports")
    assert sorted(p.name for p in folder.iterdir()) == [
        "cases.jsonl",
        "metrics.json",
        "report.html",
        "report.md",
    ]
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["run_id"] == "r1" and saved["mode"] == "retrieval" and "cases" not in saved
    assert len((folder / "cases.jsonl").read_text().splitlines()) == 3
    html = (folder / "report.html").read_text()
    assert (
        len(re.findall(r'src="data:image/png;base64,', html)) == 4
    )  # curve, categories, reliability, latency
    assert not re.search(r'(src|href)="https?:', html), "nothing is loaded from elsewhere"
    md = (folder / "report.md").read_text()
    for section in ("## Retrieval", "## Per category", "## Seen-before reliability", "## Worst misses"):
        assert section in md


def test_leave_one_out_finds_the_peer_and_never_the_label_itself(assistant: Assistant) -> None:
    run = runner.loo(assistant, k=5)
    m = run.metrics
    assert m["labels"] == 8
    # only the two copied subtypes have a peer: the originals and their copies
    scored = {c["id"] for c in run.cases if c["subtype"] in ("memory_leak", "control_plane_bottleneck")}
    assert m["scored"] == len(scored) == 4
    for case in run.cases:
        assert case["id"] not in [r["id"] for r in case["retrieved"]]
    by_id = {c["id"]: c for c in run.cases}
    assert by_id[MEMORY_COPY]["retrieved"][0]["id"] == MEMORY
    assert by_id[ETCD_COPY]["retrieved"][0]["id"] == ETCD
    assert by_id[MEMORY_COPY]["query"].startswith("heap usage climbs"), "symptoms are the query"
    assert m["loo"]["subtype_hit@5"] == 1.0


def _scorer(assistant: Assistant, **kw: Any) -> AnswerScorer:
    return AnswerScorer(assistant, options=ScoringOptions(k=3, support_threshold=0.6), **kw)


def test_answers_good_beats_bad(assistant: Assistant, cases: list[GoldCase]) -> None:
    gold = assistant.incident(ETCD).raw
    good = AnswerRecord(
        id="q-etcd",
        answer=(
            f"This is [{ETCD}] again. Root cause: {gold['analysis']['root_cause']}. "
            "Move etcd to faster disks and defragment it."
        ),
    )
    bad = AnswerRecord(
        id="q-etcd",
        answer="Definitely a cosmic ray flipping bits in the router [perf-0000000000]. Buy a new router.",
    )
    scorer = _scorer(assistant, nli=OverlapEntailment())
    case = cases[1]
    g, b = scorer.score(good, case), scorer.score(bad, case)
    # the gold case has two relevant ids (the incident and its copy); the answer cites one
    assert g.cited == [ETCD] and g.citation_validity == 1.0 and g.citation_recall == 0.5
    assert b.cited == ["perf-0000000000"] and b.invalid_cited == ["perf-0000000000"]
    assert b.citation_validity == 0.0 and b.citation_recall == 0.0
    assert g.root_cause_terms == 1.0 and (b.root_cause_terms or 0) < 0.3
    assert (g.root_cause_similarity or 0) > (b.root_cause_similarity or 0)
    assert (g.groundedness or 0) > (b.groundedness or 0)
    assert g.groundedness_nli is not None and b.groundedness_nli is not None
    assert g.groundedness_nli > b.groundedness_nli
    assert b.unsupported, "unsupported claims are listed"
    assert g.retrieved[0] in (ETCD, ETCD_COPY), "without contexts, our retrieval stands in"


def test_answer_contexts_decide_what_was_retrieved(assistant: Assistant, cases: list[GoldCase]) -> None:
    etcd_passage = next(p.text for p in assistant.index.passages if p.incident_id == ETCD)
    record = AnswerRecord(id="q-etcd", answer=f"Looks like [{ETCD}] or [{MEMORY}].", contexts=[etcd_passage])
    outcome = _scorer(assistant).score(record, cases[1])
    assert outcome.retrieved == [ETCD], "the ids in the given contexts, not our retrieval"
    assert outcome.citation_validity == 0.5 and outcome.invalid_cited == [MEMORY]


def test_novel_case_has_no_root_cause_metrics(assistant: Assistant, cases: list[GoldCase]) -> None:
    outcome = _scorer(assistant).score(AnswerRecord(id="q-novel", answer="Not seen before."), cases[2])
    assert outcome.citation_recall is None and outcome.root_cause_terms is None
    assert outcome.resolution_usefulness is None


def test_answers_run_joins_by_id_and_reports_unmatched(
    assistant: Assistant, cases: list[GoldCase], tmp_path: Path
) -> None:
    records = [
        AnswerRecord(id="q-etcd", answer=f"etcd disk is slow [{ETCD}]. Move etcd to SSD."),
        AnswerRecord(id="q-nope", answer="whatever"),
    ]
    run = runner.answers(_scorer(assistant), records, cases)
    assert run.metrics["answers"] == 1 and run.metrics["unmatched"] == ["q-nope"]
    assert run.metrics["scores"]["citation_validity"] == 1.0
    folder = write_run(run, tmp_path)
    assert "Answer scores" in (folder / "report.md").read_text()


# CLI -----------------------------------------------------------------------------------------------------

cli = CliRunner()


@pytest.fixture
def env(small: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "ASSISTANT_LABELS_DIR": str(small.labels_dir),
        "ASSISTANT_INDEX_DIR": str(small.index_dir),
        "ASSISTANT_ENCODER": "fake",
        "ASSISTANT_EVAL_REPORTS_DIR": str(tmp_path / "reports"),
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def queries(tmp_path: Path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES))
    assert len(load_cases(path)) == 4
    return path


def test_cli_retrieval_gate_and_compare(env: dict[str, str], queries: Path, tmp_path: Path) -> None:
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text('[retrieval]\n"retrieval.hit@5" = 0.9\n')
    ok = cli.invoke(
        app,
        ["eval", "retrieval", "--queries", str(queries), "--run-id", "a", "--thresholds", str(thresholds)],
        env=env,
    )
    assert ok.exit_code == 0, ok.output
    assert "report:" in ok.output and (tmp_path / "reports" / "a" / "report.html").is_file()

    thresholds.write_text('[retrieval]\n"retrieval.recall@1" = 0.99\n')
    failed = cli.invoke(
        app,
        ["eval", "retrieval", "--queries", str(queries), "--run-id", "b", "--thresholds", str(thresholds)],
        env=env,
    )
    assert failed.exit_code == 1
    assert "below threshold: retrieval.recall@1" in failed.output

    shown = cli.invoke(app, ["eval", "compare", "a", "b"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "retrieval.recall@1" in shown.output
    as_json = json.loads(cli.invoke(app, ["eval", "compare", "a", "b", "--json"], env=env).stdout)
    assert {d["metric"] for d in as_json} >= {"retrieval.mrr", "latency_ms.p50"}
    assert all(d["delta"] == 0 for d in as_json if d["metric"].startswith("retrieval."))


def test_cli_loo_json(env: dict[str, str]) -> None:
    result = cli.invoke(app, ["eval", "loo", "--k", "5", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "loo" and data["metrics"]["scored"] == 4


def test_cli_answers_with_judge(env: dict[str, str], queries: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "q-etcd", "answer": f"etcd fsync is slow [{ETCD}]"}) + "\n")
    with FakeOpenAI('{"verdict": "correct", "reason": "ok"}') as server:
        result = cli.invoke(
            app,
            [
                "eval",
                "answers",
                "--input",
                str(answers),
                "--queries",
                str(queries),
                "--judge",
                "--judge-url",
                server.url,
                "--json",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 1
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["judge"] == {"n": 1, "verdicts": {"correct": 1}, "mean_score": 1.0}


def test_cli_judge_needs_an_endpoint(env: dict[str, str], queries: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "q-etcd", "answer": "x"}) + "\n")
    result = cli.invoke(
        app, ["eval", "answers", "--input", str(answers), "--queries", str(queries), "--judge"], env=env
    )
    assert result.exit_code != 0
    assert "--judge needs an endpoint" in str(result.exception)


def test_cli_feedback_export(env: dict[str, str], tmp_path: Path) -> None:
    from tests.unit.evaluation.test_eval_data import feedback_db

    (tmp_path / "data").mkdir()
    feedback_db(
        tmp_path / "data" / "feedback.sqlite3",
        [
            (
                "etcd slow again",
                [{"id": ETCD, "title": "etcd"}],
                "yes",
                "U1",
                "up",
                "2025-01-01T00:00:00+00:00",
            )
        ],
    )
    out = tmp_path / "fb.jsonl"
    result = cli.invoke(app, ["eval", "feedback", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    [case] = load_cases(out)
    assert case.relevant == [ETCD] and case.category == "scalability"


# eval diagnose: our pipeline, scored like any answer ------------------------------------------------------


def test_diagnose_run_with_the_extractive_backend(small: Settings, cases: list[GoldCase]) -> None:
    assistant = Assistant.from_settings(small)
    run = runner.diagnose(_scorer(assistant), cases, backend="extractive", k=3)
    m = run.metrics
    assert m["answers"] == 3 and m["backends"] == {"extractive": 3}
    assert m["fallback_rate"] == 0 and m["model_invalid_citations"] == 0
    assert m["scores"]["citation_validity"] == 1.0, "the pipeline only keeps retrieved citations"
    assert m["seen_before"]["positives"] == 2 and m["seen_before"]["negatives"] == 1
    assert set(m["latency_ms"]) == {"p50", "p95", "mean", "max"}
    by_id = {c["id"]: c for c in run.cases}
    assert by_id["q-etcd"]["root_cause_terms"] == 1.0, "extractive quotes the matched root cause"
    assert "Likely causes:" in by_id["q-etcd"]["answer"], (
        "the whole diagnosis is scored, not just the summary"
    )
    assert run.config["backend"] == "extractive"


def test_diagnose_run_counts_what_the_citation_check_removed(small: Settings, cases: list[GoldCase]) -> None:
    settings = small.model_copy(update={"llm": "fake", "fake_llm_script": ["hallucinate"]})
    assistant = Assistant.from_settings(settings)
    run = runner.diagnose(_scorer(assistant), cases[:2], k=3)
    m = run.metrics
    assert m["backends"] == {"fake": 2}
    assert m["model_invalid_citations"] >= 2, "the invented id was cited and removed in each answer"
    assert m["scores"]["citation_validity"] == 1.0, "what the user sees cites only retrieved incidents"


def test_cli_diagnose_saves_answers_that_eval_answers_can_rescore(
    env: dict[str, str], queries: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "ours.jsonl"
    first = cli.invoke(
        app,
        [
            "eval",
            "diagnose",
            "--backend",
            "extractive",
            "--queries",
            str(queries),
            "--limit",
            "2",
            "--save-answers",
            str(saved),
            "--run-id",
            "d1",
        ],
        env=env,
    )
    assert first.exit_code == 0, first.output
    assert len(saved.read_text().splitlines()) == 2
    again = cli.invoke(
        app, ["eval", "answers", "--input", str(saved), "--queries", str(queries), "--run-id", "a1"], env=env
    )
    assert again.exit_code == 0, again.output
    compared = json.loads(cli.invoke(app, ["eval", "compare", "d1", "a1", "--json"], env=env).stdout)
    deltas = {d["metric"]: d["delta"] for d in compared}
    assert deltas["scores.citation_validity"] == 0
    assert deltas["scores.root_cause_terms"] == 0
