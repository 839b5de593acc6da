"""How much runs at once: searches per process (``ASSISTANT_SEARCH_THREADS``) and server processes
(``assistant serve --workers``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import numpy as np

from assistant.live import Runtime
from assistant.metrics import Metrics
from assistant.search.encoders import Encoder, make_encoder
from assistant.service import Assistant
from assistant.settings import Settings
from tests.fakes.live_server import free_port


class CountingEncoder:
    """The fake encoder, slowed down, counting how many encodes run at the same time."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.id, self.dim = inner.id, inner.dim
        self.runtime, self.quantization = inner.runtime, inner.quantization
        self.active = self.most = 0
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.05)
        with self._lock:
            self.active -= 1
        return self.inner.encode(texts)


def most_at_once(built: Settings, search_threads: int) -> int:
    settings = built.model_copy(update={"search_threads": search_threads})
    encoder = CountingEncoder(make_encoder("fake"))
    assistant = Assistant.from_settings(settings, encoder=encoder)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: assistant.similar(f"pods OOMKilled {i}"), range(16)))
    assert all(r.matches for r in results)
    return encoder.most


def test_search_threads_bounds_the_searches_running_at_once(built: Settings) -> None:
    assert most_at_once(built, 2) == 2
    assert most_at_once(built, 8) > 2, "without the bound the 8 callers overlap"


def test_the_service_runs_search_threads_searches_at_once_in_arrival_order(built: Settings) -> None:
    runtime = Runtime(built.model_copy(update={"search_threads": 2}), metrics=Metrics())
    runtime.load()
    lock = threading.Lock()
    started: list[int] = []
    active = most = 0

    def work(i: int, assistant: Assistant) -> str:
        nonlocal active, most
        with lock:
            started.append(i)
            active += 1
            most = max(most, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return assistant.similar(f"pods OOMKilled {i}").matches[0].id

    async def requests() -> list[str]:
        found = [""] * 10
        async with anyio.create_task_group() as group:
            for i in range(10):

                async def one(i: int = i) -> None:
                    found[i] = await runtime.search(lambda assistant: work(i, assistant))

                group.start_soon(one)
                await anyio.sleep(0.001)  # arrive one after the other
        return found

    found = anyio.run(requests)
    assert all(found)
    assert most == 2, "no more than search_threads run at once"
    # First come, first served: two admitted together may start their threads in either order.
    assert all(abs(position - i) <= 1 for position, i in enumerate(started)), started


def test_search_threads_defaults_to_one_more_than_the_cpus_the_process_may_use() -> None:
    assert Settings().search_threads == len(os.sched_getaffinity(0)) + 1


def test_serve_with_two_workers_answers_from_two_processes(built: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_ENCODER": "fake",
        "ASSISTANT_LABELS_DIR": str(built.labels_dir),
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-c", "from assistant.surfaces.cli import main; main()", "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2", "--index", str(built.index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids: set[int] = set()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 90
            while len(pids) < 2 and time.monotonic() < deadline:
                try:
                    # a new connection each time, so the kernel spreads them over the workers
                    ready = client.get("/readyz", headers={"Connection": "close"})
                    health = client.get("/healthz", headers={"Connection": "close"})
                except httpx.TransportError:
                    time.sleep(0.2)
                    continue
                if ready.status_code == 200:
                    pids.add(health.json()["pid"])
                else:
                    time.sleep(0.2)
            found = client.post("/v1/similar", json={"query": "pods OOMKilled"}).json()
        assert found["matches"], found
        assert len(pids) == 2, f"answers came from {pids}"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Traceback" not in err, err
