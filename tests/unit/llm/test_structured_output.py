"""Every model call sends the JSON schema of what it parses, proven against a local stand-in of the
servers a team runs (Ollama, llama.cpp's llama-server, vLLM) over 127.0.0.1: the diagnosis backend, the
importer's model fill, the LLM judge, and a server that refuses schemas (one refused call, then none)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_openai import ChatOpenAI

from assistant.corpus.taxonomy import BUILTIN
from assistant.diagnosis.pipeline import answer_schema
from assistant.diagnosis.prompts import Prompts
from assistant.errors import BackendUnavailable
from assistant.evaluation.judge import VERDICT_SCHEMA, OpenAIJudge
from assistant.llm import openai_api
from assistant.llm.chat import ChatMessage
from assistant.llm.fake import BLOCK_HEADER
from assistant.llm.fake import reply as fake_reply
from assistant.llm.structured import response_format
from assistant.settings import Settings
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import TODO_ROOT_CAUSE, draft_label
from assistant.sources.importing.model_fill import ModelFields, fill
from tests.fakes.diagnosis_support import assistant_over
from tests.fakes.openai_standin import REFUSAL, OpenAIStandin

SERVERS = ["ollama", "llamacpp", "vllm"]
QUERY = "order consumers falling behind on kafka, lag 200k, db pool maxed out"
IDS = ["perf-2025031601", "perf-2025031602"]
SCHEMA = answer_schema(IDS)
ANSWER = json.dumps(
    {
        "summary": 'Same as [perf-2025031601]: the consumers wait on the pool ("hikari" – 100% busy).',
        "hypotheses": [{"cause": "pool exhaustion", "confidence": 0.9, "incident_ids": ["perf-2025031601"]}],
        "evidence_to_check": ["hikaricp_connections_pending"],
        "next_steps": ["raise the pool"],
        "resolutions": [{"incident_id": "perf-2025031601", "action": "scaled consumers"}],
    },
    ensure_ascii=False,
)
MESSAGES = [ChatMessage("system", "Answer with JSON only."), ChatMessage("user", QUERY)]
VERDICT = '{"verdict": "partly_correct", "reason": "right area, wrong pool"}'


def backend(server: OpenAIStandin) -> openai_api.OpenAIChatModel:
    settings = Settings(openai_base_url=server.url, openai_model="local-model", llm_retries=0)
    return openai_api.create(settings)


def sent_format(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


# --- the diagnosis backend -----------------------------------------------------------------------------


@pytest.mark.parametrize("style", SERVERS)
def test_openai_backend_sends_the_schema_and_streams_the_reply_intact(style: str) -> None:
    with OpenAIStandin(style, reply=ANSWER) as server:
        chunks = list(backend(server).stream(MESSAGES, schema=SCHEMA))
    assert "".join(chunks) == ANSWER
    assert len(chunks) > 1  # streamed as it came, not collected first
    (body,) = server.completions()
    assert body["stream"] is True and body["model"] == "local-model"
    assert body["response_format"] == sent_format(SCHEMA, "answer")
    assert body["response_format"]["json_schema"]["schema"] is not SCHEMA  # a copy went over the wire
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert server.problems == []


def test_a_call_without_a_schema_sends_no_response_format() -> None:
    with OpenAIStandin("ollama", reply="Hello.") as server:
        assert backend(server).generate(MESSAGES) == "Hello."
    assert "response_format" not in server.completions()[0]


def test_a_vllm_usage_chunk_with_no_choices_leaves_the_text_intact() -> None:
    with OpenAIStandin("vllm", reply=ANSWER) as server:
        chat = ChatOpenAI(
            model="local-model", base_url=server.url, api_key="x", max_retries=0, stream_usage=True
        )
        model = openai_api.OpenAIChatModel(chat=chat, endpoint=server.url, timeout=30)
        assert model.generate(MESSAGES, schema=SCHEMA) == ANSWER
    (body,) = server.completions()
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"] == sent_format(SCHEMA, "answer")
    assert server.problems == []


def test_a_server_that_refuses_schemas_gets_one_refused_call_then_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.llm.openai_api")
    with OpenAIStandin("no-schema", reply=ANSWER) as server:
        model = backend(server)
        assert model.generate(MESSAGES, schema=SCHEMA) == ANSWER
        first, retried = server.completions()
        assert first["response_format"] == sent_format(SCHEMA, "answer")
        assert "response_format" not in retried and retried["messages"] == first["messages"]
        assert model.takes_schemas is False
        assert model.generate(MESSAGES, schema=SCHEMA) == ANSWER
        assert len(server.completions()) == 3  # straight away without: no second refused round trip
        assert "response_format" not in server.completions()[2]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not take a JSON schema" in warnings[0].getMessage()
    assert REFUSAL in warnings[0].getMessage()


def test_other_errors_are_not_retried_without_the_schema() -> None:
    error = "This model's maximum context length is 8192 tokens"
    with OpenAIStandin("vllm", fail=(400, error)) as server:
        model = backend(server)
        with pytest.raises(BackendUnavailable, match=f"answered HTTP 400: {error}"):
            model.generate(MESSAGES, schema=SCHEMA)
    assert len(server.completions()) == 1
    assert model.takes_schemas is True


def test_a_refusal_that_the_call_without_a_schema_does_not_cure_is_not_remembered() -> None:
    error = "response_format is not supported: model is still loading"
    with OpenAIStandin("llamacpp", fail=(400, error)) as server:
        model = backend(server)
        with pytest.raises(BackendUnavailable, match="answered HTTP 400: "):
            model.generate(MESSAGES, schema=SCHEMA)
    first, retried = server.completions()  # one retry, not a loop
    assert "response_format" in first and "response_format" not in retried
    assert model.takes_schemas is True


# --- end to end: a diagnosis over the seed labels --------------------------------------------------------


def prompt_ids(body: dict[str, Any]) -> list[str]:
    prompt = "\n".join(m["content"] for m in body["messages"])
    return list(dict.fromkeys(BLOCK_HEADER.findall(prompt)))


def grounded_reply(body: dict[str, Any]) -> str:
    """What a model following the prompt writes: the first two incidents' own causes and fixes."""
    prompt = "\n".join(m["content"] for m in body["messages"])
    answer = json.loads(fake_reply("grounded", prompt_ids(body), prompt))
    for hypothesis in answer["hypotheses"]:
        hypothesis["confidence"] = 0.6  # a number, as the schema says
    return json.dumps(answer)


