"""Latency summaries: percentiles with linear interpolation between closest ranks."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation (numpy's default method)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(position), math.ceil(position)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


def latency_summary(milliseconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max of per-query latencies in milliseconds."""
    if not milliseconds:
        return {}
    return {
        "p50": round(percentile(milliseconds, 50), 2),
        "p95": round(percentile(milliseconds, 95), 2),
        "mean": round(sum(milliseconds) / len(milliseconds), 2),
        "max": round(max(milliseconds), 2),
    }
