"""The incident taxonomy (category → subtypes) and inference of both from tags and text."""

from __future__ import annotations

from collections.abc import Iterable

TAXONOMY: dict[str, tuple[str, ...]] = {
    "resource_contention": ("memory_leak", "cpu_throttling", "io_bottleneck", "network_congestion"),
    "scalability": (
        "pod_startup_latency",
        "service_mesh_overhead",
        "control_plane_bottleneck",
        "autoscaling_delay",
    ),
    "database": ("connection_pool_exhaustion", "query_performance", "replication_lag", "storage_io"),
    "network": ("service_mesh_latency", "dns_resolution", "load_balancer_bottleneck", "cross_zone_latency"),
    "application": ("memory_management", "thread_pool_saturation", "cache_efficiency", "connection_handling"),
    "observability": ("alert_storm", "silent_alert_failure", "certificate_expiry", "cardinality_explosion"),
}

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


def _norm(tag: str) -> str:
    return tag.strip().lower().replace("-", "_").replace(" ", "_")


def infer_subtype(tags: Iterable[str]) -> str | None:
    """The subtype implied by a label's tags, or None when no rule matches."""
    normalised = {_norm(t) for t in tags}
    for keys, subtype in _TAG_RULES:
        if keys <= normalised:
            return subtype
    return None


def category_of(subtype: str) -> str:
    return SUBTYPE_TO_CATEGORY[subtype]
