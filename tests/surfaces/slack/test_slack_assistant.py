"""Slack assistant threads end to end: bolt's ``Assistant`` middleware in the real bot, served over HTTP,
talking to the stand-in for Slack; signed events in, greeting, prompts, status and streamed or edited
replies asserted from the calls the stand-in recorded."""

from __future__ import annotations

import json
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.surfaces.slack.app import create_slack_app
from assistant.surfaces.slack.assistant_threads import (
    ASK_FOR_ALERT,
    GREETING,
    PROMPTS,
    RECURRING,
    SEEN,
    STATUS,
)
from assistant.surfaces.slack.http import create_slack_http_app
from assistant.surfaces.slack.text import escape
from tests.fakes.live_server import serve
from tests.fakes.slack_fake import (
    BOT_ID,
    BOT_USER,
    TEAM,
    Call,
    FakeSlack,
    SlackSender,
    blocks_text,
    streamed_text,
)
from tests.surfaces.slack.conftest import SECRET, Bot

ETCD = "kubectl hangs, apiserver slow, etcd compaction disk iops saturated"
TOP = "perf-2025031603"
DM = "D0ALICE"
THREAD = "1700003000.000100"
VERDICT_WORDS = {"yes": "Yes —", "maybe": "Maybe the same kind of problem", "no": "Nothing like this"}


def started(
    *, context: dict[str, Any] | None = None, kind: str = "assistant_thread_started"
) -> dict[str, Any]:
    return {
        "type": kind,
        "assistant_thread": {
            "user_id": "U0ALICE",
            "context": context if context is not None else {},
            "channel_id": DM,
            "thread_ts": THREAD,
        },
        "event_ts": "1700003000.000200",
    }


def said(text: str, *, ts: str, **extra: Any) -> dict[str, Any]:
    """A message in the assistant thread, as Slack sends it (``message.im``)."""
    return {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "thread_ts": THREAD,
        "event_ts": ts,
        **extra,
    }


def position(calls: list[Call], method: str) -> int:
    return next(i for i, c in enumerate(calls) if c.method == method)


def slack_calls(fake: FakeSlack) -> list[Call]:
    """Every call but bolt's own identity look-up."""
    return [c for c in fake.calls if c.method != "auth.test"]


def test_a_new_thread_is_greeted_with_suggested_prompts(bot: Bot) -> None:
    context = {"channel_id": "C0OPS", "team_id": TEAM, "enterprise_id": None}
    assert bot.send.event(started(context=context), event_id="EvA1").status_code == 200

    (prompts,) = bot.slack.wait_for("assistant.threads.setSuggestedPrompts")
    (greeting,) = bot.slack.calls_to("chat.postMessage")
    assert bot.slack.calls.index(greeting) < bot.slack.calls.index(prompts), "greeting first, then prompts"
    assert (greeting.args["channel"], greeting.args["thread_ts"]) == (DM, THREAD)
    assert greeting.args["text"] == GREETING
    assert greeting.args["metadata"] == {
        "event_type": "assistant_thread_context",
        "event_payload": context,
    }, "the thread's context is kept with the greeting, where bolt's context store looks for it"
    assert (prompts.args["channel_id"], prompts.args["thread_ts"]) == (DM, THREAD)
    offered = prompts.args["prompts"]
    assert 3 <= len(offered) <= 4 and offered == PROMPTS
    assert all(p["title"] and p["message"] for p in offered)
    assert RECURRING in offered and SEEN in offered


def test_a_context_change_is_kept_on_the_greeting(bot: Bot) -> None:
    bot.send.event(started(context={"channel_id": "C0OPS"}), event_id="EvA2")
    (greeting,) = bot.slack.wait_for("chat.postMessage")
    bot.slack.wait_for("assistant.threads.setSuggestedPrompts")

    changed = started(
        kind="assistant_thread_context_changed", context={"channel_id": "C0DB", "team_id": TEAM}
    )
    assert bot.send.event(changed, event_id="EvA3").status_code == 200
    (update,) = bot.slack.wait_for("chat.update")
    greeting_ts = bot.slack.threads[(DM, THREAD)][0]["ts"]
    assert update.args["ts"] == greeting_ts and update.args["channel"] == DM
    assert update.args["metadata"]["event_payload"] == {"channel_id": "C0DB", "team_id": TEAM}
    assert bot.slack.message(greeting_ts)["text"] == greeting.args["text"], "only the context changed"


