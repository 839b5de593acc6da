"""Alerts as queries: Alertmanager's webhook payload (version 4) and alert text pasted into a chat.

An alert carries much that says nothing about the problem: the generator URL of the Prometheus replica
that fired it, runbook and dashboard links, the random hash in a pod's name, the scraping replica's labels
(``prometheus``, ``prometheus_replica``), the port in ``instance``. Matched as text, that boilerplate
decides which past incident looks similar. These pure functions keep the alert name, the labels that
describe the problem and the summary / description annotations, and drop the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.sources.json_types import WHOLE

BOILERPLATE_LABELS = frozenset(
    {
        "prometheus",
        "prometheus_replica",
        "replica",
        "receive",
        "tenant_id",
        "endpoint",
        "metrics_path",
        "service_monitor",
        "servicemonitor",
        "uid",
        "id",
        "image",
        "instance_id",
        "pod_template_hash",
        "controller_revision_hash",
        "__name__",
        "le",
    }
)
"""Labels added by the monitoring stack (scraping replica, endpoint, hashes), not by the problem."""

LINK_KEYS = frozenset(
    {
        "runbook",
        "runbook_url",
        "runbookurl",
        "dashboard",
        "dashboard_url",
        "grafana",
        "grafana_url",
        "generatorurl",
        "generator_url",
        "source",
        "silence",
        "silence_url",
        "link",
        "links",
        "url",
        "playbook",
        "externalurl",
        "external_url",
        "panel_url",
        "graph",
    }
)
"""Label and annotation names (lower case) whose values are links."""

TEXT_ANNOTATIONS = ("summary", "message", "description")
"""Annotations that describe the problem, in the order they go into the query."""

# Every pattern here runs on pasted text, so each is linear in it: a pattern that scans a run of
# characters starts only where the run starts (a lookbehind, not \b), and open-ended spans are bounded.
URL = re.compile(r"<https?://[^<>\s]*>|https?://\S+", re.IGNORECASE)
SLACK_LINK = re.compile(r"<https?://[^|<>\s]*\|([^<>\n]{0,500})>", re.IGNORECASE)
# Kubernetes names random suffixes from this alphabet (no vowels, no 0/1/3): a Deployment's pod is
# name-<replicaset hash>-<5>, a DaemonSet's or Job's name-<5>. A digit is required so words survive.
_K8S = "bcdfghjklmnpqrstvwxz2456789"
POD_HASH = re.compile(rf"(?<=[a-z0-9])-(?=[{_K8S}]{{0,9}}\d)[{_K8S}]{{6,10}}-[{_K8S}]{{5}}\b")
POD_SUFFIX = re.compile(rf"(?<=[a-z0-9])-(?=[{_K8S}]{{0,4}}\d)[{_K8S}]{{5}}\b")
HOST_PORT = re.compile(r"(?<![\w.-])([\w.-]+):\d{2,5}\b")
IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
REPLICA_NAME = re.compile(r"(?<![\w-])(?:prometheus|alertmanager)-[\w-]*?-\d+\b", re.IGNORECASE)
FIRING_TAG = re.compile(r"\[(?:FIRING|RESOLVED)(?::\s*\d+)?\]\s*", re.IGNORECASE)
KEY_VALUE = re.compile(r"^\s*(?:[-•*]\s*)?\*?([A-Za-z_][\w.]*)\*?\s*(?:=|:)\*?\s*(.*)$")
INLINE_PAIR = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*=\s*(\"[^\"\n]{0,500}\"|[^\s,}]*),?\s*")
EMOJI = re.compile(r":[a-z0-9_+-]+:")
SLACK_EMPHASIS = re.compile(r"(?<!\w)[*_](\S(?:[^\n]{0,200}?\S)?)[*_](?!\w)")
ALERT_MARKERS = re.compile(
    r"\[(?:FIRING|RESOLVED)[:\]]|\balertname\s*[=:]|^\s*(?:Labels|Annotations)\s*:\s*$"
    r"|\bgeneratorURL\b|^\s*Source:\s*https?://",
    re.IGNORECASE | re.MULTILINE,
)


class Alert(BaseModel):
    """One alert of an Alertmanager notification."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: str | None = Field(None, alias="startsAt")
    ends_at: str | None = Field(None, alias="endsAt")
    generator_url: str | None = Field(None, alias="generatorURL")
    fingerprint: str | None = None


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body (``version: "4"``); unknown fields are kept and ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: Literal["4"] = Field(description="Webhook payload version; Alertmanager sends 4.")
    group_key: str = Field(alias="groupKey", min_length=1, description="Identifies the alert group.")
    truncated_alerts: Annotated[int, Field(ge=0, strict=True), WHOLE] = Field(0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str | None = Field(None, alias="externalURL")
    alerts: list[Alert] = Field(default_factory=list)

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]


