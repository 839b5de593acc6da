"""Metrics an imported draft takes from the text: observed values that got worse, not settings changed.

Every sentence here is written for the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label
from assistant.sources.importing.metrics import find_metrics


def pairs(text: str) -> dict[str, tuple[str, str]]:
    return {m.name: (m.before, m.after) for m in find_metrics(text)}


@pytest.mark.parametrize(
    "text",
    [
        "We raised the connect timeout from 2 to 10 seconds.",
        "The team increased the disk from 500 to 900.",
        "Bumped the replica count from 4 to 12 to absorb the load.",
        "Increased node count to 80 from 60.",
        "Retention was changed from 30 to 7 days.",
        "We grew the scratch volume from 100 GB to 300 GB.",
    ],
)
def test_a_setting_someone_changed_is_not_a_metric(text: str) -> None:
    assert pairs(text) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Median latency went from ~400ms to >2s within minutes.", {"median_latency": ("400ms", ">2s")}),
        ("The success rate dropped from 100% to 0% for the EU region.", {"success_rate": ("100%", "0%")}),
        ("Disk usage increased from 40% to 97% overnight.", {"disk_usage": ("40%", "97%")}),
        ("Error rate rose to 12% from 0.1% after the deploy.", {"error_rate": ("0.1%", "12%")}),
    ],
)
def test_observed_values_that_got_worse(text: str, expected: dict[str, tuple[str, str]]) -> None:
    assert pairs(text) == expected


def test_a_value_that_fell_and_came_back_is_a_before_and_after() -> None:
    text = "10:02 Checkout success reaches 0%.\n10:40 Deploy reverted, checkout success back to 99%."
    assert pairs(text) == {"checkout_success": ("99%", "0%")}


def test_lines_broken_with_br_are_read_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text(
        "# Queue backlog\n\n## Timeline\n\nAll times in UTC<br>\n"
        "14:00 Queue depth from 20 to 9000<br>\n14:30 Consumers restarted<br>\n"
        "15:00 Lag from 2 s to 40 min\n"
    )
    label = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label
    assert label["metrics"] == {
        "baseline": {"queue_depth": "20", "lag": "2 s"},
        "degraded": {"queue_depth": "9000", "lag": "40 min"},
    }
    assert [e["time"] for e in label["timeline"]] == ["14:00", "14:30", "15:00"]


def test_figures_in_pasted_output_are_not_metrics(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text("# Slow API\n\n## Summary\n\nThe API slowed down.\n\n```\nrequests 10 -> 5000\n```\n")
    label = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label
    assert "metrics" not in label
