"""First sightings on the real corpus: plain queries of kinds the corpus holds many times are "yes — a
known kind of problem", with the history that answer promises; the README's memory examples find memory
incidents near the top; a healthy JVM heap in an OOMKilled incident does not make it contradict an OOM."""

from __future__ import annotations

import pytest

from assistant import Assistant

MEMORY = {"memory_leak", "memory_management"}
README_EXAMPLES = [
    "checkout p99 went from 150 ms to 2.5 s after the deploy, pods OOMKilled",
    "checkout p99 2s after deploy, pods OOMKilled",
]
KNOWN_KINDS = [
    (
        "DNS lookups from pods time out intermittently, 5 second delays, conntrack insert_failed rising",
        "dns_resolution",
    ),
    (
        "certificate has expired errors from every client of the payments API since midnight, x509 in logs",
        "certificate_expiry",
    ),
    (
        "CPUThrottlingHigh firing for the api pods, p99 doubled, CPU usage well below the limit",
        "cpu_throttling",
    ),
    (
        "Prometheus memory exploded after a deploy added a user_id label, head series doubled",
        "cardinality_explosion",
    ),
]


@pytest.mark.parametrize("query", README_EXAMPLES)
def test_readme_examples_have_a_memory_incident_in_the_top_3(corpus: Assistant, query: str) -> None:
    result = corpus.similar(query, 5)
    assert MEMORY & {m.subtype for m in result.matches[:3]}, [m.subtype for m in result.matches]


def test_a_growing_jvm_that_gets_oomkilled_is_not_a_no(corpus: Assistant) -> None:
    result = corpus.similar("java service memory keeps growing until pods get OOMKilled, p95 latency up", 5)
    assert result.seen_before.verdict != "no", result.seen_before.reason
    assert result.matches[0].subtype in MEMORY
    assert not any("OOM" in c for c in result.matches[0].reasons.contradictions)


@pytest.mark.parametrize(("query", "subtype"), KNOWN_KINDS)
def test_plain_queries_of_well_known_kinds_are_a_known_kind(
    corpus: Assistant, query: str, subtype: str
) -> None:
    result = corpus.similar(query, 5)
    seen = result.seen_before
    assert result.matches[0].subtype == subtype
    assert seen.verdict == "yes" and seen.level == "kind", seen.reason
    assert seen.kind is not None and seen.kind.subtype == subtype
    corpus_count = sum(1 for r in corpus.index.incidents.values() if r.subtype == subtype)
    assert seen.kind.incidents == corpus_count >= 6
    assert seen.kind.matched[0] == result.matches[0].id and seen.kind.last_fix
    assert seen.reason.startswith(
        f"yes — a known kind of problem: {subtype.replace('_', ' ')}, {corpus_count} past"
    )


def test_every_match_says_what_fixed_it(corpus: Assistant) -> None:
    result = corpus.similar(KNOWN_KINDS[0][0], 5)
    for m in result.matches:
        record = corpus.incident(m.id)
        assert m.started == record.raw.get("timestamp")
        assert m.fix, f"{m.id} has a resolution but no fix shown"
