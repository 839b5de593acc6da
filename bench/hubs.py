"""Hub labels: incidents that come up in the top 5 for many queries of another kind of problem.

Runs every dev-set case and every leave-one-out label query through the service's search (the same
settings as ``assistant eval dev``) and counts, for each incident, how often it is in the top 5 of a query
whose gold subtype differs from its own. Prints the worst hubs with what might explain them: how long
their passages are, how many symptom lines they have, and which query words they share most often.

    .venv/bin/python bench/hubs.py [--queries eval/real.jsonl] [--top 15]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.evaluation.cases import eval_file, load_cases
from assistant.evaluation.dev_run import dev_cases, loo_cases
from assistant.service import Assistant

TOP = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=Path, default=eval_file("real.jsonl"))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    a = Assistant.from_settings()
    cases = [*dev_cases(load_cases(args.queries)), *loo_cases(a)]
    wrong: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    words: dict[str, Counter[str]] = {}
    for case in cases:
        if not case.subtype:
            continue
        result = a.similar(case.query, TOP, exclude=set(case.exclude))
        for m in result.matches:
            shown[m.id] += 1
            if m.subtype != case.subtype:
                wrong[m.id] += 1
                for s in m.reasons.shared:
                    words.setdefault(m.id, Counter()).update(s.query.split())
    n = len(cases)
    fair = n * TOP / max(1, len(a.index.incidents))
    table = Table(title=f"Hubs over {n} queries (an incident's fair share of top-{TOP} places: {fair:.1f})")
    for column in (
        "incident",
        "subtype",
        "wrong-kind top 5",
        "all top 5",
        "chars",
        "symptoms",
        "shared words",
    ):
        table.add_column(column)
    for incident, count in wrong.most_common(args.top):
        record = a.incident(incident)
        symptoms = record.raw.get("symptoms") if isinstance(record.raw.get("symptoms"), list) else []
        chars = sum(len(p.text) for p in a.index.passages_of(incident))
        common = ", ".join(w for w, _ in words.get(incident, Counter()).most_common(5))
        table.add_row(
            incident,
            record.subtype or "-",
            str(count),
            str(shown[incident]),
            str(chars),
            str(len(symptoms)),
            common,
        )
    Console().print(table)
    lengths = sorted((sum(len(p.text) for p in a.index.passages_of(i)), wrong[i]) for i in a.index.incidents)
    half = len(lengths) // 2
    short, long = lengths[:half], lengths[half:]
    print(
        f"wrong-kind top-5 places per incident: shorter half {sum(w for _, w in short) / len(short):.2f}, "
        f"longer half {sum(w for _, w in long) / len(long):.2f}"
    )


if __name__ == "__main__":
    main()