@pytest.mark.parametrize("style", SERVERS)
def test_a_diagnosis_sends_its_schema_and_cites_what_the_model_said(
    style: str, seed_dir: Path, tmp_path: Path
) -> None:
    with OpenAIStandin(style, reply=grounded_reply) as server:
        assistant = assistant_over(
            seed_dir, tmp_path, llm="openai", openai_base_url=server.url, openai_model="local-model"
        )
        d = assistant.diagnose(QUERY)
    (body,) = server.completions()
    ids = prompt_ids(body)
    assert len(ids) >= 2
    assert body["response_format"] == sent_format(answer_schema(ids), "answer")
    assert server.problems == []  # the grounded reply fits the schema sent
    said = json.loads(grounded_reply(body))
    assert d.backend == "openai" and d.fallback_reason is None
    assert [h.cause for h in d.hypotheses] == [h["cause"] for h in said["hypotheses"]]
    assert set(d.citations) == {i for h in said["hypotheses"] for i in h["incident_ids"]}
    assert set(d.citations) < {m.id for m in d.matches}  # not the extractive answer citing every match


# --- the importer's model fill -------------------------------------------------------------------------

POSTMORTEM = (
    "# Checkout errors on Tuesday\n\nDate: 2026-03-03\n\n"
    "Around noon the checkout-api started returning 503 for a quarter of requests. The team traced "
    "it to the payments database connection pool, which was capped at 20 connections after a config "
    "change, and raised the cap back to 100.\n"
)
FIELDS = json.dumps(
    {
        "root_cause": "The payments database connection pool was capped at 20 connections",
        "immediate_actions": ["Raised the connection pool cap back to 100"],
        "subtype": "connection_pool_exhaustion",
    }
)


