"""The answer scorer behind ``assistant eval answers`` and ``assistant eval diagnose``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.evaluation.cases import EvalDataError
from assistant.surfaces.cli.output import err_console
from assistant.surfaces.cli.search_cmd import load_assistant

if TYPE_CHECKING:  # the scoring modules load on use: `assistant similar` starts faster without them
    from assistant.evaluation.answers_run import AnswerScorer, Judge


def answer_scorer(
    index: Path | None,
    *,
    k: int,
    judge: bool,
    judge_url: str | None,
    judge_model: str | None,
    nli_model: str | None,
    support_threshold: float | None,
) -> AnswerScorer:
    """The answer scorer of `eval answers` and `eval diagnose`: the index's assistant, with the LLM judge
    and the NLI model when asked for."""
    assistant = load_assistant(index)
    s = assistant.settings
    the_judge: Judge | None = None
    if judge:
        url = judge_url or s.eval_judge_base_url
        if not url:
            raise EvalDataError(
                "--judge needs an endpoint",
                hint="pass --judge-url http://host:port/v1 or set ASSISTANT_EVAL_JUDGE_BASE_URL",
            )
        from assistant.diagnosis.prompts import Prompts
        from assistant.evaluation.judge import OpenAIJudge

        key = s.eval_judge_api_key.get_secret_value() if s.eval_judge_api_key else None
        the_judge = OpenAIJudge(
            base_url=url,
            model=judge_model or s.eval_judge_model,
            api_key=key,
            timeout=s.llm_timeout,
            prompts=Prompts(s.prompts_dir),
        )
    nli = None
    if name := nli_model or s.eval_nli_model:
        from assistant.evaluation.nli import make_nli

        with err_console.status(f"loading NLI model {name}…"):
            nli = make_nli(name)
    from assistant.evaluation.answers_run import AnswerScorer, ScoringOptions

    options = ScoringOptions(
        k=k,
        support_threshold=support_threshold if support_threshold is not None else s.eval_support_threshold,
    )
    return AnswerScorer(assistant, options=options, nli=nli, judge=the_judge)
