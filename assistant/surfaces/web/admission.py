"""Admission control as plain ASGI middleware: a bounded number of search and diagnosis requests in
progress, and a 429 with ``Retry-After`` for the next one instead of a queue that grows without end.

A search is CPU-bound: once the cores are busy, every request admitted beyond a few waiting ones only
adds its wait to everyone's latency. Shedding keeps the latency of the requests it admits near the
service time, and the client learns at once to come back later (docs/evaluation.md, "Service load").
Cheap routes (health, metrics, the page, incident detail) are never shed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.metrics import Metrics
from assistant.surfaces.web.errors import error_response

SHED_PATHS = ("/v1/similar", "/v1/diagnose", "/v1/chat/completions", "/v1/alerts", "/mcp")
"""POSTs to these (and below them) search the index; they count against the limit."""

SMOOTHING = 0.1
"""Weight of the newest admitted request in the running mean of how long one takes."""


def sheddable(scope: Scope, paths: Collection[str]) -> bool:
    path = scope.get("path", "")
    return scope.get("method") == "POST" and any(path == p or path.startswith(p + "/") for p in paths)


class Admission:
    """At most ``limit`` sheddable requests in progress (running or waiting for a search slot); more get
    429 with ``Retry-After``: the seconds the ones in progress should take to drain, at least one."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        workers: int,
        metrics: Metrics,
        paths: Collection[str] = SHED_PATHS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.workers = workers
        self.metrics = metrics
        self.paths = paths
        self.in_progress = 0
        self.mean_seconds = 0.05

    def retry_after(self) -> int:
        return max(1, math.ceil(self.in_progress * self.mean_seconds / self.workers))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not sheddable(scope, self.paths):
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            self.metrics.shed.inc()
            seconds = self.retry_after()
            response = error_response(
                429,
                type="overloaded",
                message=f"the server already has {self.in_progress} searches in progress, its limit "
                "(ASSISTANT_MAX_IN_PROGRESS)",
                hint=f"retry after {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        # One event loop: the check above and this increment cannot interleave with another request's.
        self.in_progress += 1
        self.metrics.in_progress.set(self.in_progress)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
            self.metrics.in_progress.set(self.in_progress)
            took = time.perf_counter() - start
            self.mean_seconds += SMOOTHING * (took - self.mean_seconds)
