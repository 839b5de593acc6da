"""Diagnosis over HTTP: /v1/diagnose (JSON and SSE) and the OpenAI-compatible endpoints, driven by the
real `openai` client against a live server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import LiveServer, serve

KAFKA = "perf-2025031606"
ETCD = "perf-2025031603"


def events(response: httpx.Response) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent-events body."""
    out = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        event = next((x[7:] for x in lines if x.startswith("event: ")), "message")
        data = "\n".join(x[6:] for x in lines if x.startswith("data: "))
        out.append((event, data))
    return out


def test_diagnose_json_is_a_grounded_diagnosis(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/v1/diagnose", json={"query": "kafka consumer lag growing", "k": 3})
    assert response.status_code == 200
    d = response.json()
    assert set(d) >= {
        "query", "seen_before", "hypotheses", "evidence_to_check", "next_steps", "resolutions",
        "summary", "citations", "invalid_citations", "backend", "fallback_reason", "matches",
    }  # fmt: skip
    assert d["backend"] == "extractive"
    assert d["matches"][0]["id"] == KAFKA
    assert KAFKA in d["citations"]
    assert set(d["citations"]) <= {m["id"] for m in d["matches"]}
    assert f"[{KAFKA}]" in d["summary"]


def test_diagnose_streams_tokens_then_the_diagnosis(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        flag = http.post("/v1/diagnose", json={"query": "kafka consumer lag growing", "stream": True})
        accept = http.post(
            "/v1/diagnose",
            json={"query": "kafka consumer lag growing"},
            headers={"Accept": "text/event-stream"},
        )
    for response in (flag, accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        kinds = [kind for kind, _ in stream]
        assert kinds[-1] == "diagnosis" and kinds.count("diagnosis") == 1
        assert set(kinds[:-1]) == {"token"} and len(kinds) > 5
        text = "".join(json.loads(data)["text"] for kind, data in stream if kind == "token")
        final = json.loads(stream[-1][1])
        assert text == final["summary"]
        assert final["matches"][0]["id"] == KAFKA


def test_stream_errors_before_output_are_plain_http_errors(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        empty = http.post("/v1/diagnose", json={"query": " ", "stream": True})
        unknown = http.post("/v1/diagnose", json={"query": "disk full", "backend": "nope", "stream": True})
    assert empty.status_code == 422
    assert empty.json()["error"]["message"] == "the query is empty"
    assert unknown.status_code == 422
    assert unknown.json()["error"]["type"] == "invalid_backend"
    assert "extractive" in unknown.json()["error"]["message"]


def test_model_answer_fallback_is_counted_in_metrics(built: Settings) -> None:
    scripted = built.model_copy(update={"llm": "fake", "fake_llm_script": ["grounded", "invent"]})
    with serve(create_app(scripted)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        live.wait_loaded()
        good = http.post("/v1/diagnose", json={"query": "kafka consumer lag growing"}).json()
        bad = http.post("/v1/diagnose", json={"query": "kafka consumer lag growing"}).json()
        metrics = http.get("/metrics").text
    assert good["backend"] == "fake" and good["fallback_reason"] is None
    assert bad["backend"] == "extractive" and bad["fallback_reason"]
    assert "assistant_diagnosis_fallbacks_total 1.0" in metrics
    assert 'assistant_llm_duration_seconds_count{backend="fake"} 2.0' in metrics
    assert "assistant_retrieval_duration_seconds_count 2.0" in metrics


def sdk(live: LiveServer, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=key, max_retries=0, timeout=30)


def test_openai_sdk_models_and_completion(server: LiveServer) -> None:
    client = sdk(server)
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "incident-assistant" and "incident-assistant:extractive" in ids
    completion = client.chat.completions.create(
        model="incident-assistant",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "kafka consumer lag growing, orders delayed"},
        ],
    )
    content = completion.choices[0].message.content or ""
    assert completion.choices[0].finish_reason == "stop"
    assert f"[{KAFKA}]" in content
    assert "Similar incidents:" in content and f"- {KAFKA} — " in content
    extra = completion.model_extra or {}
    diagnosis = extra["diagnosis"]
    assert diagnosis["matches"][0]["id"] == KAFKA
    # the text is the whole answer: causes, checks, next steps and past fixes, as in the diagnosis
    for title, items in [
        ("Likely causes:", [h["cause"] for h in diagnosis["hypotheses"]]),
        ("Check:", diagnosis["evidence_to_check"]),
        ("Next steps:", diagnosis["next_steps"]),
        ("What fixed it before:", [r["action"] for r in diagnosis["resolutions"]]),
    ]:
        assert items and f"\n{title}\n" in content
        assert all(item in content for item in items)


def test_openai_sdk_streaming_gives_the_same_text(server: LiveServer) -> None:
    client = sdk(server)
    messages: list[dict[str, str]] = [{"role": "user", "content": "etcd fsync slow, apiserver latency"}]
    whole = client.chat.completions.create(model="incident-assistant", messages=messages)  # type: ignore[arg-type]
    chunks = list(
        client.chat.completions.create(model="incident-assistant", messages=messages, stream=True)  # type: ignore[arg-type]
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 5
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert streamed == whole.choices[0].message.content


def test_earlier_turns_give_a_follow_up_its_context(server: LiveServer) -> None:
    client = sdk(server)
    follow_up = "what fixed it last time?"
    alone = client.chat.completions.create(
        model="incident-assistant", messages=[{"role": "user", "content": follow_up}]
    )
    in_context = client.chat.completions.create(
        model="incident-assistant",
        messages=[
            {"role": "user", "content": "etcd fsync slow, apiserver latency, kubectl hangs"},
            {"role": "assistant", "content": "Looks like the etcd compaction incident."},
            {"role": "user", "content": follow_up},
        ],
    )
    with_history = (in_context.model_extra or {})["diagnosis"]
    without = (alone.model_extra or {})["diagnosis"]
    assert with_history["query"] == without["query"] == follow_up

    def rank(d: dict[str, Any]) -> int:
        return [m["id"] for m in d["matches"]].index(ETCD)

    assert rank(with_history) < rank(without)


def test_openai_sdk_errors(built: Settings) -> None:
    keyed = built.model_copy(update={"api_keys": ["sk-test"]})
    with serve(create_app(keyed)) as live:
        live.wait_loaded()
        with pytest.raises(openai.AuthenticationError):
            sdk(live, key="wrong").chat.completions.create(
                model="incident-assistant", messages=[{"role": "user", "content": "disk full"}]
            )
        good = sdk(live, key="sk-test")
        with pytest.raises(openai.NotFoundError, match="no model 'gpt-4o'"):
            good.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "disk full"}])
        with pytest.raises(openai.UnprocessableEntityError, match="role 'user'"):
            good.chat.completions.create(
                model="incident-assistant", messages=[{"role": "assistant", "content": "hello"}]
            )
        ok = good.chat.completions.create(
            model="incident-assistant:extractive", messages=[{"role": "user", "content": "disk full"}]
        )
        assert ok.choices[0].message.content
