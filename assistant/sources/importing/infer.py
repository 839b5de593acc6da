"""What a document's text says, read without a model: metrics stated as before → after, services and
components, severity and versions. The taxonomy cell is read by ``classify`` (re-exported here), the
start by ``started``.
"""

from __future__ import annotations

import re
from collections import Counter

from assistant.sources.importing.classify import Inference, infer_subtype, weighted_texts
from assistant.sources.importing.document import Document
from assistant.sources.importing.metrics import Metric, find_metrics

__all__ = ["Inference", "Metric", "find_metrics", "infer_subtype", "weighted_texts"]


def _count(text: str, phrase: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text))


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


_K8S_VERSION = re.compile(
    r"(?:kubernetes|k8s|server version|gitversion|eks|gke|aks)[^\n]{0,40}?\bv?(1\.\d{1,2}(?:\.\d{1,2})?)\b",
    re.IGNORECASE,
)


def find_k8s_version(text: str) -> str | None:
    m = _K8S_VERSION.search(text)
    return m.group(1) if m else None
