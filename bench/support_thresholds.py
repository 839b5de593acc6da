"""How the answer checks' thresholds sit on the labels: support of each label's root cause and first
fix in its own passages and in every other label's, and the overlap of every pair of root causes.

    .venv/bin/python bench/support_thresholds.py [labels_dir]

Prints the counts docs/evaluation.md quotes under *Grounding* (``support.SUPPORTED``, ``support.SAME_CAUSE``).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from assistant.corpus.loading import load_labels
from assistant.corpus.passages import build_passages
from assistant.diagnosis.extractive import _actions
from assistant.diagnosis.support import SAME_CAUSE, SUPPORTED, support, terms


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("labels")
    rows = []
    for loaded in load_labels(root).labels:
        passages = {p.kind: terms(p.text) for p in build_passages(loaded.label, loaded.raw)}
        cause = str((loaded.raw.get("analysis") or {}).get("root_cause") or loaded.label.title)
        fixes = _actions(loaded.raw, "immediate")[:1] + _actions(loaded.raw, "fix", "solution")[:1]
        rows.append((loaded.label.id, cause, passages, fixes))
    print(f"{len(rows)} labels")
    own = [support(c, p["evidence"] | p["resolution"]) for _, c, p, _ in rows]
    own_fix = [support(f, p["resolution"]) for _, _, p, fixes in rows for f in fixes]
    print(f"own root cause support: min {min(s for s in own if s is not None):.2f}")
    print(f"own fix support: min {min(s for s in own_fix if s is not None):.2f} over {len(own_fix)} fixes")
    cause_cross: list[float] = []
    fix_cross: list[float] = []
    for (_, cause, _, fixes), (_, _, other, _) in itertools.permutations(rows, 2):
        if (s := support(cause, other["evidence"] | other["resolution"])) is not None:
            cause_cross.append(s)
        if fixes and (s := support(fixes[0], other["resolution"])) is not None:
            fix_cross.append(s)
    for name, values in (("root cause", cause_cross), ("first fix", fix_cross)):
        for t in (0.5, SUPPORTED, 0.75):
            hits = sum(v >= t for v in values)
            print(f"{name} in another label's passages >= {t}: {hits} of {len(values)}")
    pairs = []
    for (a, ca, _, _), (b, cb, _, _) in itertools.combinations(rows, 2):
        ta, tb = terms(ca), terms(cb)
        if ta and tb:
            pairs.append((min(len(ta & tb) / len(ta), len(ta & tb) / len(tb)), a, b))
    pairs.sort(reverse=True)
    same = sum(p[0] >= SAME_CAUSE for p in pairs)
    print(f"root-cause pairs >= {SAME_CAUSE} (same cause): {same} of {len(pairs)}")
    for score, a, b in pairs[:5]:
        print(f"  {score:.2f} {a} {b}")


if __name__ == "__main__":
    main()
