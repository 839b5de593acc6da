"""A bounded fuzz run against the real app over a real socket (REST, the Alertmanager webhook and MCP tool
calls): requests built by hypothesis from lone surrogates, control characters, deep nesting, huge and
non-finite numbers and wrong types get a 4xx with an error body (or an answer), never a 5xx.
Derandomized, so every run sends the same requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.surfaces.server import create_app
from tests.conftest import seeded
from tests.fakes.live_server import serve

RUN = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,  # writes nothing into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Letters, digits, spaces, control characters and lone surrogates (Cs), which JSON carries as \ud800;
# half of the strings get a surrogate or a control character for sure.
PLAIN = st.text(st.characters(categories=["L", "N", "Zs", "Cc", "Cs", "P", "So"]), max_size=40)
ODD = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.sampled_from(["\x00", "\x1b", "\x7f"])
TEXT = PLAIN | st.tuples(PLAIN, ODD, PLAIN).map("".join)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
SCALARS = st.one_of(st.none(), TEXT, NUMBERS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
FIELD = st.one_of(TEXT, VALUES)
DEPTH = st.sampled_from([1, 40, 300, 1_000, 100_000])


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = seeded(tmp_path_factory.mktemp("fuzz"))
    with serve(create_app(config)) as live:
        live.wait_loaded()
        yield live.url


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.content[:300], response.text[:300])
    if response.status_code >= 400:
        assert response.json()["error"]["message"]
    assert "internal_error" not in response.text  # also mid-stream


def post_json(url: str, path: str, body: Any) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with httpx.Client(base_url=url, timeout=60) as http:
        check(http.post(path, content=content, headers={"content-type": "application/json"}))


def maybe(field: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), values.map(lambda v: {field: v}))


SIMILAR = st.builds(
    lambda q, k, i: {**q, **k, **i},
    maybe("query", FIELD),
    maybe("k", st.one_of(NUMBERS, TEXT)),
    maybe("id", FIELD),
)
DIAGNOSE = st.builds(
    lambda q, k, h, s, b: {**q, **k, **h, **s, **b},
    maybe("query", FIELD),
    maybe("k", NUMBERS),
    maybe("history", st.one_of(st.lists(FIELD, max_size=4), FIELD)),
    maybe("stream", st.one_of(NUMBERS, TEXT)),
    maybe("backend", st.one_of(TEXT, st.sampled_from(["fake", "openai", "llamacpp", "extractive"]))),
)
MESSAGE = st.builds(
    lambda r, c: {**r, **c},
    maybe("role", st.one_of(st.sampled_from(["user", "assistant", "system", "tool"]), FIELD)),
    maybe("content", st.one_of(FIELD, st.lists(st.dictionaries(st.just("type"), TEXT) | VALUES))),
)
CHAT = st.builds(
    lambda m, ms, s: {**m, **ms, **s},
    maybe("model", st.one_of(st.sampled_from(["incident-assistant", "incident-assistant:fake"]), FIELD)),
    maybe("messages", st.one_of(st.lists(MESSAGE, max_size=4), FIELD)),
    maybe("stream", st.one_of(st.booleans(), NUMBERS)),
)


@RUN
@given(body=SIMILAR)
def test_similar(url: str, body: dict[str, Any]) -> None:
    post_json(url, "/v1/similar", body)


@RUN
@given(body=DIAGNOSE)
def test_diagnose(url: str, body: dict[str, Any]) -> None:
    post_json(url, "/v1/diagnose", body)


@RUN
@given(body=CHAT)
def test_chat_completions(url: str, body: dict[str, Any]) -> None:
    post_json(url, "/v1/chat/completions", body)


@RUN
@given(
    path=st.sampled_from(["/v1/similar", "/v1/diagnose", "/v1/chat/completions"]),
    field=st.sampled_from(["query", "k", "history", "messages", "id"]),
    depth=DEPTH,
)
def test_deep_nesting(url: str, path: str, field: str, depth: int) -> None:
    post_json(url, path, f'{{"{field}": {"[" * depth}{"]" * depth}}}'.encode())


@RUN
@given(raw=st.binary(max_size=200))
def test_raw_bytes(url: str, raw: bytes) -> None:
    for path in ("/v1/similar", "/v1/diagnose"):
        post_json(url, path, raw)


@RUN
@given(incident=st.one_of(TEXT, st.binary(max_size=30).map(lambda b: b.decode("latin-1"))))
def test_incident_ids(url: str, incident: str) -> None:
    quoted = quote(incident.encode("utf-8", "surrogatepass"), safe="")
    with httpx.Client(base_url=url, timeout=60) as http:
        response = http.get(f"/v1/incidents/{quoted}" if quoted else "/v1/incidents/%00")
    check(response)


ALERT = st.builds(
    lambda s, labels, annotations, extra: {**s, **labels, **annotations, **extra},
    maybe("status", st.one_of(st.sampled_from(["firing", "resolved"]), FIELD)),
    maybe("labels", st.one_of(st.dictionaries(TEXT, TEXT, max_size=4), FIELD)),
    maybe("annotations", st.one_of(st.dictionaries(TEXT, st.one_of(TEXT, FIELD), max_size=3), FIELD)),
    maybe("startsAt", st.one_of(TEXT, NUMBERS)),
)
ALERTMANAGER = st.builds(
    lambda v, s, alerts, common, key, truncated: {**v, **s, **alerts, **common, **key, **truncated},
    maybe("version", st.one_of(st.just("4"), FIELD)),
    maybe("status", st.one_of(st.sampled_from(["firing", "resolved"]), FIELD)),
    maybe("alerts", st.one_of(st.lists(ALERT, max_size=3), FIELD)),
    maybe("commonLabels", st.one_of(st.dictionaries(TEXT, TEXT, max_size=3), FIELD)),
    maybe("groupKey", FIELD),
    maybe("truncatedAlerts", st.one_of(NUMBERS, TEXT)),
)


@RUN
@given(body=ALERTMANAGER)
def test_alertmanager_webhook(url: str, body: dict[str, Any]) -> None:
    post_json(url, "/v1/alerts/alertmanager", body)


TOOL_CALL = st.builds(
    lambda name, arguments: {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    },
    st.one_of(
        st.sampled_from(["find_similar_incidents", "get_incident", "diagnose", "recurring_problems"]), TEXT
    ),
    st.one_of(
        st.dictionaries(st.sampled_from(["query", "k", "id", "days", "min_count"]), FIELD, max_size=3), FIELD
    ),
)


@RUN
@given(message=TOOL_CALL)
def test_mcp_tool_calls(url: str, message: dict[str, Any]) -> None:
    """Any tool name and arguments over /mcp: a JSON-RPC answer (a result, an error result or an error),
    never a 5xx."""
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=url, timeout=60) as http:
        response = http.post("/mcp", content=json.dumps(message).encode(), headers=headers)
    assert response.status_code < 500, (message, response.text[:300])
    if response.status_code == 200:
        text = response.text
        payload = json.loads(text.split("data:", 1)[1]) if text.startswith("event:") else response.json()
        assert payload.get("jsonrpc") == "2.0" and ("result" in payload or "error" in payload), payload
