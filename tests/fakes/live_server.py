"""Run an ASGI app with uvicorn on a real socket (127.0.0.1, free port) in a thread, for HTTP tests.

The socket is bound and listening before the thread starts, so a client can connect right away:
the connection waits in the backlog until uvicorn accepts it. No sleeps, no polling.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class LiveServer:
    app: FastAPI
    url: str

    def wait_loaded(self, timeout: float = 60) -> None:
        assert self.app.state.runtime.wait_loaded(timeout), "the index did not finish loading"


def free_port() -> int:
    """A port nothing listens on now (closed again on return)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
