"""Past incidents as MCP resources: ``incident://{id}``, listed in pages, read as the REST JSON.

A listing page holds at most ``page_size`` incidents in id order; its ``nextCursor`` is the last id of
the page, encoded. Paging by id rather than by position keeps a listing consistent across an index
swap: the next page starts after the last id seen, whatever was added or removed meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import heapq

from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ListResourcesResult, Resource

from assistant.corpus.facts import incident_facts
from assistant.schemas import IncidentDetail
from assistant.search.index import IncidentRecord
from assistant.service import Assistant

SCHEME = "incident"
URI_TEMPLATE = f"{SCHEME}://{{id}}"
MIME_TYPE = "application/json"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_CURSOR_PREFIX = "after:"
_MAX_CURSOR_CHARS = 200  # an encoded id (ids are at most 64 characters) is far shorter


def incident_uri(incident_id: str) -> str:
    return f"{SCHEME}://{incident_id}"


def check_page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size


def incident_detail(assistant: Assistant, incident_id: str) -> IncidentDetail:
    """The incident as ``GET /v1/incidents/{id}`` answers it: the label as written, the headline
    facts (title, kind, severity, start, duration, root cause, fixes) and its passages."""
    record = assistant.incident(incident_id)
    return IncidentDetail.of(record, assistant.index.passages_of(record.id))


def describe(record: IncidentRecord) -> str:
    """One line for a listing: title, kind and the day it started."""
    kind = f"{record.category}/{record.subtype or '-'}" if record.category else "uncategorised"
    started = incident_facts(record.raw).started
    return f"{record.title} ({kind}, started {started[:10] if started else 'on an unknown date'})"


def as_resource(record: IncidentRecord) -> Resource:
    return Resource(
        uri=incident_uri(record.id),
        name=record.id,
        title=record.title,
        description=describe(record),
        mime_type=MIME_TYPE,
    )


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{last_id}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The last id of the previous page, or an invalid-params error that says how to start again."""
    refused = MCPError(
        code=INVALID_PARAMS,
        message="invalid cursor for resources/list; pass a nextCursor unchanged, or list again without one",
    )
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError):
        raise refused from None
    if not text.startswith(_CURSOR_PREFIX):
        raise refused
    return text.removeprefix(_CURSOR_PREFIX)


def list_page(assistant: Assistant, cursor: str | None, *, page_size: int) -> ListResourcesResult:
    """One page of incidents in id order, after the cursor's id. Linear in the corpus (one pass that
    keeps the ``page_size + 1`` smallest ids), so no sorted copy of every id is held or rebuilt."""
    after = decode_cursor(cursor) if cursor is not None else None
    incidents = assistant.index.incidents
    ids = heapq.nsmallest(page_size + 1, (i for i in incidents if after is None or i > after))
    page = ids[:page_size]
    more = len(ids) > page_size
    return ListResourcesResult(
        resources=[as_resource(incidents[i]) for i in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )
