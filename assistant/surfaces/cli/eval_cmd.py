"""``assistant eval``: score retrieval, leave-one-out, any answers or our own diagnoses; compare runs;
export feedback votes as eval cases. Every run writes a report folder (see eval/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError
from assistant.evaluation.cases import EvalDataError, eval_file, load_answers, load_cases, write_jsonl
from assistant.evaluation.compare import compare, load_run, resolve_run
from assistant.evaluation.feedback import feedback_cases
from assistant.sources.feedback_log import FILENAME, read_votes
from assistant.surfaces.cli.eval_output import check_thresholds, delta_table, finish, import_table, row_table
from assistant.surfaces.cli.eval_scorer import answer_scorer
from assistant.surfaces.cli.output import console, err_console, print_json, progress_bar, settings_with
from assistant.surfaces.cli.search_cmd import load_assistant

app = typer.Typer(help="Evaluate retrieval and answers; write reports; compare runs.", no_args_is_help=True)

QUERIES = eval_file("queries.jsonl")
IMPORTER = Path("eval") / "importer" / "expected.jsonl"
QueriesOpt = Annotated[Path, typer.Option("--queries", help="Gold cases (JSONL).")]
KOpt = Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="Deepest cutoff reported (recall@1..k).")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder (default: index/).")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Reports folder (default: eval/reports).")]
RunIdOpt = Annotated[
    str | None, typer.Option("--run-id", help="Name of the report folder (default: time-mode).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the metrics as JSON on stdout.")]
ThresholdsOpt = Annotated[
    Path | None,
    typer.Option("--thresholds", help="Fail (exit 1) when a metric is below its minimum in this TOML file."),
]
JudgeOpt = Annotated[
    bool, typer.Option("--judge", help="Grade each answer with the LLM judge (off by default).")
]
JudgeUrlOpt = Annotated[
    str | None, typer.Option("--judge-url", help="OpenAI-compatible base URL of the judge (…/v1).")
]
JudgeModelOpt = Annotated[str | None, typer.Option("--judge-model", help="Judge model name.")]
NliOpt = Annotated[
    str | None, typer.Option("--nli-model", help="NLI cross-encoder for groundedness (local path or name).")
]
SupportOpt = Annotated[
    float | None,
    typer.Option(
        "--support-threshold", min=0, max=1, help="Cosine at which a passage line supports a claim."
    ),
]


@app.command("retrieval")
def retrieval_cmd(
    queries: QueriesOpt = QUERIES,
    k: KOpt = 10,
    index: IndexOpt = None,
    out: OutOpt = None,
    run_id: RunIdOpt = None,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recall@k, hit@k, MRR, nDCG@10, category/subtype hits, seen-before quality and latency."""
    cases = load_cases(queries)
    assistant = load_assistant(index)
    settings = assistant.settings
    with progress_bar("retrieval queries") as update:
        from assistant.evaluation import runner

        run = runner.retrieval(assistant, cases, k=k, queries=queries, run_id=run_id, progress=update)
    finish(run, settings, out=out, as_json=as_json, thresholds=thresholds)


REAL = eval_file("real.jsonl")


