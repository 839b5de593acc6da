"""The HTTP API on a real socket: readiness, search, incidents, auth, limits, errors, metrics, CORS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from typer.testing import CliRunner

from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.cli import app as cli
from assistant.surfaces.server import create_app
from tests.fakes.live_server import LiveServer, serve


def client(live: LiveServer, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=live.url, headers=headers, timeout=30)


def test_not_ready_until_an_index_exists_then_ready_without_restart(settings: Settings) -> None:
    with serve(create_app(settings)) as live, client(live) as http:
        live.wait_loaded()
        assert http.get("/healthz").json()["status"] == "ok"
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "failed"
        assert "assistant index build" in ready.json()["hint"]
        refused = http.post("/v1/similar", json={"query": "etcd fsync slow"})
        assert refused.status_code == 503
        assert refused.json()["error"]["type"] == "not_ready"
        assert "assistant index build" in refused.json()["error"]["hint"]

        build(settings)  # a new build appears: the next readiness check loads it
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["index"]["incidents"] == 6
        assert http.post("/v1/similar", json={"query": "etcd fsync slow"}).status_code == 200


def test_encoder_mismatch_is_not_ready_with_rebuild_hint(built: Settings) -> None:
    other = built.model_copy(update={"encoder": "some/other-model"})
    with serve(create_app(other)) as live, client(live) as http:
        live.wait_loaded()
        ready = http.get("/readyz").json()
        assert ready["status"] == "failed"
        assert "some/other-model" in ready["reason"]
        assert "assistant index build" in ready["hint"]


def test_stale_index_is_ready_with_a_warning(built: Settings) -> None:
    (built.labels_dir / "database" / "perf-2025031606.json").write_text('{"changed": true}')
    with serve(create_app(built)) as live, client(live) as http:
        live.wait_loaded()
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["stale_files"] == 1
        assert "assistant index build" in ready.json()["warning"]


def test_similar_returns_the_cli_json(server: LiveServer, built: Settings) -> None:
    query = "etcd fsync slow, apiserver latency"
    with client(server) as http:
        response = http.post("/v1/similar", json={"query": query, "k": 3})
    assert response.status_code == 200
    env = {
        "ASSISTANT_LABELS_DIR": str(built.labels_dir),
        "ASSISTANT_INDEX_DIR": str(built.index_dir),
        "ASSISTANT_ENCODER": "fake",
    }
    result = CliRunner().invoke(cli, ["similar", query, "--k", "3", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert response.json() == json.loads(result.stdout)
    assert response.json()["matches"][0]["id"] == "perf-2025031603"


def test_similar_echoes_the_request_id(server: LiveServer) -> None:
    with client(server) as http:
        data = http.post("/v1/similar", json={"query": "kafka consumer lag", "k": 1, "id": "q7"}).json()
    assert data["id"] == "q7"
    assert len(data["matches"]) == 1


def test_incident_detail_and_404(server: LiveServer) -> None:
    with client(server) as http:
        found = http.get("/v1/incidents/perf-2025031606")
        missing = http.get("/v1/incidents/perf-0000000000")
    assert found.status_code == 200
    body = found.json()
    assert body["id"] == "perf-2025031606"
    assert body["label"]["perf_observation"] == "perf-2025031606"
    assert body["file"] == "database/perf-2025031606.json"
    assert [p["kind"] for p in body["passages"]] == ["symptom", "evidence", "resolution"]
    assert all(p["text"].startswith("perf-2025031606") for p in body["passages"])
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "type": "not_found",
        "message": "no incident 'perf-0000000000' in the index",
        "hint": "check the id with `assistant similar`",
    }


def test_unknown_route_is_a_json_404(server: LiveServer) -> None:
    with client(server) as http:
        response = http.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.fixture
def keyed(built: Settings) -> Iterator[LiveServer]:
    with serve(create_app(built.model_copy(update={"api_keys": ["key-one", "key-two"]}))) as live:
        live.wait_loaded()
        yield live


def test_auth_no_key_bad_key_good_key(keyed: LiveServer) -> None:
    request = {"query": "etcd fsync slow"}
    with client(keyed) as http:
        missing = http.post("/v1/similar", json=request)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"]["message"] == "missing API key"
        assert http.get("/v1/incidents/perf-2025031601").status_code == 401
    with client(keyed, key="key-three") as http:
        bad = http.post("/v1/similar", json=request)
        assert bad.status_code == 401
        assert bad.json()["error"]["message"] == "invalid API key"
    with client(keyed, key="key-two") as http:
        assert http.post("/v1/similar", json=request).status_code == 200
        assert http.get("/v1/incidents/perf-2025031601").status_code == 200


def test_health_metrics_and_page_need_no_key(keyed: LiveServer) -> None:
    with client(keyed) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        assert http.get("/metrics").status_code == 200
        page = http.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]


def test_body_over_the_limit_is_413_with_a_reason(server: LiveServer) -> None:
    body = json.dumps({"query": "x" * 70_000})
    with client(server) as http:
        declared = http.post("/v1/similar", content=body, headers={"content-type": "application/json"})
        # no Content-Length: the limit applies while the chunked body streams in
        chunked = http.post(
            "/v1/similar",
            content=iter([body[:40_000].encode(), body[40_000:].encode()]),
            headers={"content-type": "application/json"},
        )
    assert declared.status_code == 413
    assert declared.json()["error"]["message"] == (
        f"request body is {len(body)} bytes; the limit is 65536 bytes (ASSISTANT_MAX_BODY_BYTES)"
    )
    assert chunked.status_code == 413
    assert "65536 bytes" in chunked.json()["error"]["message"]


def test_query_limits_are_422_with_a_reason(built: Settings) -> None:
    small = built.model_copy(update={"max_query_chars": 100})
    with serve(create_app(small)) as live, client(live) as http:
        live.wait_loaded()
        long = http.post("/v1/similar", json={"query": "y" * 101})
        empty = http.post("/v1/similar", json={"query": "   "})
        bad_k = http.post("/v1/similar", json={"query": "disk full", "k": 0})
        not_json = http.post("/v1/similar", content=b"{", headers={"content-type": "application/json"})
    assert long.status_code == 422
    assert long.json()["error"]["message"] == "the query is 101 characters long; the limit is 100"
    assert empty.status_code == 422
    assert empty.json()["error"]["message"] == "the query is empty"
    assert bad_k.status_code == 422
    assert bad_k.json()["error"]["message"].startswith("k: ")
    assert not_json.status_code == 422
    assert not_json.json()["error"]["message"] == "the body is not valid JSON"
    assert "y" * 101 not in long.text


def test_unexpected_errors_are_500_without_a_traceback(built: Settings) -> None:
    extra = APIRouter()

    @extra.get("/extra/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with serve(create_app(built, routers=[extra])) as live, client(live) as http:
        response = http.get("/extra/boom")
    assert response.status_code == 500
    assert response.json()["error"] == {
        "type": "internal_error",
        "message": "internal error; see the server log",
        "hint": "",
    }
    assert "secret" not in response.text and "Traceback" not in response.text


def test_metrics_count_routes_and_describe_the_index(server: LiveServer) -> None:
    with client(server) as http:
        http.post("/v1/similar", json={"query": "etcd fsync slow"})
        http.post("/v1/similar", json={"query": ""})
        http.get("/v1/incidents/perf-2025031601")
        text = http.get("/metrics").text
    assert 'assistant_http_requests_total{method="POST",route="/v1/similar",status="200"} 1.0' in text
    assert 'assistant_http_requests_total{method="POST",route="/v1/similar",status="422"} 1.0' in text
    assert 'route="/v1/incidents/{incident_id}",status="200"} 1.0' in text
    assert 'assistant_http_request_duration_seconds_count{method="POST",route="/v1/similar"} 2.0' in text
    assert "assistant_retrieval_duration_seconds_count 2.0" in text
    assert "assistant_index_ready 1.0" in text
    assert "assistant_index_incidents 6.0" in text
    assert "assistant_index_passages 18.0" in text


def test_cors_is_off_by_default_and_configurable(built: Settings) -> None:
    preflight = {
        "Origin": "https://ops.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with serve(create_app(built)) as live, client(live) as http:
        closed = http.options("/v1/similar", headers=preflight)
        plain = http.get("/healthz", headers={"Origin": "https://ops.example.com"})
    assert "access-control-allow-origin" not in closed.headers
    assert "access-control-allow-origin" not in plain.headers
    opened = built.model_copy(update={"cors_origins": ["https://ops.example.com"]})
    with serve(create_app(opened)) as live, client(live) as http:
        allowed = http.options("/v1/similar", headers=preflight)
        other = http.options("/v1/similar", headers={**preflight, "Origin": "https://evil.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example.com"
    assert "access-control-allow-origin" not in other.headers


def test_docs_and_openapi_are_served(server: LiveServer) -> None:
    with client(server) as http:
        schema = http.get("/openapi.json").json()
        docs = http.get("/docs")
    assert {"/v1/similar", "/v1/incidents/{incident_id}", "/healthz", "/readyz"} <= set(schema["paths"])
    assert docs.status_code == 200


def test_settings_read_comma_separated_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_API_KEYS", "alpha, beta,,")
    monkeypatch.setenv("ASSISTANT_CORS_ORIGINS", "https://a.example")
    settings = Settings()
    assert settings.api_keys == ["alpha", "beta"]
    assert settings.cors_origins == ["https://a.example"]
