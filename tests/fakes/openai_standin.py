"""A local stand-in for an OpenAI-compatible model server, for tests: a real HTTP server on 127.0.0.1.

It answers ``POST /v1/chat/completions`` (streamed as server-sent events, or one JSON body) and
``GET /v1/models`` the way a chosen server does:

- ``ollama``: Ollama's OpenAI-compatible endpoint: every delta repeats ``"role": "assistant"``,
  ``system_fingerprint`` ``"fp_ollama"``, the last chunk has an empty content and finish_reason "stop"
- ``llamacpp``: llama.cpp's ``llama-server``: a first chunk with ``"content": null``, ``"timings"`` on
  every chunk, a last chunk with an empty delta (and usage)
- ``vllm``: vLLM: ``logprobs`` / ``stop_reason`` fields, and with ``stream_options.include_usage`` a
  ``"usage": null`` on every chunk and a final chunk with no choices and the usage
- ``no-schema``: a server that takes no JSON schema: a ``response_format`` of type ``json_schema`` is
  answered with HTTP 400 ``{"error": {"message": "response_format json_schema is not supported"}}``

It checks what it receives as a strict server would (a JSON body with a model and well-formed
messages; a ``response_format`` that is text, json_object or a json_schema with a valid name and a
valid JSON Schema; ``stream_options`` only on a streamed request) and answers HTTP 400 otherwise. Every
request is recorded (``requests``) and every problem found is listed (``problems``), including a scripted
reply that does not fit the schema the client sent, which a server constraining its output would never
produce. The reply is scripted: a string, or a function of the request body; ``fail=(status, message)``
answers every chat completion with that error instead.

Bounded: request bodies over ``max_body_bytes`` get 413, requests past ``max_requests`` get 429, and an
idle connection is closed after ``IDLE_SECONDS``. No sleeps: the socket listens before the thread starts.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema

STYLES = ("ollama", "llamacpp", "vllm", "no-schema")
REFUSAL = "response_format json_schema is not supported"
IDLE_SECONDS = 10.0
ROLES = {"system", "user", "assistant", "tool", "developer"}
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CREATED = 1_767_225_600

Reply = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class OpenAIStandin:
    """``with OpenAIStandin("vllm", reply=...) as server:`` then point a client at ``server.url``."""

    def __init__(
        self,
        style: str,
        reply: Reply = "",
        *,
        model: str = "local-model",
        fail: tuple[int, str] | None = None,
        piece_chars: int = 9,
        max_requests: int = 32,
        max_body_bytes: int = 1_000_000,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; one of {', '.join(STYLES)}")
        self.style = style
        self.reply = reply
        self.model = model
        self.fail = fail
        self.piece_chars = piece_chars
        self.max_requests = max_requests
        self.max_body_bytes = max_body_bytes
        self.requests: list[Received] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL a client is given (``.../v1``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def completions(self) -> list[dict[str, Any]]:
        """The bodies of the chat-completion requests received, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == "/v1/chat/completions"]

    def __enter__(self) -> OpenAIStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=IDLE_SECONDS)

    # --- what the handler asks of it ----------------------------------------------------------------

    def record(self, received: Received) -> bool:
        """Record a request; False once the request budget is spent."""
        with self._lock:
            if len(self.requests) >= self.max_requests:
                self.problems.append(f"more than {self.max_requests} requests")
                return False
            self.requests.append(received)
            return True

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def text_for(self, body: dict[str, Any]) -> str:
        text = self.reply(body) if callable(self.reply) else self.reply
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            try:
                jsonschema.validate(json.loads(text), fmt["json_schema"]["schema"])
            except (ValueError, jsonschema.ValidationError) as exc:
                self.problem(f"the scripted reply does not fit the schema sent: {str(exc)[:300]}")
        return text


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: OpenAIStandin) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (or idles out) is not an error of the stand-in; anything else is."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            self.standin.problem(f"the stand-in failed: {sys.exc_info()[1]!r}")
            super().handle_error(request, client_address)


