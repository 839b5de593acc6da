"""Traces: off unless an OTLP endpoint is configured (nothing recorded, nothing sent); on, a search is a
span with the query encoding (GenAI ``embeddings``), rerank and verdict inside it, attributes that say
what was decided and never the query's text; and spans reach an OTLP/HTTP collector on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant import tracing
from tests.fakes.diagnosis_support import assistant_over

QUERY = "etcd fsync slow, kubectl hangs, apiserver latency up"


@pytest.fixture(autouse=True)
def tracing_off_afterwards() -> Iterator[None]:
    yield
    tracing.shutdown()


def test_off_without_an_endpoint(seed_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assistant = assistant_over(seed_dir, tmp_path)
    exporter = InMemorySpanExporter()
    assert tracing.configure(assistant.settings, exporter=exporter) is False
    assistant.similar(QUERY)
    assert not tracing.enabled() and exporter.get_finished_spans() == ()


def test_a_search_is_traced_with_genai_attributes(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(seed_dir, tmp_path, otel_endpoint="http://127.0.0.1:9")
    exporter = InMemorySpanExporter()
    assert tracing.configure(assistant.settings, exporter=exporter) is True
    result = assistant.similar(QUERY, k=3)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    encoder = assistant.encoder.id
    assert set(spans) == {"search incidents", f"embeddings {encoder}", "rerank", "verdict"}
    search = spans["search incidents"]
    for child in (f"embeddings {encoder}", "rerank", "verdict"):
        assert spans[child].parent is not None and spans[child].parent.span_id == search.context.span_id
    embed = spans[f"embeddings {encoder}"].attributes or {}
    assert embed["gen_ai.operation.name"] == "embeddings" and embed["gen_ai.request.model"] == encoder
    attributes = search.attributes or {}
    assert attributes["assistant.top_incident"] == result.matches[0].id
    assert attributes["assistant.verdict"] == result.seen_before.verdict
    assert attributes["assistant.k"] == 3 and attributes["assistant.query.chars"] == len(QUERY)
    values = [str(v) for s in spans.values() for v in (s.attributes or {}).values()]
    assert not any("fsync" in v for v in values), "the query's text stays out of traces"


class Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[ExportTraceServiceRequest]] = []
    got: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        Collector.received.append(request)
        Collector.got.set()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_reach_an_otlp_collector(seed_dir: Path, tmp_path: Path) -> None:
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{collector.server_address[1]}"
        assistant = assistant_over(seed_dir, tmp_path, otel_endpoint=url)
        assert tracing.configure(assistant.settings) is True
        assistant.similar(QUERY)
        tracing.shutdown()  # flushes the batch
        assert Collector.got.wait(10), "the collector got no spans"
    finally:
        collector.shutdown()
    names = {
        span.name
        for request in Collector.received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert "search incidents" in names and "verdict" in names
    service = {
        a.value.string_value
        for request in Collector.received
        for resource in request.resource_spans
        for a in resource.resource.attributes
        if a.key == "service.name"
    }
    assert service == {"incident-assistant"}


def test_a_model_call_is_a_genai_chat_span_inside_the_diagnosis(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(
        seed_dir, tmp_path, otel_endpoint="http://127.0.0.1:9", llm="fake", fake_llm_script=["grounded"]
    )
    exporter = InMemorySpanExporter()
    assert tracing.configure(assistant.settings, exporter=exporter) is True
    diagnosis = assistant.diagnose(QUERY)
    assert diagnosis.backend == "fake"
    chat = next(s for s in exporter.get_finished_spans() if s.name == "chat fake")
    attributes = chat.attributes or {}
    assert attributes["gen_ai.operation.name"] == "chat" and attributes["gen_ai.provider.name"] == "fake"
    assert attributes["gen_ai.output.type"] == "json"  # the diagnosis asks for its JSON schema
    assert attributes["gen_ai.request.max_tokens"] == assistant.settings.llm_max_tokens
    assert int(str(attributes["assistant.output.chars"])) > 0 and "error.type" not in attributes


def test_a_failing_model_call_says_its_error(seed_dir: Path, tmp_path: Path) -> None:
    assistant = assistant_over(
        seed_dir, tmp_path, otel_endpoint="http://127.0.0.1:9", llm="fake", fake_llm_script=["error"]
    )
    exporter = InMemorySpanExporter()
    tracing.configure(assistant.settings, exporter=exporter)
    assert assistant.diagnose(QUERY).fallback_reason  # the extractive answer stands in
    chat = next(s for s in exporter.get_finished_spans() if s.name == "chat fake")
    assert (chat.attributes or {})["error.type"] == "BackendUnavailable"


def test_the_judge_is_a_genai_model_call_span(seed_dir: Path, tmp_path: Path) -> None:
    from assistant.errors import BackendUnavailable
    from assistant.evaluation.judge import OpenAIJudge
    from tests.fakes.openai_standin import OpenAIStandin

    settings = assistant_over(seed_dir, tmp_path, otel_endpoint="http://127.0.0.1:9").settings
    exporter = InMemorySpanExporter()
    assert tracing.configure(settings, exporter=exporter) is True
    reply = '{"verdict": "correct", "reason": "names the pool"}'
    with OpenAIStandin("vllm", reply=reply) as server:
        verdict = OpenAIJudge(base_url=server.url, model="grader-1").judge(
            query="q", answer="a", reference="r", in_corpus=True
        )
    with OpenAIStandin("ollama", fail=(500, "boom")) as broken, pytest.raises(BackendUnavailable):
        OpenAIJudge(base_url=broken.url, model="grader-2").judge(
            query="q", answer="a", reference="r", in_corpus=True
        )
    assert verdict.verdict == "correct"
    spans = {s.name: s.attributes or {} for s in exporter.get_finished_spans()}
    ok, failed = spans["chat grader-1"], spans["chat grader-2"]
    assert ok["gen_ai.operation.name"] == "chat" and ok["gen_ai.request.model"] == "grader-1"
    assert ok["gen_ai.output.type"] == "json" and ok["assistant.model.role"] == "judge"
    assert ok["assistant.output.chars"] == len(reply) and "error.type" not in ok
    assert failed["error.type"] == "HTTPStatusError"
