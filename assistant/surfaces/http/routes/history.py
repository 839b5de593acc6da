"""``GET /v1/history``: the kinds of problem that recurred over a window (``assistant history``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BeforeValidator

from assistant.live import Runtime
from assistant.search.results import History
from assistant.surfaces.web.auth import Authorized
from assistant.surfaces.web.errors import ERRORS


def _not_a_number(value: object) -> object:
    """A date and time as ISO 8601 text, never a bare number read as seconds since 1970."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).lstrip("-").isdigit():
        raise ValueError("expected an ISO 8601 date or date and time, such as 2026-01-31")
    return value


router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Authorized])


@router.get("/history", response_model=History, responses=ERRORS)
def history(
    request: Request,
    days: Annotated[int, Query(ge=1, le=36500, description="How many days back to look.")] = 90,
    min_count: Annotated[
        int, Query(ge=1, le=1000, description="Incidents in the window a kind needs to be listed.")
    ] = 2,
    until: Annotated[
        datetime | None,
        BeforeValidator(_not_a_number),
        Query(description="End of the window (ISO 8601; default: now)."),
    ] = None,
) -> History:
    """Recurring problem families: each kind of problem with at least `min_count` incidents in the
    window, most frequent first, with when each happened, what fixed it and whether that held."""
    runtime: Runtime = request.app.state.runtime
    return runtime.assistant().history(days=days, min_count=min_count, until=until)