@app.command("dev")
def dev_cmd(
    queries: Annotated[Path, typer.Option("--queries", help="Dev-set cases (JSONL, gold = subtype).")] = REAL,
    loo: Annotated[bool, typer.Option("--loo/--no-loo", help="Also leave-one-out over the corpus.")] = True,
    index: IndexOpt = None,
    out: OutOpt = None,
    run_id: RunIdOpt = None,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Real-incident dev set and leave-one-out side by side: subtype hit@k, MRR, category hit@3,
    mechanism score, seen-before verdict quality."""
    from assistant.evaluation import runner

    cases = load_cases(queries)
    assistant = load_assistant(index)
    with progress_bar("dev set and leave-one-out") as update:
        run = runner.dev(assistant, cases, queries=queries, with_loo=loo, run_id=run_id, progress=update)
    finish(run, assistant.settings, out=out, as_json=as_json, thresholds=thresholds)


@app.command("fit-verdict")
def fit_verdict_cmd(
    queries: Annotated[Path, typer.Option("--queries", help="Dev-set cases (JSONL, gold = subtype).")] = REAL,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the model (default: the bundled one)."),
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Refit the seen-before model on the dev set and leave-one-out; print its out-of-fold figures."""
    from assistant.evaluation import runner
    from assistant.evaluation.verdict_fit import fit
    from assistant.search.verdict import DEFAULT_MODEL

    cases = load_cases(queries)
    assistant = load_assistant(index)
    with progress_bar("dev set and leave-one-out") as update:
        dev_out, loo_out = runner.dev_outcomes(assistant, cases, progress=update)
    try:
        model = fit(dev_out, loo_out, encoder=assistant.index.manifest.encoder)
    except ValueError as exc:
        raise EvalDataError(str(exc), hint="add cases to the dev set") from None
    model.save(output or DEFAULT_MODEL)
    oof = model.fitted_on["out_of_fold"]
    assert isinstance(oof, dict)
    for name, block in oof.items():
        console.print(row_table(f"out of fold: {name}", block))
    console.print(
        f"yes ≥ {model.yes}, maybe ≥ {model.maybe}; written to {output or DEFAULT_MODEL}", highlight=False
    )


@app.command("import")
def import_cmd(
    cases_file: Annotated[
        Path, typer.Option("--cases", help="Importer cases (JSONL); files are relative to its folder.")
    ] = IMPORTER,
    show: Annotated[bool, typer.Option("--show", help="Print every field that is not right.")] = False,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The importer on real post-mortems: each field of each draft right, wrong or left empty."""
    from assistant.corpus.taxonomy import load_taxonomy
    from assistant.evaluation.import_run import import_metrics, load_import_cases, run_import

    cases = load_import_cases(cases_file)
    settings = settings_with()
    taxonomy, _ = load_taxonomy(settings.labels_dir)
    with progress_bar("importing") as update:
        scored = run_import(cases, root=cases_file.parent, taxonomy=taxonomy, progress=update)
    metrics = import_metrics(scored)
    if as_json:
        print_json(metrics)
    else:
        console.print(import_table(metrics))
        if show:
            for s in scored:
                for name, outcome in s.outcomes.items():
                    if outcome != "right":
                        got = s.drafted.get(name, "")[:160] or "—"
                        console.print(f"{s.case.id} {name} {outcome}: {got}", highlight=False, soft_wrap=True)
                for found in s.config_as_metrics:
                    console.print(f"{s.case.id} configuration taken as a metric: {found}", highlight=False)
    if thresholds is not None:
        check_thresholds(metrics, thresholds, mode="import")


@app.command("loo")
def loo_cmd(
    k: KOpt = 10,
    index: IndexOpt = None,
    out: OutOpt = None,
    run_id: RunIdOpt = None,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Leave-one-out over the corpus: each label's symptoms, with that label removed.

    Success is an incident of the same subtype ranking high.
    """
    assistant = load_assistant(index)
    with progress_bar("leave-one-out labels") as update:
        from assistant.evaluation import runner

        run = runner.loo(assistant, k=k, run_id=run_id, progress=update)
    finish(run, assistant.settings, out=out, as_json=as_json, thresholds=thresholds)


@app.command("answers")
def answers_cmd(
    input_file: Annotated[
        Path, typer.Option("--input", help="Answers JSONL: {id, query, answer, cited?, contexts?}.")
    ],
    queries: QueriesOpt = QUERIES,
    k: Annotated[
        int, typer.Option("--k", min=1, max=50, help="Incidents retrieved for answers without contexts.")
    ] = 5,
    index: IndexOpt = None,
    judge: JudgeOpt = False,
    judge_url: JudgeUrlOpt = None,
    judge_model: JudgeModelOpt = None,
    nli_model: NliOpt = None,
    support_threshold: SupportOpt = None,
    out: OutOpt = None,
    run_id: RunIdOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score answers written by any LLM or person against the gold cases."""
    cases = load_cases(queries)
    records = load_answers(input_file)
    scorer = answer_scorer(
        index,
        k=k,
        judge=judge,
        judge_url=judge_url,
        judge_model=judge_model,
        nli_model=nli_model,
        support_threshold=support_threshold,
    )
    with progress_bar("scoring answers") as update:
        from assistant.evaluation import runner

        run = runner.answers(scorer, records, cases, source=input_file, run_id=run_id, progress=update)
    if unmatched := run.metrics["unmatched"]:
        err_console.print(
            f"[yellow]warning:[/] {len(unmatched)} answers have no gold case: {', '.join(unmatched[:5])}"
        )
    finish(run, scorer.assistant.settings, out=out, as_json=as_json)


@app.command("diagnose")
def diagnose_cmd(
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="Diagnosis backend.", show_default="$ASSISTANT_LLM or extractive"),
    ] = None,
    queries: QueriesOpt = QUERIES,
    k: Annotated[
        int | None, typer.Option("--k", min=1, max=50, help="Incidents given to the backend.")
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option("--sample", min=1, help="Only N labelled cases, evenly spaced through the file."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N labelled cases.")
    ] = None,
    index: IndexOpt = None,
    judge: JudgeOpt = False,
    judge_url: JudgeUrlOpt = None,
    judge_model: JudgeModelOpt = None,
    nli_model: NliOpt = None,
    support_threshold: SupportOpt = None,
    save_answers: Annotated[
        Path | None, typer.Option("--save-answers", help="Also write the answers in `eval answers` format.")
    ] = None,
    out: OutOpt = None,
    run_id: RunIdOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run our diagnosis pipeline over the gold cases and score its answers like any others."""
    cases = [c for c in load_cases(queries) if c.relevant is not None][:limit]
    if sample is not None and sample < len(cases):
        cases = [cases[i * len(cases) // sample] for i in range(sample)]
    scorer = answer_scorer(
        index,
        k=k or 5,
        judge=judge,
        judge_url=judge_url,
        judge_model=judge_model,
        nli_model=nli_model,
        support_threshold=support_threshold,
    )
    with progress_bar(f"diagnosing ({backend or scorer.assistant.settings.llm})") as update:
        from assistant.evaluation import runner

        run = runner.diagnose(
            scorer, cases, backend=backend, k=k, queries=queries, run_id=run_id, progress=update
        )
    if save_answers is not None:
        write_jsonl(
            save_answers,
            [
                {"id": c["id"], "query": c["query"], "answer": c["answer"], "cited": c["cited"]}
                for c in run.cases
            ],
        )
    finish(run, scorer.assistant.settings, out=out, as_json=as_json)


DETAIL = ("per_category.", "recall_curve.", "subtype_curve.")


@app.command("compare")
def compare_cmd(
    run_a: Annotated[str, typer.Argument(help="Run id, run folder or metrics.json (the baseline).")],
    run_b: Annotated[str, typer.Argument(help="Run id, run folder or metrics.json.")],
    out: OutOpt = None,
    changed: Annotated[bool, typer.Option("--changed", help="Only metrics that differ.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also per-category metrics and the @k curves.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the metric deltas between two runs (B − A)."""
    reports = out or settings_with().eval_reports_dir
    a = load_run(resolve_run(run_a, reports_dir=reports))
    b = load_run(resolve_run(run_b, reports_dir=reports))
    if a.get("mode") != b.get("mode"):
        err_console.print(f"[yellow]warning:[/] comparing a {a.get('mode')} run with a {b.get('mode')} run")
    deltas = compare(a["metrics"], b["metrics"])
    if not show_all:
        deltas = [d for d in deltas if not d.metric.startswith(DETAIL)]
    if changed:
        deltas = [d for d in deltas if d.delta is None or abs(d.delta) > 1e-9]
    if as_json:
        print_json([{"metric": d.metric, "a": d.a, "b": d.b, "delta": d.delta} for d in deltas])
        return
    console.print(delta_table(deltas, title=f"{a['run_id']} → {b['run_id']}"))


@app.command("feedback")
def feedback_cmd(
    db: Annotated[
        Path | None, typer.Option("--db", help=f"Feedback store (default: <data dir>/{FILENAME}).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the cases here (default: stdout).")
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Export feedback votes as eval cases (JSONL, the eval/queries.jsonl format)."""
    settings = settings_with(index_dir=index)
    votes = read_votes(db or settings.data_dir / FILENAME)
    taxonomy: dict[str, tuple[str | None, str | None]] = {}
    try:
        from assistant.search.index import load_current

        incidents = load_current(settings.index_dir).incidents
        taxonomy = {i: (r.category, r.subtype) for i, r in incidents.items()}
    except AssistantError as exc:
        err_console.print(f"[yellow]note:[/] no index ({exc}); cases get no category/subtype")
    cases = feedback_cases(votes, taxonomy=taxonomy)
    if output is not None:
        write_jsonl(output, cases)
        labelled = sum(1 for c in cases if c["relevant"] is not None)
        err_console.print(
            f"{len(cases)} cases from {len(votes)} votes written to {output} "
            f"({labelled} labelled, {len(cases) - labelled} awaiting review)"
        )
    else:
        for case in cases:
            print(json.dumps(case, ensure_ascii=False))
