"""The MCP server's tools, driven by the official SDK's own client: over stdio (``assistant mcp`` as a
client starts it) and over streamable HTTP at ``/mcp`` on the service, on a real socket."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from assistant.diagnosis.results import Diagnosis
from assistant.search.results import SimilarResult
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve
from tests.surfaces.mcp.connect import over_stdio

KAFKA = "perf-2025031606"
QUERY = "kafka consumer lag growing on customer-orders, order processing slow"
TOOLS = {"find_similar_incidents", "get_incident", "diagnose", "recurring_problems"}
STREAMABLE = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


async def exercise(client: Client) -> dict[str, Any]:
    """List the tools and call each; return what came back."""
    tools = (await client.list_tools()).tools
    similar = await client.call_tool("find_similar_incidents", {"query": QUERY, "k": 3})
    incident = await client.call_tool("get_incident", {"id": KAFKA})
    diagnosis = await client.call_tool("diagnose", {"query": QUERY, "k": 3})
    missing = await client.call_tool("get_incident", {"id": "perf-0000000000"})
    empty = await client.call_tool("find_similar_incidents", {"query": "   "})
    loose = await client.call_tool("find_similar_incidents", {"query": QUERY, "k": "5"})
    history = await client.call_tool("recurring_problems", {"days": 36500, "min_count": 1})
    return {
        "history": history,
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
        hints = tool.annotations
        assert hints.read_only_hint is True and hints.destructive_hint is False
        assert hints.idempotent_hint is True and hints.open_world_hint is False
        assert hints.title and hints.title == tool.title
        assert tool.output_schema and tool.description
        Draft202012Validator.check_schema(tool.output_schema)
    assert tools["diagnose"].input_schema["required"] == ["query"]
    for key, name in (
        ("similar", "find_similar_incidents"),
        ("incident", "get_incident"),
        ("diagnosis", "diagnose"),
        ("history", "recurring_problems"),
    ):
        structured = found[key].structured_content
        assert not found[key].is_error and structured
        errors = list(Draft202012Validator(tools[name].output_schema).iter_errors(structured))
        assert not errors, f"{name}: {errors[0].message if errors else ''}"

    similar = found["similar"]
    assert not similar.is_error
    result = SimilarResult.model_validate(similar.structured_content)  # the REST API's JSON
    assert result.matches[0].id == KAFKA and len(result.matches) == 3

    incident = found["incident"].structured_content
    assert incident["id"] == KAFKA and incident["label"]["perf_observation"] == KAFKA
    assert {p["kind"] for p in incident["passages"]} == {"symptom", "evidence", "resolution"}

    diagnosis = Diagnosis.model_validate(found["diagnosis"].structured_content)
    assert KAFKA in diagnosis.citations and diagnosis.hypotheses and diagnosis.next_steps

    families = found["history"].structured_content["families"]
    kafka = next(f for f in families if KAFKA in [o["id"] for o in f["occurrences"]])
    assert kafka["subtype"] == "connection_pool_exhaustion" and kafka["incidents"] >= 1

    assert found["missing"].is_error
    missing = found["missing"].content[0].text
    assert "no incident 'perf-0000000000'" in missing and "find_similar_incidents" in missing
    assert "assistant similar" not in missing, "an agent is told the MCP way to find an id, not the CLI's"
    assert found["empty"].is_error and "the query is empty" in found["empty"].content[0].text
    assert found["loose"].is_error, '"k": "5" is refused, as the REST API refuses it'


def test_tools_over_stdio(built: Settings) -> None:
    check(over_stdio(built, exercise))


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
        handshake = httpx2.post(
            url, json=INITIALIZE, headers={**STREAMABLE, "Authorization": "Bearer mcp-key"}
        )
        assert handshake.status_code == 200 and "mcp-session-id" not in handshake.headers, "stateless"


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


def test_everything_answers_not_ready_until_the_index_is_built(settings: Settings) -> None:
    """Tools, the listing, reads and prompts all say why nothing is served yet and what to run."""
    with serve(create_app(settings)) as live:  # no index built
        live.wait_loaded()

        async def run() -> tuple[Any, list[MCPError]]:
            async with Client(live.url + "/mcp") as client:
                tool = await client.call_tool("find_similar_incidents", {"query": QUERY})
                errors = []
                for call in (
                    client.list_resources,
                    lambda: client.read_resource(f"incident://{KAFKA}"),
                    lambda: client.get_prompt("triage", {"alert": QUERY}),
                ):
                    with pytest.raises(MCPError) as caught:
                        await call()
                    errors.append(caught.value)
                return tool, errors

        result, errors = anyio.run(run)
    assert result.is_error and "assistant index build" in result.content[0].text
    assert len(errors) == 3 and all("assistant index build" in e.message for e in errors)
