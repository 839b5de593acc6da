"""Alert cleaning: the boilerplate of alerts (links, pod hashes, scraping labels, ports) never reaches
the query; what describes the problem does."""

from __future__ import annotations

import pytest

from assistant.sources.alerts import (
    AlertmanagerPayload,
    alerts_query,
    clean_alert_text,
    clean_value,
    looks_like_alert,
    query_from_text,
)
from tests.fakes.alert_payloads import KAFKA_GROUP, crashloop_alert, kafka_alert, payload

BOILERPLATE = [
    *["http", "prometheus-k8s-0", "monitoring/k8s", "runbook", "grafana", "x2k4q", "7d9f8c6b5", "9308"]
]

# Alertmanager's default Slack template, as it reads when copied from a channel
SLACK_PASTE = """\
[FIRING:1] KubePodCrashLooping (payment-gateway-5c8d7b9f6d-qz7wp monitoring/k8s prometheus-k8s-0 warning)
*Alert:* Pod is crash looping. - `warning`
*Description:* Pod payments/payment-gateway-5c8d7b9f6d-qz7wp (gateway) is restarting 3 times / 5 minutes, last state OOMKilled
*Graph:* <http://prometheus-k8s-0:9090/graph?g0.expr=kube_pod_container_status_restarts_total|:chart_with_upwards_trend:>
*Runbook:* <https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping|:spiral_note_pad:>
*Details:*
  • *alertname:* `KubePodCrashLooping`
  • *container:* `gateway`
  • *instance:* `10.4.0.17:8443`
  • *namespace:* `payments`
  • *pod:* `payment-gateway-5c8d7b9f6d-qz7wp`
  • *prometheus:* `monitoring/k8s`
  • *prometheus_replica:* `prometheus-k8s-0`
  • *severity:* `warning`
"""

# The e-mail / UI format
EMAIL_PASTE = """Labels:
 - alertname = NodeFilesystemAlmostFull
 - device = /dev/nvme0n1p1
 - instance = 10.0.3.12:9100
 - job = node-exporter
 - endpoint = https
 - prometheus = monitoring/k8s
 - pod = node-exporter-x7k2p
Annotations:
 - summary = Filesystem on /dev/nvme0n1p1 has only 3% space left
 - runbook_url = https://runbooks.example.com/node/NodeFilesystemAlmostFull
Source: http://prometheus-k8s-1:9090/graph?g0.expr=node_filesystem_avail_bytes
"""


def test_a_group_of_firing_alerts_becomes_one_clean_query() -> None:
    alerts = AlertmanagerPayload.model_validate(
        payload([kafka_alert(partition="3"), kafka_alert(partition="7")], group_key=KAFKA_GROUP)
    ).firing()
    query = alerts_query(alerts, max_chars=4000).text
    assert query.startswith("KafkaConsumerLagCritical (")
    for kept in ["customer-orders", "order-processor-group-1", "namespace orders", "severity critical"]:
        assert kept in query
    assert "order-processor" in query and "10.2.3.4" in query
    for dropped in BOILERPLATE:
        assert dropped not in query, dropped
    # shared labels once, each alert's own label, the summary once
    assert query.count("customer-orders") == 2  # the topic label and the summary
    assert "partition 3" in query and "partition 7" in query
    assert query.count("Kafka consumer lag above 100k") == 1


def test_alerts_query_stays_within_the_limit() -> None:
    many = [kafka_alert(partition=str(n)) for n in range(200)]
    body = AlertmanagerPayload.model_validate(payload(many, group_key="g"))
    query = alerts_query(body.firing(), max_chars=500).text
    assert 0 < len(query) <= 500 and query.startswith("KafkaConsumerLagCritical")


def test_mixed_groups_name_every_alert() -> None:
    alerts = [kafka_alert(partition="1"), crashloop_alert()]
    body = AlertmanagerPayload.model_validate(payload(alerts, group_key="g"))
    query = alerts_query(body.firing(), max_chars=4000).text
    assert query.splitlines()[0].startswith("KafkaConsumerLagCritical, KubePodCrashLooping")
    assert "payment-gateway" in query and "5c8d7b9f6d" not in query and "qz7wp" not in query


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("checkout-api-7d9f8c6b5-x2k4q", "checkout-api"),
        ("node-exporter-x7k2p", "node-exporter"),
        ("web-0", "web-0"),  # StatefulSet ordinals are meaningful
        ("kafka-sync", "kafka-sync"),  # words are not hashes
        ("10.2.3.4:9100", "10.2.3.4"),
        ("see https://grafana.example.com/d/x for more", "see for more"),
        ("<https://runbooks.example.com/x|runbook>", "runbook"),
    ],
)
def test_clean_value(value: str, expected: str) -> None:
    assert clean_value(value) == expected


def test_pasted_slack_alert_keeps_the_problem_and_drops_the_boilerplate() -> None:
    assert looks_like_alert(SLACK_PASTE)
    cleaned = clean_alert_text(SLACK_PASTE)
    for kept in ["KubePodCrashLooping", "OOMKilled", "payments/payment-gateway", "gateway", "warning"]:
        assert kept in cleaned
    for dropped in ["http", "prometheus-k8s-0", "monitoring/k8s", "qz7wp", "5c8d7b9f6d", "8443", "Runbook"]:
        assert dropped not in cleaned, dropped
    assert "[FIRING" not in cleaned


def test_pasted_email_alert() -> None:
    assert looks_like_alert(EMAIL_PASTE)
    cleaned = clean_alert_text(EMAIL_PASTE)
    assert "NodeFilesystemAlmostFull" in cleaned and "only 3% space left" in cleaned
    assert "device = /dev/nvme0n1p1" in cleaned and "instance = 10.0.3.12" in cleaned
    for dropped in ["http", "9100", "monitoring/k8s", "x7k2p", "endpoint", "runbook"]:
        assert dropped not in cleaned, dropped


def test_inline_labels_of_a_one_line_alert() -> None:
    text = (
        '[FIRING:2] HighLatency {service="checkout", prometheus="monitoring/k8s", '
        'instance="10.1.1.1:8080"} p99 2.5s'
    )
    cleaned = query_from_text(text)
    assert "HighLatency" in cleaned and 'service="checkout"' in cleaned and "p99 2.5s" in cleaned
    assert "prometheus" not in cleaned and "8080" not in cleaned


def test_ordinary_questions_are_left_as_typed() -> None:
    text = "checkout p99 went from 150 ms to 2.5 s after the deploy, see https://status.example.com"
    assert not looks_like_alert(text)
    assert query_from_text(text) == text


def test_an_alert_of_nothing_but_boilerplate_is_kept_as_it_was() -> None:
    text = "Source: http://prometheus-k8s-0:9090/graph"
    assert looks_like_alert(text) and query_from_text(text) == text


def test_a_long_description_is_cut_and_says_so_instead_of_vanishing() -> None:
    alert = kafka_alert(partition="1")
    alert["annotations"]["description"] = "consumer lag keeps growing on every partition " * 1500
    body = AlertmanagerPayload.model_validate(payload([alert], group_key="g"))
    query = alerts_query(body.firing(), max_chars=4000, max_value_chars=16000)
    assert query.truncated and "each value cut to 16000" in query.kept
    assert "consumer lag keeps growing" in query.text and len(query.text) <= 4000


def test_an_alert_with_nothing_in_it_has_nothing_to_search() -> None:
    body = AlertmanagerPayload.model_validate(payload([{"status": "firing"}], group_key="g"))
    assert alerts_query(body.firing(), max_chars=4000).text == ""
