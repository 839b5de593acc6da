"""Feedback as data: votes from the ``feedback`` SQLite table (written by the Slack bot and the web
page) exported as eval cases in the ``eval/queries.jsonl`` format.

Votes are grouped by query (whitespace and case folded); the net vote decides:

- net up, answer's verdict yes/maybe: ``relevant = [top match]`` (the user confirmed the first match);
- net up, verdict no: ``relevant = []`` (the user confirmed nothing in the corpus is the same problem);
- net down, or a tie: ``relevant = null`` with ``rejected`` = the matches shown; a person fills in
  ``relevant`` before the case counts (the harness skips unlabelled cases).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from assistant.sources.feedback_log import Vote


def _key(query: str) -> str:
    return " ".join(query.lower().split())


def feedback_cases(
    votes: list[Vote], *, taxonomy: Mapping[str, tuple[str | None, str | None]] | None = None
) -> list[dict[str, Any]]:
    """One eval case per distinct query. ``taxonomy``: incident id → (category, subtype), to label an
    up-voted case with its match's category."""
    groups: dict[str, list[Vote]] = {}
    for v in votes:
        groups.setdefault(_key(v.query), []).append(v)
    cases: list[dict[str, Any]] = []
    for key, group in groups.items():
        latest = group[-1]
        ups = sum(1 for v in group if v.vote == "up")
        downs = sum(1 for v in group if v.vote == "down")
        relevant: list[str] | None
        rejected: list[str] = []
        if ups > downs and latest.verdict == "no":
            relevant = []
        elif ups > downs and latest.matches:
            relevant = latest.matches[:1]
        else:
            relevant = None
            rejected = list(dict.fromkeys(m for v in group if v.vote == "down" for m in v.matches))
        category, subtype = (taxonomy or {}).get(relevant[0], (None, None)) if relevant else (None, None)
        case: dict[str, Any] = {
            "id": "fb-" + hashlib.sha1(key.encode()).hexdigest()[:10],
            "query": latest.query,
            "category": category,
            "subtype": subtype,
            "relevant": relevant,
            "source": "feedback",
            "votes": {"up": ups, "down": downs},
            "shown": latest.matches,
            "verdict_shown": latest.verdict,
            "last_vote_at": max(v.created_at for v in group),
        }
        if relevant is None:
            case["rejected"] = rejected
        cases.append(case)
    return cases
