"""The built-in taxonomy as data: its categories, their subtypes with descriptions and inference
keywords, and the rules that read a subtype from a label's tags. ``assistant.corpus.taxonomy`` builds the
``Taxonomy`` from these and extends it with ``labels/taxonomy.toml``.
"""

from __future__ import annotations

# category → subtype → (description, inference keywords). Keywords are lower-case words or phrases
# looked for in a document's text; tags use the rules further down.
BUILTIN_CELLS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
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

# Ordered: the first rule whose keywords all appear among a label's tags wins. Tags are matched after
# normalising "-" and " " to "_". More specific rules come first.
TAG_RULES: tuple[tuple[frozenset[str], str], ...] = tuple(
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
