"""A ``Document`` → a draft label (``metadata.review: "draft"``), and the list of what it could not fill.

Everything comes from the document's own words: a field the document does not give is left out (or, for
the fields a label needs, holds a ``TODO:`` placeholder that ``labels validate`` rejects until a person
replaces it). Numbers are only ever copied from the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.corpus.labels import DRAFT, ID_PATTERN
from assistant.corpus.taxonomy import Taxonomy
from assistant.sources.importing.document import Document
from assistant.sources.importing.infer import (
    Inference,
    find_components,
    find_k8s_version,
    find_metrics,
    find_services,
    find_severity,
    find_started,
    infer_subtype,
)

TODO_TITLE = "TODO: one line naming the incident"
TODO_SYMPTOMS = "TODO: what the on-call engineer first saw (alert, error, graph)"
TODO_ROOT_CAUSE = "TODO: one sentence: what caused it"
TODO_ACTIONS = "TODO: what stopped the impact"
LOW_CONFIDENCE = 0.35

_SYMPTOM_WORDS = re.compile(
    r"\b(alert\w*|pag(?:e|ed|ing)|fired|report\w*|error\w*|latenc\w*|slow\w*|timeouts?|timed out|spik\w*|"
    r"5\d\d|fail\w*|unavailable|degrad\w*|notic\w*|observ\w*|oom\w*|crash\w*|restart\w*|elevated|"
    r"increase\w*|drop\w*|high|saturat\w*|backlog|lag)\b",
    re.IGNORECASE,
)
_FOUND_WORDS = re.compile(
    r"\b(root cause|identified|mitigat\w*|roll(?:ed)? ?back|revert\w*|fix\w*|resolved|deployed a|patch\w*|"
    r"failover|failed over|recover\w*)\b",
    re.IGNORECASE,
)
_ACTION_WORDS = re.compile(
    r"\b(mitigat\w*|roll(?:ed)? ?back|revert\w*|restart\w*|scal\w* (?:up|out)|scaled|failover|failed over|"
    r"disabled|drained|increased|raised|fix\w*|patch\w*|resolved|recover\w*)\b",
    re.IGNORECASE,
)
_CAUSE_WORDS = re.compile(r"\b(caused by|because|due to|root cause|was triggered by|resulted from)\b", re.I)
_MONITORING = re.compile(r"\b(alert\w*|monitor\w*|dashboard\w*|slo\w*|page\w*|paging|observability)\b", re.I)
_TIME_PREFIX = re.compile(
    r"^\s*(?:\d{4}-\d\d-\d\d[ T])?\d{1,2}:\d\d(?::\d\d)?\s*(?:am|pm)?\s*(?:UTC|Z|[A-Z]{2,4})?\s*[-–—:|]*\s*",
    re.IGNORECASE,
)
MAX_LINE = 240


@dataclass
class Draft:
    label: dict[str, Any]
    inference: Inference
    unfilled: list[str] = field(default_factory=list)
    """Fields the document did not give, as JSON paths, with a word on why."""


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(`])", text.strip())
    return [p.strip() for p in parts if p.strip()]


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1].rsplit(" ", 1)[0] + "…"


def _first_sentence(lines: list[str]) -> str | None:
    for line in lines:
        for sentence in sentences(line):
            if len(sentence) >= 12:
                return _short(sentence)
    return None


def _timeline(doc: Document) -> list[dict[str, str] | str]:
    out: list[dict[str, str] | str] = []
    for section in doc.sections:
        if section.key != "timeline":
            continue
        for block in section.blocks:
            if block.kind == "row" and len(block.cells) >= 2:
                out.append({"time": block.cells[0], "event": " ".join(block.cells[1:]).strip()})
                continue
            m = _TIME_PREFIX.match(block.text)
            if m and m.group(0).strip():
                out.append({"time": m.group(0).strip(" -–—:|"), "event": block.text[m.end() :].strip()})
            elif block.kind == "item" and block.text.strip():
                out.append(block.text.strip())
    return out


def _event_text(entry: dict[str, str] | str) -> str:
    return entry["event"] if isinstance(entry, dict) else _TIME_PREFIX.sub("", entry)


def _symptoms(doc: Document, timeline: list[dict[str, str] | str]) -> list[str]:
    found: list[str] = []
    for line in doc.lines("detection"):
        found.extend(sentences(line)[:2])
    for entry in timeline:
        text = _event_text(entry)
        if _FOUND_WORDS.search(text):
            break
        if _SYMPTOM_WORDS.search(text):
            found.append(text)
    if len(found) < 2:
        for line in doc.lines("impact")[:2]:
            found.extend(s for s in sentences(line)[:1] if _SYMPTOM_WORDS.search(s))
    if not found:
        for line in doc.lines("summary"):
            found.extend(
                s for s in sentences(line) if _SYMPTOM_WORDS.search(s) and not _CAUSE_WORDS.search(s)
            )
    out = list(dict.fromkeys(_short(s) for s in found if len(s.strip()) >= 8))
    return out[:6]


def _root_cause(doc: Document) -> tuple[str | None, list[str]]:
    """The first sentence that states the cause, and the rest of the root-cause section."""
    for key in ("root_cause", "trigger", "five_whys"):
        lines = doc.lines(key)
        if key == "five_whys" and lines:
            lines = lines[-1:]
        first = _first_sentence(lines)
        if first:
            rest = [_short(s) for line in lines for s in sentences(line)]
            return first, [s for s in rest if s != first]
    for line in doc.lines("summary"):
        for sentence in sentences(line):
            if _CAUSE_WORDS.search(sentence):
                return _short(sentence), []
    return None, []


def _items(lines: list[str]) -> list[str]:
    return [_short(line) for line in lines if len(line.strip()) >= 4]


def slug(text: str, *, limit: int = 48) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    value = value[:limit].rstrip("-")
    return value


def suggest_id(doc: Document, *, fallback: str) -> str:
    """An id from the source (``gh-owner-repo-123`` for an issue) or the title, within ID_PATTERN."""
    base = slug(fallback) or slug(doc.title or "") or "incident"
    return base if re.fullmatch(ID_PATTERN, base) else f"pm-{base}"


def draft_label(doc: Document, *, taxonomy: Taxonomy, incident_id: str, subtype: str | None = None) -> Draft:
    """The draft label a document gives. ``subtype``: set it instead of inferring it."""
    unfilled: list[str] = []
    full = doc.full_text()
    timeline = _timeline(doc)

    if subtype is not None:
        inference = Inference(subtype=subtype, category=taxonomy.category_of(subtype), confidence=1.0)
    else:
        inference = infer_subtype(doc, taxonomy)

    title = doc.title or _first_sentence(doc.lines("summary"))
    if not title:
        unfilled.append("title: the document has no title or summary")
    symptoms = _symptoms(doc, timeline)
    if not symptoms:
        unfilled.append("symptoms: no detection section or alert/error lines in the timeline")
    started = find_started(doc)
    if not started:
        unfilled.append("timestamp: no date in the document")
    root_cause, details = _root_cause(doc)
    if not root_cause:
        unfilled.append("analysis.root_cause: no root-cause or trigger section")
    metrics = find_metrics(full)
    if not metrics:
        unfilled.append("metrics: no 'from X to Y' or 'X → Y' figures in the text")
    context = _context(doc, full, unfilled)
    environment = _environment(doc, full)
    analysis = _analysis(doc, root_cause=root_cause, details=details, components=find_components(full))
    resolution = _resolution(doc, timeline, unfilled)
    metadata = _metadata(doc, inference, given=subtype is not None, unfilled=unfilled)

    label: dict[str, Any] = {"id": incident_id, "title": title or TODO_TITLE}
    if started:
        label["timestamp"] = started
    label["symptoms"] = symptoms or [TODO_SYMPTOMS]
    label["links"] = list(dict.fromkeys([doc.source, *doc.links]))
    if environment:
        label["environment"] = environment
    if context:
        label["context"] = context
    if metrics:
        label["metrics"] = {
            "baseline": {m.name: m.before for m in metrics},
            "degraded": {m.name: m.after for m in metrics},
        }
    if summary := " ".join(doc.lines("summary")):
        label["summary"] = summary
    label["analysis"] = analysis
    label["resolution"] = resolution
    if timeline:
        label["timeline"] = timeline
    label["metadata"] = metadata
    return Draft(label=label, inference=inference, unfilled=unfilled)


def _context(doc: Document, full: str, unfilled: list[str]) -> dict[str, Any]:
    services = find_services(
        full,
        stated=next(
            (doc.fields[k] for k in ("services", "service", "affected services") if k in doc.fields), None
        ),
    )
    if not services:
        unfilled.append("context.service: no service named")
    context: dict[str, Any] = {}
    if services:
        context["service"] = services[0]
        if len(services) > 1:
            context["services"] = services
    for key in ("namespace", "cluster", "region", "duration"):
        if key in doc.fields:
            context[key] = doc.fields[key]
    return context


def _environment(doc: Document, full: str) -> dict[str, Any]:
    environment: dict[str, Any] = {}
    if version := (doc.fields.get("kubernetes version") or find_k8s_version(full)):
        environment["k8s_version"] = version.lstrip("v")
    return environment


def _analysis(
    doc: Document, *, root_cause: str | None, details: list[str], components: list[str]
) -> dict[str, Any]:
    analysis: dict[str, Any] = {"root_cause": root_cause or TODO_ROOT_CAUSE}
    if details:
        analysis["details"] = details
    if doc.has("trigger") and doc.has("root_cause"):
        analysis["trigger"] = " ".join(doc.lines("trigger"))
    if doc.has("contributing_factors"):
        analysis["contributing_factors"] = _items(doc.lines("contributing_factors"))
    if doc.has("five_whys"):
        analysis["five_whys"] = _items(doc.lines("five_whys"))
    if doc.has("detection"):
        analysis["detection"] = " ".join(doc.lines("detection"))
    if components:
        analysis["affected_components"] = components
    if doc.has("impact"):
        impact = _items(doc.lines("impact"))
        analysis["impact"] = impact[0] if len(impact) == 1 else impact
    return analysis


def _resolution(doc: Document, timeline: list[dict[str, str] | str], unfilled: list[str]) -> dict[str, Any]:
    resolution: dict[str, Any] = {}
    actions = _items(doc.lines("resolution"))
    if not actions:
        actions = [_short(_event_text(e)) for e in timeline if _ACTION_WORDS.search(_event_text(e))][:4]
    if actions:
        resolution["immediate_actions"] = actions
    follow_ups = _items(
        [
            b.cells[0] if b.kind == "row" and b.cells else b.text
            for s in doc.sections
            if s.key == "action_items"
            for b in s.blocks
        ]
    )
    fixes = [a for a in follow_ups if not _MONITORING.search(a)]
    monitoring = [a for a in follow_ups if _MONITORING.search(a)]
    if fixes:
        resolution["long_term_fixes"] = fixes
    prevention: dict[str, Any] = {}
    if monitoring:
        prevention["monitoring_additions"] = monitoring
    if doc.has("lessons"):
        prevention["lessons_learned"] = _items(doc.lines("lessons"))
    if prevention:
        resolution["prevention"] = prevention
    if not actions:
        unfilled.append("resolution.immediate_actions: no resolution or mitigation section")
        resolution["immediate_actions"] = [TODO_ACTIONS]
    return resolution


def _metadata(doc: Document, inference: Inference, *, given: bool, unfilled: list[str]) -> dict[str, Any]:
    """``given``: the subtype was set, not inferred."""
    metadata: dict[str, Any] = {"review": DRAFT}
    if inference.subtype:
        metadata["category"] = inference.category
        metadata["subtype"] = inference.subtype
        if inference.confidence < LOW_CONFIDENCE:
            unfilled.append(
                f"metadata.subtype: guessed {inference.subtype!r} with low confidence "
                f"{inference.confidence:.2f}; check it"
            )
    else:
        unfilled.append("metadata.subtype: no taxonomy keywords found; set it (or use --subtype)")
    if severity := find_severity(doc):
        metadata["severity"] = severity
    tags = list(dict.fromkeys([*inference.keywords[:4], *(t.lower() for t in doc.labels[:4])]))
    if tags:
        metadata["tags"] = tags
    metadata["import"] = {
        "format": doc.kind,
        "method": "given" if given else "structure",
        "subtype_confidence": inference.confidence,
        "alternatives": [name for name, _ in inference.alternatives],
    }
    return metadata
