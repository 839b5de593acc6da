"""The Alertmanager webhook over a real socket, posting to a local fake Slack: firing, resolved, a group
of several alerts, and repeats, each group answered in Slack exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.alert_payloads import CRASH_GROUP, KAFKA_GROUP, crashloop_alert, kafka_alert, payload
from tests.fakes.live_server import LiveServer, serve
from tests.fakes.slack_fake import FakeSlack, blocks_text

pytest.importorskip("slack_sdk", reason="the Slack poster needs the slack extra")

KAFKA = "perf-2025031606"
CHANNEL = "C0ALERTS"
URL = "/v1/alerts/alertmanager"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    yield slack
    slack.close()


def live(settings: Settings) -> Any:
    return serve(create_app(settings))


def with_slack(settings: Settings, fake: FakeSlack, **extra: Any) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "slack_bot_token": "xoxb-test",
            "slack_api_url": fake.api_url,
            "alerts_slack_channel": CHANNEL,
            **extra,
        }
    )


def post(server: LiveServer, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url + URL, json=body, timeout=60, **kwargs)


def test_firing_group_is_answered_with_a_diagnosis_of_the_cleaned_alerts(built: Settings) -> None:
    with live(built) as server:
        server.wait_loaded()
        alerts = [kafka_alert(partition="3"), kafka_alert(partition="7")]
        response = post(server, payload(alerts, group_key=KAFKA_GROUP))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_key"] == KAFKA_GROUP and body["status"] == "firing" and body["firing"] == 2
    assert body["slack"] is None  # no channel configured
    query = body["query"]
    assert "KafkaConsumerLagCritical" in query and "customer-orders" in query
    for noise in ["http", "prometheus-k8s-0", "x2k4q", "9308", "runbook"]:
        assert noise not in query
    diagnosis = body["diagnosis"]
    assert diagnosis["query"] == query
    assert diagnosis["matches"][0]["id"] == KAFKA
    assert KAFKA in diagnosis["citations"] and diagnosis["hypotheses"]


def test_resolved_notification_has_nothing_to_diagnose(built: Settings) -> None:
    with live(built) as server:
        server.wait_loaded()
        resolved = [kafka_alert(partition="3", status="resolved")]
        response = post(server, payload(resolved, group_key=KAFKA_GROUP))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved" and body["firing"] == 0
    assert body["query"] is None and body["diagnosis"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "3", "groupKey": "g", "status": "firing", "alerts": []}, "version"),
        ({"version": "4", "status": "firing", "alerts": []}, "groupKey"),
        ({"version": "4", "groupKey": "g", "status": "exploded", "alerts": []}, "status"),
    ],
)
def test_malformed_payloads_get_422_with_the_field(built: Settings, body: dict[str, Any], field: str) -> None:
    with live(built) as server:
        server.wait_loaded()
        response = post(server, body)
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


def test_the_webhook_needs_the_api_key_when_keys_are_set(built: Settings) -> None:
    with live(built.model_copy(update={"api_keys": ["am-key"]})) as server:
        server.wait_loaded()
        body = payload([kafka_alert(partition="3")], group_key=KAFKA_GROUP)
        assert post(server, body).status_code == 401
        ok = post(server, body, headers={"Authorization": "Bearer am-key"})
    assert ok.status_code == 200 and ok.json()["diagnosis"]["matches"]


def test_each_alert_group_gets_one_slack_thread(built: Settings, fake: FakeSlack) -> None:
    settings = with_slack(built, fake)
    kafka_3, kafka_7 = kafka_alert(partition="3"), kafka_alert(partition="7")
    with live(settings) as server:
        server.wait_loaded()
        first = post(server, payload([kafka_3], group_key=KAFKA_GROUP)).json()
        assert first["slack"]["action"] == "posted"
        thread = first["slack"]["thread_ts"]
        # Alertmanager repeats the notification (repeat_interval, or both members of an HA pair)
        for _ in range(3):
            repeat = post(server, payload([kafka_3], group_key=KAFKA_GROUP)).json()
            assert repeat["slack"] == {"action": "unchanged", "channel": CHANNEL, "thread_ts": thread}
            assert repeat["diagnosis"]["matches"][0]["id"] == KAFKA
        # another group: its own thread
        crash = post(server, payload([crashloop_alert()], group_key=CRASH_GROUP)).json()
        assert crash["slack"]["action"] == "posted" and crash["slack"]["thread_ts"] != thread
        # a new alert joins the first group: one reply in its thread, then repeats add nothing
        grown = post(server, payload([kafka_3, kafka_7], group_key=KAFKA_GROUP)).json()
        assert grown["slack"] == {"action": "updated", "channel": CHANNEL, "thread_ts": thread}
        assert post(server, payload([kafka_7, kafka_3], group_key=KAFKA_GROUP)).json()["slack"]["action"] == (
            "unchanged"
        )
        # resolved: said once in the thread
        done = [kafka_alert(partition="3", status="resolved"), kafka_alert(partition="7", status="resolved")]
        assert post(server, payload(done, group_key=KAFKA_GROUP)).json()["slack"]["action"] == "resolved"
        assert post(server, payload(done, group_key=KAFKA_GROUP)).json()["slack"]["action"] == "unchanged"

    posts = fake.calls_to("chat.postMessage")
    top_level = [c for c in posts if not c.args.get("thread_ts")]
    assert [c.args["channel"] for c in top_level] == [CHANNEL, CHANNEL]  # exactly one per group
    kafka_text = blocks_text(top_level[0].args["blocks"])
    assert "KafkaConsumerLagCritical" in kafka_text and KAFKA in kafka_text
    assert "prometheus-k8s-0" not in kafka_text and "x2k4q" not in kafka_text
    assert "KubePodCrashLooping" in blocks_text(top_level[1].args["blocks"])
    replies = [c for c in posts if c.args.get("thread_ts")]
    assert [c.args["thread_ts"] for c in replies] == [thread, thread]
    assert "KafkaConsumerLagCritical (2 alerts)" in blocks_text(replies[0].args["blocks"])
    assert "Resolved" in blocks_text(replies[1].args["blocks"])


def test_a_group_first_seen_resolved_posts_nothing(built: Settings, fake: FakeSlack) -> None:
    with live(with_slack(built, fake)) as server:
        server.wait_loaded()
        body = post(server, payload([kafka_alert(partition="3", status="resolved")], group_key="late")).json()
    assert body["slack"]["action"] == "nothing_to_post"
    assert fake.calls_to("chat.postMessage") == []


def test_threads_survive_a_restart(built: Settings, fake: FakeSlack) -> None:
    settings = with_slack(built, fake)
    body = payload([kafka_alert(partition="3")], group_key=KAFKA_GROUP)
    with live(settings) as server:
        server.wait_loaded()
        assert post(server, body).json()["slack"]["action"] == "posted"
    with live(settings) as server:
        server.wait_loaded()
        assert post(server, body).json()["slack"]["action"] == "unchanged"
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_a_failed_slack_post_is_502_and_the_retry_posts(built: Settings, fake: FakeSlack) -> None:
    fake.errors["chat.postMessage"] = "not_in_channel"
    body = payload([kafka_alert(partition="3")], group_key=KAFKA_GROUP)
    with live(with_slack(built, fake)) as server:
        server.wait_loaded()
        failed = post(server, body)
        assert failed.status_code == 502
        error = failed.json()["error"]
        assert "not_in_channel" in error["message"] and "/invite" in error["hint"]
        del fake.errors["chat.postMessage"]
        assert post(server, body).json()["slack"]["action"] == "posted"


def test_an_alert_pasted_into_the_api_is_searched_without_its_boilerplate(built: Settings) -> None:
    pasted = (
        "[FIRING:1] KafkaConsumerLagCritical (prometheus-k8s-0 monitoring/k8s)\n"
        "Labels:\n - alertname = KafkaConsumerLagCritical\n - topic = customer-orders\n"
        " - pod = order-processor-7d9f8c6b5-x2k4q\n - prometheus = monitoring/k8s\n"
        "Annotations:\n - summary = consumer lag growing, order processing slow\n"
        " - runbook_url = https://runbooks.example.com/kafka\n"
        "Source: http://prometheus-k8s-0:9090/graph?g0.expr=kafka_consumergroup_lag\n"
    )
    with live(built) as server:
        server.wait_loaded()
        similar = httpx.post(server.url + "/v1/similar", json={"query": pasted}, timeout=60).json()
        chat = httpx.post(
            server.url + "/v1/chat/completions",
            json={"model": "incident-assistant", "messages": [{"role": "user", "content": pasted}]},
            timeout=60,
        ).json()
    for query in (similar["query"], chat["diagnosis"]["query"]):
        assert "customer-orders" in query and "consumer lag growing" in query
        assert "prometheus-k8s-0" not in query and "http" not in query and "x2k4q" not in query
    assert similar["matches"][0]["id"] == KAFKA
