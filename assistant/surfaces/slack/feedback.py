"""Votes on answers ("This helped" / "Not it"), kept in SQLite for the eval harness to read.

``feedback`` is the table other tools read; its columns are a stable interface::

    feedback(query TEXT, matches JSON, verdict TEXT, user TEXT, vote 'up'|'down', created_at TEXT)

``matches`` is a JSON list of ``{"id", "title", "score", "similarity"}`` in rank order, ``verdict`` the
seen-before verdict (yes / maybe / no) shown with the answer, ``created_at`` ISO 8601 in UTC. One row per
answer and user: voting again on the same answer replaces the vote. Two side tables (``answers``,
``votes``) remember what was answered, so a button click needs to carry only the answer id.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.sources.feedback_log import FILENAME

Vote = Literal["up", "down"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    query TEXT NOT NULL,
    matches JSON NOT NULL,
    verdict TEXT NOT NULL,
    user TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    matches JSON NOT NULL,
    verdict TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL,
    user TEXT NOT NULL,
    feedback_rowid INTEGER NOT NULL,
    PRIMARY KEY (answer_id, user)
);
"""


@dataclass(frozen=True)
class Feedback:
    query: str
    matches: list[dict[str, Any]]
    verdict: str
    user: str
    vote: Vote
    created_at: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @classmethod
    def in_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / FILENAME)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # one short-lived connection per operation: safe across threads and processes
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            yield db

    def remember(self, *, answer_id: str, query: str, matches: list[dict[str, Any]], verdict: str) -> None:
        """Keep what an answer said, so that a later vote on it can be recorded in full."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (id, query, matches, verdict, created_at) VALUES (?,?,?,?,?)",
                (answer_id, query, json.dumps(matches, ensure_ascii=False), verdict, now_iso()),
            )

    def vote(self, *, answer_id: str, user: str, vote: Vote) -> Feedback | None:
        """Record ``user``'s vote on an answer; None when the answer is unknown to this store."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', got {vote!r}")
        created = now_iso()
        with self._db() as db:
            row = db.execute(
                "SELECT query, matches, verdict FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
            if row is None:
                return None
            query, matches, verdict = row
            earlier = db.execute(
                "SELECT feedback_rowid FROM votes WHERE answer_id = ? AND user = ?", (answer_id, user)
            ).fetchone()
            if earlier is not None:
                db.execute(
                    "UPDATE feedback SET vote = ?, created_at = ? WHERE rowid = ?",
                    (vote, created, earlier[0]),
                )
            else:
                cursor = db.execute(
                    "INSERT INTO feedback (query, matches, verdict, user, vote, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (query, matches, verdict, user, vote, created),
                )
                db.execute(
                    "INSERT INTO votes (answer_id, user, feedback_rowid) VALUES (?,?,?)",
                    (answer_id, user, cursor.lastrowid),
                )
        return Feedback(
            query=query,
            matches=json.loads(matches),
            verdict=verdict,
            user=user,
            vote=vote,
            created_at=created,
        )

    def all(self) -> list[Feedback]:
        """Every vote, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT query, matches, verdict, user, vote, created_at FROM feedback ORDER BY rowid"
            ).fetchall()
        return [
            Feedback(query=q, matches=json.loads(m), verdict=v, user=u, vote=vote, created_at=c)
            for q, m, v, u, vote, c in rows
        ]
