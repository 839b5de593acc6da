"""Dev-set metrics: ranking, mechanism and verdict quality of a set of outcomes, by category and by
slice (``origin``, ``sighting``), and the audit of the contradiction rules. Definitions are in
eval/README.md ("Dev-set metrics")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evaluation.answer_metrics import mean
from assistant.evaluation.calibration import auroc, expected_calibration_error, reliability_table
from assistant.evaluation.dev_run import MECHANISM_AT, SLICE_FIELDS, DevOutcome
from assistant.evaluation.latency import latency_summary
from assistant.evaluation.retrieval_run import rounded

WORST = 12
STRICT_NO_AT = 5
"""A "no" is strictly right when no incident of the gold subtype is in the top 5 (what a user sees)."""

# Subtypes that name close mechanisms; a hit on the neighbour is reported apart, never counted as a hit.
NEIGHBOURS: tuple[frozenset[str], ...] = (
    frozenset({"service_mesh_overhead", "service_mesh_latency"}),
    frozenset({"io_bottleneck", "storage_io"}),
    frozenset({"memory_leak", "memory_management"}),
    frozenset({"connection_pool_exhaustion", "connection_handling"}),
)


def neighbours(subtype: str | None) -> set[str]:
    out: set[str] = set()
    for group in NEIGHBOURS:
        if subtype in group:
            out |= group - {subtype}
    return out


def _hit(o: DevOutcome, k: int) -> float:
    rank = o.subtype_rank()
    return 1.0 if rank is not None and rank <= k else 0.0


def verdict_block(
    verdicts: Sequence[str],
    confidences: Sequence[float],
    right: Sequence[bool],
    *,
    any_right: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Verdict quality against "the top match is the same kind of problem" (``right``). ``any_right``:
    some top-k match is the same kind; a "no" is only correct when none is (``no_strict_precision``).
    ``false_no``: the share of "no"s whose first match *was* the same kind (the error on-call pays for)."""
    n = len(verdicts)
    pairs = list(zip(verdicts, right, strict=True))
    yes = [r for v, r in pairs if v == "yes"]
    no = [r for v, r in pairs if v == "no"]
    block: dict[str, Any] = {
        "n": n,
        "yes_share": len(yes) / n if n else None,
        "yes_precision": mean([float(r) for r in yes]) if yes else None,
        "yes_recall": (len([r for r in yes if r]) / sum(right)) if sum(right) else None,
        "maybe_share": sum(1 for v in verdicts if v == "maybe") / n if n else None,
        "no_share": len(no) / n if n else None,
        "no_precision": mean([float(not r) for r in no]) if no else None,
        "false_no": mean([float(r) for r in no]) if no else None,
        "auroc": auroc(list(confidences), list(right)),
        "yes": len(yes),
        "yes_wrong": len([r for r in yes if not r]),
    }
    if any_right is not None:
        strict = [not a for v, a in zip(verdicts, any_right, strict=True) if v == "no"]
        block["no_strict_precision"] = mean([float(x) for x in strict]) if strict else None
    return block


def set_metrics(outcomes: Sequence[DevOutcome]) -> dict[str, Any]:
    """Ranking, mechanism and verdict metrics of one set of outcomes."""
    scored = [o for o in outcomes if o.subtype]
    block: dict[str, Any] = {
        "n": len(outcomes),
        "scored": len(scored),
        "negatives": len(outcomes) - len(scored),
    }
    for k in (1, 3, 5, 10):
        block[f"subtype_hit@{k}"] = mean([_hit(o, k) for o in scored])
    block["subtype_mrr"] = mean([1.0 / r if (r := o.subtype_rank()) else 0.0 for o in scored])
    block["category_hit@3"] = mean(
        [1.0 if o.category in [r.category for r in o.retrieved[:3]] else 0.0 for o in scored if o.category]
    )
    block["neighbour_hit@1"] = mean(
        [1.0 if o.retrieved and o.retrieved[0].subtype in neighbours(o.subtype) else 0.0 for o in scored]
    )
    for k in MECHANISM_AT:
        values = [v for o in scored if (v := o.mechanism.get(f"@{k}")) is not None]
        block[f"mechanism@{k}"] = mean(values) if values else None
    block["verdict"] = verdict_block(
        [o.verdict for o in outcomes],
        [o.confidence for o in outcomes],
        [o.top_right for o in outcomes],
        any_right=[(o.subtype_rank() or 99) <= STRICT_NO_AT for o in outcomes],
    )
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    block["verdicts"] = counts
    table = reliability_table([o.confidence for o in outcomes], [o.top_right for o in outcomes])
    block["verdict"]["ece"] = expected_calibration_error(table)
    block["reliability"] = [
        {"lo": b.lo, "hi": b.hi, "n": b.n, "mean_confidence": b.mean_confidence, "observed": b.observed}
        for b in table
    ]
    return block


