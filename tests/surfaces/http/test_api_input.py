"""Bad input to the HTTP API gets a 4xx that says what is wrong, never a 500: text that is not valid
Unicode, loosely typed fields, and backends a request may not choose."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import LiveServer, serve

SURROGATE = "etcd \ud800 slow"


def post(live: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    """``body`` as JSON with Python's escapes (a lone surrogate becomes ``\\ud800``, as a client sends it)."""
    data = json.dumps(body).encode()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        return http.post(path, content=data, headers={"content-type": "application/json"})


def chat(content: str, *, earlier: str = "earlier question", stream: bool = False) -> dict[str, Any]:
    return {
        "model": "incident-assistant",
        "stream": stream,
        "messages": [
            {"role": "user", "content": earlier},
            {"role": "assistant", "content": "earlier answer"},
            {"role": "user", "content": content},
        ],
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/similar", {"query": SURROGATE}),
        ("/v1/similar", {"query": "etcd slow", "id": "q-\udfff"}),
        ("/v1/diagnose", {"query": SURROGATE}),
        ("/v1/diagnose", {"query": SURROGATE, "stream": True}),
        ("/v1/diagnose", {"query": "etcd slow", "history": ["before \ud800", "answer"]}),
        ("/v1/diagnose", {"query": "etcd slow", "history": ["before \ud800", "answer"], "stream": True}),
        ("/v1/chat/completions", chat(SURROGATE)),
        ("/v1/chat/completions", chat(SURROGATE, stream=True)),
        ("/v1/chat/completions", chat("etcd slow", earlier="x \udbff y")),
        ("/v1/chat/completions", chat("etcd slow", earlier="x \udbff y", stream=True)),
    ],
)
def test_lone_surrogates_are_422_not_500(server: LiveServer, path: str, body: dict[str, Any]) -> None:
    response = post(server, path, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_query"
    assert "not valid Unicode" in error["message"] and error["hint"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/similar", {"query": "etcd slow", "k": "5"}, "k"),
        ("/v1/similar", {"query": "etcd slow", "k": True}, "k"),
        ("/v1/similar", {"query": "etcd slow", "k": 2.5}, "k"),
        ("/v1/similar", {"query": 5}, "query"),
        ("/v1/diagnose", {"query": "etcd slow", "stream": 0}, "stream"),
        ("/v1/diagnose", {"query": "etcd slow", "k": "5"}, "k"),
        ("/v1/diagnose", {"query": "etcd slow", "history": [1, 2]}, "history"),
        ("/v1/chat/completions", {**chat("etcd slow"), "stream": 1}, "stream"),
    ],
)
def test_loose_types_are_rejected(server: LiveServer, path: str, body: dict[str, Any], field: str) -> None:
    response = post(server, path, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(field)


def test_strict_types_still_accept_the_documented_requests(server: LiveServer) -> None:
    assert post(server, "/v1/similar", {"query": "etcd slow", "k": 2, "id": "q1"}).status_code == 200
    # 2.0 is an integer to JSON Schema (and so to the spec): the same as 2
    assert len(post(server, "/v1/similar", {"query": "etcd slow", "k": 2.0}).json()["matches"]) == 2
    assert post(server, "/v1/diagnose", {"query": "etcd slow", "k": 2, "stream": False}).status_code == 200
    assert post(server, "/v1/chat/completions", chat("etcd slow")).status_code == 200


def models(live: LiveServer) -> list[str]:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        return [m["id"] for m in http.get("/v1/models").json()["data"]]


def test_only_enabled_and_set_up_backends_can_be_chosen(server: LiveServer) -> None:
    listed = models(server)
    # no endpoint configured: openai cannot answer; fake is for tests; llamacpp only with its extra
    assert "incident-assistant:openai" not in listed
    assert "incident-assistant:fake" not in listed
    llamacpp_installed = __import__("importlib.util").util.find_spec("llama_cpp") is not None
    assert ("incident-assistant:llamacpp" in listed) == llamacpp_installed
    assert listed[:2] == ["incident-assistant", "incident-assistant:extractive"]
    for backend in ("fake", "openai", "no-such-backend"):
        refused = post(server, "/v1/diagnose", {"query": "etcd slow", "backend": backend})
        assert refused.status_code == 422, (backend, refused.text)
        error = refused.json()["error"]
        assert error["type"] == "invalid_backend"
        assert "the choices are extractive" in error["message"]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        unknown_model = http.post(
            "/v1/chat/completions", json={**chat("etcd slow"), "model": "incident-assistant:fake"}
        )
    assert unknown_model.status_code == 404
    assert post(server, "/v1/diagnose", {"query": "etcd slow", "backend": "extractive"}).status_code == 200


def test_a_backend_is_selectable_once_enabled_and_configured(built: Settings) -> None:
    enabled = built.model_copy(
        update={
            "llm_choices": ["extractive", "fake", "openai"],
            "openai_base_url": "http://127.0.0.1:9/v1",  # configured (nothing listens there)
        }
    )
    with serve(create_app(enabled)) as live:
        live.wait_loaded()
        listed = models(live)
        assert "incident-assistant:fake" in listed and "incident-assistant:openai" in listed
        answered = post(live, "/v1/diagnose", {"query": "kafka consumer lag", "backend": "fake"})
    assert answered.status_code == 200 and answered.json()["backend"] == "fake"


def test_the_openai_backend_never_calls_a_default_public_endpoint(built: Settings) -> None:
    """``ASSISTANT_LLM=openai`` with no endpoint: not set up, so the default model is not listed and
    answering says what to set, instead of sending the incident data to api.openai.com."""
    default_openai = built.model_copy(update={"llm": "openai"})
    with serve(create_app(default_openai)) as live:
        live.wait_loaded()
        assert "incident-assistant" not in models(live)
        response = post(live, "/v1/diagnose", {"query": "kafka consumer lag"})
    assert response.status_code == 503
    assert "ASSISTANT_OPENAI_BASE_URL" in response.json()["error"]["hint"]


@pytest.mark.parametrize("size", [15_000, 20_000])
def test_hostile_pasted_alert_is_refused_fast_and_the_server_stays_responsive(
    server: LiveServer, size: int
) -> None:
    """Text that made the old alert-cleaning patterns backtrack for seconds: under the input limit it
    is cleaned (in linear time) and refused for its cleaned length; over it, refused before cleaning.
    Either way ``/healthz`` sent meanwhile answers at once."""
    body = {"query": "[FIRING:1] " + "a-" * (size // 2)}
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(post(server, "/v1/similar", body)))
    sender.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        start = time.perf_counter()
        health = http.get("/healthz")
        waited = time.perf_counter() - start
    sender.join(timeout=30)
    assert health.status_code == 200 and waited < 0.5, waited
    assert answers and answers[0].status_code == 422, answers
    error = answers[0].json()["error"]
    assert "limit" in error["message"] and error["hint"]
    expected = "before cleaning" if size > 16_000 else "the limit is 4000"
    assert expected in error["message"], error
