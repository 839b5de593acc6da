"""The whole ask pipeline end to end: retrieval, prompt, fake chat model, parsing, citation check,
fallback. No mocks: the fake backend is chosen by settings like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.diagnosis.results import Diagnosis
from assistant.errors import BackendUnavailable, QueryError
from assistant.llm.chat import TracedChatModel
from assistant.llm.fake import INVENTED, FakeChatModel
from tests.conftest import SEED_IDS
from tests.fakes.diagnosis_support import assistant_over, inject

QUERY = "java service heap keeps climbing for days, GC can't free it, pods get OOM killed"


def fake(script: list[str], seed_dir: Path, tmp_path: Path, **overrides: object) -> Assistant:
    return assistant_over(seed_dir, tmp_path, llm="fake", fake_llm_script=script, **overrides)


def parts(assistant: Assistant, text: str = QUERY, **kwargs: object) -> tuple[list[str], Diagnosis]:
    out = list(assistant.diagnose_stream(text, **kwargs))  # type: ignore[arg-type]
    assert isinstance(out[-1], Diagnosis), "the stream ends with the Diagnosis"
    chunks = out[:-1]
    assert all(isinstance(c, str) for c in chunks), "exactly one Diagnosis, after the text"
    return [str(c) for c in chunks], out[-1]


def backend_of(assistant: Assistant) -> FakeChatModel:
    """The fake model behind the traced wrapper every backend comes in."""
    traced = assistant.diagnoser().model("fake")
    assert isinstance(traced, TracedChatModel) and isinstance(traced.model, FakeChatModel)
    return traced.model


def root_cause_of(assistant: Assistant, incident_id: str) -> str:
    return str(assistant.incident(incident_id).raw["analysis"]["root_cause"])


def everything_cited(d: Diagnosis) -> str:
    return " ".join(
        [
            d.summary,
            *(h.cause + " " + " ".join(h.incident_ids) for h in d.hypotheses),
            *d.evidence_to_check,
            *d.next_steps,
            *(r.incident_id + " " + r.action for r in d.resolutions),
            *d.citations,
        ]
    )


def test_extractive_answer_is_grounded_and_deterministic(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(seed_dir, tmp_path)
    chunks, d = parts(assistant, k=3)
    assert d.backend == "extractive" and d.fallback_reason is None
    assert "".join(chunks) == d.summary
    matched = [m.id for m in d.matches]
    assert len(matched) == 3
    assert d.citations and set(d.citations) <= set(matched)
    assert d.hypotheses and all(set(h.incident_ids) <= set(matched) for h in d.hypotheses)
    assert [h.confidence for h in d.hypotheses] == sorted((h.confidence for h in d.hypotheses), reverse=True)
    assert d.evidence_to_check and d.next_steps and d.resolutions
    assert all(r.incident_id in matched for r in d.resolutions)
    assert d.invalid_citations == []
    assert assistant.diagnose(QUERY, k=3) == d


def test_extractive_uses_what_the_labels_say(seed_dir: Path, tmp_path: Path) -> None:
    d = assistant_over(seed_dir, tmp_path).diagnose("kafka consumer lag, order processor", k=6)
    assert d.matches[0].id == "perf-2025031606"
    top = d.hypotheses[0]
    assert top.incident_ids == ["perf-2025031606"]
    assert top.cause == "Database connection pool saturation causing slow message processing"
    assert "Metric: kafka metrics consumer lag max: 5000 → 250000 [perf-2025031606]" in d.evidence_to_check
    assert "Seen then: Database connection pool at 96% utilization [perf-2025031606]" in d.evidence_to_check
    first = d.resolutions[0]
    assert first.incident_id == "perf-2025031606" and first.action.startswith("Scale consumer pods")
    assert "[perf-2025031606]" in d.summary and "Also similar: [perf-2025031601]" in d.summary


def test_fake_model_answer_is_parsed_and_streamed(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["grounded"], seed_dir, tmp_path)
    chunks, d = parts(assistant)
    assert d.backend == "fake" and d.fallback_reason is None
    assert "".join(chunks) == d.summary, "the summary field streams as it is written"
    assert len(chunks) > 1
    assert d.citations and set(d.citations) <= {m.id for m in d.matches}
    assert [h.confidence for h in d.hypotheses] == [0.8, 0.4]  # "40%" read as 0.4
    assert d.resolutions[0].incident_id == d.citations[0]


def test_invalid_citations_are_removed_and_counted(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["hallucinate"], seed_dir, tmp_path)
    d = assistant.diagnose(QUERY)
    assert d.backend == "fake", "one valid citation keeps the model's answer"
    assert d.invalid_citations == [INVENTED]
    assert INVENTED not in everything_cited(d)
    top = d.citations[0]
    assert [h.cause for h in d.hypotheses] == [root_cause_of(assistant, top)], (
        "a claim resting only on a fake id is dropped"
    )
    assert d.resolutions == [], "a resolution of a non-retrieved incident is dropped"
    assert d.summary.startswith("Probably [") and INVENTED not in d.summary


def test_answer_without_a_valid_citation_falls_back(seed_dir: Path, tmp_path: Path) -> None:
    d = fake(["invent"], seed_dir, tmp_path).diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason and "cited no retrieved incident" in d.fallback_reason
    assert "2 invalid citations removed" in d.fallback_reason
    assert sorted(d.invalid_citations) == sorted([INVENTED, "perf-0000000000"])
    assert INVENTED not in d.summary and d.citations


def test_failing_backend_falls_back_with_the_reason(seed_dir: Path, tmp_path: Path) -> None:
    chunks, d = parts(fake(["error"], seed_dir, tmp_path))
    assert d.backend == "extractive"
    assert d.fallback_reason == "fake failed: fake backend: scripted failure"
    assert "".join(chunks) == d.summary


def test_prose_answer_keeps_its_text_and_checks_citations(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["prose"], seed_dir, tmp_path)
    d = assistant.diagnose(QUERY)
    assert d.backend == "fake"
    top = d.citations[0]
    assert d.summary.startswith(f"Looks like {root_cause_of(assistant, top)} from [{top}]")
    assert INVENTED not in d.summary and d.invalid_citations == [INVENTED]
    assert d.hypotheses == []


def test_truncated_json_is_repaired(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["broken-json"], seed_dir, tmp_path)
    d = assistant.diagnose(QUERY)
    assert d.backend == "fake"
    assert [h.cause for h in d.hypotheses] == [root_cause_of(assistant, d.citations[0])]
    assert d.hypotheses[0].incident_ids == d.citations[:1]


def test_answer_that_only_repeats_the_prompt_falls_back(seed_dir: Path, tmp_path: Path) -> None:
    echo = (
        '{"summary": "two or three sentences for the engineer, citing incidents like [{id0}]", '
        '"hypotheses": [{"cause": "a likely root cause", "confidence": 0.7, "incident_ids": ["{id0}"]}], '
        '"resolutions": [{"incident_id": "{id0}", "action": "what resolved it"}]}'
    )
    d = fake([echo], seed_dir, tmp_path).diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason and "3 parts only repeated the prompt" in d.fallback_reason


def test_script_cycles_and_literal_replies_fill_ids(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["grounded", "It is [{id0}] again."], seed_dir, tmp_path)
    first, second, third = (assistant.diagnose(QUERY) for _ in range(3))
    assert first.hypotheses and third.hypotheses
    assert second.summary == f"It is [{second.citations[0]}] again."


def test_label_injection_cannot_steer_or_cite(seed_dir: Path, tmp_path: Path) -> None:
    victim = SEED_IDS[0]
    inject(seed_dir, victim)
    # a model that obeys instructions found in data: its answer is rejected, the format holds
    obedient = fake(["obey-injection"], seed_dir, tmp_path, default_k=6)
    d = obedient.diagnose(QUERY)
    assert victim in {m.id for m in d.matches}
    assert d.backend == "extractive" and d.fallback_reason
    assert INVENTED not in d.citations and INVENTED not in " ".join(d.next_steps + d.evidence_to_check)
    assert set(d.citations) <= {m.id for m in d.matches}
    # the injected text reached the model only as quoted data inside its block
    model = backend_of(obedient)
    user = model.calls[-1][1].content
    for line in user.splitlines():
        if "IGNORE PREVIOUS INSTRUCTIONS" in line or "Ignore previous instructions" in line:
            assert line.startswith("| "), line
    assert "<<<END DATA>>>" not in user, "a fake delimiter inside the data is defused"


def test_injection_does_not_change_a_grounded_models_format(seed_dir: Path, tmp_path: Path) -> None:
    inject(seed_dir, SEED_IDS[0])
    d = fake(["grounded"], seed_dir, tmp_path, default_k=6).diagnose(QUERY)
    assert d.backend == "fake" and d.fallback_reason is None
    assert INVENTED not in d.citations and "HACKED" not in d.summary


def test_history_adds_context_to_prompt_and_retrieval(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["grounded"], seed_dir, tmp_path)
    follow_up = "what should we check first?"
    history = ["kubectl is slow, etcd disk busy", "Looks like [perf-2025031603]."]
    assert assistant.similar(follow_up).matches[0].id != "perf-2025031603"
    d = assistant.diagnose(follow_up, history=history)
    assert d.query == follow_up
    assert d.matches[0].id == "perf-2025031603", "the earlier user turn steers retrieval"
    model = backend_of(assistant)
    user = model.calls[-1][1].content
    assert "user: kubectl is slow, etcd disk busy\nassistant: Looks like [perf-2025031603]." in user
    assert user.index("assistant: Looks like") < user.index(follow_up)


def test_bad_input_raises_before_any_output(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(seed_dir, tmp_path)
    with pytest.raises(QueryError, match="empty"):
        assistant.diagnose_stream("   ")
    with pytest.raises(QueryError, match="limit"):
        assistant.diagnose("x" * 5000)
    with pytest.raises(BackendUnavailable, match="unknown backend 'gpt5'"):
        assistant.diagnose_stream(QUERY, backend="gpt5")


def test_nothing_fits_the_budget_falls_back(seed_dir: Path, tmp_path: Path) -> None:
    assistant = fake(["grounded"], seed_dir, tmp_path, context_tokens=1024, llm_max_tokens=700)
    d = assistant.diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason == "fake: no retrieved passage fits the context budget"