def test_a_question_streams_its_diagnosis_under_the_searching_status(bot: Bot) -> None:
    assert bot.send.event(said(ETCD, ts="1700003001.000100"), event_id="EvA4").status_code == 200
    (stop,) = bot.slack.wait_for("chat.stopStream")
    bot.drain()

    calls = slack_calls(bot.slack)
    (status,) = bot.slack.calls_to("assistant.threads.setStatus")
    assert (status.args["channel_id"], status.args["thread_ts"], status.args["status"]) == (
        DM,
        THREAD,
        STATUS,
    )
    (start,) = bot.slack.calls_to("chat.startStream")
    appends = bot.slack.calls_to("chat.appendStream")
    assert appends, "a long answer arrives in several steps"
    stream = [start, *appends, stop]
    assert [calls.index(c) for c in stream] == sorted(calls.index(c) for c in stream)
    assert position(calls, "assistant.threads.setStatus") < calls.index(start), "the status shows first"
    assert (start.args["channel"], start.args["thread_ts"]) == (DM, THREAD)
    assert (start.args["recipient_user_id"], start.args["recipient_team_id"]) == ("U0ALICE", TEAM)
    assert {c.args["ts"] for c in [*appends, stop]} == {stop.args["ts"]}
    assert bot.slack.message(stop.args["ts"])["thread_ts"] == THREAD

    expected = bot.assistant.diagnose(ETCD, k=3)
    assert streamed_text(stream) == escape(expected.summary), "the streamed text is the diagnosis"
    assert bot.slack.message(stop.args["ts"])["text"] == escape(expected.summary)

    below = blocks_text(stop.args["blocks"])
    assert TOP in below and VERDICT_WORDS[expected.seen_before.verdict] in below
    assert "*Diagnosis*" not in below, "the diagnosis is the streamed text, not repeated under it"
    assert "Root cause:" in below and "feedback_up" in json.dumps(stop.args["blocks"])
    assert not bot.slack.calls_to("chat.postMessage"), "the stream is the answer"
    (verdict,) = sqlite3.connect(bot.store.path).execute("SELECT verdict FROM answers").fetchone()
    assert verdict == expected.seen_before.verdict, "the answer is on record for the feedback buttons"


def test_where_slack_refuses_streams_the_reply_is_posted_then_updated(bot: Bot) -> None:
    bot.slack.errors["chat.startStream"] = "not_allowed"
    bot.send.event(said(ETCD, ts="1700003002.000100"), event_id="EvA5")
    bot.drain()

    calls = slack_calls(bot.slack)
    assert [c.method for c in calls[:3]] == [
        "conversations.replies",
        "assistant.threads.setStatus",
        "chat.startStream",
    ]
    (first,) = bot.slack.calls_to("chat.postMessage")
    updates = bot.slack.calls_to("chat.update")
    assert calls.index(first) < calls.index(updates[0]) and len(updates) >= 2, "edited as text arrives"
    ts = updates[0].args["ts"]
    assert {u.args["ts"] for u in updates} == {ts}, "one reply, edited in place"
    assert first.args["thread_ts"] == bot.slack.message(ts)["thread_ts"] == THREAD

    summary = bot.assistant.diagnose(ETCD, k=3).summary
    shown = [first.args["text"], *(u.args["text"] for u in updates[:-1])]
    assert all(summary.startswith(s) for s in shown), shown
    assert [len(s) for s in shown] == sorted({len(s) for s in shown}), "each step shows more"
    final = updates[-1]
    text = blocks_text(final.args["blocks"])
    assert (
        "*Diagnosis*" in text
        and summary[: summary.index("[")] in text
        and TOP in text
        and TOP in final.args["text"]
    )
    assert any(word in text for word in VERDICT_WORDS.values())
    assert bot.slack.message(ts)["blocks"] == final.args["blocks"]
    assert not bot.slack.calls_to("chat.appendStream") and not bot.slack.calls_to("chat.stopStream")