def check_request(body: Any) -> str | None:
    """Why a strict OpenAI-compatible server would refuse this chat-completion body, or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: a non-empty string is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: a non-empty list is required"
    for n, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return f"messages[{n}]: a role and a string content are required"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream: a boolean is required"
    if "stream_options" in body and body.get("stream") is not True:
        return "stream_options is only allowed when stream is enabled"
    if "response_format" in body:
        return check_response_format(body["response_format"])
    return None


def check_response_format(fmt: Any) -> str | None:
    if not isinstance(fmt, dict) or fmt.get("type") not in {"text", "json_object", "json_schema"}:
        return "response_format.type must be text, json_object or json_schema"
    if fmt["type"] != "json_schema":
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        return "response_format.json_schema: an object is required"
    if not isinstance(spec.get("name"), str) or not SCHEMA_NAME.match(spec["name"]):
        return "response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$"
    if "strict" in spec and not isinstance(spec["strict"], bool):
        return "response_format.json_schema.strict: a boolean is required"
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        return "response_format.json_schema.schema: an object is required"
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"response_format.json_schema.schema is not a valid JSON Schema: {exc.message}"
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as the real servers answer
    timeout = IDLE_SECONDS

    def log_message(self, *args: Any) -> None:
        pass

    @property
    def standin(self) -> OpenAIStandin:
        return self.server.standin

    def do_GET(self) -> None:
        if not self.standin.record(Received("GET", self.path, dict(self.headers), {})):
            self._error(429, "too many requests")
        elif self.path == "/v1/models":
            self._json(200, self._models())
        else:
            self._error(404, f"no route for GET {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.standin.max_body_bytes:
            self.standin.problem(f"a {length}-byte request body")
            self.close_connection = True
            self._error(413, "request body too large")
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not self.standin.record(Received("POST", self.path, dict(self.headers), body or {})):
            self._error(429, "too many requests")
            return
        if self.path != "/v1/chat/completions":
            self._error(404, f"no route for POST {self.path}")
            return
        if why := check_request(body):
            self.standin.problem(why)
            self._error(400, why)
            return
        assert isinstance(body, dict)
        if self.standin.fail is not None:
            self._error(*self.standin.fail)
            return
        fmt = body.get("response_format")
        if self.standin.style == "no-schema" and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            self._json(400, {"error": {"message": REFUSAL}})
            return
        text = self.standin.text_for(body)
        if body.get("stream"):
            self._stream(body, text)
        else:
            self._json(200, self._completion(body, text))

    # --- answers in the chosen server's style -------------------------------------------------------

    def _models(self) -> dict[str, Any]:
        style, model = self.standin.style, self.standin.model
        entry: dict[str, Any] = {"id": model, "object": "model", "created": CREATED, "owned_by": "library"}
        if style == "llamacpp":
            entry.update(owned_by="llamacpp", meta={"n_ctx_train": 8192, "n_vocab": 49152})
        elif style == "vllm":
            entry.update(owned_by="vllm", root=model, parent=None, max_model_len=8192, permission=[])
        return {"object": "list", "data": [entry]}

    def _usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        prompt = sum(len(m["content"].split()) for m in body["messages"])
        completion = len(text.split())
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _base(self, obj: str) -> dict[str, Any]:
        base: dict[str, Any] = {"id": "chatcmpl-standin", "object": obj, "created": CREATED}
        base["model"] = self.standin.model
        if self.standin.style == "ollama":
            base["system_fingerprint"] = "fp_ollama"
        elif self.standin.style == "llamacpp":
            base["system_fingerprint"] = "b5000-standin"
        return base

    def _completion(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
        }
        out = {**self._base("chat.completion"), "choices": [choice], "usage": self._usage(body, text)}
        if self.standin.style == "vllm":
            choice.update(logprobs=None, stop_reason=None)
            choice["message"]["tool_calls"] = []
            out["prompt_logprobs"] = None
        elif self.standin.style == "llamacpp":
            out["timings"] = _timings(body, text)
        return out

    def _chunks(self, body: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        style, size = self.standin.style, self.standin.piece_chars
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        usage_wanted = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = self._usage(body, text)

        def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> dict[str, Any]:
            choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
            if style == "vllm":
                choice["logprobs"] = None
                if finish:
                    choice["stop_reason"] = None
            out = {**self._base("chat.completion.chunk"), "choices": [choice], **extra}
            if style == "vllm" and usage_wanted:
                out["usage"] = None
            if style == "llamacpp":
                out["timings"] = _timings(body, text)
            return out

        if style == "ollama":
            for piece in pieces:
                yield chunk({"role": "assistant", "content": piece}, None)
            yield chunk({"role": "assistant", "content": ""}, "stop")
        elif style == "llamacpp":
            yield chunk({"role": "assistant", "content": None}, None)
            for piece in pieces:
                yield chunk({"content": piece}, None)
            yield chunk({}, "stop", usage=usage)
        else:  # vllm, and no-schema once it gets a request it takes
            yield chunk({"role": "assistant", "content": ""}, None)
            for piece in pieces:
                yield chunk({"content": piece}, None)
            yield chunk({"content": ""}, "stop")
        if usage_wanted and style != "llamacpp":
            yield {**self._base("chat.completion.chunk"), "choices": [], "usage": usage}

    def _stream(self, body: dict[str, Any], text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for data in self._chunks(body, text):
            self._write_chunk(f"data: {json.dumps(data)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _error(self, status: int, message: str) -> None:
        style = self.standin.style
        if style == "llamacpp":
            error: dict[str, Any] = {"code": status, "message": message, "type": "invalid_request_error"}
        elif style == "vllm":
            error = {"message": message, "type": "BadRequestError", "param": None, "code": status}
        else:
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
        self._json(status, {"error": error})

    def _json(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()


def _timings(body: dict[str, Any], text: str) -> dict[str, float]:
    prompt_n = sum(len(m["content"].split()) for m in body["messages"])
    predicted_n = len(text.split())
    return {
        "prompt_n": prompt_n,
        "prompt_ms": 1.0,
        "prompt_per_token_ms": 1.0 / max(prompt_n, 1),
        "prompt_per_second": 1000.0 * prompt_n,
        "predicted_n": predicted_n,
        "predicted_ms": 1.0,
        "predicted_per_token_ms": 1.0 / max(predicted_n, 1),
        "predicted_per_second": 1000.0 * predicted_n,
    }
