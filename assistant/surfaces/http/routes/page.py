"""The chat page: static HTML/JS/CSS, no build step. The shell holds no data, so it needs no key;
the API calls it makes are authenticated like any other client's.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


def _page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


@router.get("/")
async def page() -> FileResponse:
    return _page()


@router.get("/incidents/{incident_id}")
async def incident_page(incident_id: str) -> FileResponse:
    """Deep link to one incident (the page reads the id from the path); see ``service.incident_url``."""
    return _page()


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
