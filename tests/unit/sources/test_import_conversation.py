"""A Slack thread and an Alertmanager alert group read as post-mortem drafts (written for these tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import SourceError, read_source
from assistant.sources.importing.conversation import (
    ChatMessage,
    chat_document,
    is_alert_group,
    is_slack_thread,
    slack_messages,
)
from assistant.sources.importing.draft import draft_label

DATA = Path(__file__).resolve().parents[2] / "data" / "conversations"
THREAD = DATA / "incident-thread.json"
ALERTS = DATA / "alert-group.json"


def test_shapes_are_told_apart() -> None:
    thread, alerts = json.loads(THREAD.read_text()), json.loads(ALERTS.read_text())
    assert is_slack_thread(thread) and is_slack_thread(thread["messages"]) and not is_alert_group(thread)
    assert is_alert_group(alerts) and not is_slack_thread(alerts)
    assert not is_slack_thread({"messages": []}) and not is_alert_group({"alerts": [{"no": "labels"}]})


def test_thread_messages_are_plain_text_oldest_first_without_our_answers() -> None:
    raw = json.loads(THREAD.read_text())
    raw["messages"].reverse()
    messages = slack_messages(raw, skip_user="UBOT", skip_bot="BBOT")
    assert [m.at.timestamp() for m in messages if m.at] == sorted(m.at.timestamp() for m in messages if m.at)
    assert not any("earlier answer of ours" in m.text for m in messages)
    alert = next(m for m in messages if m.bot)
    assert "KafkaConsumerLagHigh" in alert.text, "an alert bot's attachments are its text"
    assert messages[-1].text == "postmortem", "the mention of the bot itself is dropped"


def test_thread_draft_reads_detection_start_cause_and_fix() -> None:
    doc = read_source(THREAD, link="https://example.slack.com/archives/C0OPS/p1764930120000100")
    draft = draft_label(doc, taxonomy=BUILTIN, incident_id="slack-thread")
    label = draft.label
    assert label["links"][0] == "https://example.slack.com/archives/C0OPS/p1764930120000100"
    assert label["timestamp"] == "2025-12-05T10:22:00Z", "the first message's ts, in UTC"
    assert any("consumer lag" in s for s in label["symptoms"])
    assert any("KafkaConsumerLagHigh" in s for s in label["symptoms"]), "the alert bot's post is a symptom"
    assert "batch job" in label["analysis"]["root_cause"]
    assert any("rolled back" in a for a in label["resolution"]["immediate_actions"])
    assert label["metadata"]["review"] == "draft" and label["metadata"]["import"]["format"] == "chat-thread"
    names = json.dumps(label)
    assert "Dana" not in names and "Lee" not in names, "a timeline says what happened, not who said it"


def test_alert_group_draft_has_what_fired_and_when_but_no_cause() -> None:
    draft = draft_label(read_source(ALERTS), taxonomy=BUILTIN, incident_id="alert-group")
    label = draft.label
    assert label["timestamp"] == "2026-11-30T09:10:00Z", "the earliest startsAt"
    assert label["title"].startswith("KubeContainerOOMKilled / KubePodCrashLooping")
    assert any("OOMKilled" in s for s in label["symptoms"])
    assert not any("resolved" in s for s in label["symptoms"]), "a resolved notice is not what was seen"
    assert label["analysis"]["root_cause"].startswith("TODO"), "alerts say what fired, never why"
    assert label["links"][0] == "http://alertmanager.example:9093"
    assert any(e["event"] == "KubePodCrashLooping resolved" for e in label["timeline"])


def test_a_message_cannot_open_a_heading_or_a_section() -> None:
    messages = [
        ChatMessage(author="a", text="# Root cause\nnot a heading"),
        ChatMessage(author="b", text="- item\n## Resolution"),
    ]
    doc = chat_document(messages, source="x")
    assert [s.key for s in doc.sections if s.key in ("root_cause", "resolution")] == []


def test_an_invalid_alert_group_names_the_field(tmp_path: Path) -> None:
    bad = json.loads(ALERTS.read_text())
    bad["version"] = "3"
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(SourceError, match=r"Alertmanager webhook payload \(\$\.version"):
        read_source(path)
