"""Words post-mortems use for each taxonomy cell, beyond the taxonomy's own keywords.

The taxonomy's keywords are short tags ("iops", "cache"); post-mortems say the same in sentences
("ran out of disk space", "lock wait timeout", "all build slots were taken"). These phrases are read for
the built-in subtypes only (a subtype added in ``labels/taxonomy.toml`` brings its own keywords), and the
category cues speak for a category when the text does not say which of its subtypes ("a networking
issue", "the database").
"""

from __future__ import annotations

import re

SUBTYPE_CUES: dict[str, tuple[str, ...]] = {
    "memory_leak": ("memory leak", "leaking memory", "memory grew", "memory kept growing", "memory creep"),
    "memory_management": (
        "memory limit",
        "memory limits",
        "memory request",
        "heap size",
        "working set",
        "used up all the memory",
        "used all the memory",
        "oversized allocation",
    ),
    "cpu_throttling": (
        "cpu usage",
        "cpu utilization",
        "cpu utilisation",
        "cpu load",
        "cpu spike",
        "cpu hike",
        "cpu critical",
        "high cpu usage",
        "cpu starvation",
        "starved of cpu",
        "noisy neighbour",
        "noisy neighbor",
        "hot loop",
        "busy loop",
        "cpu-bound",
        "cpu bound",
        "100% cpu",
        "cpu at 100%",
    ),
    "io_bottleneck": (
        "disk space",
        "out of disk",
        "no space left",
        "disk full",
        "full disk",
        "disk usage",
        "root partition",
        "i/o throttling",
        "io throttling",
        "disk quota",
        "disk pressure",
        "filesystem full",
        "file system full",
        "read-only file system",
        "enospc",
        "ran out of space",
        "ran out of available space",
        "out of space",
        "volume filled",
        "volume full",
        "disk filled",
        "filled the disk",
        "filled up the disk",
    ),
    "network_congestion": ("packet drops", "dropped packets", "network saturation", "bandwidth limit"),
    "pod_startup_latency": ("slow to start", "startup probe", "image pulls", "pulling images"),
    "autoscaling_delay": (
        "node limit",
        "node pool limit",
        "max nodes",
        "maximum number of nodes",
        "autoscaling limit",
        "cluster is full",
        "cluster full",
        "cluster being full",
        "placeholder pods",
        "not enough nodes",
    ),
    "query_performance": (
        "lock wait timeout",
        "lock timeout",
        "lock timeouts",
        "lock wait",
        "locking the database",
        "table lock",
        "row lock",
        "locks",
        "slow queries",
        "long-running queries",
        "long-running migration",
    ),
    "load_balancer_bottleneck": ("load balancing", "redirector", "traffic routing", "ingress controller"),
    "thread_pool_saturation": (
        "slots",
        "build slots",
        "worker slots",
        "workers",
        "worker daemons",
        "worker processes",
        "job queue",
        "saturated the queue",
        "queue saturation",
        "stuck jobs",
        "backlog",
        "app instances",
        "application instances",
        "passenger instances",
        "unicorn workers",
        "puma",
        "gunicorn",
        "uwsgi",
        "php-fpm",
        "request queue",
    ),
    "cache_efficiency": ("memcache", "cache daemon", "cache store", "stale cache", "cache invalidation"),
}

CATEGORY_CUES: dict[str, tuple[str, ...]] = {
    "database": (
        "database",
        "mariadb",
        "mysql",
        "postgres",
        "postgresql",
        "sql",
        "innodb",
        "sqlite",
        "mongodb",
        "schema migration",
        "data migration",
        "database migration",
        "foreign key",
        "corrupted indexes",
        "index corruption",
    ),
    "network": (
        "network",
        "networking",
        "network issue",
        "connectivity",
        "ddos",
        "denial of service",
        "dos attack",
        "malicious traffic",
        "malicious requests",
        "packets",
        "firewall",
    ),
    "resource_contention": ("out of resources", "resource exhaustion", "resource contention", "max capacity"),
    "application": ("code change", "code changes", "regression", "exception", "background job", "job queue"),
}
CATEGORY_CUE_WEIGHT = 0.6
"""A category cue counts for less than a subtype's keyword: it says where, not what."""

# A database's own disk is ``storage_io``; every other disk is ``io_bottleneck`` (labels/README.md).
DATABASE = re.compile(
    r"\b(?:database|db|mariadb|mysql|postgres(?:ql)?|sql|innodb|tables?|wal|tablespace|replica)\b",
    re.IGNORECASE,
)
DISK_OF = {"io_bottleneck": "storage_io"}
# A keyword in another sense: the word before it says so ("a job scheduler" is not Kubernetes').
OTHER_SENSE: dict[str, re.Pattern[str]] = {
    "scheduler": re.compile(r"\b(?:job|task|cron|background|batch|build)\s$", re.IGNORECASE),
}
# Memory that grows with time is a leak; otherwise an out-of-memory is sizing (labels/README.md rule 1).
GROWTH = re.compile(
    r"\b(?:leak\w*|grow\w*|grew|growth|creep\w*|over\s(?:time|days|hours|weeks)|gradual\w*|steadily|"
    r"accumulat\w*|kept\s(?:rising|increasing|climbing))\b",
    re.IGNORECASE,
)
MEMORY = re.compile(r"\b(?:memory|oom\w*|heap|rss)\b", re.IGNORECASE)
GC_PAUSES = re.compile(
    r"\b(?:gc\spauses?|stop-the-world|full\sgc|garbage\scollection\spauses?)\b", re.IGNORECASE
)
