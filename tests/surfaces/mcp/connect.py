"""The official SDK's own client, connected to the server over one of its two transports: stdio
(``assistant mcp`` in a subprocess, as a desktop assistant starts it) or streamable HTTP at ``/mcp`` on
the service, on a real socket on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

import anyio
from fastapi import FastAPI
from mcp import Client, StdioServerParameters

from assistant.live import Runtime
from assistant.metrics import Metrics
from assistant.settings import Settings
from assistant.surfaces.http.app import create_api
from assistant.surfaces.mcp.endpoint import McpEndpoint
from tests.fakes.live_server import LiveServer, serve

T = TypeVar("T")
Transport = Literal["stdio", "http"]
TRANSPORTS: list[Transport] = ["stdio", "http"]
TIMEOUT = 120


def stdio_server(settings: Settings) -> StdioServerParameters:
    """``assistant mcp`` as a client starts it, configured only through its environment."""
    env = {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_ENCODER": "fake",
        "PATH": os.environ.get("PATH", ""),
    }
    return StdioServerParameters(
        command=sys.executable, args=["-c", "from assistant.surfaces.cli import main; main()", "mcp"], env=env
    )


def service(settings: Settings) -> FastAPI:
    """The service with only its REST API and ``/mcp``."""
    runtime = Runtime(settings, metrics=Metrics())
    return create_api(settings, runtime, endpoints=[McpEndpoint(settings, runtime)])


@contextmanager
def live_service(settings: Settings) -> Iterator[LiveServer]:
    with serve(service(settings)) as live:
        live.wait_loaded()
        yield live


def over_stdio(settings: Settings, exercise: Callable[[Client], Awaitable[T]]) -> T:
    async def run() -> T:
        with anyio.fail_after(TIMEOUT):
            async with Client(stdio_server(settings)) as client:
                return await exercise(client)

    return anyio.run(run)


def over_http(url: str, exercise: Callable[[Client], Awaitable[T]], *, mode: str = "auto") -> T:
    """``mode``: "auto" speaks the newest protocol the server offers, "legacy" the initialize handshake."""

    async def run() -> T:
        with anyio.fail_after(TIMEOUT):
            async with Client(url + "/mcp", mode=mode) as client:
                return await exercise(client)

    return anyio.run(run)


def over(transport: Transport, settings: Settings, exercise: Callable[[Client], Awaitable[T]]) -> T:
    """``exercise(client)`` against the server on ``transport`` (for HTTP, a service of its own)."""
    if transport == "stdio":
        return over_stdio(settings, exercise)
    with live_service(settings) as live:
        return over_http(live.url, exercise)
