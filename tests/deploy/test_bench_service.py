"""bench/service.py against a real server on 127.0.0.1: every request is counted, and a run with any
failed answer exits 1 and names the failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve

BENCH = Path(__file__).resolve().parents[2] / "bench" / "service.py"


def run_bench(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH), "--url", url, "--requests", "12", "--concurrency", "3"]
    command += ["--endpoints", "similar", "--wait", "10", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("│").split("│")]


def test_bench_counts_every_request_and_fails_on_refused_answers(built: Settings) -> None:
    settings = built.model_copy(update={"api_keys": ["bench-key"]})
    with serve(create_app(settings)) as live:
        live.wait_loaded()
        ok = run_bench(live.url, "--api-key", "bench-key")
        refused = run_bench(live.url)  # /readyz answers anyone; /v1/similar wants the key
    assert ok.returncode == 0, ok.stdout + ok.stderr
    row = next(line for line in ok.stdout.splitlines() if "POST /v1/similar" in line)
    requests, errors, rate = cells(row)[1:4]
    assert (requests, errors) == ("12", "0") and float(rate) > 0
    assert refused.returncode == 1
    assert "'HTTP 401': 12" in refused.stdout
