"""Lenient parsing of model output, the streamed summary, and the citation check."""

from __future__ import annotations

import json

import pytest

from assistant.corpus.passages import Passage
from assistant.diagnosis.citations import CitationChecker
from assistant.diagnosis.model_answer import (
    DraftAnswer,
    DraftHypothesis,
    DraftResolution,
    SummaryStream,
    confidence,
    drop_echoes,
    parse_answer,
    read_json_object,
)

GOOD = {
    "summary": 'Looks like [perf-1] again: "pool" leak.\nCheck it.',
    "hypotheses": [{"cause": "pool leak", "confidence": 0.8, "incident_ids": ["perf-1"]}],
    "evidence_to_check": ["heap dump"],
    "next_steps": ["restart"],
    "resolutions": [{"incident_id": "perf-1", "action": "fix pool"}],
}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(GOOD),
        "```json\n" + json.dumps(GOOD, indent=2) + "\n```",
        "Sure! Here is the JSON:\n" + json.dumps(GOOD) + "\nHope this helps.",
        json.dumps(GOOD, indent=1).replace("]\n}", "],\n}").replace('"fix pool"', '"fix pool",'),
    ],
    ids=["plain", "fenced", "chatty", "trailing-commas"],
)
def test_json_is_found_and_read(text: str) -> None:
    draft = parse_answer(text)
    assert draft.structured
    assert draft.summary == GOOD["summary"]
    assert draft.hypotheses == [DraftHypothesis(cause="pool leak", confidence=0.8, incident_ids=["perf-1"])]
    assert draft.resolutions[0].incident_id == "perf-1" and draft.resolutions[0].action == "fix pool"


def test_truncated_json_keeps_what_was_complete() -> None:
    text = json.dumps(GOOD)
    for cut in (len(text) - 1, text.index('"evidence_to_check"') + 5, text.index('"pool leak"') + 4):
        obj = read_json_object(text[:cut])
        assert obj is not None, cut
        assert obj["summary"] == GOOD["summary"]


def test_other_key_names_and_shapes_are_accepted() -> None:
    draft = parse_answer(
        json.dumps(
            {
                "Answer": "It is [perf-2]",
                "causes": [
                    "plain string cause",
                    {"hypothesis": "h", "probability": "70%", "incidents": "perf-2"},
                ],
                "checks": "one check",
                "fixes": [{"incident": "perf-2", "fix": "bump pool"}, "not a dict"],
                "sources": "perf-2, perf-3",
            }
        )
    )
    assert draft.summary == "It is [perf-2]"
    assert [(h.cause, h.confidence, h.incident_ids) for h in draft.hypotheses] == [
        ("plain string cause", 0.5, []),
        ("h", 0.7, ["perf-2"]),
    ]
    assert draft.evidence_to_check == ["one check"]
    assert [(r.incident_id, r.action) for r in draft.resolutions] == [("perf-2", "bump pool")]
    assert draft.citations == ["perf-2", "perf-3"]


def test_prose_becomes_the_summary() -> None:
    draft = parse_answer("```\nProbably the pool [perf-1].\n```")
    assert not draft.structured and draft.summary == "Probably the pool [perf-1]."
    assert parse_answer("").summary == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.83, 0.83),
        (83, 0.83),
        ("83%", 0.83),
        ("0.4", 0.4),
        ("high", 0.8),
        ("LOW", 0.2),
        ("??", 0.5),
        (None, 0.5),
        (True, 0.5),
        (-3, 0.0),
        (250, 1.0),
    ],
)
def test_confidence_forms(value: object, expected: float) -> None:
    assert confidence(value) == expected


def stream_all(text: str, size: int) -> str:
    stream = SummaryStream()
    return "".join(out for i in range(0, len(text), size) for out in stream.feed(text[i : i + size]))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_summary_streams_decoded_at_any_chunking(size: int) -> None:
    text = json.dumps({"summary": 'Pool "leak" é \\ [perf-1]\nnext', "hypotheses": []}, ensure_ascii=True)
    assert stream_all(text, size) == 'Pool "leak" é \\ [perf-1]\nnext'
    fenced = "```json\n" + text + "\n```"
    assert stream_all(fenced, size) == 'Pool "leak" é \\ [perf-1]\nnext'


def test_prose_streams_as_is_and_json_without_summary_streams_nothing() -> None:
    assert stream_all("  The pool [perf-1].", 4) == "The pool [perf-1]."
    stream = SummaryStream()
    assert list(stream.feed('{"hypotheses": []}')) == [] and not stream.emitted


PASSAGES = {
    "perf-1": [
        Passage(incident_id="perf-1", kind="symptom", text="perf-1 — Checkout slow\nSymptoms:\n- p99 2s"),
        Passage(
            incident_id="perf-1",
            kind="evidence",
            text="perf-1 — Checkout slow\nRoot cause: connection pool leak in the payment client",
        ),
        Passage(incident_id="perf-1", kind="resolution", text="perf-1 — Checkout slow\nFix: close the pool"),
    ],
    "perf-2": [
        Passage(
            incident_id="perf-2",
            kind="evidence",
            text="perf-2 — Disk full\nRoot cause: log rotation disabled on the database volume",
        ),
    ],
}


