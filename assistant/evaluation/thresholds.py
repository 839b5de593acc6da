"""The CI gate: minimum metrics in ``eval/thresholds.toml``, checked against a run's metrics.

Each table names a run mode (``retrieval``, ``loo``) and maps dotted metric paths inside that mode's
metrics to their minimum, e.g. ``[retrieval]`` ``"retrieval.recall@5" = 0.8``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.cases import EvalDataError


@dataclass(frozen=True)
class Shortfall:
    metric: str
    minimum: float
    actual: float | None

    def __str__(self) -> str:
        got = "missing" if self.actual is None else f"{self.actual:.4f}"
        return f"{self.metric}: {got} < minimum {self.minimum:.4f}"


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no thresholds file") from None
    except tomllib.TOMLDecodeError as exc:
        raise EvalDataError(f"{path}: {exc}") from None
    out: dict[str, dict[str, float]] = {}
    for mode, table in data.items():
        if not isinstance(table, dict):
            raise EvalDataError(f"{path}: [{mode}] must be a table of metric = minimum")
        for metric, value in table.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise EvalDataError(f"{path}: [{mode}] {metric} must be a number")
        out[mode] = {str(k): float(v) for k, v in table.items()}
    return out


def lookup(metrics: dict[str, Any], dotted: str) -> float | None:
    """``retrieval.recall@5`` → metrics["retrieval"]["recall@5"] (a key may itself contain dots only
    if it is the last part)."""
    node: Any = metrics
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and ".".join(parts[i:]) in node:
            node = node[".".join(parts[i:])]
            break
        else:
            return None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def check(metrics: dict[str, Any], minimums: dict[str, float]) -> list[Shortfall]:
    """Every metric below its minimum (or missing from the run)."""
    out = []
    for metric, minimum in minimums.items():
        actual = lookup(metrics, metric)
        if actual is None or actual < minimum:
            out.append(Shortfall(metric=metric, minimum=minimum, actual=actual))
    return out
