"""Recurrence: how often a kind of problem happened (in the last 30 days and year before now), its latest
incidents with what fixed each and whether that held, and the families that recurred over a window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assistant.search.kinds import Confirmation, KindHistory, started_at
from assistant.search.manifest import IncidentRecord
from assistant.search.results import KnownKind, Match
from assistant.search.verdict import VerdictModel

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def record(
    incident_id: str, subtype: str, started: str | None, fix: str = "", outcome: str = ""
) -> IncidentRecord:
    raw: dict[str, Any] = {
        "id": incident_id,
        "analysis": {"root_cause": "x"},
        "metadata": {"subtype": subtype},
    }
    if started:
        raw["timestamp"] = started
    if fix:
        raw["resolution"] = {"immediate_actions": [fix], **({"outcome": outcome} if outcome else {})}
    category = "network" if subtype == "dns_resolution" else "database"
    return IncidentRecord(
        id=incident_id, title=f"{incident_id} title", category=category, subtype=subtype, file="", raw=raw
    )


RECORDS = [
    record("dns-1", "dns_resolution", "2026-06-20T08:00:00Z", "Scaled CoreDNS", "held for a week"),
    record("dns-2", "dns_resolution", "2026-06-02", "Restarted node-local-dns"),
    record("dns-3", "dns_resolution", "2025-11-01T00:00:00+02:00", "Raised the ndots"),
    record("dns-4", "dns_resolution", "2019-01-01"),
    record("dns-5", "dns_resolution", None),
    record("db-1", "query_performance", "2026-06-25T00:00:00Z"),
]


def match(incident_id: str, subtype: str) -> Match:
    return Match(
        id=incident_id, title="t", category=None, subtype=subtype, score=1.0, similarity=0.5, passages=[]
    )


def test_a_known_kind_says_how_often_and_what_fixed_the_latest_ones() -> None:
    kind = KindHistory(RECORDS).known_kind([match("dns-3", "dns_resolution")], now=NOW)
    assert kind is not None
    assert (kind.incidents, kind.last_30_days, kind.last_365_days) == (5, 2, 3)
    assert [o.id for o in kind.recent] == ["dns-1", "dns-2", "dns-3"]
    assert kind.recent[0].fix == "Scaled CoreDNS" and kind.recent[0].outcome == "held for a week"
    assert kind.last_seen == "2026-06-20T08:00:00Z"
    left_out = KindHistory(RECORDS).known_kind([match("dns-3", "dns_resolution")], exclude={"dns-1"}, now=NOW)
    assert left_out is not None and (left_out.incidents, left_out.last_30_days) == (4, 1)


def test_the_reason_says_when_the_kind_recurred_lately() -> None:
    def reason(kind: KnownKind) -> str:
        model = VerdictModel.load(None)
        return model.verdict(0.99, incident_id="dns-1", contradictions=(), kind=kind, title="t").reason

    kind = KindHistory(RECORDS).known_kind([match("dns-1", "dns_resolution")], now=NOW)
    assert kind is not None
    assert "5 past incidents, 2 of them in the last 30 days" in reason(kind)
    later = KindHistory(RECORDS).known_kind(
        [match("dns-1", "dns_resolution")], now=datetime(2027, 5, 1, tzinfo=UTC)
    )
    assert later is not None and "2 of them in the last year" in reason(later)
    much_later = KindHistory(RECORDS).known_kind(
        [match("dns-1", "dns_resolution")], now=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert much_later is not None and "of them" not in reason(much_later)


def test_families_recurring_in_a_window() -> None:
    history = KindHistory(RECORDS)
    since = datetime(2026, 5, 1, tzinfo=UTC)
    families = history.families(since=since, until=NOW, min_count=2)
    assert [(f.subtype, f.incidents, f.total) for f in families] == [("dns_resolution", 2, 5)]
    assert [o.id for o in families[0].occurrences] == ["dns-1", "dns-2"]
    assert (families[0].first, families[0].last) == ("2026-06-02", "2026-06-20T08:00:00Z")
    everything = history.families(since=since, until=NOW, min_count=1)
    assert [f.subtype for f in everything] == ["dns_resolution", "query_performance"]


def test_start_times_read_as_instants() -> None:
    assert started_at("2025-11-01T00:00:00+02:00") == datetime(2025, 10, 31, 22, 0, tzinfo=UTC)
    assert started_at("2026-06-02") == datetime(2026, 6, 2, tzinfo=UTC)
    assert started_at("TODO: when") is None and started_at(None) is None


def test_answers_marked_helpful_count_as_the_kind_happening_again() -> None:
    confirmed = [
        Confirmation(answer_id="a1", incident_id="dns-4", at="2026-06-28T10:00:00+00:00"),
        Confirmation(answer_id="a2", incident_id="dns-1", at="2026-05-01T10:00:00+00:00"),
        Confirmation(answer_id="a3", incident_id="db-1", at="2026-06-29T10:00:00+00:00"),
        Confirmation(answer_id="a4", incident_id="not-in-the-index", at="2026-06-29T10:00:00+00:00"),
    ]
    history = KindHistory(RECORDS, confirmed=lambda: confirmed)
    kind = history.known_kind([match("dns-2", "dns_resolution")], now=NOW)
    assert kind is not None
    assert (kind.confirmed, kind.confirmed_30_days) == (2, 1), "by the first match's kind, whenever marked"
    assert kind.last_confirmed == "2026-06-28T10:00:00+00:00"
    assert kind.incidents == 5, "confirmations are counted apart from the labels"
    seen = _reason_for(kind)
    assert "confirmed again once in the last 30 days" in seen

    # a kind with one label in the window is listed once on-call confirmed it again
    june = history.families(since=datetime(2026, 6, 15, tzinfo=UTC), until=NOW, min_count=2)
    by_kind = {f.subtype: f for f in june}
    assert (by_kind["query_performance"].incidents, by_kind["query_performance"].confirmed) == (1, 1)
    assert (by_kind["dns_resolution"].incidents, by_kind["dns_resolution"].confirmed) == (1, 1)
    assert not KindHistory(RECORDS).families(since=datetime(2026, 6, 15, tzinfo=UTC), until=NOW, min_count=2)


def _reason_for(kind: KnownKind) -> str:
    from assistant.search.verdict import _reason

    return _reason("yes", "kind", 90, "dns-2", kind, "t")
