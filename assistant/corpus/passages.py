"""Turn a label into three readable passages: symptom, evidence and resolution.

Every key of a label lands in one of the passages (unknown keys included), rendered as indented
``key: value`` lines; metrics render as ``name: baseline → degraded``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel

from assistant.corpus.instructions import without_instructions
from assistant.corpus.labels import Label

PassageKind = Literal["symptom", "evidence", "resolution"]
KINDS: tuple[PassageKind, ...] = ("symptom", "evidence", "resolution")
# Bump when the rendering changes: an index built with another format is re-embedded in full.
PASSAGE_FORMAT = 2

BEFORE_KEYS = ("baseline", "normal", "initial_state", "before", "healthy", "expected")
AFTER_KEYS = ("degraded", "degraded_state", "after", "incident", "during", "observed")


class Passage(BaseModel):
    incident_id: str
    kind: PassageKind
    text: str

    @property
    def id(self) -> str:
        return f"{self.incident_id}#{self.kind}"

    @property
    def searched(self) -> str:
        """What a search matches against: the text without sentences that read like instructions."""
        return without_instructions(self.text)


def humanize(key: str) -> str:
    return str(key).replace("_", " ").strip()


def _scalar(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def render_tree(value: Any, indent: int = 0) -> Iterator[str]:
    """YAML-like lines for any JSON value: dicts as ``key: value``, lists of scalars joined with ``; ``."""
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_scalar(item):
                yield f"{pad}{humanize(key)}: {_scalar(item)}"
            elif isinstance(item, list) and all(_is_scalar(x) for x in item):
                yield f"{pad}{humanize(key)}: {'; '.join(_scalar(x) for x in item)}"
            else:
                yield f"{pad}{humanize(key)}:"
                yield from render_tree(item, indent + 1)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and all(_is_scalar(v) for v in item.values()):
                yield f"{pad}- " + "; ".join(f"{humanize(k)}: {_scalar(v)}" for k, v in item.items())
            elif _is_scalar(item):
                yield f"{pad}- {_scalar(item)}"
            else:
                lines = list(render_tree(item, indent + 1))
                if lines:
                    yield f"{pad}- " + lines[0].lstrip()
                    yield from lines[1:]
    else:
        yield f"{pad}{_scalar(value)}"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested metric values as ``{"path name": scalar}``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix} {humanize(key)}".strip()))
        return out
    if isinstance(value, list):
        return {prefix: "; ".join(_scalar(x) for x in value)}
    return {prefix: value}


def render_metrics(metrics: Any, prefix: str = "") -> Iterator[str]:
    """Metric lines; a group with a before and an after half renders as ``name: before → after``."""
    if not isinstance(metrics, dict):
        yield f"- {prefix}: {_scalar(metrics)}" if prefix else f"- {_scalar(metrics)}"
        return
    before_key = next((k for k in BEFORE_KEYS if k in metrics), None)
    after_key = next((k for k in AFTER_KEYS if k in metrics), None)
    if before_key and after_key:
        before = _flatten(metrics[before_key], prefix)
        after = _flatten(metrics[after_key], prefix)
        for name in [*before, *(n for n in after if n not in before)]:
            label = name or "value"
            if name in before and name in after:
                yield f"- {label}: {_scalar(before[name])} → {_scalar(after[name])}"
            elif name in before:
                yield f"- {label}: {_scalar(before[name])} (before only)"
            else:
                yield f"- {label}: {_scalar(after[name])} (during incident)"
        rest = {k: v for k, v in metrics.items() if k not in (before_key, after_key)}
    else:
        rest = metrics
    for key, item in rest.items():
        name = f"{prefix} {humanize(key)}".strip()
        if isinstance(item, dict):
            yield from render_metrics(item, name)
        elif isinstance(item, list) and not all(_is_scalar(x) for x in item):
            yield f"- {name}:"
            yield from render_tree(item, 1)
        else:
            yield (
                f"- {name}: {_flatten(item)['']}" if isinstance(item, list) else f"- {name}: {_scalar(item)}"
            )


def _section(title: str, value: Any) -> list[str]:
    if value in (None, {}, [], ""):
        return []
    if _is_scalar(value):
        return [f"{title}: {_scalar(value)}"]
    return [f"{title}:", *render_tree(value, 1)]


def _alerts(raw: dict[str, Any]) -> list[str]:
    context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
    names: list[str] = []
    for key in ("alert_name", "alert", "alerts", "affected_alerts", "alert_names"):
        value = context.get(key) if context else None
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names.extend(str(v) for v in value if _is_scalar(v))
    return names


def build_passages(label: Label, raw: dict[str, Any]) -> list[Passage]:
    """The three passages of one label. ``raw`` is the label document as written."""
    head = f"{label.id} — {label.display_title}"
    used = {
        "perf_observation",
        "id",
        "title",
        "symptoms",
        "links",
        "metrics",
        "analysis",
        "resolution",
        "metadata",
    }

    symptom = [head]
    if label.symptoms:
        symptom += ["Symptoms:", *(f"- {line}" for line in label.symptoms)]
    if alerts := _alerts(raw):
        symptom.append("Alerts: " + "; ".join(alerts))
    symptom += _section("Context", raw.get("context"))
    if raw.get("metrics"):
        symptom += ["Metrics (baseline → degraded):", *render_metrics(raw["metrics"])]
    symptom += _section("Environment", raw.get("environment"))
    symptom += _section("Timestamp", raw.get("timestamp"))
    used.update(("context", "environment", "timestamp"))

    analysis = raw.get("analysis", {})
    evidence = [head]
    for key, item in analysis.items():
        evidence += _section(humanize(key).capitalize(), item)
    meta = raw.get("metadata", {}) or {}
    evidence.append(
        f"Category: {label.metadata.category or 'uncategorised'} / {label.metadata.subtype or '-'}"
    )
    extra_meta = {k: v for k, v in meta.items() if k not in ("category", "subtype")}
    evidence += _section("Labels", extra_meta)
    for key, item in raw.items():
        if key not in used:
            evidence += _section(humanize(key).capitalize(), item)

    resolution = [head]
    for key, item in (raw.get("resolution") or {}).items():
        resolution += _section(humanize(key).capitalize(), item)
    resolution += _section("Links", raw.get("links"))

    return [
        Passage(incident_id=label.id, kind="symptom", text="\n".join(symptom)),
        Passage(incident_id=label.id, kind="evidence", text="\n".join(evidence)),
        Passage(incident_id=label.id, kind="resolution", text="\n".join(resolution)),
    ]