def strip_links(text: str) -> str:
    """URLs out (a Slack ``<url|label>`` keeps its label)."""
    return URL.sub("", SLACK_LINK.sub(r"\1", text))


def _is_host(name: str) -> bool:
    """An IP address or a dotted host name (``db-1.prod.svc``), not ``12.5`` or ``v1.2``."""
    if IP_ADDRESS.fullmatch(name):
        return True
    last = name.rsplit(".", 1)
    return len(last) == 2 and name[:1].isalpha() and last[1][:1].isalpha()


def _host(match: re.Match[str]) -> str:
    """``host:port`` → ``host``; anything else as it was."""
    return match.group(1) if _is_host(match.group(1)) else match.group(0)


def clean_value(value: str) -> str:
    """A label or annotation value without links, pod hashes, replica names and instance ports."""
    value = strip_links(value)
    value = POD_HASH.sub("", value)
    value = POD_SUFFIX.sub("", value)
    value = HOST_PORT.sub(_host, value)
    value = REPLICA_NAME.sub("", value)
    return re.sub(r"[ \t]+", " ", value).strip(" ,;()")


def _key(name: str) -> str:
    return name.strip().lower()


def matters(name: str) -> bool:
    """Whether a label describes the problem (not the monitoring stack, not a link)."""
    key = _key(name)
    return key not in BOILERPLATE_LABELS and key not in LINK_KEYS


def label_text(labels: Mapping[str, str]) -> str:
    """``name value`` pairs of the labels that matter, values cleaned, ``alertname`` left to the caller."""
    parts = []
    for name, value in labels.items():
        if name == "alertname" or not matters(name):
            continue
        cleaned = clean_value(value)
        if cleaned:
            parts.append(f"{name} {cleaned}")
    return ", ".join(parts)


def _unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(i.strip() for i in items) if item]


@dataclass(frozen=True)
class AlertQuery:
    """What is searched for an alert group, and whether anything was left out to fit the limit."""

    text: str
    """Empty when the alerts carry nothing to search (no name, no label or text that matters)."""
    truncated: bool = False
    kept: str = ""
    """When truncated: what was kept, in a user's words."""


def _fit(lines: Sequence[str], max_chars: int) -> tuple[list[str], bool]:
    """Lines up to ``max_chars`` in all; the line that crosses the limit is cut at a word."""
    out: list[str] = []
    size = 0
    for line in lines:
        room = max_chars - size - (1 if out else 0)
        if len(line) <= room:
            out.append(line)
            size += len(line) + (1 if len(out) > 1 else 0)
            continue
        if room > 40:
            out.append(line[:room].rsplit(" ", 1)[0])
        return out, True
    return out, False


