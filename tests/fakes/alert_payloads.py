"""Alertmanager webhook payloads (version 4) as Alertmanager sends them, for the webhook's tests."""

from __future__ import annotations

import copy
from typing import Any

GENERATOR = "http://prometheus-k8s-0:9090/graph?g0.expr=sum%28kafka_consumergroup_lag%29+%3E+100000&g0.tab=1"


def kafka_alert(
    *, partition: str, status: str = "firing", pod: str = "order-processor-7d9f8c6b5-x2k4q"
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": "KafkaConsumerLagCritical",
            "severity": "critical",
            "namespace": "orders",
            "consumergroup": "order-processor-group-1",
            "topic": "customer-orders",
            "partition": partition,
            "pod": pod,
            "instance": "10.2.3.4:9308",
            "job": "kafka-exporter",
            "prometheus": "monitoring/k8s",
            "prometheus_replica": "prometheus-k8s-0",
            "endpoint": "metrics",
        },
        "annotations": {
            "summary": "Kafka consumer lag above 100k on customer-orders",
            "description": "Consumer group order-processor-group-1 lag is growing; order processing slow.",
            "runbook_url": "https://runbooks.example.com/kafka/consumer-lag",
            "dashboard": "https://grafana.example.com/d/kafka-lag/kafka?var-topic=customer-orders",
        },
        "startsAt": "2026-03-16T06:45:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-03-16T07:30:00Z",
        "generatorURL": GENERATOR,
        "fingerprint": f"f{partition:0>15}",
    }


def payload(alerts: list[dict[str, Any]], *, group_key: str, status: str | None = None) -> dict[str, Any]:
    firing = [a for a in alerts if a["status"] == "firing"]
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "incident-assistant",
        "groupLabels": {"alertname": "KafkaConsumerLagCritical"},
        "commonLabels": {"alertname": "KafkaConsumerLagCritical", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager-main-0:9093",
        "alerts": copy.deepcopy(alerts),
    }


KAFKA_GROUP = '{}/{severity="critical"}:{alertname="KafkaConsumerLagCritical"}'
CRASH_GROUP = '{}/{severity="warning"}:{alertname="KubePodCrashLooping"}'


def crashloop_alert() -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {
            "alertname": "KubePodCrashLooping",
            "severity": "warning",
            "namespace": "payments",
            "pod": "payment-gateway-5c8d7b9f6d-qz7wp",
            "container": "gateway",
            "prometheus": "monitoring/k8s",
        },
        "annotations": {
            "description": "Pod payments/payment-gateway-5c8d7b9f6d-qz7wp (gateway) is restarting: OOMKilled",
            "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
        },
        "startsAt": "2026-03-16T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus-k8s-1:9090/graph?g0.expr=kube_pod_container_status_restarts_total",
        "fingerprint": "c0ffee0000000001",
    }
