"""The importer measured on real post-mortems (``eval/importer/``): each document is imported as a user
would (``labels import``, no model), and each field of the draft is scored against what the document
states, as right, wrong or left empty.

A field is scored only where the expected value says what "right" is:

- ``root_cause``: one of the case's cause keywords is in the draft's root cause; when the document says
  the cause is unknown, right is a draft that says so too (or leaves it to fill in), wrong is a cause.
- ``fix``: one of the fix keywords is in the draft's immediate actions; a document that states no fix is
  right when the draft states none.
- ``category``, ``subtype``: the same cell as expected, for the documents that fit one.
- ``started``: the draft's timestamp is the expected start in UTC, to the minute.
- ``metrics``: each before → after pair the document states is in the draft (recall); apart from that,
  configuration changes taken as metrics, and metric values that are not in the document at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.corpus.taxonomy import Taxonomy
from assistant.evaluation.cases import EvalDataError
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label

Outcome = Literal["right", "wrong", "empty"]
FIELDS = ("root_cause", "fix", "category", "subtype", "started", "metrics")
UNKNOWN_CAUSE = re.compile(
    r"\b(?:unknown|not (?:yet |been |fully )*(?:identified|determined|found|known|understood|clear)|unclear|"
    r"undetermined|unconfirmed|suspect\w*|no root cause)\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


class StatedMetric(BaseModel):
    name: str
    before: str
    after: str


class ImportCase(BaseModel):
    """One document and what it states (eval/README.md, "Importer set")."""

    model_config = ConfigDict(extra="allow")

    id: str
    file: str
    source: str
    licence: str
    root_cause_known: bool
    root_cause_keywords: list[str] = []
    fix: str | None = None
    fix_keywords: list[str] = []
    category: str | None = None
    subtype: str | None = None
    started_utc: datetime | None = None
    metrics: list[StatedMetric] = []
    config_changes: list[str] = []


def load_import_cases(path: Path) -> list[ImportCase]:
    """The cases in ``path`` (JSONL); every bad line reported as ``file:line: message``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalDataError(
            f"{path}: no importer cases", hint="run from a checkout: the set is in eval/importer/"
        ) from None
    cases, problems = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            cases.append(ImportCase.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            problems.append(f"{path}:{n}: {str(exc).splitlines()[0]}")
    if problems:
        raise EvalDataError("; ".join(problems[:5]))
    return cases


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold().strip()


def _has_any(text: str, keywords: Iterable[str]) -> bool:
    found = _norm(text)
    return any(_norm(k) in found for k in keywords if k.strip())


def _text(value: Any) -> str:
    """Every string inside a JSON value, one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_text(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _filled(text: str) -> bool:
    return bool(text.strip()) and not text.strip().startswith("TODO")


def _numbers(text: str) -> list[str]:
    return [n.replace(",", ".") for n in NUMBER.findall(text)]


def _same_numbers(stated: str, drafted: str) -> bool:
    want = _numbers(stated)
    return bool(want) and want == _numbers(drafted)[: len(want)]


@dataclass
class Scored:
    """One document's draft, field by field."""

    case: ImportCase
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    drafted: dict[str, str] = field(default_factory=dict)
    metrics_found: int = 0
    config_as_metrics: list[str] = field(default_factory=list)
    ungrounded: list[str] = field(default_factory=list)


def score_draft(case: ImportCase, label: dict[str, Any], document: str) -> Scored:
    """Score one draft label against what its document (``document``: the file's text) states."""
    scored = Scored(case)
    analysis = _object(label.get("analysis"))
    cause = _text(analysis.get("root_cause"))
    scored.drafted["root_cause"] = cause
    if case.root_cause_known:
        scored.outcomes["root_cause"] = (
            "empty"
            if not _filled(cause)
            else "right"
            if _has_any(cause, case.root_cause_keywords)
            else "wrong"
        )
    else:
        scored.outcomes["root_cause"] = (
            "right" if not _filled(cause) or UNKNOWN_CAUSE.search(cause) else "wrong"
        )

    resolution = _object(label.get("resolution"))
    actions = next(
        (_text(resolution[k]) for k in ("immediate_actions", "immediate_action") if k in resolution), ""
    )
    scored.drafted["fix"] = actions
    if case.fix is None:
        scored.outcomes["fix"] = "wrong" if _filled(actions) else "right"
    else:
        scored.outcomes["fix"] = (
            "empty" if not _filled(actions) else "right" if _has_any(actions, case.fix_keywords) else "wrong"
        )

    meta = _object(label.get("metadata"))
    for name, expected in (("category", case.category), ("subtype", case.subtype)):
        got = meta.get(name)
        scored.drafted[name] = str(got or "")
        if expected is not None:
            scored.outcomes[name] = "empty" if not got else "right" if got == expected else "wrong"

    stamp = label.get("timestamp")
    scored.drafted["started"] = str(stamp or "")
    if case.started_utc is not None:
        scored.outcomes["started"] = _started(case.started_utc, stamp)

    baseline, degraded = _metric_pairs(label)
    pairs = [(name, baseline.get(name, ""), degraded.get(name, "")) for name in {*baseline, *degraded}]
    scored.drafted["metrics"] = "; ".join(f"{n}: {b} → {a}" for n, b, a in sorted(pairs))
    for stated in case.metrics:
        if any(_same_numbers(stated.before, b) and _same_numbers(stated.after, a) for _, b, a in pairs):
            scored.metrics_found += 1
    if case.metrics:
        found = scored.metrics_found == len(case.metrics)
        scored.outcomes["metrics"] = "right" if found else "empty" if not pairs else "wrong"
    for name, before, after in pairs:
        numbers = set(_numbers(before) + _numbers(after))
        if any(numbers and numbers <= set(_numbers(change)) for change in case.config_changes):
            scored.config_as_metrics.append(f"{name}: {before} → {after}")
    in_document = set(_numbers(document))
    for name, before, after in pairs:
        missing = [n for n in _numbers(before) + _numbers(after) if n not in in_document]
        if missing:
            scored.ungrounded.append(f"{name}: {before} → {after}")
    return scored


def _started(expected: datetime, stamp: Any) -> Outcome:
    if not isinstance(stamp, str) or not stamp.strip():
        return "empty"
    try:
        got = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "wrong"
    if got.tzinfo is None:
        return "wrong"  # a clock time with no zone is not a point in time
    want = expected if expected.tzinfo else expected.replace(tzinfo=UTC)
    return "right" if abs((got - want).total_seconds()) < 60 else "wrong"


def _metric_pairs(label: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    metrics = _object(label.get("metrics"))
    baseline, degraded = _object(metrics.get("baseline")), _object(metrics.get("degraded"))
    return {str(k): _text(v) for k, v in baseline.items()}, {str(k): _text(v) for k, v in degraded.items()}


Progress = Callable[[int, int], None]


def run_import(
    cases: list[ImportCase], *, root: Path, taxonomy: Taxonomy, progress: Progress | None = None
) -> list[Scored]:
    """Import each case's file (relative to ``root``) and score the draft."""
    out = []
    for n, case in enumerate(cases, 1):
        path = root / case.file
        doc = read_source(path, link=case.source)
        draft = draft_label(doc, taxonomy=taxonomy, incident_id="perf-0000000000")
        out.append(score_draft(case, draft.label, path.read_text(encoding="utf-8")))
        if progress:
            progress(n, len(cases))
    return out


def import_metrics(scored: list[Scored]) -> dict[str, Any]:
    """Per field: how many documents were scored on it, right / wrong / empty, and the share right;
    then the metric-pair recall and the two counts that must stay at zero."""
    fields: dict[str, Any] = {}
    for name in FIELDS:
        outcomes = [s.outcomes[name] for s in scored if name in s.outcomes]
        counts = {o: outcomes.count(o) for o in ("right", "wrong", "empty")}
        fields[name] = {
            "n": len(outcomes),
            **counts,
            "accuracy": counts["right"] / len(outcomes) if outcomes else 0.0,
        }
    stated = sum(len(s.case.metrics) for s in scored)
    return {
        "n": len(scored),
        **fields,
        "metric_pairs": {
            "stated": stated,
            "found": sum(s.metrics_found for s in scored),
            "recall": sum(s.metrics_found for s in scored) / stated if stated else 0.0,
        },
        "config_as_metrics": sum(len(s.config_as_metrics) for s in scored),
        "ungrounded_values": sum(len(s.ungrounded) for s in scored),
    }
