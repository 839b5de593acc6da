"""What a document's text says, read without a model: the subtype (with a confidence), metrics stated as
before → after, services and components, severity, dates and versions.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dateutil import parser as dateparser

from assistant.corpus.taxonomy import Taxonomy, norm_tag
from assistant.sources.importing.document import Document

# How much a section's words count towards the subtype: the cause counts most, the story least.
SECTION_WEIGHTS = {
    "root_cause": 3.0,
    "trigger": 2.5,
    "five_whys": 2.0,
    "contributing_factors": 1.5,
    "summary": 1.5,
    "detection": 1.0,
    "impact": 0.8,
    "resolution": 1.0,
    "action_items": 0.7,
    "timeline": 0.5,
    "lessons": 0.5,
}
TITLE_WEIGHT = 3.0


@dataclass(frozen=True)
class Inference:
    subtype: str | None
    category: str | None
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    """The words that pointed at the chosen subtype."""


def _count(text: str, phrase: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text))


def weighted_texts(doc: Document) -> list[tuple[str, float]]:
    out = [((doc.title or "").lower(), TITLE_WEIGHT)]
    for section in doc.sections:
        weight = SECTION_WEIGHTS.get(section.key or "", 0.4)
        out.append(("\n".join(section.lines()).lower(), weight))
    return out


def infer_subtype(doc: Document, taxonomy: Taxonomy) -> Inference:
    """Score every subtype by its keywords in the weighted sections; the built-in tag rules applied to
    the title's and root cause's words add a vote. ``confidence`` is the top score's share of all scores,
    damped when the evidence is thin (a ranking confidence, not a calibrated probability)."""
    texts = weighted_texts(doc)
    scores: dict[str, float] = {}
    hits: dict[str, Counter[str]] = {}
    for sub in taxonomy.subtypes.values():
        for keyword in sub.keywords:
            bonus = 1.5 if " " in keyword or "-" in keyword else 1.0
            for text, weight in texts:
                n = min(_count(text, keyword), 3)
                if n:
                    scores[sub.name] = scores.get(sub.name, 0.0) + n * weight * bonus
                    hits.setdefault(sub.name, Counter())[keyword] += n
    cause_words = re.findall(r"[a-z0-9][a-z0-9-]*", f"{doc.title or ''} {doc.text('root_cause')}".lower())
    tags = {norm_tag(w) for w in cause_words} | {
        norm_tag(f"{a} {b}") for a, b in itertools.pairwise(cause_words)
    }
    tags |= {norm_tag(t) for t in doc.labels}
    by_rule = taxonomy.infer_from_tags(tags)
    if by_rule:
        scores[by_rule] = scores.get(by_rule, 0.0) + 4.0
    if not scores:
        return Inference(subtype=None, category=None, confidence=0.0)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    total = sum(scores.values())
    top, top_score = ranked[0]
    confidence = (top_score / total) * (1 - math.exp(-top_score / 6))
    return Inference(
        subtype=top,
        category=taxonomy.category_of(top),
        confidence=round(confidence, 2),
        alternatives=[(name, round(score / total, 2)) for name, score in ranked[1:4]],
        keywords=[k for k, _ in hits.get(top, Counter()).most_common(6)],
    )


# --- metrics ------------------------------------------------------------------------------------------

_UNIT = (
    r"%|ms|msec|s|sec|secs|seconds|min|mins|minutes|m|h|hr|hrs|hours|k|K|M|GB|GiB|MB|MiB|KB|KiB|TB|Gi|Mi|"
    r"rps|qps|req/s|requests/s|/s|x|cores?|ops/s"
)
VALUE = rf"[~≈]?\$?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?(?:{_UNIT}))?(?![\w%/]|\.\d)"
_PAIR = re.compile(
    rf"\bfrom\s+(?:about\s+|around\s+|roughly\s+|~)?(?P<b>{VALUE})\s+(?:up\s+|down\s+)?to\s+"
    rf"(?:about\s+|around\s+|over\s+|more than\s+|~)?(?P<a>{VALUE})"
    rf"|(?P<b2>{VALUE})\s*(?:→|->|=>|⇒|⟶)\s*(?P<a2>{VALUE})",
    re.IGNORECASE,
)
_NOUN_AFTER = re.compile(r"^\s+([a-z][a-z0-9_-]{2,}(?:\s[a-z][a-z0-9_-]{2,})?)", re.IGNORECASE)
_VERBS = frozenset(
    "rose increased increase jumped spiked climbed grew went up dropped fell decreased degraded regressed "
    "changed surged doubled tripled moved shot was were is are had has have from the by rising growing "
    "dropping falling going climbing jumping spiking also all then grows climbs rises falls drops jumps "
    "spikes increases decreases goes scaled".split()
)
_LEADING = frozenset("the our its their a an and then all while with when as of in on at for".split())
_NOT_METRIC = re.compile(r"\b(version|upgrad\w*|release|kubernetes|k8s|v\d)\b", re.IGNORECASE)
_COUNTABLE_ONLY = frozenset("pods pod replicas replica nodes node instances connections threads".split())


@dataclass(frozen=True)
class Metric:
    name: str
    before: str
    after: str
    sentence: str


def _metric_name(prefix: str) -> str:
    prefix = re.split(r"[,;(\n]", prefix.rstrip(" :="))[-1]
    prefix = re.split(r"[,;:(\n]|\s[-–—]\s|\band\b|\bwhile\b|\bwith\b|\bwhen\b|\bas\b", prefix)[-1]
    words = re.findall(r"[A-Za-z0-9][\w./-]*", prefix)
    while words and words[-1].lower() in _VERBS:
        words.pop()
    words = words[-5:]
    while words and words[0].lower() in _LEADING:
        words.pop(0)
    return " ".join(w.lower().removesuffix("'s") for w in words)


def _clean_value(value: str) -> str:
    return value.strip().lstrip("~≈").strip()


def find_metrics(text: str) -> list[Metric]:
    """Every "name from X to Y" / "name X → Y" with numbers on both sides, in order, one per name."""
    found: dict[str, Metric] = {}
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        for m in _PAIR.finditer(sentence):
            before = _clean_value(m.group("b") or m.group("b2"))
            after = _clean_value(m.group("a") or m.group("a2"))
            prefix = sentence[: m.start()]
            if _NOT_METRIC.search(prefix[-40:]) or re.fullmatch(r"(19|20)\d\d", before):
                continue
            name = _metric_name(prefix)
            if not re.search(r"[a-z%]", after, re.IGNORECASE) or not name:
                noun = _NOUN_AFTER.match(sentence[m.end() :])
                if noun and (not name or noun.group(1).lower().split()[0] in _COUNTABLE_ONLY):
                    name = (name + " " if name else "") + noun.group(1).lower()
            if not name:
                continue
            key = re.sub(r"[^a-z0-9%]+", "_", name.lower()).strip("_")
            if key and key not in found:
                found[key] = Metric(name=key, before=before, after=after, sentence=sentence.strip())
    return list(found.values())


# --- services and components --------------------------------------------------------------------------

KNOWN_COMPONENTS = (
    "etcd",
    "CoreDNS",
    "kube-dns",
    "kube-apiserver",
    "kube-proxy",
    "kube-scheduler",
    "kubelet",
    "containerd",
    "Istio",
    "Envoy",
    "Linkerd",
    "NGINX",
    "HAProxy",
    "Traefik",
    "ingress-nginx",
    "Kafka",
    "RabbitMQ",
    "NATS",
    "Redis",
    "Memcached",
    "PostgreSQL",
    "Postgres",
    "MySQL",
    "MongoDB",
    "Cassandra",
    "Elasticsearch",
    "OpenSearch",
    "ZooKeeper",
    "PgBouncer",
    "HikariCP",
    "Prometheus",
    "Alertmanager",
    "Grafana",
    "Thanos",
    "cert-manager",
    "Karpenter",
    "Cluster Autoscaler",
    "HPA",
    "JVM",
    "Calico",
    "Cilium",
    "CNI",
    "Vault",
    "Consul",
    "ArgoCD",
    "Helm",
    "DynamoDB",
    "S3",
    "ELB",
    "ALB",
    "NLB",
    "CloudFront",
    "Cloudflare",
    "BGP",
)
_SERVICE_TOKEN = re.compile(
    r"(?<![\w/.-])([a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:service|svc|api|gateway|worker|workers|server|db|"
    r"proxy|frontend|backend|consumer|consumers|producer|processor|queue|cache|web|app))(?![\w-])"
)
_THE_SERVICE = re.compile(r"\bthe ([a-z][a-z0-9-]{2,30}) (?:service|api|microservice)\b")
_NOT_SERVICES = frozenset("dns web same new old whole main backend frontend internal".split())


def find_components(text: str) -> list[str]:
    lowered = text.lower()
    seen: list[str] = []
    for name in KNOWN_COMPONENTS:
        if _count(lowered, name.lower()) and name not in seen:
            if name == "Postgres" and "PostgreSQL" in seen:
                continue
            seen.append(name)
    return seen


def find_services(text: str, *, stated: str | None = None) -> list[str]:
    """Service names: those a ``Services:`` field lists, else hyphenated service-like names and
    "the X service", most mentioned first."""
    if stated:
        return [s.strip(" `*_") for s in re.split(r",|;|\band\b", stated) if s.strip(" `*_")]
    counts: Counter[str] = Counter()
    for m in _SERVICE_TOKEN.finditer(text):
        counts[m.group(1)] += 1
    for m in _THE_SERVICE.finditer(text.lower()):
        if m.group(1) not in _NOT_SERVICES:
            counts[m.group(1)] += 1
    return [name for name, _ in counts.most_common(5)]


# --- severity, dates, versions -----------------------------------------------------------------------

_SEV = re.compile(r"\b(?:sev(?:erity)?[\s-]?|p)([0-4])\b", re.IGNORECASE)
_SEV_WORDS = {"critical": "critical", "major": "high", "high": "high", "medium": "medium", "minor": "low"}
_SEV_LEVELS = {"0": "critical", "1": "critical", "2": "high", "3": "medium", "4": "low"}


def find_severity(doc: Document) -> str | None:
    stated = next((doc.fields[k] for k in ("severity", "sev", "priority", "level") if k in doc.fields), "")
    for text in (stated, doc.title or "", doc.text("summary")):
        m = _SEV.search(text)
        if m:
            return _SEV_LEVELS[m.group(1)]
        for word, level in _SEV_WORDS.items():
            if text and re.search(rf"\b{word}\b", text, re.IGNORECASE) and text is stated:
                return level
    return None


_ISO_DATE = re.compile(r"\b(20\d\d-[01]\d-[0-3]\d)(?:[T ]([0-2]\d:[0-5]\d)(?::[0-5]\d)?\s*(?:Z|UTC)?)?")
_WORD_DATE = re.compile(
    r"\b((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? [0-3]?\d(?:st|nd|rd|th)?,? 20\d\d)"
    r"|\b([0-3]?\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]* 20\d\d)",
)


def parse_when(text: str) -> str | None:
    """The first date (and time, when given with it) in ``text`` as ISO 8601 UTC, or None."""
    m = _ISO_DATE.search(text)
    if m:
        day, hm = m.group(1), m.group(2)
        try:
            value = datetime.fromisoformat(f"{day}T{hm or '00:00'}:00").replace(tzinfo=UTC)
        except ValueError:
            return None
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    m = _WORD_DATE.search(text)
    if m:
        try:
            parsed: datetime = dateparser.parse(m.group(1) or m.group(2))
        except (ValueError, OverflowError):
            return None
        return parsed.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


_CLOCK = re.compile(r"(?<![\d:])([0-2]?\d):([0-5]\d)(?![\d])")


def find_started(doc: Document) -> str | None:
    """When it started: a date field or the first date in the timeline or text; a date without a time
    takes the first clock time of the timeline."""
    when = None
    for key in ("date", "incident date", "start", "start time", "started", "started at", "detected"):
        if key in doc.fields and (when := parse_when(doc.fields[key])):
            break
    else:
        for text in (doc.text("timeline"), doc.created_at or "", doc.title or "", doc.full_text()):
            if text and (when := parse_when(text)):
                break
    if when and when.endswith("T00:00:00Z") and (clock := _CLOCK.search(doc.text("timeline"))):
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour < 24:
            when = f"{when[:10]}T{hour:02d}:{minute:02d}:00Z"
    return when


_K8S_VERSION = re.compile(
    r"(?:kubernetes|k8s|server version|gitversion|eks|gke|aks)[^\n]{0,40}?\bv?(1\.\d{1,2}(?:\.\d{1,2})?)\b",
    re.IGNORECASE,
)


def find_k8s_version(text: str) -> str | None:
    m = _K8S_VERSION.search(text)
    return m.group(1) if m else None
