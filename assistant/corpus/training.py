"""Labels as supervised training pairs: what was seen → the diagnosis, remediation and prevention the
label records, split into train and validation by incident.

Formats: ``chat-jsonl`` (OpenAI chat fine-tuning: ``{"messages": [system, user, assistant]}``) and
``alpaca`` (``{"instruction", "input", "output"}``). The answer is built only from the label's own
analysis and resolution, so it is grounded in what happened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from assistant.corpus.loading import LoadedLabel
from assistant.corpus.passages import build_passages, humanize, render_tree

ExportFormat = Literal["chat-jsonl", "alpaca"]
FORMATS: tuple[ExportFormat, ...] = ("chat-jsonl", "alpaca")

SYSTEM = (
    "You are an assistant for on-call engineers. From the symptoms of a production incident, state the "
    "likely root cause and the evidence that points to it, the remediation steps, and how to prevent it."
)
INSTRUCTION = (
    "Diagnose this production incident from what the on-call engineer saw: give the root cause and its "
    "evidence, the remediation steps, and how to prevent it from happening again."
)
_REMEDIATION_WORDS = ("action", "fix", "solution", "remediation", "mitigation", "workaround", "change")
_PREVENTION_WORDS = ("prevent", "monitor", "lesson", "process", "documentation")


@dataclass(frozen=True)
class Pair:
    incident_id: str
    group: str
    """Labels of the same incident (same id, or the same source link) share a group."""
    prompt: str
    answer: str


def prompt_text(item: LoadedLabel) -> str:
    """What was seen: the symptom passage without its title line (a title often names the cause) and
    without the timestamp."""
    lines = build_passages(item.label, item.raw)[0].text.splitlines()[1:]
    return "\n".join(line for line in lines if not line.startswith("Timestamp:")).strip()


def _block(title: str, value: Any) -> list[str]:
    lines = list(render_tree(value, 0)) if isinstance(value, dict | list) else [str(value)]
    lines = [line for line in lines if line.strip()]
    return [f"{title}:", *lines] if lines else []


def answer_text(item: LoadedLabel) -> str:
    label, raw = item.label, item.raw
    analysis = raw.get("analysis") or {}
    out = [f"Root cause: {label.analysis.root_cause}"]
    for key in ("trigger", "evidence", "contributing_factors"):
        if analysis.get(key):
            out += _block(humanize(key).capitalize(), analysis[key])
    resolution = raw.get("resolution") or {}
    remediation = {k: v for k, v in resolution.items() if any(w in k.lower() for w in _REMEDIATION_WORDS)}
    prevention = {
        k: v
        for k, v in resolution.items()
        if k not in remediation and any(w in k.lower() for w in _PREVENTION_WORDS)
    }
    if remediation:
        out.append("Remediation:")
        for key, value in remediation.items():
            out += ["  " + line for line in _block(humanize(key).capitalize(), value)]
    if prevention:
        out.append("Prevention:")
        for key, value in prevention.items():
            out += ["  " + line for line in _block(humanize(key).capitalize(), value)]
    return "\n".join(out)


def pairs(labels: Iterable[LoadedLabel]) -> tuple[list[Pair], list[tuple[str, str]]]:
    """One pair per label, and (id, reason) for labels left out (nothing seen to start from)."""
    made: list[Pair] = []
    skipped: list[tuple[str, str]] = []
    for item in labels:
        prompt = prompt_text(item)
        if not prompt:
            skipped.append((item.label.id, "no symptoms, context or metrics to start from"))
            continue
        group = item.label.links[0] if item.label.links else item.label.id
        made.append(Pair(incident_id=item.label.id, group=group, prompt=prompt, answer=answer_text(item)))
    return made, skipped


def split(items: list[Pair], *, fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(train, validation): groups ordered by a seeded hash, the first ``round(groups * fraction)`` (at
    least one when there are two or more groups and ``fraction > 0``) go to validation. The same labels
    and seed give the same split on any machine; no group is in both."""
    groups = sorted(
        {p.group for p in items}, key=lambda g: hashlib.sha256(f"{seed}\0{g}".encode()).hexdigest()
    )
    n = round(len(groups) * fraction)
    if fraction > 0 and n == 0 and len(groups) > 1:
        n = 1
    held = set(groups[:n])
    return [p for p in items if p.group not in held], [p for p in items if p.group in held]


def record(pair: Pair, fmt: ExportFormat) -> dict[str, Any]:
    if fmt == "chat-jsonl":
        return {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": pair.prompt},
                {"role": "assistant", "content": pair.answer},
            ]
        }
    return {"instruction": INSTRUCTION, "input": pair.prompt, "output": pair.answer}
