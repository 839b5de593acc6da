"""Server-sent events framing."""

from __future__ import annotations

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SSE_MEDIA_TYPE = "text/event-stream"


def sse(data: str, *, event: str | None = None) -> str:
    """One event; multi-line data becomes several ``data:`` lines, as the spec requires."""
    head = f"event: {event}\n" if event else ""
    body = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"{head}{body}\n"


def wants_stream(stream_flag: bool, accept: str | None) -> bool:
    return stream_flag or SSE_MEDIA_TYPE in (accept or "")
