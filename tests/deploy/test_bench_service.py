"""bench/service.py against a real server on 127.0.0.1: every request is counted, a run with any
failed answer exits 1 and names the failure, and requests the server sheds are counted apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve

BENCH = Path(__file__).resolve().parents[2] / "bench" / "service.py"


def run_bench(url: str, *extra: str, concurrency: int = 3) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        str(BENCH),
        "--url",
        url,
        "--requests",
        "12",
        "--concurrency",
        str(concurrency),
    ]
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
    requests, errors, shed, rate = cells(row)[1:5]
    assert (requests, errors, shed) == ("12", "0", "0.0 %") and float(rate) > 0
    assert refused.returncode == 1
    assert "'HTTP 401': 12" in refused.stdout


def test_bench_counts_shed_requests_apart_from_errors(built: Settings) -> None:
    settings = built.model_copy(update={"max_in_progress": 1})
    with serve(create_app(settings)) as live:
        live.wait_loaded()
        result = run_bench(live.url, concurrency=6)
    assert result.returncode == 0, result.stdout + result.stderr  # a 429 is not a failure
    row = next(line for line in result.stdout.splitlines() if "POST /v1/similar" in line)
    requests, errors, shed = cells(row)[1:4]
    assert (requests, errors) == ("12", "0")
    assert 0 < float(shed.removesuffix(" %")) < 100