@pytest.mark.parametrize("style", SERVERS)
def test_import_model_fill_sends_the_fields_schema(style: str, tmp_path: Path) -> None:
    path = tmp_path / "postmortem.md"
    path.write_text(POSTMORTEM)
    doc = read_source(path)
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="pm-standin")
    assert draft.label["analysis"]["root_cause"] == TODO_ROOT_CAUSE
    with OpenAIStandin(style, reply=FIELDS) as server:
        fill(draft, doc, model=backend(server), taxonomy=BUILTIN, prompts=Prompts())
    (body,) = server.completions()
    assert body["response_format"] == sent_format(ModelFields.model_json_schema(), "ModelFields")
    assert server.problems == []
    assert draft.label["analysis"]["root_cause"] == json.loads(FIELDS)["root_cause"]
    assert draft.label["metadata"]["subtype"] == "connection_pool_exhaustion"


# --- the LLM judge --------------------------------------------------------------------------------------


def judge_once(judge: OpenAIJudge) -> str:
    verdict = judge.judge(query="orders lagging", answer="the pool [perf-1]", reference="r", in_corpus=True)
    return verdict.verdict


@pytest.mark.parametrize("style", SERVERS)
def test_the_judge_sends_the_verdict_schema(style: str) -> None:
    with OpenAIStandin(style, reply=VERDICT) as server:
        judge = OpenAIJudge(base_url=server.url, model="local-model")
        assert judge_once(judge) == "partly_correct"
        judge.close()
    (body,) = server.completions()
    assert body["response_format"] == sent_format(VERDICT_SCHEMA, "verdict")
    assert not body.get("stream")
    assert server.problems == []


def test_the_judge_on_a_server_that_refuses_schemas(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.evaluation.judge")
    with OpenAIStandin("no-schema", reply=VERDICT) as server:
        judge = OpenAIJudge(base_url=server.url, model="local-model")
        assert judge_once(judge) == "partly_correct"
        assert judge_once(judge) == "partly_correct"
        judge.close()
    first, *rest = server.completions()
    assert first["response_format"] == sent_format(VERDICT_SCHEMA, "verdict")
    assert len(rest) == 2 and all("response_format" not in b for b in rest)
    assert judge.takes_schemas is False
    assert len([r for r in caplog.records if "does not take a JSON schema" in r.getMessage()]) == 1


def test_the_judge_does_not_retry_other_errors() -> None:
    with OpenAIStandin("ollama", fail=(400, "model 'local-model' not found, try pulling it first")) as server:
        judge = OpenAIJudge(base_url=server.url, model="local-model")
        with pytest.raises(BackendUnavailable, match="judge endpoint"):
            judge_once(judge)
        judge.close()
    assert len(server.completions()) == 1 and judge.takes_schemas is True


# --- the request field, and the stand-in's own checks -----------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "name"),
    [
        ({"type": "object"}, "answer"),
        ({"title": "ModelFields", "type": "object"}, "ModelFields"),
        ({"title": "Draft label (v2)", "type": "object"}, "Draft_label_v2"),
        ({"title": "x" * 80, "type": "object"}, "x" * 64),
    ],
)
def test_response_format_names_the_schema_as_servers_require(schema: dict[str, Any], name: str) -> None:
    assert response_format(schema) == sent_format(schema, name)


@pytest.mark.parametrize(
    ("fmt", "why"),
    [
        ({"type": "json_schema", "json_schema": {"name": "has space", "schema": {}}}, "name must match"),
        ({"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": 5}}}, "valid JSON Schema"),
        ({"type": "json_schema", "schema": {"type": "object"}}, "json_schema: an object is required"),
        ({"type": "grammar"}, "response_format.type must be"),
    ],
)
def test_the_standin_refuses_a_malformed_response_format(fmt: dict[str, Any], why: str) -> None:
    with OpenAIStandin("vllm", reply="{}") as server:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "response_format": fmt}
        response = httpx.post(f"{server.url}/chat/completions", json=body, timeout=10)
        models = httpx.get(f"{server.url}/models", timeout=10).json()
    assert response.status_code == 400 and why in response.json()["error"]["message"]
    assert len(server.problems) == 1 and why in server.problems[0]
    assert [m["id"] for m in models["data"]] == ["local-model"]


def test_the_standin_notices_a_reply_that_does_not_fit_the_schema() -> None:
    with OpenAIStandin("ollama", reply='{"summary": 3}') as server:
        backend(server).generate(MESSAGES, schema=SCHEMA)
    assert len(server.problems) == 1 and "does not fit the schema" in server.problems[0]
