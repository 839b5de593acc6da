"""Alert answers in Slack: one thread per Alertmanager alert group (its ``groupKey``).

The first firing notification of a group posts the answer in the configured channel; later
notifications of that group go in its thread, and only when they bring something new: alerts that were
not firing before (the answer for the whole group again), or the group's resolution. Alertmanager
repeats a notification every ``repeat_interval`` and, in a high-availability pair, may send it twice;
those repeats post nothing. What was posted is kept in SQLite (``alert_threads.sqlite3`` in the data
folder), so restarts and several workers on one host agree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from slack_sdk import WebClient

from assistant.diagnosis.results import Diagnosis
from assistant.sources.alerts import Alert, AlertmanagerPayload
from assistant.surfaces.slack.answer import Answerer
from assistant.surfaces.slack.blocks import answer_message, context, fit, section
from assistant.surfaces.slack.text import escape

FILENAME = "alert_threads.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_groups (
    group_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    alerts JSON NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
)
"""

Action = Literal["posted", "updated", "resolved", "unchanged", "nothing_to_post"]


@dataclass(frozen=True)
class Posted:
    action: Action
    channel: str
    thread_ts: str | None


def alert_id(alert: Alert) -> str:
    """An alert's identity within its group: Alertmanager's fingerprint, else a hash of its labels."""
    if alert.fingerprint:
        return alert.fingerprint
    labels = json.dumps(sorted(alert.labels.items()))
    return hashlib.sha256(labels.encode()).hexdigest()[:16]


class AlertThreads:
    """Which alert groups have a thread, and which of their alerts it has answered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=10)) as db, db:
            db.execute(SCHEMA)

    @classmethod
    def in_dir(cls, data_dir: Path) -> AlertThreads:
        return cls(Path(data_dir) / FILENAME)

    def claim(self, group_key: str, *, channel: str, alerts: set[str]) -> bool:
        """Record a new group before posting; False if it is already known (or being posted)."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO alert_groups (group_key, channel, alerts, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (group_key, channel, json.dumps(sorted(alerts)), time.time()),
            )
            return cursor.rowcount == 1

    def release(self, group_key: str) -> None:
        """Forget a claim whose post failed, so Alertmanager's retry posts again."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute("DELETE FROM alert_groups WHERE group_key = ? AND thread_ts IS NULL", (group_key,))

    def get(self, group_key: str) -> tuple[str, str | None, set[str], bool] | None:
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            row = db.execute(
                "SELECT channel, thread_ts, alerts, resolved FROM alert_groups WHERE group_key = ?",
                (group_key,),
            ).fetchone()
        if row is None:
            return None
        return str(row[0]), row[1], set(json.loads(row[2])), bool(row[3])

    def update(
        self, group_key: str, *, thread_ts: str | None = None, alerts: set[str], resolved: bool
    ) -> None:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute(
                "UPDATE alert_groups SET thread_ts = COALESCE(?, thread_ts), alerts = ?, resolved = ?,"
                " updated_at = ? WHERE group_key = ?",
                (thread_ts, json.dumps(sorted(alerts)), int(resolved), time.time(), group_key),
            )


def headline(payload: AlertmanagerPayload, *, resolved: bool = False) -> str:
    names = ", ".join(dict.fromkeys(a.labels.get("alertname", "alert") for a in payload.alerts)) or "alert"
    if resolved:
        return f":large_green_circle: *Resolved:* {escape(names)}"
    firing = len(payload.firing())
    return f":rotating_light: *Firing:* {escape(names)} ({firing} alert{'s' if firing != 1 else ''})"


class AlertPoster:
    def __init__(
        self,
        *,
        client: WebClient,
        channel: str,
        answerer: Answerer,
        threads: AlertThreads,
        public_url: str | None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.answerer = answerer
        self.threads = threads
        self.public_url = public_url

    def notify(self, payload: AlertmanagerPayload, diagnosis: Diagnosis | None) -> Posted:
        """Post what this notification adds to its group's thread (raises ``SlackApiError``)."""
        key = payload.group_key
        firing = {alert_id(a) for a in payload.firing()}
        known = self.threads.get(key)
        if known is None:
            if diagnosis is None:
                return Posted("nothing_to_post", self.channel, None)  # resolved before we saw it firing
            if not self.threads.claim(key, channel=self.channel, alerts=firing):
                return Posted("unchanged", self.channel, None)  # a concurrent duplicate is posting it
            try:
                started = self._post(payload, diagnosis, thread_ts=None)
            except Exception:
                self.threads.release(key)
                raise
            self.threads.update(key, thread_ts=started, alerts=firing, resolved=False)
            return Posted("posted", self.channel, started)
        channel, ts, answered, resolved = known
        if ts is None:
            return Posted("unchanged", channel, None)
        if diagnosis is not None and (firing - answered or resolved):
            self._post(payload, diagnosis, thread_ts=ts, channel=channel)
            self.threads.update(key, alerts=answered | firing, resolved=False)
            return Posted("updated", channel, ts)
        if diagnosis is None and payload.status == "resolved" and not resolved:
            text = headline(payload, resolved=True)
            self.client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=[section(text)])
            self.threads.update(key, alerts=answered, resolved=True)
            return Posted("resolved", channel, ts)
        return Posted("unchanged", channel, ts)

    def _post(
        self, payload: AlertmanagerPayload, diagnosis: Diagnosis, *, thread_ts: str | None, channel: str = ""
    ) -> str:
        answer = self.answerer.from_diagnosis(diagnosis, question=diagnosis.query)
        text, blocks = answer_message(answer, public_url=self.public_url)
        head = headline(payload)
        blocks = [section(head), *blocks]
        if payload.truncated_alerts:
            blocks.insert(1, context(f"{payload.truncated_alerts} more alerts were left out by Alertmanager"))
        reply = self.client.chat_postMessage(
            channel=channel or self.channel,
            thread_ts=thread_ts,
            text=f"{head} · {text}",
            blocks=fit(blocks),
            unfurl_links=False,
        )
        return str(thread_ts or reply["ts"])
