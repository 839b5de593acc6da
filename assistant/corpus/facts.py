"""What a match card shows about a past incident: its root cause and what fixed it.

Labels written by different teams name their resolution keys differently (``immediate_action`` vs
``immediate_actions``, ``long_term_fixes`` vs ``long_term_solutions`` vs ``root_cause_fix``); this reads
them all and keeps the headline of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class IncidentFacts:
    root_cause: str | None
    fixes: list[str] = field(default_factory=list)


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


def incident_facts(raw: dict[str, Any]) -> IncidentFacts:
    analysis = raw.get("analysis") if isinstance(raw.get("analysis"), dict) else {}
    root = analysis.get("root_cause") if analysis else None
    resolution = raw.get("resolution") if isinstance(raw.get("resolution"), dict) else {}
    fixes: list[str] = []
    for key in FIX_KEYS:
        if resolution and key in resolution:
            fixes.extend(h for h in _headlines(resolution[key]) if h not in fixes)
    return IncidentFacts(root_cause=str(root) if root else None, fixes=fixes)
