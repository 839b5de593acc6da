"""The incident taxonomy (category → subtypes), its extension by ``labels/taxonomy.toml``, and
inference of a subtype from tags.

The built-in taxonomy is the default. A ``taxonomy.toml`` in the labels folder adds categories and
subtypes, or inference keywords to built-in subtypes, without code changes::

    [categories.messaging]
    description = "Brokers, queues and their consumers"

    [subtypes.consumer_lag]
    category = "messaging"
    description = "Consumers fall behind producers and the backlog grows"
    keywords = ["consumer lag", "backlog", "rebalance"]

    [subtypes.cpu_throttling]          # a built-in subtype: more words to recognise it by
    keywords = ["regex backtracking", "hot loop"]
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import LabelProblem

TAXONOMY_FILE = "taxonomy.toml"

# category → subtype → (description, inference keywords). Keywords are lower-case words or phrases
# looked for in a document's text; tags use the rules further down.
_BUILTIN: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "resource_contention": {
        "memory_leak": (
            "Memory grows without bound until pods are OOMKilled",
            (
                "memory leak",
                "leak",
                "oomkilled",
                "oom killed",
                "out of memory",
                "memory growth",
                "memory grows",
                "oom",
            ),
        ),
        "cpu_throttling": (
            "CPU quota throttling or CPU saturation slows the service",
            (
                "cpu throttling",
                "throttled",
                "cfs quota",
                "cpu limit",
                "cpu saturation",
                "high cpu",
                "100% cpu",
            ),
        ),
        "io_bottleneck": (
            "Disk or volume I/O limits stall the workload",
            ("iops", "iowait", "io wait", "disk latency", "disk throughput", "disk i/o", "disk io", "ebs"),
        ),
        "network_congestion": (
            "Packet loss, bandwidth or connection-tracking limits on the network path",
            ("packet loss", "bandwidth", "network congestion", "retransmit", "conntrack", "saturated link"),
        ),
    },
    "scalability": {
        "pod_startup_latency": (
            "New pods take too long to become ready",
            (
                "image pull",
                "cold start",
                "pod startup",
                "readiness probe",
                "init container",
                "containercreating",
            ),
        ),
        "service_mesh_overhead": (
            "Sidecar proxies cost CPU, memory or start-up time at scale",
            ("sidecar", "istio-proxy", "proxy overhead", "mesh overhead", "envoy memory"),
        ),
        "control_plane_bottleneck": (
            "etcd, the API server or the scheduler cannot keep up",
            ("etcd", "apiserver", "api server", "kube-apiserver", "control plane", "scheduler", "kubectl"),
        ),
        "autoscaling_delay": (
            "Autoscaling reacts too late or not at all",
            ("hpa", "autoscaler", "autoscaling", "scale up", "scale-up", "karpenter", "scaling"),
        ),
    },
    "database": {
        "connection_pool_exhaustion": (
            "Clients wait for or run out of database connections",
            (
                "connection pool",
                "pool exhausted",
                "too many connections",
                "max connections",
                "hikari",
                "pgbouncer",
            ),
        ),
        "query_performance": (
            "Slow queries, bad plans, missing indexes or lock contention",
            ("slow query", "query plan", "full table scan", "missing index", "lock contention", "deadlock"),
        ),
        "replication_lag": (
            "Replicas fall behind the primary",
            ("replication lag", "replica lag", "replica", "replication", "binlog", "wal"),
        ),
        "storage_io": (
            "Database storage is full, slow or busy with maintenance",
            ("disk full", "tablespace", "vacuum", "compaction", "write amplification", "storage"),
        ),
    },
    "network": {
        "service_mesh_latency": (
            "The service mesh adds latency or errors on requests",
            ("istio", "envoy", "linkerd", "mtls", "service mesh", "virtualservice"),
        ),
        "dns_resolution": (
            "Name lookups fail or are slow",
            ("dns", "coredns", "nxdomain", "resolv.conf", "ndots", "name resolution", "kube-dns", "servfail"),
        ),
        "load_balancer_bottleneck": (
            "A load balancer or ingress limits or drops traffic",
            ("load balancer", "elb", "alb", "nlb", "haproxy", "ingress", "502", "health check"),
        ),
        "cross_zone_latency": (
            "Traffic between zones or regions adds latency or fails",
            ("cross-zone", "cross zone", "availability zone", "inter-zone", "cross-region", "region"),
        ),
    },
    "application": {
        "memory_management": (
            "Garbage collection or heap sizing stalls the application",
            ("garbage collection", "gc pause", "gc", "heap", "jvm", "stop-the-world", "full gc"),
        ),
        "thread_pool_saturation": (
            "Worker threads or the event loop are all busy or blocked",
            ("thread pool", "threads", "worker pool", "executor", "thread starvation", "event loop"),
        ),
        "cache_efficiency": (
            "Cache misses, evictions or stampedes push load to the backend",
            ("cache", "hit rate", "cache miss", "eviction", "redis", "memcached", "thundering herd"),
        ),
        "connection_handling": (
            "Connections leak, reset, time out or are retried into a storm",
            ("connection reset", "keepalive", "keep-alive", "connection leak", "retry storm", "retries"),
        ),
    },
    "observability": {
        "alert_storm": (
            "Too many alerts at once hide the real one",
            ("alert storm", "alertmanager", "paging", "alert fatigue", "flapping", "too many alerts"),
        ),
        "silent_alert_failure": (
            "An alert that should have fired did not",
            ("did not fire", "never fired", "silent", "missed alert", "monitoring gap", "scrape"),
        ),
        "certificate_expiry": (
            "An expired or invalid certificate breaks TLS",
            ("certificate", "cert", "expired", "tls", "x509", "cert-manager", "ssl"),
        ),
        "cardinality_explosion": (
            "Too many metric series overload the monitoring system",
            ("cardinality", "time series", "series", "label explosion", "tsdb"),
        ),
    },
}

TAXONOMY: dict[str, tuple[str, ...]] = {c: tuple(subs) for c, subs in _BUILTIN.items()}
"""The built-in taxonomy, category → subtypes."""

SUBTYPE_TO_CATEGORY: dict[str, str] = {s: c for c, subs in TAXONOMY.items() for s in subs}

# Ordered: the first rule whose keywords all appear among a label's tags wins. Tags are matched after
# normalising "-" and " " to "_". More specific rules come first.
_TAG_RULES: tuple[tuple[frozenset[str], str], ...] = tuple(
    (frozenset(keys.split()), subtype)
    for keys, subtype in (
        ("certificate_expiry", "certificate_expiry"),
        ("cert_manager", "certificate_expiry"),
        ("alert_storm", "alert_storm"),
        ("silent_failure", "silent_alert_failure"),
        ("high_cardinality", "cardinality_explosion"),
        ("cardinality", "cardinality_explosion"),
        ("etcd", "control_plane_bottleneck"),
        ("control_plane", "control_plane_bottleneck"),
        ("consumer_lag connection_pool", "connection_pool_exhaustion"),
        ("database connection_pool", "connection_pool_exhaustion"),
        ("replication_lag", "replication_lag"),
        ("slow_query", "query_performance"),
        ("memory_leak", "memory_leak"),
        ("cpu_throttling", "cpu_throttling"),
        ("dns", "dns_resolution"),
        ("coredns", "dns_resolution"),
        ("network_latency istio", "service_mesh_latency"),
        ("network_latency envoy", "service_mesh_latency"),
        ("service_mesh", "service_mesh_overhead"),
        ("cross_zone", "cross_zone_latency"),
        ("load_balancer", "load_balancer_bottleneck"),
        ("autoscaling", "autoscaling_delay"),
        ("hpa", "autoscaling_delay"),
        ("thread_pool", "thread_pool_saturation"),
        ("cache", "cache_efficiency"),
        ("gc", "memory_management"),
        ("connection_pool", "connection_pool_exhaustion"),
    )
)


def norm_tag(tag: str) -> str:
    return tag.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class Subtype:
    name: str
    category: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    builtin: bool = True


@dataclass(frozen=True)
class Taxonomy:
    """Categories and their subtypes, in order. ``BUILTIN`` unless a ``taxonomy.toml`` extends it."""

    subtypes: dict[str, Subtype]
    categories: dict[str, str] = field(default_factory=dict)
    """category → description."""
    source: str | None = None
    """The file that extended the built-in taxonomy, if any."""

    @property
    def cells(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {c: [] for c in self.categories}
        for sub in self.subtypes.values():
            out.setdefault(sub.category, []).append(sub.name)
        return {c: tuple(s) for c, s in out.items()}

    def category_of(self, subtype: str) -> str | None:
        sub = self.subtypes.get(subtype)
        return sub.category if sub else None

    def infer_from_tags(self, tags: Iterable[str]) -> str | None:
        """The subtype implied by a label's tags: the built-in rules, then a tag that names a subtype
        or one of an added subtype's keywords."""
        normalised = {norm_tag(t) for t in tags}
        for keys, subtype in _TAG_RULES:
            if keys <= normalised and subtype in self.subtypes:
                return subtype
        for sub in self.subtypes.values():
            if sub.name in normalised or (
                not sub.builtin and normalised & {norm_tag(k) for k in sub.keywords}
            ):
                return sub.name
        return None

    def suggest(self, name: str, *, n: int = 3) -> list[str]:
        """Subtypes a mistyped or shortened name probably meant (``dns`` → ``dns_resolution``)."""
        key = norm_tag(name)
        if not key:
            return []
        found = [s for s in self.subtypes if key in s or s in key]
        found += [
            s.name
            for s in self.subtypes.values()
            if any(key == norm_tag(k) or key in norm_tag(k).split("_") for k in s.keywords)
        ]
        found += difflib.get_close_matches(key, list(self.subtypes), n=n, cutoff=0.6)
        return list(dict.fromkeys(found))[:n]

    def unknown_subtype_message(self, name: str) -> str:
        hint = self.suggest(name)
        maybe = f"did you mean {' or '.join(hint)}? " if hint else ""
        return (
            f"unknown subtype {name!r}; {maybe}run `assistant labels taxonomy` for the list, or add it "
            f"to {TAXONOMY_FILE} in the labels folder"
        )


