"""A resolved incident thread becomes a post-mortem draft: the real bot over HTTP, the stand-in for Slack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.corpus.loading import parse_label
from assistant.surfaces.slack.postmortem import NO_THREAD
from tests.fakes.slack_fake import BOT_USER, FakeSlack, blocks_text
from tests.surfaces.slack.conftest import Bot, running_bot

THREAD = Path(__file__).resolve().parents[2] / "data" / "conversations" / "incident-thread.json"
PARENT = "1764930120.000100"


def _seed_thread(bot: Bot) -> list[dict[str, Any]]:
    messages = json.loads(THREAD.read_text())["messages"]
    bot.slack.threads[("C0OPS", PARENT)] = [dict(m, thread_ts=PARENT) for m in messages]
    return messages


def _ask(bot: Bot, text: str, *, ts: str, thread_ts: str | None, event_id: str) -> None:
    event = {"type": "app_mention", "user": "U0ALICE", "text": text, "ts": ts, "channel": "C0OPS"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    assert bot.send.event(event, event_id=event_id).status_code == 200


def _uploaded(slack: FakeSlack) -> dict[str, Any]:
    (entry,) = slack.files.values()
    assert entry["channel"] == "C0OPS" and entry["thread_ts"] == PARENT
    return dict(json.loads(entry["content"]))


def test_postmortem_in_a_thread_drafts_it_links_similar_incidents_and_attaches_it(bot: Bot) -> None:
    messages = _seed_thread(bot)
    _ask(bot, f"<@{BOT_USER}> postmortem", ts=messages[-1]["ts"], thread_ts=PARENT, event_id="EvPm1")

    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert post.args["thread_ts"] == PARENT
    shown = blocks_text(post.args["blocks"])
    assert "Draft post-mortem" in shown and "from 5 messages" in shown, "the request itself is left out"
    assert "batch job" in shown and "rolled back" in shown

    label = _uploaded(bot.slack)
    assert label["id"] == f"slack-c0ops-{PARENT.replace('.', '-')}"
    assert label["metadata"]["review"] == "draft"
    assert label["links"][0] == "https://example.slack.com/archives/C0OPS/p1764930120000100"
    assert label["timestamp"] == "2025-12-05T10:22:00Z"
    assert "batch job" in label["analysis"]["root_cause"]
    assert "earlier answer of ours" not in json.dumps(label), "our own answers are not the incident"

    related = label["related_incidents"]
    assert related and set(related) <= {p.incident_id for p in bot.assistant.index.passages}
    assert related[0] == "perf-2025031606", "the pool-exhaustion incident is the most similar"
    assert "perf-2025031606" in shown, "the similar incidents are shown with the draft"

    folder = label["metadata"].get("category") or "uncategorised"
    saved = bot.settings.data_dir / "drafts" / folder / f"{label['id']}.json"
    assert json.loads(saved.read_text()) == label, "the file attached is the draft saved"
    loaded, problems = parse_label(saved.read_bytes(), file=str(saved))
    assert loaded is not None and loaded.label.is_draft
    assert all("placeholder" in p.message for p in problems)


def test_the_shortcut_drafts_from_any_message_of_the_thread(bot: Bot) -> None:
    messages = _seed_thread(bot)
    reply = messages[2]
    bot.send.shortcut(
        "postmortem_draft",
        dict(reply, thread_ts=PARENT),
        trigger_id="tPm",
        response_url=bot.slack.response_url("pm"),
        channel="C0OPS",
    )
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert post.args["thread_ts"] == PARENT
    assert _uploaded(bot.slack)["analysis"]["root_cause"].count("batch job") == 1


def test_postmortem_outside_a_thread_says_where_to_ask(bot: Bot) -> None:
    _ask(bot, f"<@{BOT_USER}> draft a postmortem", ts="1764931100.000100", thread_ts=None, event_id="EvPm2")
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert NO_THREAD in post.args["text"]
    assert not bot.slack.files and not (bot.settings.data_dir / "drafts").exists()


def test_without_files_write_the_draft_is_still_saved_and_the_reply_says_so(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    fake.errors["files.getUploadURLExternal"] = "missing_scope"
    drafts = tmp_path / "team-drafts"
    with running_bot(corpus, fake, tmp_path, drafts_dir=drafts) as bot:
        messages = _seed_thread(bot)
        _ask(bot, f"<@{BOT_USER}> Post-mortem please", ts=messages[-1]["ts"], thread_ts=PARENT, event_id="E3")
        (post,) = fake.wait_for("chat.postMessage")
        bot.drain()
    shown = blocks_text(post.args["blocks"])
    assert "attaching the JSON failed (missing_scope)" in shown
    assert len(list(drafts.rglob("slack-c0ops-*.json"))) == 1


def test_a_question_in_the_thread_is_still_answered_as_a_question(bot: Bot) -> None:
    messages = _seed_thread(bot)
    _ask(bot, f"<@{BOT_USER}> seen this before?", ts=messages[-1]["ts"], thread_ts=PARENT, event_id="EvPm4")
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert "Draft post-mortem" not in blocks_text(post.args["blocks"])
    assert not bot.slack.files
