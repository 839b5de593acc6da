"""Index builds that die or run at the same time never break the index that serves: a `kill -9`
leaves the old build serving and its leftovers are removed by the next build; concurrent builds of
one folder run one at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from assistant.search.index import BuildReport, build_lock, current_dir, load_current
from assistant.service import build
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.conftest import LABELS
from tests.fakes.live_server import serve


def cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from assistant.surfaces.cli import main; main()", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def staging(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob(".staging-*"))


def test_kill_9_mid_build_keeps_the_old_index_serving_and_the_next_build_cleans_up(
    settings: Settings,
) -> None:
    old = build(settings).manifest.build_id
    with serve(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        live.wait_loaded()
        # The real encoder over the whole committed corpus: embedding takes seconds, long enough to
        # see the build's staging folder appear and kill the process inside it.
        env = {
            "ASSISTANT_LABELS_DIR": str(LABELS),
            "ASSISTANT_INDEX_DIR": str(settings.index_dir),
            "ASSISTANT_ENCODER": "minilm",
        }
        proc = cli(["index", "build"], env)
        deadline = time.monotonic() + 180
        while not staging(settings.index_dir) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.kill()
        proc.communicate(timeout=30)
        assert proc.returncode == -9, "the build was killed, not finished"
        leftovers = staging(settings.index_dir)
        assert leftovers, "the killed build left its staging folder"

        assert os.readlink(current_dir(settings.index_dir)) == old
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["index"]["build_id"] == old
        found = http.post("/v1/similar", json={"query": "etcd fsync slow"})
        assert found.status_code == 200 and found.json()["matches"][0]["id"] == "perf-2025031603"

        new = build(settings).manifest.build_id
        assert not staging(settings.index_dir), "the next build removed the leftovers"
        assert not any(p.name.startswith(".current-") for p in settings.index_dir.iterdir())
        assert new != old and load_current(settings.index_dir).manifest.build_id == new


def test_a_build_waits_for_the_one_holding_the_lock(settings: Settings) -> None:
    env = {
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_ENCODER": "fake",
    }
    settings.index_dir.mkdir(parents=True)
    with build_lock(settings.index_dir):
        proc = cli(["index", "build", "--json"], env)
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the build says it waits
        assert "another build" in line and "waiting" in line
        assert proc.poll() is None and not current_dir(settings.index_dir).exists()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert load_current(settings.index_dir).manifest.build_id == json.loads(out)["build_id"]


def test_concurrent_builds_with_keep_1_leave_a_working_current(settings: Settings) -> None:
    one = settings.model_copy(update={"keep_builds": 1})
    for _ in range(3):
        reports: list[BuildReport] = []
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def run(
            start: threading.Barrier = start,
            reports: list[BuildReport] = reports,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait()
            try:
                reports.append(build(one))
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors
        last = max(reports, key=lambda r: r.manifest.build_id)
        live = load_current(one.index_dir)
        assert live.manifest.build_id == last.manifest.build_id, "the newest reported build serves"
        builds = [
            p.name for p in one.index_dir.iterdir() if not p.name.startswith(".") and not p.is_symlink()
        ]
        assert builds == [last.manifest.build_id]
        assert not staging(one.index_dir)
