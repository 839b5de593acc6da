"""Whole runs: apply a mode's runner to the assistant, attach its config, and return an ``EvalRun``
ready for ``reports.write_run``. The CLI is a thin layer over these functions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core import Assistant
from .answers_run import AnswerScorer, answers_metrics, join_answers, run_diagnose, score_answers
from .cases import AnswerRecord, GoldCase
from .results import EvalRun, Mode, new_run_id
from .retrieval_run import loo_metrics, retrieval_metrics, run_loo, run_retrieval, subtype_counts

Progress = Callable[[int, int], None]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def base_config(assistant: Assistant) -> dict[str, Any]:
    s = assistant.settings
    manifest = assistant.index.manifest
    return {
        "encoder": manifest.encoder,
        "index_build": manifest.build_id,
        "labels": manifest.labels,
        "passages": manifest.passages,
        "candidates": s.candidates,
        "rrf_k": s.rrf_k,
        "seen_before": (
            f"center {s.seen_center}, scale {s.seen_scale}, yes ≥ {s.seen_yes}, maybe ≥ {s.seen_maybe}"
        ),
    }


def _run(
    mode: Mode, run_id: str | None, config: dict[str, Any], metrics: dict[str, Any], cases: list[Any]
) -> EvalRun:
    return EvalRun(
        run_id=run_id or new_run_id(mode),
        mode=mode,
        config=config,
        metrics=metrics,
        cases=[c.model_dump(mode="json") for c in cases],
    )


def retrieval(
    assistant: Assistant,
    cases: Sequence[GoldCase],
    *,
    k: int = 10,
    queries: Path | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    outcomes = run_retrieval(assistant, cases, k=k, progress=progress)
    config = {
        **base_config(assistant),
        "k": k,
        "cases": len(cases),
        "unlabelled_skipped": len(cases) - len(outcomes),
    }
    if queries is not None:
        config["queries"] = f"{queries} (sha256 {file_digest(queries)})"
    return _run("retrieval", run_id, config, retrieval_metrics(outcomes, k=k), outcomes)


def loo(
    assistant: Assistant, *, k: int = 10, run_id: str | None = None, progress: Progress | None = None
) -> EvalRun:
    outcomes = run_loo(assistant, k=k, progress=progress)
    config = {**base_config(assistant), "k": k}
    return _run("loo", run_id, config, loo_metrics(outcomes, peers=subtype_counts(assistant), k=k), outcomes)


def _scoring_config(scorer: AnswerScorer) -> dict[str, Any]:
    o = scorer.options
    return {
        "support_threshold": o.support_threshold,
        "nli": scorer.nli.id if scorer.nli else "off",
        "nli_threshold": o.nli_threshold,
        "coverage_overlap": o.coverage_overlap,
        "judge": scorer.judge.id if scorer.judge else "off",
    }


def answers(
    scorer: AnswerScorer,
    records: Sequence[AnswerRecord],
    cases: Sequence[GoldCase],
    *,
    source: Path | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    pairs, unmatched = join_answers(records, cases)
    outcomes = score_answers(scorer, pairs, progress=progress)
    config = {
        **base_config(scorer.assistant),
        **_scoring_config(scorer),
        "k (when no contexts)": scorer.options.k,
    }
    if source is not None:
        config["answers"] = f"{source} (sha256 {file_digest(source)})"
    return _run("answers", run_id, config, answers_metrics(outcomes, unmatched=unmatched), outcomes)


def diagnose(
    scorer: AnswerScorer,
    cases: Sequence[GoldCase],
    *,
    backend: str | None = None,
    k: int | None = None,
    queries: Path | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    outcomes = run_diagnose(scorer, cases, backend=backend, k=k, progress=progress)
    s = scorer.assistant.settings
    config = {
        **base_config(scorer.assistant),
        **_scoring_config(scorer),
        "backend": backend or s.llm,
        "k": k or s.default_k,
    }
    if queries is not None:
        config["queries"] = f"{queries} (sha256 {file_digest(queries)})"
    return _run("diagnose", run_id, config, answers_metrics(outcomes), outcomes)