BUILTIN = Taxonomy(
    subtypes={
        s: Subtype(name=s, category=c, description=d, keywords=k)
        for c, subs in _BUILTIN.items()
        for s, (d, k) in subs.items()
    },
    categories={c: "" for c in _BUILTIN},
)

_NAME = r"^[a-z][a-z0-9_]{1,63}$"


class _CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""


class _SubtypeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(None, pattern=_NAME)
    description: str = ""
    keywords: list[str] = []


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: dict[str, _CategorySpec] = {}
    subtypes: dict[str, _SubtypeSpec] = {}


def extend(base: Taxonomy, spec: _TaxonomyFile, *, source: str) -> tuple[Taxonomy, list[LabelProblem]]:
    problems: list[LabelProblem] = []
    categories = dict(base.categories)
    for name, cat in spec.categories.items():
        if not _valid_name(name):
            problems.append(LabelProblem(source, f"$.categories.{name}", "use lower_snake_case names"))
            continue
        categories[name] = cat.description or categories.get(name, "")
    subtypes = dict(base.subtypes)
    for name, sub in spec.subtypes.items():
        where = f"$.subtypes.{name}"
        known = subtypes.get(name)
        if not _valid_name(name):
            problems.append(LabelProblem(source, where, "use lower_snake_case names"))
        elif known is not None:
            if sub.category is not None and sub.category != known.category:
                problems.append(
                    LabelProblem(
                        source, where, f"{name!r} already belongs to {known.category!r}; it cannot move"
                    )
                )
                continue
            subtypes[name] = Subtype(
                name=name,
                category=known.category,
                description=sub.description or known.description,
                keywords=(*known.keywords, *(k.lower() for k in sub.keywords)),
                builtin=known.builtin,
            )
        elif sub.category is None:
            problems.append(LabelProblem(source, where, 'a new subtype needs `category = "..."`'))
        elif sub.category not in categories:
            problems.append(
                LabelProblem(
                    source,
                    f"{where}.category",
                    f"category {sub.category!r} is neither built in nor declared under [categories]",
                )
            )
        else:
            subtypes[name] = Subtype(
                name=name,
                category=sub.category,
                description=sub.description,
                keywords=tuple(k.lower() for k in sub.keywords),
                builtin=False,
            )
    return Taxonomy(subtypes=subtypes, categories=categories, source=source), problems


def _valid_name(name: str) -> bool:
    return re.fullmatch(_NAME, name) is not None


def load_taxonomy(labels_dir: Path) -> tuple[Taxonomy, list[LabelProblem]]:
    """The built-in taxonomy extended by ``labels_dir/taxonomy.toml`` when that file exists. Problems in
    the file are returned (and the built-in taxonomy used), never raised."""
    path = labels_dir / TAXONOMY_FILE
    if not path.is_file():
        return BUILTIN, []
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return BUILTIN, [LabelProblem(source, "$", f"cannot read file: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return BUILTIN, [LabelProblem(source, "$", f"invalid TOML: {exc}")]
    try:
        spec = _TaxonomyFile.model_validate(data)
    except ValidationError as exc:
        return BUILTIN, [
            LabelProblem(source, "$." + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
        ]
    return extend(BUILTIN, spec, source=source)


def infer_subtype(tags: Iterable[str]) -> str | None:
    """The built-in subtype implied by a label's tags, or None when no rule matches."""
    return BUILTIN.infer_from_tags(tags)


def category_of(subtype: str) -> str:
    return SUBTYPE_TO_CATEGORY[subtype]
