"""Whole runs: apply a mode's runner to the assistant, attach its config, and return an ``EvalRun``
ready for ``reports.write_run``. The CLI is a thin layer over these functions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.answers_run import (
    AnswerScorer,
    answers_metrics,
    join_answers,
    run_diagnose,
    score_answers,
)
from assistant.evaluation.cases import AnswerRecord, GoldCase
from assistant.evaluation.dev_metrics import dev_metrics
from assistant.evaluation.dev_run import (
    DevOutcome,
    RootCauses,
    attribution,
    dev_cases,
    loo_cases,
    run_dev,
)
from assistant.evaluation.results import EvalRun, Mode, new_run_id
from assistant.evaluation.retrieval_run import (
    loo_metrics,
    retrieval_metrics,
    run_loo,
    run_retrieval,
    subtype_counts,
)
from assistant.service import Assistant

Progress = Callable[[int, int], None]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def base_config(assistant: Assistant) -> dict[str, Any]:
    s = assistant.settings
    manifest = assistant.index.manifest
    model = assistant.verdict_model
    return {
        "encoder": manifest.encoder,
        "index_build": manifest.build_id,
        "labels": manifest.labels,
        "passages": manifest.passages,
        "candidates": s.candidates,
        "rrf_k": s.rrf_k,
        "seen_before": (
            f"model fitted with {model.encoder} on {model.fitted_on.get('cases', '?')} cases, "
            f"yes ≥ {model.yes}, maybe ≥ {model.maybe}"
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


def dev_outcomes(
    assistant: Assistant,
    cases: Sequence[GoldCase],
    *,
    with_loo: bool = True,
    progress: Progress | None = None,
) -> tuple[list[DevOutcome], list[DevOutcome]]:
    """Outcomes of the dev set and (unless ``with_loo`` is off) of leave-one-out over the corpus."""
    causes = RootCauses(assistant)
    real = dev_cases(cases)
    loo_set = loo_cases(assistant) if with_loo else []
    total = len(real) + len(loo_set)

    def step(offset: int) -> Progress | None:
        if progress is None:
            return None
        report = progress
        return lambda done, _n: report(offset + done, total)

    dev_out = run_dev(assistant, real, root_causes=causes, progress=step(0))
    loo_out = run_dev(assistant, loo_set, root_causes=causes, progress=step(len(real)))
    return dev_out, loo_out


def dev(
    assistant: Assistant,
    cases: Sequence[GoldCase],
    *,
    queries: Path | None = None,
    with_loo: bool = True,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    """The dev set and leave-one-out, with the same metrics side by side."""
    dev_out, loo_out = dev_outcomes(assistant, cases, with_loo=with_loo, progress=progress)
    config = {**base_config(assistant), "cases": len(dev_out), "loo_labels": len(loo_out)}
    if queries is not None:
        config["queries"] = f"{queries} (sha256 {file_digest(queries)})"
    answers = attribution(assistant, dev_cases(cases))
    return _run("dev", run_id, config, dev_metrics(dev_out, loo_out, answers=answers), [*dev_out, *loo_out])


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
