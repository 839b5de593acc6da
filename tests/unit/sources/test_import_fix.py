"""What an imported draft says stopped the impact (immediate actions), apart from later work.

Every document here is written for the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import TODO_ACTIONS, draft_label


def resolution_of(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "pm.md"
    path.write_text(text)
    resolution: dict[str, Any] = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label[
        "resolution"
    ]
    return resolution


def test_follow_up_work_in_a_resolution_section_goes_to_the_long_term_fixes(tmp_path: Path) -> None:
    resolution = resolution_of(
        tmp_path,
        "# Login errors\n\n## Resolution\n\n- Restarted the session store on both nodes.\n"
        "- We will move the session store to a managed service next quarter.\n\n"
        "## Follow-up\n\n- Add a canary for the login page\n",
    )
    assert resolution["immediate_actions"] == ["Restarted the session store on both nodes."]
    assert (
        "We will move the session store to a managed service next quarter." in resolution["long_term_fixes"]
    )


def test_without_a_resolution_section_the_timeline_says_what_brought_service_back(tmp_path: Path) -> None:
    resolution = resolution_of(
        tmp_path,
        "# Checkout down\n\n## Timeline\n\nAll times in UTC.\n\n"
        "- 09:00 Error rate alert for checkout\n"
        "- 09:12 Looked at the dashboards, nothing obvious\n"
        "- 09:20 Rolled back the payment gateway to the previous build\n"
        "- 09:24 Error rate back to normal\n"
        "- 10:30 Wrote the incident summary\n\n"
        "## Action items\n\n- Add an integration test for the gateway\n",
    )
    assert resolution["immediate_actions"] == ["Rolled back the payment gateway to the previous build"]
    assert resolution["long_term_fixes"] == ["Add an integration test for the gateway"]


def test_an_apology_or_a_suspected_cause_is_not_a_fix(tmp_path: Path) -> None:
    resolution = resolution_of(
        tmp_path,
        "# Report pages blank\n\n## Resolution\n\nWe are sorry for the trouble this caused. "
        "We suspect a browser extension to be the cause of this.\n",
    )
    assert resolution["immediate_actions"] == [TODO_ACTIONS]


def test_a_recovery_without_intervention_is_stated_as_such(tmp_path: Path) -> None:
    resolution = resolution_of(
        tmp_path,
        "# Build queue backlog\n\n## Timeline\n\nAll times in CET\n\n"
        "### 2026-04-02 14:10\n\nBuilds start to queue.\n\n"
        "### 14:40\n\nThe queue drains and everything returns to normal without intervention.\n",
    )
    assert resolution["immediate_actions"] == [
        "The queue drains and everything returns to normal without intervention."
    ]


def test_the_summary_sentence_that_says_what_fixed_it(tmp_path: Path) -> None:
    resolution = resolution_of(
        tmp_path,
        "# Image pulls failing\n\n## Summary\n\nNodes could not pull images for an hour. "
        "Rotating the registry token fixed the problem.\n",
    )
    assert resolution["immediate_actions"] == ["Rotating the registry token fixed the problem."]
