"""Socket Mode end to end: the bot connects to a local websocket that plays Slack, is sent an event
envelope (and a retry of it) and a slash command, acknowledges each, and answers through the Web API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.service import build
from assistant.surfaces.slack.app import create_slack_app
from assistant.surfaces.slack.socket_mode import socket_mode_handler
from tests.fakes.slack_fake import BOT_USER, TEAM, FakeSlack, FakeSocketMode, blocks_text

ETCD = "kubectl hangs, apiserver slow, etcd compaction disk iops saturated"


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, FakeSocketMode]]:
    web, socket = FakeSlack(), FakeSocketMode()
    web.socket_url = socket.url
    yield web, socket
    socket.close()
    web.close()


def envelope(envelope_id: str, kind: str, payload: dict[str, object], retry: int = 0) -> dict[str, object]:
    return {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
    }


def test_socket_mode_answers_mentions_and_commands(
    settings: Settings, slack: tuple[FakeSlack, FakeSocketMode], tmp_path: Path
) -> None:
    web, socket = slack
    build(settings)
    configured = Settings(
        labels_dir=settings.labels_dir,
        index_dir=settings.index_dir,
        encoder="fake",
        data_dir=tmp_path / "data",
        slack_bot_token="xoxb-t",
        slack_app_token="xapp-1-t",
        slack_api_url=web.api_url,
    )
    executor = ThreadPoolExecutor(max_workers=2)
    app = create_slack_app(
        configured, assistant=Assistant.from_settings(configured), mode="socket", listener_executor=executor
    )
    handler = socket_mode_handler(configured, app)
    handler.connect()
    try:
        (opened,) = web.wait_for("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-1-t"

        event = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": "EvSock1",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U0ALICE",
                "text": f"<@{BOT_USER}> {ETCD}",
                "ts": "1700000900.000100",
                "channel": "C0OPS",
            },
        }
        socket.send(envelope("env-1", "events_api", event))
        assert socket.ack()["envelope_id"] == "env-1"
        socket.send(envelope("env-2", "events_api", event, retry=1))
        assert socket.ack()["envelope_id"] == "env-2", "a retry is acknowledged too"

        (post,) = web.wait_for("chat.postMessage")
        assert post.args["thread_ts"] == "1700000900.000100"
        assert "perf-2025031603" in blocks_text(post.args["blocks"])

        command = {
            "command": "/seen",
            "text": ETCD,
            "team_id": TEAM,
            "channel_id": "C0OPS",
            "user_id": "U0ALICE",
            "response_url": web.response_url("sock-cmd"),
            "trigger_id": "t",
        }
        socket.send(envelope("env-3", "slash_commands", command))
        ack = socket.ack()
        assert ack["envelope_id"] == "env-3" and "Looking for" in ack["payload"]["text"]
        (answer,) = web.wait_for("respond/sock-cmd")
        assert "perf-2025031603" in blocks_text(answer.args["blocks"])
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        executor.shutdown(wait=True)
    assert len(web.calls_to("chat.postMessage")) == 1, "the retried envelope got no second answer"
