"""Slack retries an event it thinks we missed (``X-Slack-Retry-Num``, Socket Mode ``retry_attempt``),
with the same ``event_id``. ``EventLog`` remembers the ids it has seen so one question gets one answer.

SQLite, so that several worker processes on one host share it.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

FILENAME = "slack_events.sqlite3"


class EventLog:
    def __init__(self, path: Path, *, ttl_seconds: float = 24 * 3600) -> None:
        self.path = path
        self.ttl = ttl_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=10)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)")

    @classmethod
    def in_dir(cls, data_dir: Path) -> EventLog:
        return cls(Path(data_dir) / FILENAME)

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen (and records it); False for every repeat."""
        now = time.time()
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute("DELETE FROM events WHERE seen_at < ?", (now - self.ttl,))
            cursor = db.execute("INSERT OR IGNORE INTO events (key, seen_at) VALUES (?, ?)", (key, now))
            return cursor.rowcount == 1
