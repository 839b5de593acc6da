"""Conversations → ``Document``: an incident channel's Slack thread, or the Alertmanager alert group that
opened an incident, so that the importer drafts a post-mortem from them like from any write-up.

A thread comes as Slack's ``conversations.replies`` answer saved as JSON (``{"messages": [...]}``), or as
its list of messages. Its first message (and any bot posts right after it, such as the alert bot's) is
what was seen: the detection section. Every message becomes a timeline entry stamped in UTC from its
``ts``, so the start time and the last actions before recovery come from the timeline readers. A reply
that states a cause or a fix becomes a root-cause or resolution section, as an issue thread's comments do.

An alert group is the webhook payload Alertmanager sends (version 4): the alerts' summaries and
descriptions are the detection, their ``startsAt`` / ``endsAt`` the timeline. An alert group says what
fired, never why: its draft leaves the cause for a person to fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.sources.alerts import AlertmanagerPayload, clean_value, label_text
from assistant.sources.importing.document import Block, BlockKind, Document, Section
from assistant.sources.importing.github import reply_key
from assistant.sources.slack_markup import message_text, to_plain

MAX_TITLE = 120
_URL = re.compile(r"https?://[^\s<>|]+")
_SECTION_OF = {"root_cause": "Root cause", "resolution": "Resolution"}


@dataclass(frozen=True)
class ChatMessage:
    author: str
    text: str
    at: datetime | None = None
    bot: bool = False
    resolved: bool = False
    """An alert bot's "resolved" notice: part of the timeline, not of what was seen."""


def is_slack_thread(data: Any) -> bool:
    """A saved ``conversations.replies`` answer, or its list of messages."""
    messages = data.get("messages") if isinstance(data, dict) else data
    return (
        isinstance(messages, list)
        and bool(messages)
        and all(isinstance(m, dict) and "ts" in m for m in messages)
    )


def is_alert_group(data: Any) -> bool:
    """An Alertmanager webhook payload: an object with a list of ``alerts`` that carry ``labels``."""
    alerts = data.get("alerts") if isinstance(data, dict) else None
    return (
        isinstance(alerts, list)
        and bool(alerts)
        and all(isinstance(a, dict) and "labels" in a for a in alerts)
    )


def _instant(ts: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def slack_messages(
    data: Any, *, skip_user: str | None = None, skip_bot: str | None = None
) -> list[ChatMessage]:
    """The thread's messages, oldest first, as plain text. ``skip_user`` / ``skip_bot``: the assistant's
    own ids, whose answers are not part of the incident's story."""
    raw = data.get("messages") if isinstance(data, dict) else data
    out: list[ChatMessage] = []
    for message in sorted(raw or [], key=lambda m: float(m.get("ts") or 0)):
        if (skip_user and message.get("user") == skip_user) or (
            skip_bot and message.get("bot_id") == skip_bot
        ):
            continue
        text = to_plain(message_text(message), bot_user_id=skip_user)
        if not text:
            continue
        profile = message.get("user_profile") or {}
        author = str(
            profile.get("real_name")
            or profile.get("display_name")
            or message.get("username")
            or message.get("user")
            or message.get("bot_id")
            or ""
        )
        bot = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
        out.append(ChatMessage(author=author, text=text, at=_instant(message.get("ts")), bot=bot))
    return out


def _one_line(text: str) -> str:
    """A message as one line of text: its lines joined with semicolons."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _stamp(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def _section(heading: str, key: str, texts: list[str], kind: BlockKind = "para") -> Section:
    return Section(heading=heading, level=2, key=key, blocks=[Block(kind=kind, text=t) for t in texts])


def chat_document(messages: list[ChatMessage], *, source: str, title: str | None = None) -> Document:
    """The ``Document`` a conversation gives (see the module docstring). Built section by section, not
    parsed: a message that reads like a heading ("Root cause") stays a message."""
    doc = Document(source=source, kind="chat-thread")
    if not messages:
        return doc
    opening = [messages[0], *_leading_bots(messages[1:])]
    doc.title = title or _one_line(messages[0].text)[:MAX_TITLE].rstrip(" ,;:")
    doc.created_at = messages[0].at.isoformat() if messages[0].at else None
    doc.sections.append(_section("Detection", "detection", [_one_line(m.text) for m in opening]))
    keyed: dict[str, list[str]] = {}
    for message in messages[len(opening) :]:
        key = reply_key(message.text)
        if key in _SECTION_OF:
            keyed.setdefault(key, []).append(_one_line(message.text))
    doc.sections += [_section(_SECTION_OF[key], key, texts) for key, texts in keyed.items()]
    # no names: a post-mortem's timeline says what happened, not who said it
    events = [f"{_stamp(m.at)} {_one_line(m.text)}".strip() for m in messages]
    doc.sections.append(_section("Timeline (UTC)", "timeline", events, kind="item"))
    doc.links = list(dict.fromkeys(u for m in messages for u in _URL.findall(m.text)))
    return doc


def _leading_bots(messages: list[ChatMessage]) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    for message in messages:
        if not message.bot or message.resolved:
            break
        out.append(message)
    return out


def alert_messages(payload: AlertmanagerPayload) -> list[ChatMessage]:
    """The alert group as the messages an alert bot would post: each alert firing, then resolving."""
    events: list[ChatMessage] = []
    for alert in payload.alerts:
        name = alert.labels.get("alertname") or "alert"
        about = [
            clean_value(v) for k in ("summary", "description", "message") if (v := alert.annotations.get(k))
        ]
        where = label_text({k: v for k, v in alert.labels.items() if k != "severity"})
        text = f"{name} firing" + (f" ({where})" if where else "") + (f": {' '.join(about)}" if about else "")
        events.append(ChatMessage(author="alertmanager", text=text, at=_parse(alert.starts_at), bot=True))
        ended = _parse(alert.ends_at)
        if alert.status == "resolved" and ended is not None:
            events.append(
                ChatMessage(author="alertmanager", text=f"{name} resolved", at=ended, bot=True, resolved=True)
            )
    events.sort(key=lambda m: m.at or datetime.max.replace(tzinfo=UTC))
    return events


def alert_group_document(payload: AlertmanagerPayload, *, source: str) -> Document:
    """The alert group as a document, titled by its alerts in the order they fired."""
    latest = datetime.max.replace(tzinfo=UTC)
    alerts = sorted(payload.alerts, key=lambda a: _parse(a.starts_at) or latest)
    names = list(dict.fromkeys(a.labels.get("alertname") or "alert" for a in alerts))
    summary = next((a.annotations.get("summary") for a in alerts if a.annotations.get("summary")), None)
    title = " / ".join(names[:3]) + (f": {clean_value(summary)}" if summary else "")
    return chat_document(alert_messages(payload), source=source, title=title[:MAX_TITLE])


def _parse(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
