"""What a gold incident says: its root cause and the actions that resolved it, from the label as written.

Labels name their resolution keys differently (``immediate_action`` vs ``immediate_actions``,
``long_term_fixes`` vs ``long_term_solutions``), so action keys are recognised by the words they contain.
"""

from __future__ import annotations

from typing import Any

ACTION_WORDS = ("action", "fix", "solution", "remediation", "mitigation", "workaround", "change")


def root_cause(raw: dict[str, Any]) -> str:
    analysis = raw.get("analysis")
    if isinstance(analysis, dict):
        return str(analysis.get("root_cause") or "")
    return ""


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None else [str(value)]


def _items(value: Any) -> list[str]:
    """One text per action: a list's items (a dict item's leaves joined), or the value itself."""
    if isinstance(value, list):
        return [" ".join(_leaves(item)) for item in value if _leaves(item)]
    if isinstance(value, dict):
        return [" ".join(_leaves(value))] if _leaves(value) else []
    return [] if value is None else [str(value)]


def resolution_items(raw: dict[str, Any]) -> list[str]:
    """The actions that resolved the incident: items under resolution keys that name actions or fixes
    (``immediate_actions``, ``long_term_fixes``, ...); every resolution item when no key does."""
    resolution = raw.get("resolution")
    if not isinstance(resolution, dict):
        return []
    keys = [k for k in resolution if any(word in k.lower() for word in ACTION_WORDS)]
    chosen = keys or list(resolution)
    return [item for key in chosen for item in _items(resolution[key])]