def checker() -> CitationChecker:
    return CitationChecker(
        allowed=["perf-1", "perf-2"], passages=PASSAGES, corpus_ids=["perf-1", "perf-2", "perf-3"]
    )


def test_invalid_citations_are_removed_from_text() -> None:
    c = checker()
    assert c.clean_text("See [perf-1] and [perf-9].") == "See [perf-1] and."
    assert c.clean_text("Both [perf-2, perf-3; INC-77].") == "Both [perf-2]."
    assert c.clean_text("Like perf-3 did, unlike perf-1.") == "Like (unverified incident) did, unlike perf-1."
    assert c.clean_text("exit code [137], see [OOMKilled] and [HTTP 503]") == (
        "exit code [137], see [OOMKilled] and [HTTP 503]"
    )
    assert c.invalid == ["perf-9", "perf-3", "INC-77"]
    assert c.unsupported == [], "pointers that claim nothing are not judged"


def test_check_drops_unsupported_claims_and_records_everything() -> None:
    draft = DraftAnswer(
        summary="It is [perf-2].",
        hypotheses=[
            DraftHypothesis(cause="pool leak", confidence=0.9, incident_ids=["perf-1", "perf-9"]),
            DraftHypothesis(cause="invented", confidence=0.8, incident_ids=["perf-9"]),
            DraftHypothesis(cause="uncited", confidence=0.7, incident_ids=[]),
            DraftHypothesis(
                cause="log rotation disabled [perf-2]", confidence=0.6, incident_ids=["the ones"]
            ),
        ],
        evidence_to_check=["look at [perf-3]", "dashboards"],
        citations=["perf-1", "perf-4"],
    )
    checked = checker().check(draft)
    assert [(h.cause, h.incident_ids) for h in checked.hypotheses] == [
        ("pool leak", ["perf-1"]),
        ("log rotation disabled", ["perf-2"]),
    ]
    assert checked.evidence_to_check == ["look at", "dashboards"]
    assert checked.citations == ["perf-2", "perf-1"]
    assert checked.invalid_citations == ["perf-9", "perf-3", "perf-4"]
    assert checked.unsupported_citations == []


def test_claims_an_incident_does_not_state_are_dropped_and_counted() -> None:
    draft = DraftAnswer(
        summary=(
            "The connection pool leaked [perf-1, perf-2]. Disk filled because log rotation was off [perf-1]."
        ),
        hypotheses=[
            DraftHypothesis(cause="connection pool leak", confidence=0.9, incident_ids=["perf-1", "perf-2"]),
            DraftHypothesis(cause="log rotation disabled", confidence=0.5, incident_ids=["perf-1"]),
        ],
        resolutions=[
            DraftResolution(incident_id="perf-1", action="close the pool"),
            DraftResolution(incident_id="perf-2", action="close the pool"),
        ],
    )
    checked = checker().check(draft)
    assert [(h.cause, h.incident_ids) for h in checked.hypotheses] == [("connection pool leak", ["perf-1"])]
    assert checked.summary == "The connection pool leaked [perf-1]. Disk filled because log rotation was off."
    assert [(r.incident_id, r.action) for r in checked.resolutions] == [("perf-1", "close the pool")]
    dropped = {(u.incident_id, u.field) for u in checked.unsupported_citations}
    assert dropped == {
        ("perf-2", "hypotheses[0]"),
        ("perf-1", "hypotheses[1]"),
        ("perf-2", "resolutions[1]"),
        ("perf-2", "summary"),
        ("perf-1", "summary"),
    }
    assert all(u.support < 0.6 for u in checked.unsupported_citations)
    assert checked.citations == ["perf-1"]


def test_summary_is_composed_when_the_model_gave_none() -> None:
    draft = DraftAnswer(
        hypotheses=[DraftHypothesis(cause="pool leak", confidence=0.9, incident_ids=["perf-1"])]
    )
    assert checker().check(draft).summary == "Likely cause: pool leak [perf-1]."


def test_echoes_of_the_prompt_are_dropped_but_quoted_data_is_kept() -> None:
    prompt = (
        'Reply like {"summary": "two or three sentences", "next_steps": ["what to do next"]}\n'
        "Q: pods OOMKilled"
    )
    draft = DraftAnswer(
        summary="two or three sentences [perf-1]",
        next_steps=["what to do next", "raise the memory limit"],
        evidence_to_check=["pods OOMKilled"],
    )
    cleaned, dropped = drop_echoes(draft, prompt)
    assert dropped == 3
    assert cleaned.summary == "" and cleaned.next_steps == ["raise the memory limit"]
    assert cleaned.evidence_to_check == [], "restating the question is an echo too"
    kept, none = drop_echoes(DraftAnswer(summary="raise the heap [perf-1]", next_steps=["ok"]), prompt)
    assert none == 0 and kept.next_steps == ["ok"], "short items are never judged echoes"
