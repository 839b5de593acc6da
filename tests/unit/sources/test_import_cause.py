"""The root cause an imported draft states: chosen by what the sentences say, not where they stand.

Every document here is written for the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label


def cause_of(tmp_path: Path, text: str, name: str = "pm.md") -> str:
    path = tmp_path / name
    path.write_text(text)
    root_cause: str = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label["analysis"][
        "root_cause"
    ]
    return root_cause


def test_the_sentence_that_states_the_cause_wins_over_the_first_one(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Search outage\n\n## Root cause\n\n"
        "The search tier runs on twelve nodes behind a shared proxy. "
        "Each node keeps its index on local disk. "
        "Queries timed out because the nightly compaction held a write lock on every shard.\n",
    )
    assert cause.startswith("Queries timed out because the nightly compaction")
    assert "twelve nodes" not in cause


def test_a_lead_in_keeps_the_list_it_announces(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Billing delays\n\n## Summary\n\nInvoices went out a day late. The delay had two causes:\n\n"
        "- the exporter lost its database credentials after a rotation\n"
        "- the retry job gave up after three attempts\n",
    )
    assert "had two causes:" in cause
    assert "lost its database credentials" in cause and "gave up after three attempts" in cause


def test_the_cause_is_found_in_analysis_prose_without_a_root_cause_heading(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Slow uploads\n\nUploads slowed down on Tuesday afternoon.\n\n## What happened\n\n"
        "Users saw uploads stall at 90 percent.\n\n## Investigation\n\n"
        "We looked at the gateways first. The stall was caused by a misconfigured MTU on the new VPN link.\n",
    )
    assert cause == "The stall was caused by a misconfigured MTU on the new VPN link."


def test_a_causal_since_counts_as_a_cue(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Exports stuck\n\n## What happened\n\nExports piled up for an hour. The export workers hung on "
        "a partner API, and since the client had no read timeout, no worker was left for other jobs.\n",
    )
    assert cause.startswith(
        "The export workers hung on a partner API, and since the client had no read timeout"
    )


def test_a_timeline_line_that_names_the_root_cause_beats_a_section_of_setup(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Queue stall\n\n## Root cause\n\nThe workers run in three regions. "
        "Each region has its own queue.\n\n"
        "## Timeline\n\nAll times in UTC.\n\n- 10:02 Alerts for queue depth\n"
        "- 10:40 We determined the root cause was an expired broker password\n",
    )
    assert cause == "We determined the root cause was an expired broker password"


def test_a_cause_the_document_calls_unknown_is_drafted_as_unknown(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Cache nodes restarting\n\n## Summary\n\nThree cache nodes restarted in a loop for an hour.\n\n"
        "## Analysis\n\nWe suspect a kernel update is involved. "
        "The root cause has not been identified yet.\n",
    )
    assert cause.startswith("Unknown: The root cause has not been identified yet.")
    assert "Suspected: We suspect a kernel update is involved." in cause


def test_a_hedged_cause_is_drafted_as_suspected(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# Mail queue\n\n## Summary\n\nOutgoing mail queued for two hours, "
        "probably because the relay's certificate was rejected by the provider.\n",
    )
    assert cause.startswith("Suspected: Outgoing mail queued for two hours, probably because")


def test_a_cause_that_was_ruled_out_or_a_reason_for_noticing_is_not_the_cause(tmp_path: Path) -> None:
    cause = cause_of(
        tmp_path,
        "# API errors\n\n## Summary\n\nWe noticed the errors because a customer wrote to support. "
        "The database was ruled out as the cause early on. "
        "The errors were caused by a feature flag that sent every request to the beta cluster.\n",
    )
    assert cause == "The errors were caused by a feature flag that sent every request to the beta cluster."


def _thread(tmp_path: Path, comments: list[dict[str, Any]]) -> str:
    issue = {
        "title": "Workers stop picking up jobs",
        "url": "https://github.com/example-org/jobs/issues/5",
        "createdAt": "2026-02-10T08:00:00Z",
        "labels": [],
        "body": "After the upgrade no job leaves the pending state.",
        "comments": comments,
    }
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(issue))
    cause: str = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="gh-t").label["analysis"][
        "root_cause"
    ]
    return cause


def test_a_guess_in_an_issue_comment_is_not_promoted_over_the_stated_cause(tmp_path: Path) -> None:
    cause = _thread(
        tmp_path,
        [
            {"author": {"login": "a"}, "body": "Same here. Maybe this is due to the new Redis client?"},
            {"author": {"login": "b"}, "body": "Could be due to the clock skew on our hosts as well."},
            {
                "author": {"login": "m"},
                "body": "The root cause is the scheduler ignoring the queue name now.",
            },
        ],
    )
    assert cause == "The root cause is the scheduler ignoring the queue name now."
