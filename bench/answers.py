"""Answer quality and latency per diagnosis backend, on the labelled eval queries.

    .venv/bin/python bench/answers.py                                  # extractive + llamacpp, 12 queries
    .venv/bin/python bench/answers.py --backends extractive --limit 0  # every labelled query
    .venv/bin/python bench/answers.py --queries eval/parts/hard.jsonl --limit 6

Builds a fresh index of labels/ (bundled MiniLM encoder) in a temp folder, then asks each backend the
same queries (cases with at least one relevant incident; an even spread when --limit is set) and
prints one row per answer and a summary per backend. Quality columns:

- answered  the backend's own answer was used (not replaced by the extractive fallback)
- cited     a relevant incident is among the answer's valid citations
- top       the first hypothesis rests on a relevant incident
- cause     share of the relevant incident's root-cause words (4+ letters) found in the hypotheses
            and summary: does the answer say *why*, not only *which*
- invalid   citations of incidents that were not retrieved (removed)

Rows are also written to bench/results/answers-<time>.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.diagnosis.results import Diagnosis  # noqa: E402
from assistant.service import build  # noqa: E402

SEED_QUERIES = [  # the six seed labels, described in other words (as in tests/unit/search/test_search.py)
    ("seed-1", "java service heap keeps climbing for days, GC can't free it, pods get OOM killed"),
    ("seed-2", "envoy sidecars pegged on cpu, latency between services 4x, retransmits up"),
    ("seed-3", "kubectl is super slow, apiserver requests take seconds, etcd disk busy"),
    ("seed-4", "we got paged 1000 times in an hour, alertmanager is drowning"),
    ("seed-5", "nobody got paged for 8 hours although things were crashlooping; webhook TLS errors"),
    ("seed-6", "order consumers falling behind on kafka, lag 200k, db pool maxed out"),
]
STOP = {"that", "with", "from", "this", "were", "when", "which", "their", "than", "into", "each", "only"}


@dataclass
class Row:
    id: str
    backend: str
    answered_by: str
    answered: bool
    cited: bool
    top: bool
    cause: float
    invalid: int
    seconds: float
    first_chunk: float
    fallback_reason: str | None
    summary: str = ""
    streamed: str = ""
    causes: tuple[str, ...] = ()


def load_cases(path: Path | None) -> list[tuple[str, str, list[str]]]:
    candidates = [path] if path else [ROOT / "eval" / "queries.jsonl"]
    for p in candidates:
        if p and p.exists():
            cases = []
            for line in p.read_text().splitlines():
                if line.strip():
                    obj = json.loads(line)
                    if obj.get("relevant"):
                        cases.append((str(obj["id"]), str(obj["query"]), list(obj["relevant"])))
            return cases
    return [(i, q, [f"perf-202503160{i[-1]}"]) for i, q in SEED_QUERIES]


def spread(items: list[Any], limit: int) -> list[Any]:
    if limit <= 0 or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9_-]{3,}", text.lower()) if w not in STOP}


def score(case_id: str, relevant: list[str], d: Diagnosis, backend: str, assistant: Assistant) -> Row:
    root = " ".join(
        str((assistant.incident(r).raw.get("analysis") or {}).get("root_cause", ""))
        for r in relevant
        if r in assistant.index.incidents
    )
    said = " ".join([d.summary, *(h.cause for h in d.hypotheses)])
    target = words(root)
    return Row(
        id=case_id,
        backend=backend,
        answered_by=d.backend,
        answered=d.backend == backend,
        cited=any(r in d.citations for r in relevant),
        top=bool(d.hypotheses) and any(r in d.hypotheses[0].incident_ids for r in relevant),
        cause=round(len(target & words(said)) / len(target), 2) if target else 0.0,
        invalid=len(d.invalid_citations),
        seconds=0.0,
        first_chunk=0.0,
        fallback_reason=d.fallback_reason,
        summary=d.summary,
        causes=tuple(h.cause for h in d.hypotheses),
    )


def run(assistant: Assistant, case: tuple[str, str, list[str]], backend: str) -> Row:
    case_id, query, relevant = case
    started = time.perf_counter()
    first = None
    final: Diagnosis | None = None
    streamed: list[str] = []
    for part in assistant.diagnose_stream(query, backend=backend):
        if isinstance(part, Diagnosis):
            final = part
            continue
        streamed.append(part)
        if first is None:
            first = time.perf_counter() - started
    elapsed = time.perf_counter() - started
    assert final is not None
    row = score(case_id, relevant, final, backend, assistant)
    row.seconds = round(elapsed, 2)
    row.first_chunk = round(first if first is not None else elapsed, 2)
    row.streamed = "".join(streamed)[:1000]
    return row


def summarise(rows: list[Row]) -> list[str]:
    lines = [
        "| backend | answers | answered itself | cited relevant | top hypothesis relevant | cause words "
        "| invalid citations | median s | p90 s | median first chunk s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend in dict.fromkeys(r.backend for r in rows):
        rs = [r for r in rows if r.backend == backend]
        secs = sorted(r.seconds for r in rs)
        p90 = secs[min(len(secs) - 1, int(0.9 * len(secs)))]
        lines.append(
            f"| {backend} | {len(rs)} | {sum(r.answered for r in rs) / len(rs):.0%} "
            f"| {sum(r.cited for r in rs) / len(rs):.0%} | {sum(r.top for r in rs) / len(rs):.0%} "
            f"| {statistics.mean(r.cause for r in rs):.2f} | {sum(r.invalid for r in rs)} "
            f"| {statistics.median(secs):.2f} | {p90:.2f} "
            f"| {statistics.median(r.first_chunk for r in rs):.2f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=Path, help="JSONL gold cases (default: eval/queries.jsonl)")
    parser.add_argument("--backends", default="extractive,llamacpp")
    parser.add_argument("--limit", type=int, default=12, help="queries to ask (0 = all)")
    parser.add_argument("--labels", type=Path, default=ROOT / "labels")
    parser.add_argument("--context-tokens", type=int, default=4096)
    parser.add_argument("--prompts-dir", type=Path, help="prompt templates to use (ASSISTANT_PROMPTS_DIR)")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds an answer may take (ASSISTANT_LLM_TIMEOUT)"
    )
    args = parser.parse_args()

    cases = spread(load_cases(args.queries), args.limit)
    work = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    settings = Settings(
        labels_dir=args.labels,
        index_dir=work / "index",
        data_dir=work / "data",
        context_tokens=args.context_tokens,
        llm_timeout=args.timeout,
        prompts_dir=args.prompts_dir,
    )
    started = time.perf_counter()
    build(settings)
    assistant = Assistant.from_settings(settings)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"index built in {time.perf_counter() - started:.1f}s; {len(cases)} queries; load average {load}")

    rows: list[Row] = []
    out = ROOT / "bench" / "results" / f"answers-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    print("| query | backend | answered by | cited | top | cause | invalid | s | first chunk s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with out.open("w") as f:
        for backend in args.backends.split(","):
            started = time.perf_counter()
            assistant.diagnoser().model(backend) if backend != "extractive" else None
            if backend != "extractive":
                print(f"({backend} loaded in {time.perf_counter() - started:.1f}s)", flush=True)
            for case in cases:
                row = run(assistant, case, backend)
                rows.append(row)
                f.write(json.dumps(asdict(row)) + "\n")
                f.flush()
                print(
                    f"| {row.id} | {row.backend} | {row.answered_by} | {'yes' if row.cited else 'no'} "
                    f"| {'yes' if row.top else 'no'} | {row.cause:.2f} | {row.invalid} | {row.seconds:.2f} "
                    f"| {row.first_chunk:.2f} |",
                    flush=True,
                )
    print()
    print("\n".join(summarise(rows)))
    reasons = sorted({r.fallback_reason for r in rows if r.fallback_reason})
    if reasons:
        print("\nfallback reasons:")
        for reason in reasons:
            print(f"- {reason} ({sum(r.fallback_reason == reason for r in rows)}x)")
    print(f"\nrows written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
