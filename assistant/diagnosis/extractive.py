"""The ``extractive`` backend: no model. Composes a readable diagnosis from the matched incidents.

Deterministic and always available, it is also the fallback when a model's answer fails or cites
nothing it was given. Likely causes are the root causes of the matches: each distinct cause once, with
only the incidents whose own analysis states it (``support.same_cause``), ranked by ``cause_confidence``;
evidence to check comes from their investigation tools, evidence and metrics; the resolutions are what
fixed them. Like every backend's answer it then goes through the citation check (``citations``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from assistant.corpus.passages import humanize, render_metrics
from assistant.diagnosis.results import Diagnosis, Hypothesis, Resolution
from assistant.diagnosis.support import same_cause, states
from assistant.search.index import IncidentRecord
from assistant.search.results import Match, SimilarResult
from assistant.settings import Settings

MAX_HYPOTHESES = 3
MAX_RESOLVED = 3
HEAD_KEYS = ("action", "type", "name", "title")
BODY_KEYS = (
    "change",
    "changes",
    "description",
    "details",
    "implementation",
    "steps",
    "settings",
    "additions",
)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{humanize(k)}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def describe(item: Any) -> str:
    """One line for a resolution item, whatever shape the label gave it."""
    if not isinstance(item, dict):
        return _text(item)
    head = next((str(item[k]) for k in HEAD_KEYS if item.get(k)), "")
    body = next((_text(item[k]) for k in BODY_KEYS if item.get(k)), "")
    line = f"{head}: {body}" if head and body else head or body or _text(item)
    if item.get("effect"):
        line += f" ({_text(item['effect'])})"
    return line


def _actions(raw: dict[str, Any], *words: str) -> list[str]:
    """Resolution items under keys containing any of ``words`` (``immediate_action(s)``, ``*_fix*``...)."""
    out: list[str] = []
    for key, value in (raw.get("resolution") or {}).items():
        if any(w in key for w in words):
            items = value if isinstance(value, list) else [value]
            out += [describe(v) for v in items if v]
    return out


def _analysis(raw: dict[str, Any], key: str) -> list[str]:
    value = (raw.get("analysis") or {}).get(key) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def root_cause(record: IncidentRecord) -> str:
    return str((record.raw.get("analysis") or {}).get("root_cause") or record.title).strip().rstrip(".")


def shares(matches: list[Match], settings: Settings) -> list[float]:
    """How the chance that the problem is one seen before splits among ``matches``: weights
    exp((score − best score) / seen_scale), normalised, where ``score`` is the fused retrieval score
    that orders the matches (so the first match, the one the verdict is about, gets the largest share).
    A match one step (``ASSISTANT_SEEN_SCALE``) below the best gets e⁻¹ of its weight."""
    if not matches:
        return []
    best = max(m.score for m in matches)
    weights = [math.exp(max((m.score - best) / settings.seen_scale, -50.0)) for m in matches]
    total = sum(weights)
    return [w / total for w in weights]


def _joins(group_cause: str, cause: str) -> bool:
    return same_cause(group_cause, cause) and states(cause, group_cause)


def cause_groups(matches: list[Match], records: Mapping[str, IncidentRecord]) -> list[list[int]]:
    """Indexes of ``matches`` grouped by root cause: an incident joins a group only when its own
    root cause is the same cause as the group's first (``same_cause``) and states the group's cause
    text, the one the hypothesis shows (``states``, the citation check's test); groups in rank order."""
    groups: list[list[int]] = []
    for n, m in enumerate(matches):
        cause = root_cause(records[m.id])
        group = next((g for g in groups if _joins(root_cause(records[matches[g[0]].id]), cause)), None)
        if group is None:
            groups.append([n])
        else:
            group.append(n)
    return groups


def cause_confidences(
    matches: list[Match], records: Mapping[str, IncidentRecord], *, seen: float, settings: Settings
) -> list[tuple[list[Match], float]]:
    """Each distinct root cause's incidents and confidence: the seen-before confidence ``seen`` times
    the summed ``shares`` of its incidents, most confident first. They add up to at most ``seen``."""
    split = shares(matches, settings)
    ranked = [
        ([matches[n] for n in group], round(seen * sum(split[n] for n in group), 2))
        for group in cause_groups(matches, records)
    ]
    return sorted(ranked, key=lambda item: -item[1])


def _metric_lines(record: IncidentRecord, limit: int) -> list[str]:
    lines = [ln.removeprefix("- ") for ln in render_metrics(record.raw.get("metrics") or {}) if "→" in ln]
    return lines[:limit]


def compose(
    *, query: str, result: SimilarResult, records: Mapping[str, IncidentRecord], settings: Settings
) -> Diagnosis:
    """The extractive diagnosis for ``result`` (``records``: the matched incidents by id)."""
    matches = result.matches
    verdict = result.seen_before
    hypotheses = [
        Hypothesis(
            cause=root_cause(records[group[0].id]), confidence=conf, incident_ids=[m.id for m in group]
        )
        for group, conf in cause_confidences(matches, records, seen=verdict.confidence, settings=settings)
    ][:MAX_HYPOTHESES]

    evidence: list[str] = []
    for h in hypotheses[:2]:
        cited = h.incident_ids[0]
        record = records[cited]
        evidence += [f"{tool} [{cited}]" for tool in _analysis(record.raw, "investigation_tools")[:3]]
        evidence += [f"Metric: {line} [{cited}]" for line in _metric_lines(record, 2)]
        evidence += [f"Seen then: {line} [{cited}]" for line in _analysis(record.raw, "evidence")[:2]]

    resolutions: list[Resolution] = []
    for m in matches[:MAX_RESOLVED]:
        raw = records[m.id].raw
        for action in _actions(raw, "immediate")[:1] + _actions(raw, "fix", "solution")[:1]:
            resolutions.append(Resolution(incident_id=m.id, action=action))

    next_steps: list[str] = []
    if matches:
        top = matches[0]
        if verdict.verdict == "yes":
            next_steps.append(f"Check first whether this is [{top.id}] again: {root_cause(records[top.id])}.")
        elif verdict.verdict == "maybe":
            next_steps.append(f"Compare with [{top.id}]: similar, but not surely the same.")
        else:
            next_steps.append(
                "Nothing in the incident history is clearly the same problem: treat the causes below "
                "as leads, not answers."
            )
        next_steps.append("Run the checks under evidence to check and compare with the metrics quoted there.")
        if first := _actions(records[top.id].raw, "immediate")[:1]:
            next_steps.append(f"If it is confirmed, start with what worked in [{top.id}]: {first[0]}.")
    next_steps.append("Once it is resolved, write it down: `assistant labels new <subtype> --title ...`.")

    return Diagnosis(
        query=query,
        seen_before=verdict,
        hypotheses=hypotheses,
        evidence_to_check=evidence,
        next_steps=next_steps,
        resolutions=resolutions,
        summary=_summary(matches, records, result),
        citations=[m.id for m in matches if any(m.id in h.incident_ids for h in hypotheses)],
        invalid_citations=[],
        backend="extractive",
        fallback_reason=None,
        matches=matches,
    )


def _summary(matches: list[Match], records: Mapping[str, IncidentRecord], result: SimilarResult) -> str:
    verdict = result.seen_before
    if not matches:
        return "No past incident to compare with: the index is empty."
    top = matches[0]
    kind = f" ({top.category} / {top.subtype})" if top.category else ""
    others = ", ".join(f"[{m.id}] {m.title}" for m in matches[1:3])
    fixed = _actions(records[top.id].raw, "immediate")[:1]
    if verdict.verdict == "no":
        text = (
            f"Not clearly seen before (confidence {verdict.confidence:.2f}). The closest past incident is "
            f"[{top.id}] {top.title}{kind}; its root cause was: {root_cause(records[top.id])}. "
            "Treat it as a lead only."
        )
    else:
        lead = "Seen before" if verdict.verdict == "yes" else "Possibly seen before"
        text = f"{lead} (confidence {verdict.confidence:.2f}): this looks like [{top.id}] {top.title}{kind}."
        if (cause := root_cause(records[top.id])) != top.title.rstrip("."):
            text += f" Root cause then: {cause}."
        if fixed:
            text += f" What helped first: {fixed[0]}."
    if others:
        text += f" Also similar: {others}."
    return text


def chunks(text: str) -> Iterator[str]:
    """The text in word-sized chunks, so the extractive answer streams like a model's."""
    start = 0
    for i, ch in enumerate(text):
        if ch == " ":
            yield text[start : i + 1]
            start = i + 1
    if start < len(text):
        yield text[start:]
