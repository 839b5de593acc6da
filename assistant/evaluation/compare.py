"""``eval compare``: the numeric differences between two runs' metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.cases import EvalDataError

SKIP = ("worst_misses", "false_seen_before", "worst_answers", "reliability", "unmatched")


@dataclass(frozen=True)
class Delta:
    metric: str
    a: float | int | None
    b: float | int | None

    @property
    def delta(self) -> float | int | None:
        return None if self.a is None or self.b is None else self.b - self.a


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float | int]:
    """Numeric leaves as ``dotted.path: value`` (counts stay ints); per-case lists and the reliability
    table are skipped."""
    out: dict[str, float | int] = {}
    for key, value in metrics.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if key in SKIP:
            continue
        if isinstance(value, dict):
            out.update(flatten(value, name))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out


def resolve_run(ref: str, *, reports_dir: Path) -> Path:
    """A run given as a metrics.json path, a run folder, or a run id under ``reports_dir``."""
    for candidate in (Path(ref), Path(ref) / "metrics.json", reports_dir / ref / "metrics.json"):
        if candidate.is_file():
            return candidate
    raise EvalDataError(
        f"no run {ref!r}", hint=f"give a run folder, its metrics.json, or a run id under {reports_dir}"
    )


def load_run(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvalDataError(f"{path}: unreadable metrics: {exc}") from None
    if not isinstance(data, dict) or "metrics" not in data:
        raise EvalDataError(f"{path}: not a metrics.json written by `assistant eval`")
    return data


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[Delta]:
    """Deltas (b − a) over the union of both runs' numeric metrics, in a's order then b's new ones."""
    fa, fb = flatten(a), flatten(b)
    names = list(dict.fromkeys([*fa, *fb]))
    return [Delta(metric=n, a=fa.get(n), b=fb.get(n)) for n in names]
