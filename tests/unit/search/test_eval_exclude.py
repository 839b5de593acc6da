"""``Assistant.similar(exclude=...)``: the leave-one-out view of the index without rebuilding it."""

from __future__ import annotations

from assistant import Assistant
from assistant.service import build
from assistant.settings import Settings

QUERY = "order consumers falling behind on kafka, lag 200k, db pool maxed out"


def test_excluded_incident_is_gone_and_the_rest_keep_their_order(settings: Settings) -> None:
    """Without the subtype prior (which re-reads the classifier without the excluded incident, so it may
    re-order the rest) the other incidents keep their order."""
    settings = settings.model_copy(update={"subtype_prior": 0.0})
    build(settings)
    assistant = Assistant.from_settings(settings)
    full = assistant.similar(QUERY, k=6)
    top = full.matches[0].id
    without = assistant.similar(QUERY, k=6, exclude={top})
    assert top not in [m.id for m in without.matches]
    assert [m.id for m in without.matches] == [m.id for m in full.matches if m.id != top]
    assert all(p.kind for m in without.matches for p in m.passages)


def test_excluding_everything_leaves_no_match_and_a_no_verdict(settings: Settings) -> None:
    build(settings)
    assistant = Assistant.from_settings(settings)
    everything = set(assistant.index.incidents)
    result = assistant.similar(QUERY, k=6, exclude=everything)
    assert result.matches == []
    assert result.seen_before.verdict == "no"
