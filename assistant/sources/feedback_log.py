"""The feedback log: the ``feedback`` SQLite table the Slack bot writes (``This helped`` / ``Not it`` on an
answer), read-only. Its columns are a stable interface (``surfaces/slack/feedback.py`` writes them)::

    feedback(query TEXT, matches JSON, verdict TEXT, user TEXT, vote 'up'|'down', created_at TEXT)

The eval harness turns votes into eval cases; the kind history counts a "This helped" on an answer as the
kind of its first match happening again (``confirmations``), so recurrence counts what on-call confirmed
as well as the labels.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.search.kinds import Confirmation


class FeedbackLogError(AssistantError):
    """The feedback store is missing or unreadable."""


FILENAME = "feedback.sqlite3"


@dataclass(frozen=True)
class Vote:
    query: str
    matches: list[str]
    verdict: str
    user: str
    vote: str
    created_at: str


def _match_ids(raw: str) -> list[str]:
    try:
        items = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return []
    if not isinstance(items, list):
        return []
    ids = [str(i.get("id")) if isinstance(i, dict) else str(i) for i in items]
    return [i for i in ids if i and i != "None"]


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """The rows of one query on the store, opened read-only."""
    if not path.is_file():
        raise FeedbackLogError(
            f"{path}: no feedback store", hint="votes are recorded by the Slack bot under ASSISTANT_DATA_DIR"
        )
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return list(db.execute(sql).fetchall())
    except sqlite3.Error as exc:
        raise FeedbackLogError(f"{path}: cannot read the feedback table: {exc}") from None


def read_votes(path: Path) -> list[Vote]:
    """Every row of the ``feedback`` table, oldest first."""
    rows = _rows(path, "SELECT query, matches, verdict, user, vote, created_at FROM feedback ORDER BY rowid")
    return [
        Vote(
            query=str(q),
            matches=_match_ids(str(m)),
            verdict=str(v),
            user=str(u),
            vote=str(vote),
            created_at=str(c),
        )
        for q, m, v, u, vote, c in rows
    ]


def confirmations(path: Path) -> list[Confirmation]:
    """One per answer someone marked "This helped" (however many did): its first match and when it was
    first marked; nothing when there is no store yet (or it cannot be read)."""
    try:
        rows = _rows(
            path,
            "SELECT v.answer_id, f.matches, MIN(f.created_at) FROM feedback f "
            "JOIN votes v ON v.feedback_rowid = f.rowid WHERE f.vote = 'up' GROUP BY v.answer_id",
        )
    except FeedbackLogError:
        return []
    out = []
    for answer_id, matches, created in rows:
        ids = _match_ids(str(matches))
        if ids:
            out.append(Confirmation(answer_id=str(answer_id), incident_id=ids[0], at=str(created)))
    return out


class FeedbackLog:
    """``confirmations`` of one store, read again only when the file changed (votes arrive while the
    service runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._confirmed: list[Confirmation] = []

    def confirmations(self) -> list[Confirmation]:
        try:
            stat = os.stat(self.path)
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._seen:
                self._confirmed = confirmations(self.path) if stamp else []
                self._seen = stamp
            return self._confirmed
