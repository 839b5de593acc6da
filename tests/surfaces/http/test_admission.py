"""Overload sheds instead of queueing: with the limit of searches in progress reached, the next search
gets 429 with Retry-After at once, cheap routes still answer, and the slot comes back when the held
request ends. A diagnosis is held in progress by a model endpoint on 127.0.0.1 that does not answer
until the test lets it go."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve


@contextmanager
def stalled_model() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """An OpenAI-compatible URL whose server accepts a connection and says nothing until released."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    connected, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn, _ = sock.accept()
        connected.set()
        release.wait(30)
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1", connected, release
    finally:
        release.set()
        thread.join(timeout=10)
        sock.close()


def test_a_full_server_sheds_searches_with_retry_after_and_recovers(built: Settings) -> None:
    with stalled_model() as (url, connected, release):
        settings = built.model_copy(
            update={
                "max_in_progress": 1,
                "llm_choices": ["extractive", "openai"],
                "openai_base_url": url,
                "llm_retries": 0,  # released, the endpoint hangs up: the diagnosis falls back at once
            }
        )
        with serve(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
            live.wait_loaded()
            held: list[httpx.Response] = []
            body = {"query": "etcd fsync slow, apiserver latency up", "backend": "openai"}

            def diagnose() -> None:
                with httpx.Client(base_url=live.url, timeout=30) as own:
                    held.append(own.post("/v1/diagnose", json=body))

            worker = threading.Thread(target=diagnose)
            worker.start()
            assert connected.wait(30), "the diagnosis never reached the model endpoint"

            start = time.perf_counter()
            shed = http.post("/v1/similar", json={"query": "CoreDNS timeouts after node upgrade"})
            took = time.perf_counter() - start
            assert shed.status_code == 429, shed.text
            assert took < 1.0  # refused at once, not queued
            assert int(shed.headers["Retry-After"]) >= 1
            error = shed.json()["error"]
            assert error["type"] == "overloaded"
            assert "ASSISTANT_MAX_IN_PROGRESS" in error["message"]
            assert error["hint"].startswith("retry after")
            # Every route that searches is shed; the cheap ones are not.
            chat = {"model": "incident-assistant", "messages": [{"role": "user", "content": "etcd slow"}]}
            assert http.post("/v1/chat/completions", json=chat).status_code == 429
            assert http.get("/healthz").status_code == 200
            assert http.get("/readyz").status_code == 200
            metrics = http.get("/metrics").text
            assert "assistant_requests_in_progress 1.0" in metrics
            assert "assistant_requests_shed_total 2.0" in metrics

            release.set()
            worker.join(timeout=60)
            assert held and held[0].status_code == 200, held  # the held one was answered, not dropped
            again = http.post("/v1/similar", json={"query": "CoreDNS timeouts after node upgrade"})
            assert again.status_code == 200, again.text
            assert "assistant_requests_in_progress 0.0" in http.get("/metrics").text
