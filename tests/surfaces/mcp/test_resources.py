"""Past incidents as MCP resources, through the SDK's own client on both transports: the listing pages
through every indexed incident by cursor, and reading ``incident://{id}`` gives the label on disk."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, Resource

from assistant.search.index import IncidentRecord, load_current
from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.mcp.resources import PAGE_SIZE
from tests.conftest import LABELS
from tests.surfaces.mcp.connect import live_service, over_http, over_stdio

KAFKA = "perf-2025031606"
UNKNOWN = "perf-0000000000"


@pytest.fixture
def committed(tmp_path: Path) -> Settings:
    """The committed labels (more than one default page of them) indexed with the fake encoder."""
    settings = Settings(
        labels_dir=LABELS, index_dir=tmp_path / "index", data_dir=tmp_path / "data", encoder="fake"
    )
    build(settings)
    return settings


def indexed(settings: Settings) -> dict[str, IncidentRecord]:
    return load_current(settings.index_dir).incidents


async def walk(client: Client) -> list[list[Resource]]:
    """Every page of resources/list, following nextCursor until there is none."""
    pages = []
    cursor: str | None = None
    while True:
        page = await client.list_resources(cursor=cursor)
        pages.append(page.resources)
        cursor = page.next_cursor
        if cursor is None or len(pages) > 100:
            return pages


async def exercise(client: Client, *, read: str) -> dict[str, Any]:
    found: dict[str, Any] = {"pages": await walk(client)}
    found["templates"] = (await client.list_resource_templates()).resource_templates
    found["read"] = await client.read_resource(f"incident://{read}")
    found["tool"] = await client.call_tool("get_incident", {"id": read})
    for name, call in {
        "unknown": lambda: client.read_resource(f"incident://{UNKNOWN}"),
        "bad_cursor": lambda: client.list_resources(cursor="not-a-cursor"),
    }.items():
        try:
            await call()
        except MCPError as exc:
            found[name] = exc
    return found


def check(found: dict[str, Any], *, settings: Settings, page_size: int, read: str) -> None:
    incidents = indexed(settings)
    pages: list[list[Resource]] = found["pages"]
    assert len(pages) == math.ceil(len(incidents) / page_size) > 1
    assert all(len(page) == page_size for page in pages[:-1]) and 0 < len(pages[-1]) <= page_size
    listed = [r for page in pages for r in page]
    assert [r.name for r in listed] == sorted(incidents), "every incident once, in id order"
    for resource in listed:
        record = incidents[resource.name]
        started = str(record.raw["timestamp"])[:10]
        assert resource.uri == f"incident://{record.id}" and resource.mime_type == "application/json"
        assert resource.title == record.title
        assert (
            resource.description == f"{record.title} ({record.category}/{record.subtype}, started {started})"
        )

    (template,) = found["templates"]
    assert template.uri_template == "incident://{id}" and template.mime_type == "application/json"

    (content,) = found["read"].contents
    assert content.uri == f"incident://{read}" and content.mime_type == "application/json"
    detail = json.loads(content.text)
    on_disk = json.loads((Path(settings.labels_dir) / detail["file"]).read_text())
    assert detail["id"] == read and detail["label"] == on_disk
    assert (
        detail["title"] == incidents[read].title and detail["root_cause"] == on_disk["analysis"]["root_cause"]
    )
    assert detail == found["tool"].structured_content, "the resource is the get_incident JSON"

    unknown: MCPError = found["unknown"]
    assert unknown.code == INVALID_PARAMS
    assert f"no incident {UNKNOWN!r}" in unknown.message and "resources/list" in unknown.message
    bad_cursor: MCPError = found["bad_cursor"]
    assert bad_cursor.code == INVALID_PARAMS and "without one" in bad_cursor.message


def test_incidents_over_stdio_in_default_pages(committed: Settings) -> None:
    """The committed corpus: several pages of the default size, read back as the files on disk."""
    second_page_first = sorted(indexed(committed))[PAGE_SIZE]

    async def run(client: Client) -> dict[str, Any]:
        return await exercise(client, read=second_page_first)

    check(over_stdio(committed, run), settings=committed, page_size=PAGE_SIZE, read=second_page_first)


def test_incidents_over_http_in_small_pages(built: Settings) -> None:
    """The six seed incidents in pages of two: the page size is the endpoint's parameter."""

    async def run(client: Client) -> dict[str, Any]:
        return await exercise(client, read=KAFKA)

    with live_service(built.model_copy(update={"mcp_page_size": 2})) as live:
        found = {mode: over_http(live.url, run, mode=mode) for mode in ("auto", "legacy")}
    for answers in found.values():  # clients of the 2026 protocol and of the handshake era alike
        check(answers, settings=built, page_size=2, read=KAFKA)


def test_a_listing_continues_after_its_last_id_across_an_index_swap(built: Settings) -> None:
    """A cursor names the last id seen, not a position: after a rebuild that drops an incident from the
    first page, the next page still starts right after the last incident the client saw."""
    ids = sorted(indexed(built))
    quiet = built.model_copy(update={"index_reload_seconds": 0})  # swaps happen on /readyz only

    with live_service(quiet.model_copy(update={"mcp_page_size": 3})) as live:

        async def run(client: Client) -> tuple[list[str], list[str], list[str]]:
            first = await client.list_resources()
            next(Path(built.labels_dir).rglob(f"{ids[0]}.json")).unlink()
            build(built)
            assert httpx2.get(live.url + "/readyz").json()["index"]["incidents"] == len(ids) - 1
            second = await client.list_resources(cursor=first.next_cursor)
            again = await client.list_resources()
            return (
                [r.name for r in first.resources],
                [r.name for r in second.resources],
                [r.name for r in again.resources],
            )

        first, second, again = over_http(live.url, run)
    assert first == ids[:3] and again == ids[1:4], "the new build is the one listed"
    assert second == ids[3:6]
