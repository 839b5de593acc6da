"""The taxonomy cell an imported draft is filed under: what the cause says, not every word in the text.

Every document here is written for the test.
"""

from __future__ import annotations

from pathlib import Path

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label


def cell_of(tmp_path: Path, text: str) -> tuple[str | None, str | None]:
    path = tmp_path / "pm.md"
    path.write_text(text)
    meta = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label["metadata"]
    return meta.get("category"), meta.get("subtype")


def test_a_negated_mention_does_not_count(tmp_path: Path) -> None:
    cell = cell_of(
        tmp_path,
        "# Orders API timeouts\n\n## Root cause\n\n"
        "The root cause was not DNS and not CoreDNS; it was a missing index on the orders table.\n",
    )
    assert cell == ("database", "query_performance")


def test_words_in_pasted_logs_and_commands_do_not_count(tmp_path: Path) -> None:
    cell = cell_of(
        tmp_path,
        "# Report jobs slow\n\n## Root cause\n\nThe report job spun in a hot loop.\n\n"
        "```\nlookup failed: SERVFAIL from coredns, dns nxdomain\n"
        "lookup failed: SERVFAIL from coredns\n```\n\n"
        "We ran `kubectl logs coredns-abc --namespace kube-system` to be sure.\n",
    )
    assert cell == ("resource_contention", "cpu_throttling")


def test_the_cause_outweighs_the_story(tmp_path: Path) -> None:
    cell = cell_of(
        tmp_path,
        "# Checkout errors\n\n## Summary\n\nRequests through the load balancer failed; the load balancer "
        "health check marked backends down and the ingress returned 502.\n\n## Root cause\n\n"
        "The payments database ran out of connections: "
        "the connection pool was exhausted by a slow batch job.\n",
    )
    assert cell == ("database", "connection_pool_exhaustion")


def test_a_clear_category_is_given_when_the_subtype_is_not(tmp_path: Path) -> None:
    cell = cell_of(
        tmp_path,
        "# Office VPN users cut off\n\n## Root cause\n\nA networking issue between the two sites: the "
        "network link flapped and connectivity was lost for twenty minutes.\n",
    )
    assert cell == ("network", None)


def test_a_database_disk_is_storage_and_any_other_disk_is_io(tmp_path: Path) -> None:
    db = cell_of(
        tmp_path, "# Writes failing\n\n## Root cause\n\nThe database volume ran out of disk space.\n"
    )
    logs = cell_of(tmp_path, "# Builds failing\n\n## Root cause\n\nThe build agents ran out of disk space.\n")
    assert db == ("database", "storage_io")
    assert logs == ("resource_contention", "io_bottleneck")


def test_out_of_memory_is_a_leak_only_when_memory_grows_over_time(tmp_path: Path) -> None:
    sizing = cell_of(
        tmp_path,
        "# Worker OOM\n\n## Root cause\n\nThe worker ran out of memory: a single upload used up all the "
        "memory because the pod had no memory limits.\n",
    )
    leak = cell_of(
        tmp_path,
        "# Worker OOM\n\n## Root cause\n\nThe worker ran out of memory: its memory grew steadily over days "
        "until it was OOMKilled.\n",
    )
    assert sizing == ("application", "memory_management")
    assert leak == ("resource_contention", "memory_leak")
