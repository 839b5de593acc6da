"""The importer evaluation (eval/importer/): the set itself (real documents with a recorded licence,
the mix the importer must read, no incident that is also a label or a dev case), the field scorer, and
the gate: the importer's accuracy on the set stays above [import] in eval/thresholds.toml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.corpus.taxonomy import SUBTYPE_TO_CATEGORY, TAXONOMY, load_taxonomy
from assistant.evaluation.import_run import (
    ImportCase,
    import_metrics,
    load_import_cases,
    run_import,
    score_draft,
)
from assistant.evaluation.thresholds import check, load_thresholds
from tests.conftest import LABELS, ROOT

SET = ROOT / "eval" / "importer"
PERMISSIVE = {"MIT", "Apache-2.0", "BSD-3-Clause", "CC-BY-4.0", "MIT OR Apache-2.0"}


@pytest.fixture(scope="module")
def cases() -> list[ImportCase]:
    return load_import_cases(SET / "expected.jsonl")


def _norm(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}"


def test_the_set_is_real_documents_with_their_licences(cases: list[ImportCase]) -> None:
    assert len(cases) >= 25
    assert len({c.id for c in cases}) == len(cases)
    sources = (SET / "SOURCES.md").read_text()
    licences = {p.name for p in (SET / "licenses").iterdir()}
    for c in cases:
        assert (SET / c.file).is_file(), c.id
        assert c.licence in PERMISSIVE, c.id
        assert c.source.startswith("https://") and f"| {c.id} | {c.source} | {c.licence} |" in sources, c.id
        row = next(line for line in sources.splitlines() if line.startswith(f"| {c.id} |"))
        assert any(name in row for name in licences), f"{c.id}: no licence text named in SOURCES.md"
    assert len({c.source for c in cases}) == len(cases)


def test_the_set_has_the_mix_the_importer_must_read(cases: list[ImportCase]) -> None:
    extra: list[dict[str, Any]] = [c.model_extra or {} for c in cases]
    assert sum(1 for e in extra if e.get("stated_timezone")) >= 5
    assert sum(1 for e in extra if e.get("cause_in_prose_only")) >= 5
    assert sum(1 for c in cases if not c.root_cause_known) >= 3
    assert sum(1 for c in cases if c.metrics) >= 5
    assert {Path(c.file).suffix for c in cases} >= {".md", ".html"}
    assert len({e.get("style") for e in extra}) >= 3
    for c in cases:
        assert c.subtype is None or SUBTYPE_TO_CATEGORY[c.subtype] == c.category, c.id
        assert c.category is None or c.category in TAXONOMY, c.id
        assert not c.root_cause_known or c.root_cause_keywords, c.id
        assert c.fix is None or c.fix_keywords, c.id


def test_no_document_is_also_a_label_or_a_dev_case(cases: list[ImportCase]) -> None:
    used = set()
    for path in LABELS.rglob("*.json"):
        for token in path.read_text().replace('"', " ").split():
            if token.startswith(("https://", "http://")):
                used.add(_norm(token.rstrip(",")))
    for line in (ROOT / "eval" / "real.jsonl").read_text().splitlines():
        if line.strip():
            used.add(_norm(json.loads(line)["source"]))
    assert [c.id for c in cases if _norm(c.source) in used] == []


def test_keywords_are_the_documents_own_words(cases: list[ImportCase]) -> None:
    for c in cases:
        text = " ".join((SET / c.file).read_text(encoding="utf-8").split()).casefold()
        for keyword in c.root_cause_keywords + c.fix_keywords:
            assert " ".join(keyword.split()).casefold() in text, (c.id, keyword)


CASE = ImportCase(
    id="t",
    file="t.md",
    source="https://example.org/t",
    licence="MIT",
    root_cause_known=True,
    root_cause_keywords=["expired certificate"],
    fix="renewed",
    fix_keywords=["renewed the certificate"],
    category="observability",
    subtype="certificate_expiry",
    started_utc=datetime(2024, 3, 1, 13, 5, tzinfo=UTC),
    metrics=[{"name": "success rate", "before": "100%", "after": "0%"}],
    config_changes=["raised the timeout from 5 to 30 seconds"],
)
DOCUMENT = "The expired certificate broke TLS; success rate fell from 100% to 0%. We renewed the certificate."


def draft(**parts: Any) -> dict[str, Any]:
    label: dict[str, Any] = {
        "analysis": {"root_cause": "TODO: one sentence: what caused it"},
        "resolution": {"immediate_actions": ["TODO: what stopped the impact"]},
        "metadata": {},
    }
    label.update(parts)
    return label


def test_a_field_is_right_wrong_or_empty() -> None:
    good = score_draft(
        CASE,
        draft(
            analysis={"root_cause": "An Expired  certificate on the load balancer"},
            resolution={"immediate_actions": ["We renewed the certificate"]},
            metadata={"category": "observability", "subtype": "certificate_expiry"},
            timestamp="2024-03-01T14:05:00+01:00",
            metrics={"baseline": {"success rate": "100%"}, "degraded": {"success rate": "0%"}},
        ),
        DOCUMENT,
    )
    assert set(good.outcomes.values()) == {"right"}
    empty = score_draft(CASE, draft(), DOCUMENT)
    assert {k: v for k, v in empty.outcomes.items()} == {
        "root_cause": "empty",
        "fix": "empty",
        "category": "empty",
        "subtype": "empty",
        "started": "empty",
        "metrics": "empty",
    }
    wrong = score_draft(
        CASE,
        draft(
            analysis={"root_cause": "A DNS outage"},
            resolution={"immediate_actions": ["Restarted the pods"]},
            metadata={"category": "network", "subtype": "dns_resolution"},
            timestamp="2024-03-01T13:05:00",  # a clock time with no zone is not the instant
        ),
        DOCUMENT,
    )
    assert set(wrong.outcomes.values()) - {"empty"} == {"wrong"}
    assert wrong.outcomes["started"] == "wrong"


def test_an_unknown_cause_is_right_only_when_the_draft_does_not_name_one() -> None:
    unknown = CASE.model_copy(update={"root_cause_known": False, "root_cause_keywords": []})
    for cause, outcome in (
        ("TODO: one sentence: what caused it", "right"),
        ("Unknown: the team suspects a network blip", "right"),
        ("The root cause was not identified", "right"),
        ("A bad deploy of the proxy", "wrong"),
    ):
        assert (
            score_draft(unknown, draft(analysis={"root_cause": cause}), DOCUMENT).outcomes["root_cause"]
            == outcome
        )


def test_settings_taken_as_metrics_and_invented_values_are_counted() -> None:
    scored = score_draft(
        CASE,
        draft(
            metrics={
                "baseline": {"timeout": "5s", "errors": "7"},
                "degraded": {"timeout": "30s", "errors": "9"},
            }
        ),
        DOCUMENT,
    )
    assert scored.config_as_metrics == ["timeout: 5s → 30s"]
    assert sorted(scored.ungrounded) == ["errors: 7 → 9", "timeout: 5s → 30s"]


def test_the_importer_stays_above_its_thresholds(cases: list[ImportCase]) -> None:
    taxonomy, _ = load_taxonomy(LABELS)
    metrics = import_metrics(run_import(cases, root=SET, taxonomy=taxonomy))
    minimums = load_thresholds(ROOT / "eval" / "thresholds.toml")["import"]
    shortfalls = check(metrics, minimums)
    assert not shortfalls, "the importer fell below eval/thresholds.toml:\n" + "\n".join(map(str, shortfalls))
    assert metrics["ungrounded_values"] == 0
