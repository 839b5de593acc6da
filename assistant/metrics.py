"""Prometheus metrics, one registry per app (tests build many apps), and the middleware that times routes."""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "assistant_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "assistant_http_request_duration_seconds",
            "Time from request to the last byte of the response (streams included), by route.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.retrieval = Histogram(
            "assistant_retrieval_duration_seconds",
            "Similar-incident search (encode + dense + BM25 + fusion).",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.llm = Histogram(
            "assistant_llm_duration_seconds",
            "Answer generation after retrieval, by the backend that answered.",
            ["backend"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.fallbacks = Counter(
            "assistant_diagnosis_fallbacks", "Diagnoses that fell back to the extractive answer.", registry=r
        )
        self.shed = Counter(
            "assistant_requests_shed",
            "Search and diagnosis requests refused with 429 because the limit in progress was reached.",
            registry=r,
        )
        self.in_progress = Gauge(
            "assistant_requests_in_progress", "Search and diagnosis requests in progress.", registry=r
        )
        self.ready = Gauge("assistant_index_ready", "1 once the index and encoder are loaded.", registry=r)
        self.incidents = Gauge("assistant_index_incidents", "Incidents in the loaded index.", registry=r)
        self.passages = Gauge("assistant_index_passages", "Passages in the loaded index.", registry=r)
        self.stale = Gauge(
            "assistant_index_stale_files", "Label files changed since the loaded index was built.", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/incidents/{incident_id}``), never the raw path.

    A request refused before routing (e.g. 413 on the body size) is matched here against the routes.
    """
    route = scope.get("route")
    if route is None and (app := scope.get("app")) is not None:
        route = next(
            (r for r in getattr(app, "routes", []) if r.matches(scope)[0] != Match.NONE),
            None,
        )
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class RequestMetrics:
    """ASGI middleware: count and time every HTTP request until its response is complete."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - start)
