"""A running service switches to a new index build by itself: loaded beside the old one and swapped
atomically, under load with no failed request; a broken build is refused and the old one keeps serving."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import httpx

from assistant.search.index import current_dir
from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import LiveServer, serve

NEW_ID = "perf-2099010101"


def add_label(settings: Settings, incident_id: str = NEW_ID) -> Path:
    source = next(settings.labels_dir.rglob("perf-2025031603.json"))
    doc = json.loads(source.read_text())
    doc["perf_observation"] = incident_id
    target = source.parent / f"{incident_id}.json"
    target.write_text(json.dumps(doc))
    return target


def point_current_at_a_broken_build(index_dir: Path) -> str:
    """A copy of the live build with its FAISS file truncated, made current as a build would."""
    live = index_dir / os.readlink(current_dir(index_dir))
    broken = index_dir / "29991231T235959.000000-broken"
    shutil.copytree(live, broken)
    (broken / "dense.faiss").write_bytes(b"not faiss")
    os.symlink(broken.name, index_dir / ".current-test")
    os.replace(index_dir / ".current-test", current_dir(index_dir))
    return broken.name


class Load:
    """Clients sending searches, incident lookups and diagnoses until stopped; every non-200 kept."""

    def __init__(self, live: LiveServer, *, clients: int = 3) -> None:
        self.live = live
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.done = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(clients)]

    def run(self, n: int) -> None:
        requests = [
            ("POST", "/v1/similar", {"query": "etcd fsync slow, kubectl hangs", "k": 3}),
            ("GET", "/v1/incidents/perf-2025031606", None),
            ("POST", "/v1/diagnose", {"query": "kafka consumer lag, db pool maxed"}),
        ]
        with httpx.Client(base_url=self.live.url, timeout=60) as http:
            i = n
            while not self.stop.is_set() and i < 5_000:
                method, path, body = requests[i % len(requests)]
                response = http.request(method, path, json=body)
                with self.lock:
                    self.done += 1
                    if response.status_code != 200:
                        self.errors.append(f"{path} {response.status_code} {response.text[:200]}")
                i += 1

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def test_new_builds_are_swapped_in_under_load_and_a_broken_one_is_refused(settings: Settings) -> None:
    first = build(settings).manifest.build_id
    quiet = settings.model_copy(update={"index_reload_seconds": 0})  # swaps happen on /readyz only
    with serve(create_app(quiet)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        live.wait_loaded()
        with Load(live) as load:
            add_label(settings)
            assert http.get(f"/v1/incidents/{NEW_ID}").status_code == 404
            second = build(settings).manifest.build_id
            ready = http.get("/readyz").json()
            assert ready["index"]["build_id"] == second != first
            assert ready["index"]["incidents"] == 7 and ready["stale_files"] == 0
            assert http.get(f"/v1/incidents/{NEW_ID}").status_code == 200

            broken = point_current_at_a_broken_build(settings.index_dir)
            ready = http.get("/readyz").json()
            assert ready["status"] == "ready" and ready["index"]["build_id"] == second
            assert ready["refused_build"] == broken
            assert broken in ready["warning"] and f"still serving {second}" in ready["warning"]
            assert http.get(f"/v1/incidents/{NEW_ID}").status_code == 200

            third = build(settings).manifest.build_id
            ready = http.get("/readyz").json()
            assert ready["index"]["build_id"] == third and ready["refused_build"] is None
            while load.done < 60 and not load.errors:  # let the load run past the swaps
                time.sleep(0.05)
        assert load.errors == [], load.errors[:5]
        assert load.done >= 60


def test_readyz_counts_stale_files_now(settings: Settings) -> None:
    build(settings)
    with serve(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        live.wait_loaded()
        assert http.get("/readyz").json()["stale_files"] == 0
        add_label(settings)
        stale = http.get("/readyz").json()
        assert stale["stale_files"] == 1 and "assistant index build" in stale["warning"]
        assert "assistant_index_stale_files 1.0" in http.get("/metrics").text


def test_the_watcher_loads_a_new_build_without_any_request(settings: Settings) -> None:
    build(settings)
    eager = settings.model_copy(update={"index_reload_seconds": 0.05})
    with serve(create_app(eager)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        live.wait_loaded()
        add_label(settings)
        build(settings)
        deadline = time.monotonic() + 30
        while http.get(f"/v1/incidents/{NEW_ID}").status_code != 200:
            assert time.monotonic() < deadline, "the new build was not loaded"
            time.sleep(0.05)
