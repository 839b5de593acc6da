"""The MCP server, driven by the official SDK's own client: over stdio (``assistant mcp`` as a client
starts it) and over streamable HTTP at ``/mcp`` on the service, on a real socket."""

from __future__ import annotations

import os
import sys
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from assistant.diagnosis.results import Diagnosis
from assistant.search.results import SimilarResult
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve

KAFKA = "perf-2025031606"
QUERY = "kafka consumer lag growing on customer-orders, order processing slow"
TOOLS = {"find_similar_incidents", "get_incident", "diagnose"}


async def exercise(client: Client) -> dict[str, Any]:
    """List the tools and call each; return what came back."""
    tools = (await client.list_tools()).tools
    similar = await client.call_tool("find_similar_incidents", {"query": QUERY, "k": 3})
    incident = await client.call_tool("get_incident", {"id": KAFKA})
    diagnosis = await client.call_tool("diagnose", {"query": QUERY, "k": 3})
    missing = await client.call_tool("get_incident", {"id": "perf-0000000000"})
    empty = await client.call_tool("find_similar_incidents", {"query": "   "})
    loose = await client.call_tool("find_similar_incidents", {"query": QUERY, "k": "5"})
    return {
        "loose": loose,
        "tools": tools,
        "similar": similar,
        "incident": incident,
        "diagnosis": diagnosis,
        "missing": missing,
        "empty": empty,
    }


def check(found: dict[str, Any]) -> None:
    tools = {t.name: t for t in found["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.output_schema and tool.description
    assert tools["diagnose"].input_schema["required"] == ["query"]

    similar = found["similar"]
    assert not similar.is_error
    result = SimilarResult.model_validate(similar.structured_content)  # the REST API's JSON
    assert result.matches[0].id == KAFKA and len(result.matches) == 3

    incident = found["incident"].structured_content
    assert incident["id"] == KAFKA and incident["label"]["perf_observation"] == KAFKA
    assert {p["kind"] for p in incident["passages"]} == {"symptom", "evidence", "resolution"}

    diagnosis = Diagnosis.model_validate(found["diagnosis"].structured_content)
    assert KAFKA in diagnosis.citations and diagnosis.hypotheses and diagnosis.next_steps

    assert found["missing"].is_error
    assert "no incident 'perf-0000000000'" in found["missing"].content[0].text
    assert found["empty"].is_error and "the query is empty" in found["empty"].content[0].text
    assert found["loose"].is_error, '"k": "5" is refused, as the REST API refuses it'


def test_tools_over_stdio(built: Settings) -> None:
    env = {
        "ASSISTANT_LABELS_DIR": str(built.labels_dir),
        "ASSISTANT_INDEX_DIR": str(built.index_dir),
        "ASSISTANT_DATA_DIR": str(built.data_dir),
        "ASSISTANT_ENCODER": "fake",
        "PATH": os.environ.get("PATH", ""),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-c", "from assistant.surfaces.cli import main; main()", "mcp"], env=env
    )

    async def run() -> dict[str, Any]:
        with anyio.fail_after(120):
            async with Client(params) as client:
                return await exercise(client)

    check(anyio.run(run))


def test_tools_over_http_on_the_service(built: Settings) -> None:
    with serve(create_app(built.model_copy(update={"api_keys": ["mcp-key"]}))) as live:
        live.wait_loaded()
        url = live.url + "/mcp"

        async def run() -> dict[str, Any]:
            headers = {"Authorization": "Bearer mcp-key"}
            with anyio.fail_after(120):
                async with (
                    httpx2.AsyncClient(headers=headers, timeout=60) as http,
                    Client(streamable_http_client(url, http_client=http)) as client,
                ):
                    return await exercise(client)

        check(anyio.run(run))
        refused = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401 and refused.json()["error"]["message"] == "missing API key"
        wrong = httpx2.post(url, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid API key"
        stream = httpx2.get(url, headers={"Authorization": "Bearer mcp-key"}, timeout=5)
        assert stream.status_code == 405 and stream.headers["allow"] == "POST, DELETE"
        assert "POST" in stream.json()["error"]["hint"]


def test_http_refuses_hosts_outside_the_allowed_list(built: Settings) -> None:
    settings = built.model_copy(update={"mcp_allowed_hosts": ["assistant.internal:*"]})
    with serve(create_app(settings)) as live:
        live.wait_loaded()
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"Accept": "application/json, text/event-stream"}
        refused = httpx2.post(live.url + "/mcp", json=body, headers=headers)
        allowed = httpx2.post(
            live.url + "/mcp", json=body, headers={**headers, "Host": "assistant.internal:8000"}
        )
    assert refused.status_code == 421
    assert allowed.status_code != 421


def test_tools_answer_not_ready_until_the_index_is_built(settings: Settings) -> None:
    with serve(create_app(settings)) as live:  # no index built
        live.wait_loaded()

        async def run() -> Any:
            async with Client(live.url + "/mcp") as client:
                return await client.call_tool("find_similar_incidents", {"query": QUERY})

        result = anyio.run(run)
    assert result.is_error and "assistant index build" in result.content[0].text
