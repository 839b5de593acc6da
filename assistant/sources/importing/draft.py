"""A ``Document`` → a draft label (``metadata.review: "draft"``), and the list of what it could not fill.

Everything comes from the document's own words: a field the document does not give is left out (or, for
the fields a label needs, holds a ``TODO:`` placeholder that ``labels validate`` rejects until a person
replaces it). Numbers are only ever copied from the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.corpus.labels import DRAFT, ID_PATTERN
from assistant.corpus.loading import parse_label
from assistant.corpus.taxonomy import Taxonomy
from assistant.errors import AssistantError
from assistant.sources.importing.cause import find_cause
from assistant.sources.importing.document import Document
from assistant.sources.importing.fix import immediate_actions
from assistant.sources.importing.infer import (
    Inference,
    find_components,
    find_k8s_version,
    find_metrics,
    find_services,
    find_severity,
    infer_subtype,
)
from assistant.sources.importing.sentences import sentences, shorten
from assistant.sources.importing.started import document_timeline, find_started
from assistant.sources.importing.timeline import Entry

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
_CAUSE_WORDS = re.compile(r"\b(caused by|because|due to|root cause|was triggered by|resulted from)\b", re.I)
_MONITORING = re.compile(r"\b(alert\w*|monitor\w*|dashboard\w*|slo\w*|page\w*|paging|observability)\b", re.I)
MAX_LINE = 240


class DraftError(AssistantError):
    """A draft the label model refuses (a bug in a reader, not in the source)."""


@dataclass
class Draft:
    label: dict[str, Any]
    inference: Inference
    unfilled: list[str] = field(default_factory=list)
    """Fields the document did not give, as JSON paths, with a word on why."""

    def query(self) -> str:
        """What the incident looked like, as a search for similar ones: title and symptoms."""
        lines = [self.label.get("title") or "", *self.label.get("symptoms", [])]
        return "\n".join(x for x in lines if x and not x.startswith("TODO"))

    def link_related(self, incident_ids: Iterable[str]) -> None:
        """Name the similar past incidents (ids only: their titles would make this label match them)."""
        if ids := list(dict.fromkeys(i for i in incident_ids if i != self.label.get("id"))):
            self.label["related_incidents"] = ids

    def save(self, folder: Path, *, taxonomy: Taxonomy) -> Path:
        """Write the draft to ``folder/<category>/<id>.json`` (``uncategorised`` without a category),
        after checking the label model accepts it save for its placeholders."""
        data = (json.dumps(self.label, indent=4, ensure_ascii=False) + "\n").encode()
        _, problems = parse_label(data, file="draft", taxonomy=taxonomy)
        if broken := [p for p in problems if "placeholder" not in p.message]:
            raise DraftError(f"draft is invalid: {broken[0]}", hint="report it with the source attached")
        file = (
            folder / (self.label["metadata"].get("category") or "uncategorised") / f"{self.label['id']}.json"
        )
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        return file


def _short(text: str) -> str:
    return shorten(text, MAX_LINE)


def _first_sentence(lines: list[str]) -> str | None:
    for line in lines:
        for sentence in sentences(line):
            if len(sentence) >= 12:
                return _short(sentence)
    return None


def _timeline(entries: list[Entry]) -> list[dict[str, str] | str]:
    """The timeline as the label keeps it: ``{"time", "event"}`` per timed entry, list items as text."""
    out: list[dict[str, str] | str] = []
    for entry in entries:
        if entry.clock is not None:
            out.append({"time": entry.time_text, "event": entry.event})
        elif entry.item and entry.event.strip():
            out.append(entry.event.strip())
    return out


def _symptoms(doc: Document, entries: list[Entry]) -> list[str]:
    found: list[str] = []
    detection = doc.lines("detection")
    for line in detection:
        found.extend(sentences(line)[:2])
    for entry in entries:
        if _FOUND_WORDS.search(entry.event):
            break
        if any(entry.event in line for line in detection):
            continue  # the timeline repeating what the detection section says
        if _SYMPTOM_WORDS.search(entry.event):
            found.append(entry.event)
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


def _details(doc: Document, cause: str | None) -> list[str]:
    """The rest of the root-cause section: the sentences the drafted cause does not already hold."""
    lines = doc.lines("root_cause")
    rest = [_short(s) for line in lines for s in sentences(line)]
    return [s for s in dict.fromkeys(rest) if not cause or s.rstrip("…") not in cause]


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
    entries = document_timeline(doc)

    title = doc.title or _first_sentence(doc.lines("summary"))
    if not title:
        unfilled.append("title: the document has no title or summary")
    symptoms = _symptoms(doc, entries)
    if not symptoms:
        unfilled.append("symptoms: no detection section or alert/error lines in the timeline")
    start = find_started(doc)
    started = start.value
    if not started:
        unfilled.append("timestamp: no date in the document")
    elif start.note:
        unfilled.append(f"timestamp: {start.note}")
    cause = find_cause(doc)
    root_cause, details = cause.text, _details(doc, cause.text)
    if subtype is not None:
        inference = Inference(subtype=subtype, category=taxonomy.category_of(subtype), confidence=1.0)
    else:
        inference = infer_subtype(doc, taxonomy, cause=root_cause)
    if not root_cause:
        unfilled.append("analysis.root_cause: no sentence of the document states a cause")
    elif not cause.known:
        unfilled.append("analysis.root_cause: the document says the cause is unknown; check what it suspects")
    metrics = find_metrics(doc.prose_text())
    if not metrics:
        unfilled.append("metrics: no 'from X to Y' or 'X → Y' figures in the text")
    context = _context(doc, full, unfilled)
    environment = _environment(doc, full)
    analysis = _analysis(doc, root_cause=root_cause, details=details, components=find_components(full))
    resolution = _resolution(doc, entries, unfilled)
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
    if timeline := _timeline(entries):
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


def _resolution(doc: Document, entries: list[Entry], unfilled: list[str]) -> dict[str, Any]:
    resolution: dict[str, Any] = {}
    actions, later = immediate_actions(doc, entries)
    if actions:
        resolution["immediate_actions"] = actions
    follow_ups = _items(
        [
            b.cells[0] if b.kind == "row" and b.cells else b.text
            for s in doc.sections
            if s.key == "action_items"
            for b in s.blocks
            if b.kind in ("row", "item", "para")
        ]
    )
    follow_ups = list(dict.fromkeys([*later, *follow_ups]))
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
        unfilled.append("resolution.immediate_actions: no action that restored service in the document")
        resolution["immediate_actions"] = [TODO_ACTIONS]
    return resolution


def _metadata(doc: Document, inference: Inference, *, given: bool, unfilled: list[str]) -> dict[str, Any]:
    """``given``: the subtype was set, not inferred."""
    metadata: dict[str, Any] = {"review": DRAFT}
    if inference.category:
        metadata["category"] = inference.category
    if inference.subtype:
        metadata["subtype"] = inference.subtype
        if inference.confidence < LOW_CONFIDENCE:
            unfilled.append(
                f"metadata.subtype: guessed {inference.subtype!r} with low confidence "
                f"{inference.confidence:.2f}; check it"
            )
    elif inference.category:
        unfilled.append(
            f"metadata.subtype: the category is {inference.category!r} but the text does not say which of "
            "its subtypes; set it (or use --subtype)"
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
    if inference.category and not inference.subtype:
        metadata["import"]["category_confidence"] = inference.category_confidence
    if doc.content_hash:
        # the same document under another name or link has the same hash: what a duplicate check compares
        metadata["import"]["content_hash"] = doc.content_hash
    return metadata
