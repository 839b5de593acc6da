"""When an imported incident started: declared time zones honoured, UTC out, no zone guessed.

Every document here is written for the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label
from assistant.sources.importing.started import document_timeline
from assistant.sources.importing.when import declared_zone, find_date


def started(tmp_path: Path, text: str) -> tuple[str | None, list[str]]:
    path = tmp_path / "pm.md"
    path.write_text(text)
    draft = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t")
    return draft.label.get("timestamp"), draft.unfilled


@pytest.mark.parametrize(
    ("zone_line", "expected"),
    [
        ("All times in CET", "2026-01-12T08:30:00Z"),
        ("All times in PST (UTC-7)", "2026-01-12T16:30:00Z"),  # the offset given wins over the name
        ("Times are in US/Pacific", "2026-01-12T17:30:00Z"),  # a region: PST in January
        ("All times UTC+5:30", "2026-01-12T04:00:00Z"),
    ],
)
def test_a_declared_zone_is_honoured(tmp_path: Path, zone_line: str, expected: str) -> None:
    when, _ = started(
        tmp_path,
        f"# Disk alarms\n\n## Timeline\n\n{zone_line}\n\n- 2026-01-12 09:30 Disk alarms on the log hosts\n"
        "- 2026-01-12 10:05 Old logs deleted\n",
    )
    assert when == expected


def test_a_named_region_follows_daylight_saving(tmp_path: Path) -> None:
    when, _ = started(
        tmp_path,
        "# Slow pages\n\n## Timeline\n\nAll times in US/Pacific\n\n- 2026-07-01 09:30 Pages slow\n",
    )
    assert when == "2026-07-01T16:30:00Z"  # PDT in July


def test_a_zone_written_after_the_time_is_honoured(tmp_path: Path) -> None:
    when, _ = started(tmp_path, "# Outage\n\n## Timeline\n\n- 2026-03-02 23:50 CEST: API down\n")
    assert when == "2026-03-02T21:50:00Z"


def test_a_clock_time_without_a_zone_is_not_taken_for_utc(tmp_path: Path) -> None:
    when, unfilled = started(
        tmp_path, "# Outage\n\nDate: 2026-05-04\n\n## Timeline\n\n- 14:20 Payments failing\n- 14:50 Fixed\n"
    )
    assert when == "2026-05-04"
    assert any("14:20 with no time zone" in u for u in unfilled)


def test_times_under_date_headings_and_past_midnight(tmp_path: Path) -> None:
    text = (
        "# Sync lag\n\n## Timeline\n\nAll times in CET\n\n### 2026-02-20\n\n"
        "- 23:40 Replication lag alert\n- 00:30 Lag back to zero\n"
    )
    when, _ = started(tmp_path, text)
    assert when == "2026-02-20T22:40:00Z"
    entries = document_timeline(read_source(tmp_path / "pm.md"))
    assert [e.day.isoformat() if e.day else None for e in entries] == ["2026-02-20", "2026-02-21"]


def test_the_summary_saying_when_it_began_wins_over_the_first_alert(tmp_path: Path) -> None:
    when, _ = started(
        tmp_path,
        "# Slow search\n\nSearch latency started to climb at 07:05 UTC and stayed high for an hour.\n\n"
        "## Timeline\n\n- 2026-06-09 07:25 UTC First latency alert\n",
    )
    assert when == "2026-06-09T07:05:00Z"


def test_a_duration_line_is_not_a_time(tmp_path: Path) -> None:
    when, _ = started(
        tmp_path,
        "# Outage\n\nDate: 2026-08-01\n\n## Timeline\n\nAll times in UTC.\n\nTime to recovery: 01:25\n\n"
        "- 03:15 Queue consumers stopped\n- 04:40 Consumers restarted\n",
    )
    assert when == "2026-08-01T03:15:00Z"


def test_a_start_the_timeline_marks_as_unknown_keeps_the_date_only(tmp_path: Path) -> None:
    when, unfilled = started(
        tmp_path,
        "# Flaky jobs\n\n## Timeline\n\nAll times in UTC\n\n### 2026-09-10\n\n"
        "- [???] Disk latency starts to grow\n- [13:00] First report of failing jobs\n",
    )
    assert when == "2026-09-10"
    assert any("start time is not known" in u for u in unfilled)


def test_the_entry_marked_as_the_start(tmp_path: Path) -> None:
    when, _ = started(
        tmp_path,
        "# Outage\n\n## Timeline\n\nAll times in UTC\n\n- 2026-10-01 08:00 Config change merged\n"
        "- 2026-10-01 09:10 Proxy restarts with the new config (outage starts)\n",
    )
    assert when == "2026-10-01T09:10:00Z"


def test_zone_declarations_and_dates_as_written() -> None:
    assert declared_zone("The meeting started at 10:00 in the main room") is None
    found = find_date("Date: 03.08.2023")
    assert found is not None and found.day.isoformat() == "2023-08-03"  # day first
    assert find_date("on the 5th of May") is None  # no year given: not a date alone
