"""The Slack bot end to end: a real slack-bolt app served over HTTP on 127.0.0.1, talking to a fake
Slack Web API that records calls; signed payloads in, posted messages asserted."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant import Assistant, Settings
from assistant.service import build
from assistant.surfaces.slack.app import create_slack_app
from assistant.surfaces.slack.http import create_slack_http_app
from tests.fakes.live_server import serve
from tests.fakes.slack_fake import BOT_ID, BOT_USER, TEAM, FakeSlack, SlackSender, blocks_text, sign
from tests.surfaces.slack.conftest import SECRET, Bot, running_bot

ETCD = "kubectl hangs, apiserver slow, etcd compaction disk iops saturated"
KAFKA = "order consumers falling behind on kafka, lag 200k, db connection pool maxed out"


def mention(text: str, *, ts: str, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "channel": "C0OPS",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {**event, **extra}


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {blocks}")


def test_mention_in_a_thread_answers_in_that_thread_using_its_history(bot: Bot) -> None:
    parent = "1700000100.000100"
    bot.slack.threads[("C0OPS", parent)] = [
        {
            "type": "message",
            "bot_id": "BALERTS",
            "ts": parent,
            "text": "",
            "attachments": [
                {"title": "[FIRING] EtcdHighCommitDuration", "text": "etcd compaction disk iops saturated"}
            ],
        },
        {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "ts": "1700000101.000100",
            "text": "order consumers kafka lag (an earlier answer of ours, must not be used)",
        },
        {
            "type": "message",
            "user": "U0BOB",
            "ts": "1700000102.000100",
            "text": "kubectl hangs, apiserver slow",
        },
        {
            "type": "message",
            "user": "U0ALICE",
            "ts": "1700000103.000100",
            "text": f"<@{BOT_USER}> seen this before?",
        },
    ]
    response = bot.send.event(
        mention(f"<@{BOT_USER}> seen this before?", ts="1700000103.000100", thread_ts=parent), event_id="Ev01"
    )
    assert response.status_code == 200

    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0OPS"
    assert post.args["thread_ts"] == parent, "the answer goes into the thread it was asked in"
    text = blocks_text(post.args["blocks"])
    assert "perf-2025031603" in text and "perf-2025031603" in post.args["text"]
    assert "<https://assistant.example.com/incidents/perf-2025031603|perf-2025031603>" in text
    assert "Root cause:" in text and "What fixed it:" in text
    assert "*Diagnosis*" in text, "a short diagnosis comes with the matches"
    assert "Cites <https://assistant.example.com/incidents/perf-2025031603|perf-2025031603>" in text
    assert "with 2 earlier thread messages" in text

    (replies,) = bot.slack.calls_to("conversations.replies")
    assert replies.args["ts"] == parent
    answers = sqlite3.connect(bot.store.path).execute("SELECT query FROM answers").fetchall()
    (query,) = answers[0]
    assert "EtcdHighCommitDuration" in query and "kubectl hangs" in query, "the alert bot's post counts"
    assert "earlier answer of ours" not in query, "our own messages are not part of the query"


def test_top_level_mention_is_answered_in_its_own_thread(bot: Bot) -> None:
    bot.send.event(mention(f"<@{BOT_USER}> {KAFKA}", ts="1700000200.000100"), event_id="Ev02")
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000200.000100"
    assert post.args["blocks"][1]["elements"][0]["text"].startswith("Asked: “order consumers")
    assert "perf-2025031606" in blocks_text(post.args["blocks"][:6])
    bot.drain()
    assert not bot.slack.calls_to("conversations.replies"), "no thread, no history lookup"


def test_slash_command_acks_at_once_then_answers_in_the_channel(bot: Bot) -> None:
    started = time.monotonic()
    response = bot.send.command(ETCD, response_url=bot.slack.response_url("cmd1"))
    assert response.status_code == 200 and time.monotonic() - started < 3
    ack = response.json()
    assert ack["response_type"] == "ephemeral" and "Looking for" in ack["text"]

    (answer,) = bot.slack.wait_for("respond/cmd1")
    assert answer.args["response_type"] == "in_channel"
    assert answer.args["replace_original"] is False
    assert "perf-2025031603" in blocks_text(answer.args["blocks"])
    bot.drain()
    assert not bot.slack.calls_to("chat.postMessage")


def test_slash_command_can_answer_only_the_asker(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    with running_bot(corpus, fake, tmp_path, slack_command_visibility="ephemeral") as bot:
        bot.send.command(KAFKA, response_url=fake.response_url("cmd2"))
        (answer,) = fake.wait_for("respond/cmd2")
    assert answer.args["response_type"] == "ephemeral"
    assert "perf-2025031606" in blocks_text(answer.args["blocks"])


def test_empty_slash_command_gets_usage_in_the_ack(bot: Bot) -> None:
    response = bot.send.command("   ", response_url=bot.slack.response_url("cmd3"))
    assert response.status_code == 200
    assert "/seen checkout p99" in response.json()["text"]
    bot.drain()
    assert not bot.slack.calls_to("respond/cmd3")


def test_message_shortcut_answers_in_the_messages_thread(bot: Bot) -> None:
    parent, asked = "1700000300.000100", "1700000302.000100"
    bot.slack.threads[("C0OPS", parent)] = [
        {"type": "message", "user": "U0BOB", "ts": parent, "text": "order-processor is falling behind"},
        {"type": "message", "user": "U0CAROL", "ts": "1700000301.000100", "text": "kafka lag is 200k"},
        {"type": "message", "user": "U0DAN", "ts": asked, "text": "db connection pool maxed out"},
        {
            "type": "message",
            "user": "U0ERIN",
            "ts": "1700000303.000100",
            "text": "later message, not context",
        },
    ]
    message = {
        "type": "message",
        "user": "U0DAN",
        "ts": asked,
        "thread_ts": parent,
        "text": "db connection pool maxed out",
    }
    response = bot.send.shortcut(
        "seen_before", message, trigger_id="t1", response_url=bot.slack.response_url("sc1"), channel="C0OPS"
    )
    assert response.status_code == 200
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == parent
    assert "perf-2025031606" in blocks_text(post.args["blocks"][:6])
    (query,) = sqlite3.connect(bot.store.path).execute("SELECT query FROM answers").fetchone()
    assert query.splitlines() == [
        "order-processor is falling behind",
        "kafka lag is 200k",
        "db connection pool maxed out",
    ]


def test_shortcut_outside_the_bots_channels_answers_privately(bot: Bot) -> None:
    bot.slack.errors["chat.postMessage"] = "not_in_channel"
    bot.send.interaction(
        {
            "type": "message_action",
            "callback_id": "seen_before",
            "trigger_id": "t2",
            "response_url": bot.slack.response_url("sc2"),
            "channel": {"id": "C0OTHER"},
            "user": {"id": "U0ALICE"},
            "message_ts": "1700000400.000100",
            "message": {"type": "message", "user": "U0BOB", "ts": "1700000400.000100", "text": ETCD},
        }
    )
    (reply,) = bot.slack.wait_for("respond/sc2")
    assert reply.args["response_type"] == "ephemeral"
    text = blocks_text(reply.args["blocks"])
    assert "/invite @assistant" in text and "perf-2025031603" in text


def test_shortcut_on_a_message_without_text_says_so_privately(bot: Bot) -> None:
    bot.send.interaction(
        {
            "type": "message_action",
            "callback_id": "seen_before",
            "trigger_id": "t4",
            "response_url": bot.slack.response_url("sc4"),
            "channel": {"id": "C0OPS"},
            "user": {"id": "U0ALICE"},
            "message_ts": "1700000450.000100",
            "message": {
                "type": "message",
                "user": "U0BOB",
                "ts": "1700000450.000100",
                "text": "",
                "files": [{}],
            },
        }
    )
    (reply,) = bot.slack.wait_for("respond/sc4")
    assert reply.args["response_type"] == "ephemeral" and "no text" in reply.args["text"]
    bot.drain()
    assert not bot.slack.calls_to("chat.postMessage")


def test_feedback_buttons_land_in_the_store(bot: Bot) -> None:
    bot.send.event(mention(f"<@{BOT_USER}> {ETCD}", ts="1700000500.000100"), event_id="Ev05")
    (post,) = bot.slack.wait_for("chat.postMessage")
    blocks = post.args["blocks"]
    assert button_value(blocks, "feedback_up") == button_value(blocks, "feedback_down")

    def click(action_id: str, user: str, name: str) -> None:
        response = bot.send.interaction(
            {
                "type": "block_actions",
                "user": {"id": user},
                "trigger_id": f"t3-{name}",
                "response_url": bot.slack.response_url(name),
                "channel": {"id": "C0OPS"},
                "container": {
                    "type": "message",
                    "message_ts": post.args.get("ts", "1"),
                    "channel_id": "C0OPS",
                },
                "message": {"ts": "1700000501.000100", "blocks": blocks, "text": post.args["text"]},
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "feedback",
                        "value": button_value(blocks, action_id),
                        "action_ts": "1700000502.1",
                    }
                ],
            }
        )
        assert response.status_code == 200

    click("feedback_up", "U0ALICE", "v1")
    (thanks,) = bot.slack.wait_for("respond/v1")
    assert thanks.args["response_type"] == "ephemeral" and "helped" in thanks.args["text"]
    click("feedback_down", "U0BOB", "v2")
    bot.slack.wait_for("respond/v2")
    click("feedback_down", "U0ALICE", "v3")  # Alice changes her mind: her vote is replaced
    bot.slack.wait_for("respond/v3")

    db = sqlite3.connect(bot.store.path)
    rows = db.execute(
        "SELECT query, matches, verdict, user, vote, created_at FROM feedback ORDER BY rowid"
    ).fetchall()
    assert [(r[3], r[4]) for r in rows] == [("U0ALICE", "down"), ("U0BOB", "down")]
    query, matches, verdict, *_ = rows[0]
    assert query == ETCD
    assert json.loads(matches)[0]["id"] == "perf-2025031603"
    assert verdict == bot.assistant.similar(ETCD, k=3).seen_before.verdict

    # a "This helped" is the kind happening again: the service sharing the bot's data folder counts it,
    # re-reading the store when it changes; the two "Not it" votes count for nothing
    shared = Assistant(settings=bot.settings, index=bot.assistant.index, encoder=bot.assistant.encoder)
    kind = shared.similar(ETCD, k=3).seen_before.kind
    assert kind is not None and kind.confirmed == 0
    click("feedback_up", "U0CAROL", "v4")
    bot.slack.wait_for("respond/v4")
    click("feedback_up", "U0DAN", "v5")  # a second person on the same answer: still one recurrence
    bot.slack.wait_for("respond/v5")
    kind = shared.similar(ETCD, k=3).seen_before.kind
    assert kind is not None and (kind.subtype, kind.confirmed, kind.confirmed_30_days) == (
        "control_plane_bottleneck",
        1,
        1,
    )
    window = shared.history(days=1, min_count=1).families
    assert [(f.subtype, f.incidents, f.confirmed) for f in window] == [("control_plane_bottleneck", 0, 1)]


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("forged", {"signature": "v0=" + "0" * 64}),
        ("wrong secret", {"secret": "not-the-signing-secret"}),
        ("missing", {"signed": False}),
        ("stale", {"timestamp": int(time.time()) - 10 * 60}),
    ],
)
def test_bad_signatures_get_401_and_no_answer(bot: Bot, case: str, kwargs: dict[str, Any]) -> None:
    response = bot.send.event(
        mention(f"<@{BOT_USER}> {ETCD}", ts="1700000600.000100"), event_id="Ev06", **kwargs
    )
    assert response.status_code == 401, case
    command = bot.send.command(ETCD, response_url=bot.slack.response_url("cmd6"), **kwargs)
    assert command.status_code == 401, case
    bot.drain()
    assert not bot.slack.calls, "a rejected request reaches no listener and calls nothing"


def test_url_verification_challenge(bot: Bot) -> None:
    body = json.dumps(
        {
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "token": "x",
        }
    )
    response = bot.send.post(body.encode(), "application/json")
    assert (
        response.status_code == 200
        and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text
    )


def test_a_retried_event_gets_one_answer(bot: Bot) -> None:
    event = mention(f"<@{BOT_USER}> {ETCD}", ts="1700000700.000100")
    assert bot.send.event(event, event_id="Ev07").status_code == 200
    retry = bot.send.event(
        event, event_id="Ev07", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200, "a retry is acknowledged so that Slack stops retrying"
    bot.send.event(event, event_id="Ev07", headers={"X-Slack-Retry-Num": "2"})
    bot.drain()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_bots_and_own_messages_are_not_answered(bot: Bot) -> None:
    bot.send.event(
        mention(f"<@{BOT_USER}> {ETCD}", ts="1700000800.000100", bot_id="B0OTHER"), event_id="Ev08"
    )
    bot.send.event(
        mention(f"<@{BOT_USER}> {ETCD}", ts="1700000801.000100", user=BOT_USER, bot_id=BOT_ID),
        event_id="Ev09",
    )
    bot.send.event(
        mention(f"<@{BOT_USER}> {ETCD}", ts="1700000802.000100", subtype="bot_message"), event_id="Ev10"
    )
    bot.drain()
    assert not bot.slack.calls_to("chat.postMessage")


def test_core_errors_become_a_slack_message(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    base, _ = corpus
    empty = tmp_path / "no-index"
    settings = Settings(
        labels_dir=base.labels_dir,
        index_dir=empty,
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
            mention(f"<@{BOT_USER}> {ETCD}", ts="1.2"), event_id="Ev11"
        )
        (post,) = fake.wait_for("chat.postMessage")
    executor.shutdown(wait=True)
    assert post.args["thread_ts"] == "1.2"
    assert (
        "Sorry, I cannot answer right now" in post.args["text"]
        and "assistant index build" in post.args["text"]
    )


def test_the_service_serves_the_bot_at_slack_events(seed_dir: Path, fake: FakeSlack, tmp_path: Path) -> None:
    from assistant.surfaces.server import create_app

    settings = Settings(
        labels_dir=seed_dir,
        index_dir=tmp_path / "index",
        encoder="fake",
        data_dir=tmp_path / "data",
        api_keys=["api-key-slack-does-not-send"],
        slack_bot_token="xoxb-t",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
    )
    with serve(create_app(settings)) as live:
        live.wait_loaded()
        send = SlackSender(live.url + "/slack/events", SECRET)
        assert send.event(mention(f"<@{BOT_USER}> {ETCD}", ts="1.1"), event_id="EvS1").status_code == 200
        (not_ready,) = fake.wait_for("chat.postMessage")
        assert "Sorry, I cannot answer right now" in not_ready.args["text"]
        assert "assistant index build" in not_ready.args["text"]

        build(settings)  # the service picks up the new index; so does the bot
        assert send.event(mention(f"<@{BOT_USER}> {ETCD}", ts="1.2"), event_id="EvS2").status_code == 200
        answered = fake.wait_for("chat.postMessage", count=2)[1]
        assert answered.args["thread_ts"] == "1.2"
        assert "perf-2025031603" in blocks_text(answered.args["blocks"])

        forged = send.event(mention("x", ts="1.3"), event_id="EvS3", secret="guessed")
        assert forged.status_code == 401


@pytest.mark.parametrize(
    ("llm", "script", "expected"),
    [
        ("fake", ["grounded"], "written by the fake backend"),
        ("fake", ["invent"], "replaced by the extractive one"),
        ("no-such-backend", ["grounded"], "No diagnosis this time"),
    ],
)
def test_the_diagnosis_part_follows_the_configured_backend(
    corpus: tuple[Settings, Assistant],
    fake: FakeSlack,
    tmp_path: Path,
    llm: str,
    script: list[str],
    expected: str,
) -> None:
    base, _ = corpus
    # an Assistant of its own: the backend is chosen by its settings
    settings = Settings(
        labels_dir=base.labels_dir,
        index_dir=base.index_dir,
        encoder="fake",
        llm=llm,
        fake_llm_script=script,
        public_url="https://a.example",
    )
    with running_bot(
        (settings, Assistant.from_settings(settings)),
        fake,
        tmp_path,
        llm=llm,
        fake_llm_script=script,
        public_url="https://a.example",
    ) as bot:
        bot.send.event(mention(f"<@{BOT_USER}> {ETCD}", ts="1700001000.000100"), event_id="EvD1")
        (post,) = fake.wait_for("chat.postMessage")
    text = blocks_text(post.args["blocks"])
    assert expected in text
    assert "perf-2025031603" in text, "the matches are shown whatever the backend did"
    if expected.startswith("written by the fake"):
        assert "This matches [<https://a.example/incidents/perf-2025031603|perf-2025031603>]" in text


# -- requests that are not well-formed Slack requests: never a 500, in both modes ------------------

DEEP = "[" * 100_000 + "]" * 100_000
FORM = "application/x-www-form-urlencoded"


def slack_settings(corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path) -> Settings:
    base, _ = corpus
    return Settings(
        labels_dir=base.labels_dir,
        index_dir=base.index_dir,
        encoder="fake",
        data_dir=tmp_path / "data",
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
    )


@contextmanager
def endpoint(mode: str, settings: Settings, assistant: Assistant) -> Iterator[str]:
    """The URL of /slack/events in the standalone bot or in the service."""
    if mode == "standalone":
        executor = ThreadPoolExecutor(max_workers=2)
        app = create_slack_app(settings, assistant=assistant, listener_executor=executor)
        with serve(create_slack_http_app(app, settings=settings)) as live:
            yield live.url + "/slack/events"
        executor.shutdown(wait=True)
    else:
        from assistant.surfaces.server import create_app

        with serve(create_app(settings)) as live:
            live.wait_loaded()
            yield live.url + "/slack/events"


UNSIGNED: list[tuple[str, dict[str, Any]]] = [
    ("timestamp abc", {"timestamp_header": "abc"}),
    ("timestamp 1.5", {"timestamp_header": "1.5"}),
    ("timestamp of 5000 digits", {"timestamp_header": "9" * 5000}),
    ("non-ASCII signature", {"signature": "v0=\u00e9\u00e9"}),
    ("invalid JSON, no signature", {"signed": False, "body": b"{", "type": "application/json"}),
    ("invalid UTF-8, no signature", {"signed": False, "body": b"\xff\xfe{", "type": "application/json"}),
    ("deep nesting, no signature", {"signed": False, "body": DEEP.encode(), "type": "application/json"}),
    ("malformed payload, forged", {"signature": "v0=" + "0" * 64, "body": b"payload=%7B", "type": FORM}),
]
SIGNED: list[tuple[str, bytes, str]] = [
    ("invalid JSON", b'{"type": ', "application/json"),
    ("invalid UTF-8", b'{"type": "\xff"}', "application/json"),
    ("deep nesting", DEEP.encode(), "application/json"),
    ("a JSON list", b"[1, 2]", "application/json"),
    ("malformed form payload", urlencode({"payload": "{nope"}).encode(), FORM),
    ("form payload nested deeply", urlencode({"payload": DEEP}).encode(), FORM),
    ("form payload that is a string", urlencode({"payload": '"hello"'}).encode(), FORM),
    (
        "an event that is a string",
        b'{"type": "event_callback", "event": "str", "team_id": "T1"}',
        "application/json",
    ),
    (
        "a mention without a channel",
        json.dumps(
            {"type": "event_callback", "team_id": "T1", "event": {"type": "app_mention", "text": "hi"}}
        ).encode(),
        "application/json",
    ),
    (
        "a channel that is a list",
        urlencode({"payload": '{"type": "block_actions", "channel": []}'}).encode(),
        FORM,
    ),
]


def send_raw(url: str, body: bytes, content_type: str, headers: dict[str, str]) -> int:
    """POST with headers exactly as given (httpx would refuse some of them)."""
    parts = urlsplit(url)
    head = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize("mode", ["standalone", "service"])
def test_malformed_requests_never_get_a_500(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path, mode: str
) -> None:
    settings = slack_settings(corpus, fake, tmp_path).model_copy(update={"max_body_bytes": 1_000_000})
    with endpoint(mode, settings, corpus[1]) as url:
        for case, spec in UNSIGNED:
            body = spec.get("body", b'{"type": "event_callback"}')
            ts = str(int(time.time()))
            headers = {}
            if spec.get("signed", True):
                headers["X-Slack-Request-Timestamp"] = spec.get("timestamp_header", ts)
                headers["X-Slack-Signature"] = spec.get("signature") or sign(SECRET, body, int(ts))
            status = send_raw(url, body, spec.get("type", "application/json"), headers)
            assert status == 401, (mode, case, status)
        for case, body, content_type in SIGNED:
            ts = int(time.time())
            headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(SECRET, body, ts)}
            status = send_raw(url, body, content_type, headers)
            assert status == 400, (mode, case, status)
    assert not fake.calls, "nothing malformed reached a listener"


def test_a_replayed_slash_command_is_answered_once(bot: Bot) -> None:
    form = {
        "team_id": TEAM,
        "channel_id": "C0OPS",
        "user_id": "U0ALICE",
        "command": "/seen",
        "text": ETCD,
        "api_app_id": "A0001",
        "response_url": bot.slack.response_url("replayed"),
        "trigger_id": "1.2.replayed",
    }
    body, ts = urlencode(form).encode(), int(time.time())
    for _ in range(3):  # the same signed request, captured and sent again within the five minutes
        assert bot.send.post(body, FORM, timestamp=ts).status_code == 200
    bot.drain()
    assert len(bot.slack.calls_to("respond/replayed")) == 1


def test_a_replayed_shortcut_is_answered_once(bot: Bot) -> None:
    payload = {
        "team": {"id": TEAM},
        "api_app_id": "A0001",
        "type": "message_action",
        "callback_id": "seen_before",
        "trigger_id": "1.2.shortcut",
        "response_url": bot.slack.response_url("sc"),
        "channel": {"id": "C0OPS", "name": "ops"},
        "user": {"id": "U0ALICE"},
        "message_ts": "1700000900.000100",
        "message": {"type": "message", "user": "U0DAN", "ts": "1700000900.000100", "text": ETCD},
    }
    body, ts = urlencode({"payload": json.dumps(payload)}).encode(), int(time.time())
    for _ in range(2):
        assert bot.send.post(body, FORM, timestamp=ts).status_code == 200
    bot.drain()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_standalone_bot_has_a_body_limit(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(corpus, fake, tmp_path)
    with endpoint("standalone", settings, corpus[1]) as url:
        big = json.dumps({"type": "event_callback", "pad": "x" * (2 * 1024 * 1024)}).encode()
        signed = SlackSender(url, SECRET).post(big, "application/json")
        assert signed.status_code == 413
        assert "ASSISTANT_MAX_BODY_BYTES" in signed.text
        # unsigned and declaring 20 MB: refused after the headers, without the body being sent
        parts = urlsplit(url)
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {20 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            sock.sendall(head.encode() + b'{"type": ')
            reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert not fake.calls


def test_a_pasted_alert_is_searched_without_its_boilerplate(bot: Bot) -> None:
    pasted = (
        "[FIRING:1] KafkaConsumerLagCritical (prometheus-k8s-0 monitoring/k8s)\n"
        "*Description:* consumer lag growing on customer-orders, order processing slow\n"
        "*Runbook:* <https://runbooks.example.com/kafka|:notebook:>\n"
        "  • *pod:* `order-processor-7d9f8c6b5-x2k4q`\n"
        "  • *prometheus:* `monitoring/k8s`\n"
    )
    bot.send.command(pasted, response_url=bot.slack.response_url("alert"))
    (answer,) = bot.slack.wait_for("respond/alert")
    assert "perf-2025031606" in blocks_text(answer.args["blocks"])
    bot.drain()
    (query,) = sqlite3.connect(bot.store.path).execute("SELECT query FROM answers").fetchone()
    assert "consumer lag growing on customer-orders" in query and "order-processor" in query
    for noise in ["prometheus-k8s-0", "monitoring/k8s", "https", "x2k4q", "Runbook"]:
        assert noise not in query, noise


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
EVENT_KEYS = st.sampled_from(
    [
        *("type", "channel", "user", "text", "ts", "thread_ts", "bot_id", "subtype", "blocks"),
        *("channel_type", "assistant_thread", "message", "previous_message"),
    ]
)
SLACKY = st.sampled_from(
    [
        "app_mention",
        "message",
        "C1",
        "U1",
        "im",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    ]
)
THREADS = st.fixed_dictionaries(
    {}, optional={"channel_id": JSON | SLACKY, "thread_ts": JSON, "context": JSON}
)
EVENTS = JSON | st.dictionaries(EVENT_KEYS, JSON | SLACKY | THREADS)
ENVELOPE_KEYS = st.sampled_from(["team_id", "api_app_id", "authorizations", "event_id", "event_time", "type"])


def test_signed_events_of_any_shape_get_a_4xx_or_an_ack_never_a_500(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(corpus, fake, tmp_path)
    statuses: list[int] = []
    with endpoint("standalone", settings, corpus[1]) as url:

        @hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(event=EVENTS, envelope=st.dictionaries(ENVELOPE_KEYS, JSON, max_size=3))
        def post(event: Any, envelope: dict[str, Any]) -> None:
            body = json.dumps({**envelope, "type": "event_callback", "event": event}).encode()
            ts = int(time.time())
            headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(SECRET, body, ts)}
            status = send_raw(url, body, "application/json", headers)
            statuses.append(status)
            assert status < 500, (status, body)

        post()
    assert len(statuses) >= 20 and 400 in statuses
