"""The real-incident dev set (eval/real.jsonl): well-formed cases, the taxonomy's names, unique ids, no case
that shares its source with a label (an incident is a label or a dev case, never both), at least half from
operators' own production incidents, and first sightings that carry real alert names."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.corpus.taxonomy import SUBTYPE_TO_CATEGORY, TAXONOMY
from assistant.evaluation.cases import load_cases
from assistant.evaluation.dev_run import dev_cases
from tests.conftest import LABELS, ROOT

REAL = ROOT / "eval" / "real.jsonl"
FIELDS = (
    "id",
    "query",
    "category",
    "subtype",
    "root_cause",
    "keywords",
    "source",
    "title",
    "origin",
    "sighting",
)
ORIGINS = {"production", "bug-tracker"}
SIGHTINGS = {"alert", "dashboard", "user-report", "log"}
# An alert name as alerting rules spell them (TargetDown, etcdHighFsyncDurations, CPUThrottlingHigh)
ALERT_NAME = re.compile(r"\b\w*[a-z][A-Z]\w*|\[FIRING")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in REAL.read_text().splitlines() if line.strip()]


def _norm(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}"


def test_dev_set_is_big_enough_and_ids_unique(cases: list[dict[str, Any]]) -> None:
    assert len(cases) >= 150
    ids = Counter(c["id"] for c in cases)
    assert [i for i, n in ids.items() if n > 1] == []


def test_every_case_has_its_fields(cases: list[dict[str, Any]]) -> None:
    for c in cases:
        missing = [f for f in FIELDS if f not in c]
        assert not missing, (c.get("id"), missing)
        assert len(c["query"].split()) >= 5, c["id"]
        assert c["root_cause"].strip() and c["title"].strip(), c["id"]
        assert isinstance(c["keywords"], list) and c["keywords"], c["id"]
        assert c["source"].startswith(("https://", "http://")), c["id"]


def test_gold_uses_the_taxonomy(cases: list[dict[str, Any]]) -> None:
    for c in cases:
        if c["subtype"] is None:
            assert c["category"] is None or c["category"] in TAXONOMY, c["id"]
            continue
        assert c["subtype"] in SUBTYPE_TO_CATEGORY, (c["id"], c["subtype"])
        assert c["category"] == SUBTYPE_TO_CATEGORY[c["subtype"]], c["id"]


def test_subtypes_are_covered(cases: list[dict[str, Any]]) -> None:
    counts = Counter(c["subtype"] for c in cases if c["subtype"])
    assert len(counts) >= 20, counts
    assert sum(1 for n in counts.values() if n >= 3) >= 18, counts


def test_no_case_shares_its_source_with_another_case_or_a_label(cases: list[dict[str, Any]]) -> None:
    sources = Counter(_norm(c["source"]) for c in cases)
    assert [s for s, n in sources.items() if n > 1] == []
    label_urls: set[str] = set()
    for path in LABELS.rglob("*.json"):
        text = path.read_text()
        for token in text.replace('"', " ").split():
            if token.startswith(("https://", "http://")):
                label_urls.add(_norm(token.rstrip(",")))
    shared = sorted(s for s in sources if s in label_urls)
    assert shared == []


def test_dev_cases_load_without_relevant_and_keep_the_root_cause() -> None:
    loaded = dev_cases(load_cases(REAL))
    assert all(c.root_cause for c in loaded)
    assert all(c.subtype for c in loaded), "every first sighting has a home in the taxonomy"


def test_at_least_half_are_operators_production_incidents(cases: list[dict[str, Any]]) -> None:
    origins = Counter(c["origin"] for c in cases)
    assert set(origins) <= ORIGINS, origins
    assert origins["production"] >= len(cases) / 2, origins


def test_sightings_are_known_and_alerts_carry_an_alert_name(cases: list[dict[str, Any]]) -> None:
    sightings = Counter(c["sighting"] for c in cases)
    assert set(sightings) <= SIGHTINGS, sightings
    assert all(sightings[s] >= 5 for s in SIGHTINGS), sightings
    alerts = [c for c in cases if c["sighting"] == "alert"]
    assert len(alerts) >= 30
    assert [c["id"] for c in alerts if not ALERT_NAME.search(c["query"])] == []


def test_slices_reach_the_dev_run() -> None:
    loaded = dev_cases(load_cases(REAL))
    assert {c.slices.get("origin") for c in loaded} == ORIGINS
    assert {c.slices.get("sighting") for c in loaded} == SIGHTINGS
