"""Retrieval choices on the dev set and leave-one-out, side by side, paired against the default.

Every variant is a settings change run through the service's own search (``Assistant.search``) over the
current index and encoder, so what wins here is what ships. Metric per query: reciprocal rank of the
first incident of the gold subtype (MRR), hit@1 and hit@5; W/L counts the queries a variant ranks
better / worse than the default. A choice counts as better only when the dev set (and its production
slice) and leave-one-out move the same way.

    .venv/bin/python bench/retrieval_choices.py [--queries eval/real.jsonl] [--only NAME ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from assistant.evaluation.cases import eval_file, load_cases
from assistant.evaluation.dev_run import DevCase, dev_cases, loo_cases
from assistant.service import Assistant

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no subtype prior": {"subtype_prior": 0.0},
    "subtype prior 0.2": {"subtype_prior": 0.2},
    "subtype prior 0.6": {"subtype_prior": 0.6},
    "no name expansion": {"expand_names": False},
    "no prior, no expansion": {"subtype_prior": 0.0, "expand_names": False},
    "symptom+evidence passages": {"search_kinds": ["symptom", "evidence"]},
    "rrf k 20": {"rrf_k": 20},
    "candidates 100": {"candidates": 100},
}


def ranks(a: Assistant, cases: list[DevCase]) -> np.ndarray:
    out = []
    for c in cases:
        result, _ = a.search(c.query, 10, exclude=set(c.exclude))
        rank = next((n for n, m in enumerate(result.matches, 1) if m.subtype == c.subtype), None)
        out.append(rank or 99)
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=Path, default=eval_file("real.jsonl"))
    parser.add_argument("--only", nargs="*", help="Variants to run (the default always runs).")
    args = parser.parse_args()
    base = Assistant.from_settings()
    dev = [c for c in dev_cases(load_cases(args.queries)) if c.subtype]
    sets = {"dev": dev, "production": [c for c in dev if c.slices.get("origin") == "production"]}
    sets["loo"] = loo_cases(base)
    names = [n for n in VARIANTS if n == "default" or not args.only or n in args.only]
    results: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        a = Assistant(
            settings=base.settings.model_copy(update=VARIANTS[name]), index=base.index, encoder=base.encoder
        )
        results[name] = {s: ranks(a, cases) for s, cases in sets.items()}
    table = Table(title="Retrieval choices (gold = subtype; W/L = queries ranked better/worse than default)")
    table.add_column("variant")
    for s, cases in sets.items():
        for metric in ("hit@1", "hit@5", "MRR", "W/L"):
            table.add_column(f"{s} ({len(cases)}) {metric}" if metric == "hit@1" else metric, justify="right")
    for name in names:
        cells = []
        for s in sets:
            r, d = results[name][s], results["default"][s]
            rr, drr = 1.0 / r, 1.0 / d
            cells += [
                f"{(r == 1).mean():.3f}",
                f"{(r <= 5).mean():.3f}",
                f"{rr.mean():.3f}",
                f"{int((rr > drr).sum())}/{int((rr < drr).sum())}",
            ]
        table.add_row(name, *cells)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