def test_refused_appends_leave_their_text_for_the_stop(bot: Bot) -> None:
    bot.slack.errors["chat.appendStream"] = "ratelimited"
    bot.send.event(said(ETCD, ts="1700003002.000200"), event_id="EvA9")
    (stop,) = bot.slack.wait_for("chat.stopStream")
    bot.drain()
    (start,) = bot.slack.calls_to("chat.startStream")
    assert bot.slack.calls_to("chat.appendStream"), "appends were tried"
    summary = escape(bot.assistant.diagnose(ETCD, k=3).summary)
    assert streamed_text([start, stop]) == summary, "nothing refused is lost, nothing is sent twice"
    assert bot.slack.message(stop.args["ts"])["text"] == summary
    assert not bot.slack.calls_to("chat.update") and not bot.slack.calls_to("chat.postMessage")


def test_a_reply_slack_refuses_clears_the_status_it_left(bot: Bot) -> None:
    bot.slack.errors.update({"chat.startStream": "not_allowed", "chat.postMessage": "channel_not_found"})
    bot.send.event(said(ETCD, ts="1700003002.000300"), event_id="EvA10")
    first, cleared = bot.slack.wait_for("assistant.threads.setStatus", count=2)
    bot.drain()
    assert first.args["status"] == STATUS and cleared.args["status"] == ""
    assert bot.slack.calls.index(bot.slack.calls_to("chat.postMessage")[0]) < bot.slack.calls.index(cleared)


def test_a_direct_message_outside_an_assistant_thread_is_answered_in_its_thread(bot: Bot) -> None:
    top_level = {k: v for k, v in said(ETCD, ts="1700003030.000100").items() if k != "thread_ts"}
    assert bot.send.event(top_level, event_id="EvD1").status_code == 200
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert (post.args["channel"], post.args["thread_ts"]) == (DM, "1700003030.000100")
    assert TOP in blocks_text(post.args["blocks"]) and "*Diagnosis*" in blocks_text(post.args["blocks"])
    assert not bot.slack.calls_to("assistant.threads.setStatus"), "not an assistant thread"


def test_a_follow_up_is_searched_with_the_threads_earlier_messages(bot: Bot) -> None:
    bot.slack.threads[(DM, THREAD)] = [
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": THREAD, "text": GREETING},
        {"type": "message", "user": "U0ALICE", "ts": "1700003003.000100", "text": SEEN["message"]},
        {
            "type": "message",
            "user": "U0ALICE",
            "ts": "1700003004.000100",
            "text": "kubectl hangs, apiserver slow",
        },
    ]
    bot.send.event(said("etcd compaction disk iops saturated", ts="1700003005.000100"), event_id="EvA6")
    bot.slack.wait_for("chat.stopStream")
    bot.drain()
    (query,) = sqlite3.connect(bot.store.path).execute("SELECT query FROM answers").fetchone()
    assert query.splitlines() == ["kubectl hangs, apiserver slow", "etcd compaction disk iops saturated"], (
        "earlier questions count; the greeting and the bare prompt do not"
    )


def test_the_bare_seen_before_prompt_asks_for_the_alert(bot: Bot) -> None:
    bot.send.event(said(SEEN["message"], ts="1700003006.000100"), event_id="EvA7")
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    assert post.args["thread_ts"] == THREAD and post.args["text"] == ASK_FOR_ALERT
    assert not bot.slack.calls_to("assistant.threads.setStatus"), "nothing was searched"
    assert not sqlite3.connect(bot.store.path).execute("SELECT * FROM answers").fetchall()