def alerts_query(alerts: Sequence[Alert], *, max_chars: int, max_value_chars: int = 16000) -> AlertQuery:
    """One query for a group of alerts: alert names, the labels that matter (shared ones once), and the
    distinct summaries and descriptions, within ``max_chars``. Each label and annotation value is cut to
    ``max_value_chars`` before it is cleaned. Whatever is cut is said in the result."""
    if not alerts:
        return AlertQuery("")
    long_values = any(
        len(v) > max_value_chars for a in alerts for v in (*a.labels.values(), *a.annotations.values())
    )
    if long_values:
        alerts = [
            a.model_copy(
                update={
                    "labels": {k: v[:max_value_chars] for k, v in a.labels.items()},
                    "annotations": {k: v[:max_value_chars] for k, v in a.annotations.items()},
                }
            )
            for a in alerts
        ]
    names = _unique(a.labels.get("alertname", "") for a in alerts)
    shared = {k: v for k, v in alerts[0].labels.items() if all(a.labels.get(k) == v for a in alerts[1:])}
    first = alerts[0].annotations
    common = [k for k in TEXT_ANNOTATIONS if all(a.annotations.get(k) == first.get(k) for a in alerts)]
    head = ", ".join(names)
    if labels := label_text(shared):
        head = f"{head} ({labels})" if head else labels
    lines = [head] if head else []
    if texts := _unique(clean_value(alerts[0].annotations.get(k, "")) for k in common):
        lines.append("; ".join(texts))
    for alert in alerts:
        own = label_text({k: v for k, v in alert.labels.items() if k not in shared})
        own_keys = [k for k in TEXT_ANNOTATIONS if k not in common]
        texts = _unique(clean_value(alert.annotations.get(k, "")) for k in own_keys)
        line = "; ".join(filter(None, [own, *texts]))
        if line and line not in lines:
            lines.append(line)
    out, cut = _fit(lines, max_chars)
    text = "\n".join(out)
    if not (cut or long_values):
        return AlertQuery(text)
    kept = f"the first {len(text)} characters of the alerts' names, labels and texts"
    if long_values:
        kept += f" (each value cut to {max_value_chars} characters first)"
    return AlertQuery(text, truncated=True, kept=kept)


def looks_like_alert(text: str) -> bool:
    """Whether pasted text is an alert notification (Alertmanager's Slack, e-mail or UI formats)."""
    return ALERT_MARKERS.search(text) is not None


def clean_alert_text(text: str) -> str:
    """Pasted alert text with its boilerplate removed, line by line: link lines and boilerplate labels
    dropped, URLs, pod hashes, replica names and instance ports taken out of the rest."""
    noise = _boilerplate_values(text)
    kept: list[str] = []
    for raw in text.splitlines():
        line = FIRING_TAG.sub("", raw)
        line = SLACK_EMPHASIS.sub(r"\1", line).replace("•", "-")
        pair = KEY_VALUE.match(line)
        if pair and not matters(pair.group(1)):
            continue
        line = INLINE_PAIR.sub(lambda m: m.group(0) if matters(m.group(1)) else "", line)
        for value in noise:
            line = line.replace(value, "")
        line = EMOJI.sub("", clean_value(line))
        if line.strip(" -:") and not re.fullmatch(r"\s*-?\s*[\w.]+\s*[=:]\s*", line):
            kept.append(line)
    return "\n".join(kept).strip()


def _boilerplate_values(text: str) -> list[str]:
    """Values of boilerplate labels found in the text (``prometheus: monitoring/k8s``), longest first:
    Alertmanager's titles repeat them elsewhere, e.g. ``[FIRING:1] Name (monitoring/k8s ...)``."""
    values: set[str] = set()
    for line in text.splitlines():
        line = SLACK_EMPHASIS.sub(r"\1", line)
        pairs = [m.groups() for m in INLINE_PAIR.finditer(line)]
        if pair := KEY_VALUE.match(line):
            pairs.append(pair.groups())
        for key, value in pairs:
            value = value.strip().strip("`\"'")
            if not matters(key) and len(value) >= 3 and not URL.match(value):
                values.add(value)
    return sorted(values, key=len, reverse=True)


def query_from_text(text: str) -> str:
    """What a chat, Slack or CLI query searches for: pasted alert text cleaned, anything else as typed.
    Cleaning never empties a query: if nothing were left, the text stays as it was."""
    if not looks_like_alert(text):
        return text
    return clean_alert_text(text) or text
