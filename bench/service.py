"""Service load benchmark: drive a running server over HTTP with a bounded number of requests in flight
and print throughput and latency percentiles for /v1/similar and /v1/diagnose (extractive backend).

Start the server first (`make run`, or `assistant serve`), then:

    .venv/bin/python bench/service.py                                  # 50 concurrent, 5,000 each
    .venv/bin/python bench/service.py --requests 500 --concurrency 10  # quicker
    .venv/bin/python bench/service.py --url http://127.0.0.1:8000 --api-key KEY

Queries cycle through eval/queries.jsonl (or a built-in list). Any non-2xx answer or transport error
counts as an error; the script exits 1 if there was one. The client runs on the same machine as the
server, so on a small box the numbers include the client's own CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_QUERIES = [
    "checkout p99 went from 150 ms to 2.5 s after the deploy, pods OOMKilled",
    "kafka consumer lag 200k and growing, db connection pool maxed out",
    "etcd fsync slow, kubectl hangs, apiserver latency up",
    "CoreDNS timeouts after node pool upgrade, intermittent 5s lookups",
    "alertmanager sent 3000 pages in ten minutes, most of them duplicates",
]

console = Console(width=120)


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def load_queries(path: Path) -> list[str]:
    if not path.exists():
        return FALLBACK_QUERIES
    queries = [json.loads(line)["query"] for line in path.open() if line.strip()]
    return queries or FALLBACK_QUERIES


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


async def drive(
    client: httpx.AsyncClient,
    *,
    name: str,
    path: str,
    body: Any,
    queries: list[str],
    requests: int,
    concurrency: int,
) -> Run:
    run = Run(name)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            payload = body(queries[i % len(queries)])
            start = time.perf_counter()
            try:
                response = await client.post(path, json=payload)
            except httpx.HTTPError as exc:
                run.error(type(exc).__name__)
                return
            took = time.perf_counter() - start
            if response.status_code // 100 != 2:
                run.error(f"HTTP {response.status_code}")
                return
            run.latencies.append(took)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(requests)))
    run.wall = time.perf_counter() - start
    return run


async def wait_ready(client: httpx.AsyncClient, *, seconds: float) -> httpx.Response | None:
    """/readyz, polled while the server starts or loads its model."""
    deadline = time.monotonic() + seconds
    ready = None
    while time.monotonic() < deadline:
        try:
            ready = await client.get("/readyz")
        except httpx.TransportError:
            ready = None
        if ready is not None and ready.status_code == 200:
            break
        await asyncio.sleep(0.5)
    return ready


async def main(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    queries = load_queries(args.queries)
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=args.timeout
    ) as client:
        ready = await wait_ready(client, seconds=args.wait)
        if ready is None or ready.status_code != 200:
            console.print(f"[red]server not ready at {args.url}:[/] {ready.text if ready else 'no answer'}")
            return 1
        info = ready.json()["index"]
        console.print(
            f"{args.url}: {info['incidents']} incidents, {info['passages']} passages, encoder "
            f"{info['encoder']}; {args.requests} requests per endpoint, {args.concurrency} in flight, "
            f"{len(queries)} distinct queries"
        )
        plans = {
            "similar": ("/v1/similar", lambda q: {"query": q, "k": 5}),
            "diagnose": ("/v1/diagnose", lambda q: {"query": q, "k": 5, "backend": "extractive"}),
        }
        runs = []
        for name in args.endpoints:
            path, body = plans[name]
            # warm-up: first requests pay for lazy imports (prompts, tokenizer) and caches
            await drive(client, name=name, path=path, body=body, queries=queries, requests=20, concurrency=4)
            runs.append(
                await drive(
                    client,
                    name=name,
                    path=path,
                    body=body,
                    queries=queries,
                    requests=args.requests,
                    concurrency=args.concurrency,
                )
            )

    table = Table(title="incident-assistant service benchmark")
    for column in (
        "endpoint",
        "requests",
        "errors",
        "req/s",
        "mean ms",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    failed = False
    for run in runs:
        ms = [x * 1000 for x in run.latencies]
        errors = sum(run.errors.values())
        failed |= errors > 0
        if not ms:
            table.add_row(f"POST /v1/{run.name}", str(errors), str(errors), "-", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            f"POST /v1/{run.name}",
            str(len(ms) + errors),
            str(errors) if not errors else f"[red]{errors}[/]",
            f"{len(ms) / run.wall:.1f}",
            f"{statistics.fmean(ms):.1f}",
            f"{percentile(ms, 50):.1f}",
            f"{percentile(ms, 95):.1f}",
            f"{percentile(ms, 99):.1f}",
            f"{max(ms):.1f}",
        )
    console.print(table)
    for run in runs:
        if run.errors:
            console.print(f"[red]{run.name} errors:[/] {run.errors}")
    return 1 if failed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=5000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight at once")
    parser.add_argument(
        "--endpoints", nargs="+", default=["similar", "diagnose"], choices=["similar", "diagnose"]
    )
    parser.add_argument("--queries", type=Path, default=ROOT / "eval" / "queries.jsonl")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for /readyz")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