def test_the_recurring_prompt_is_answered_from_the_history(bot: Bot) -> None:
    bot.send.event(said(RECURRING["message"], ts="1700003007.000100"), event_id="EvA8")
    (post,) = bot.slack.wait_for("chat.postMessage")
    bot.drain()
    # the seed incidents are from March 2025: none in the last 30 days
    assert post.args["thread_ts"] == THREAD
    assert "No kind of problem happened 2 times or more in the last 30 days" in post.args["text"]
    assert not sqlite3.connect(bot.store.path).execute("SELECT * FROM answers").fetchall(), "no search"


def test_bots_messages_in_the_thread_are_not_answered(bot: Bot) -> None:
    own = said(ETCD, ts="1700003010.000100", user=BOT_USER, bot_id=BOT_ID)
    other = said(ETCD, ts="1700003011.000100", user="U0ALERTS", bot_id="B0ALERTS")
    edited = said(
        "", ts="1700003012.000100", subtype="message_changed", message={"text": ETCD, "thread_ts": THREAD}
    )
    for i, event in enumerate([own, other, edited]):
        assert bot.send.event(event, event_id=f"EvB{i}").status_code == 200
    bot.drain()
    assert slack_calls(bot.slack) == []


MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("no assistant_thread", {"type": "assistant_thread_started"}, "without an assistant_thread object"),
    (
        "no channel",
        {"type": "assistant_thread_started", "assistant_thread": {"thread_ts": THREAD}},
        "without assistant_thread.channel_id",
    ),
    (
        "no thread",
        {"type": "assistant_thread_started", "assistant_thread": {"channel_id": DM}},
        "without assistant_thread.thread_ts",
    ),
    (
        "a context that is a list",
        {
            "type": "assistant_thread_context_changed",
            "assistant_thread": {"channel_id": DM, "thread_ts": THREAD, "context": []},
        },
        "context is not an object",
    ),
    (
        "a context change without a context",
        {
            "type": "assistant_thread_context_changed",
            "assistant_thread": {"channel_id": DM, "thread_ts": THREAD},
        },
        "without a context",
    ),
    (
        "an edit whose message is a string",
        said("", ts="1.2", subtype="message_changed", message="x"),
        "message",
    ),
    (
        "a message without a channel",
        {k: v for k, v in said(ETCD, ts="1.3").items() if k != "channel"},
        "channel",
    ),
]


def test_malformed_assistant_events_are_refused_with_a_log_line_never_a_500(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.surfaces.slack.http")
    for i, (case, event, problem) in enumerate(MALFORMED):
        caplog.clear()
        response = bot.send.event(event, event_id=f"EvM{i}")
        assert response.status_code == 400, (case, response.status_code, response.text)
        logged = [
            r.getMessage() for r in caplog.records if "refused a signed Slack request" in r.getMessage()
        ]
        assert logged and problem in logged[0], (case, logged)
    bot.drain()
    assert bot.slack.calls == [], "nothing malformed reached bolt or a listener"


def test_core_errors_become_a_reply_and_the_status_goes(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    base, _ = corpus
    settings = Settings(
        labels_dir=base.labels_dir,
        index_dir=tmp_path / "no-index",
        encoder="fake",
        data_dir=tmp_path / "data",
        slack_bot_token="xoxb-t",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
    )

    def load() -> Assistant:
        return Assistant.from_settings(settings)

    executor = ThreadPoolExecutor(max_workers=2)
    app = create_slack_app(settings, assistant=load, listener_executor=executor)
    with serve(create_slack_http_app(app, settings=settings)) as live:
        SlackSender(live.url + "/slack/events", SECRET).event(
            said(ETCD, ts="1700003020.000100"), event_id="EvE1"
        )
        executor.shutdown(wait=True)
    calls = slack_calls(fake)
    (post,) = fake.calls_to("chat.postMessage")
    assert position(calls, "assistant.threads.setStatus") < calls.index(post)
    assert post.args["thread_ts"] == THREAD
    assert (
        "Sorry, I cannot answer right now" in post.args["text"]
        and "assistant index build" in post.args["text"]
    )
    assert not fake.calls_to("chat.startStream"), "nothing was streamed before the error"
