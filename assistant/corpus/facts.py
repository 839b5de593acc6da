"""What a match card shows about a past incident: its root cause and what fixed it.

Labels written by different teams name their resolution keys differently (``immediate_action`` vs
``immediate_actions``, ``long_term_fixes`` vs ``long_term_solutions`` vs ``root_cause_fix``); this reads
them all and keeps the headline of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.corpus.labels import DRAFT

FIX_KEYS = (
    "immediate_actions",
    "immediate_action",
    "root_cause_fix",
    "long_term_fixes",
    "long_term_solutions",
    "fixes",
)
HEADLINE_KEYS = ("action", "type", "name", "title", "fix", "summary", "description")
DETAIL_KEYS = ("change", "changes", "details", "implementation")


OUTCOME_KEYS = ("verification", "validation", "validation_criteria")
CHECK_KEYS = ("success_criteria", "metrics_observed", "metrics_thresholds", "criteria")
PERIOD_KEYS = ("duration", "monitoring_period")


@dataclass(frozen=True)
class IncidentFacts:
    root_cause: str | None
    fixes: list[str] = field(default_factory=list)
    outcome: str | None = None
    """Whether the fix held: ``resolution.outcome`` as written, else what was checked and for how long."""
    started: str | None = None
    draft: bool = False
    """An unreviewed draft (``metadata.review: "draft"``): an import nobody has checked yet."""


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _detail(value: Any) -> str | None:
    """A short detail for a step: the first ``key: value`` of a change, or a one-line change."""
    if _is_scalar(value):
        return str(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_scalar(item):
                return f"{str(key).replace('_', ' ')} {item}"
    if isinstance(value, list) and value and _is_scalar(value[0]):
        return str(value[0])
    return None


def _headlines(value: Any) -> list[str]:
    """One line per step of a resolution section, whatever its shape."""
    if _is_scalar(value):
        return [str(value)]
    if isinstance(value, list):
        return [line for item in value for line in _headlines(item)]
    if not isinstance(value, dict):
        return []
    head = next((str(value[k]) for k in HEADLINE_KEYS if _is_scalar(value.get(k))), None)
    if head is None:
        # a group of steps keyed by area, e.g. {"recording_rules": [...], "alert_routing": {...}}
        nested = [line for item in value.values() if not _is_scalar(item) for line in _headlines(item)]
        if nested:
            return nested
        return [f"{str(k).replace('_', ' ')}: {v}" for k, v in value.items() if _is_scalar(v)][:1]
    detail = next((d for k in DETAIL_KEYS if k in value and (d := _detail(value[k]))), None)
    return [f"{head} ({detail})" if detail else head]


def _outcome(resolution: dict[str, Any]) -> str | None:
    stated = resolution.get("outcome")
    if isinstance(stated, str) and stated.strip():
        return stated.strip()
    for key in OUTCOME_KEYS:
        block = resolution.get(key)
        if not isinstance(block, dict):
            continue
        checks = next((v for k in CHECK_KEYS if isinstance(v := block.get(k), list) and v), None)
        if not checks:
            continue
        period = next((str(v) for k in PERIOD_KEYS if _is_scalar(v := block.get(k))), None)
        shown = "; ".join(str(c) for c in checks[:2] if _is_scalar(c))
        return f"checked: {shown}" + (f" (over {period})" if period else "")
    return None


def incident_facts(raw: dict[str, Any]) -> IncidentFacts:
    analysis = raw.get("analysis") if isinstance(raw.get("analysis"), dict) else {}
    root = analysis.get("root_cause") if analysis else None
    resolution = raw.get("resolution") if isinstance(raw.get("resolution"), dict) else {}
    fixes: list[str] = []
    for key in FIX_KEYS:
        if resolution and key in resolution:
            fixes.extend(h for h in _headlines(resolution[key]) if h not in fixes)
    started = raw.get("timestamp")
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return IncidentFacts(
        root_cause=str(root) if root else None,
        fixes=fixes,
        outcome=_outcome(resolution) if resolution else None,
        started=str(started) if isinstance(started, str) and started.strip() else None,
        draft=str((meta or {}).get("review") or "").strip().lower() == DRAFT,
    )