def _brief(o: DevOutcome, shown: int = 5) -> dict[str, Any]:
    return {
        "id": o.id,
        "query": o.query,
        "subtype": o.subtype,
        "relevant": [],
        "first_relevant_rank": o.subtype_rank(),
        "verdict": o.verdict,
        "confidence": o.confidence,
        "retrieved": [
            {"id": r.id, "title": r.title, "subtype": r.subtype, "score": r.score, "similarity": r.similarity}
            for r in o.retrieved[:shown]
        ],
    }


def _flat(outcomes: Sequence[DevOutcome]) -> dict[str, Any]:
    block = set_metrics(outcomes)
    verdict = block.pop("verdict")
    block.pop("verdicts")
    block.pop("reliability")
    return block | {f"verdict_{k}": v for k, v in verdict.items() if k != "n"}


def per_slice(dev: Sequence[DevOutcome]) -> dict[str, dict[str, Any]]:
    """The dev-set metrics of each ``origin`` and ``sighting`` value (``origin=production`` ...)."""
    out: dict[str, dict[str, Any]] = {}
    for name in SLICE_FIELDS:
        for value in sorted({o.slices[name] for o in dev if name in o.slices}):
            out[f"{name}={value}"] = _flat([o for o in dev if o.slices.get(name) == value])
    return out


def contradiction_audit(*sets: Sequence[DevOutcome]) -> list[dict[str, Any]]:
    """Each contradiction rule over every (case, retrieved incident) pair where it fires: how often, and
    how often it was right to warn (the incident is not the case's kind of problem)."""
    fired: dict[str, list[bool]] = {}
    every: list[bool] = []
    for outcomes in sets:
        for o in outcomes:
            if not o.subtype:
                continue
            for r in o.retrieved:
                every.append(r.subtype != o.subtype)
                for rule in r.contradiction_rules:
                    fired.setdefault(rule, []).append(r.subtype != o.subtype)
    rows = sorted(fired.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    base = [("(any retrieved incident: the rate a rule must beat)", every)] if every else []
    return [
        {"rule": rule, "fires": len(right), "right": sum(right), "precision": sum(right) / len(right)}
        for rule, right in [*base, *rows]
    ]


def dev_metrics(
    dev: Sequence[DevOutcome], loo: Sequence[DevOutcome], *, answers: dict[str, Any] | None = None
) -> dict[str, Any]:
    per_category: dict[str, dict[str, Any]] = {}
    for cat in sorted({o.category for o in dev if o.category}):
        members = [o for o in dev if o.category == cat]
        per_category[cat] = {k: v for k, v in set_metrics(members).items() if not isinstance(v, dict)}
    metrics: dict[str, Any] = {
        "dev": {**set_metrics(dev), **(answers or {})},
        "per_slice": per_slice(dev),
        "contradiction_audit": contradiction_audit(dev, loo),
        "loo": set_metrics(loo) if loo else {},
        "per_category": per_category,
        "latency_ms": latency_summary([o.latency_ms for o in dev]),
        "wrong_yes": [_brief(o) for o in dev if o.verdict == "yes" and not o.top_right][:WORST],
        "worst_misses": [
            _brief(o)
            for o in sorted(
                (o for o in dev if o.subtype and (o.subtype_rank() or 99) > 1),
                key=lambda o: (-(o.subtype_rank() or 99), o.id),
            )[:WORST]
        ],
    }
    return rounded(metrics)
