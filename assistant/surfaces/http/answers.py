"""Running a diagnosis for the HTTP surface: timing, fallback counting, and starting streams so that
errors raised before any output still get a proper status code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import chain
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from assistant.diagnosis.results import Diagnosis
from assistant.instrumented import DiagnosisTiming, current_timing
from assistant.llm.chat import selectable_backends
from assistant.metrics import Metrics
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.surfaces.web.errors import ApiError

T = TypeVar("T")
_END = object()


def chosen_backend(requested: str | None, settings: Settings) -> str | None:
    """A backend a request asked for, if it may choose it (None: the default); else a 422 listing them."""
    if requested is None:
        return None
    valid = selectable_backends(settings)
    if requested not in valid:
        raise ApiError(
            422,
            type="invalid_backend",
            message=f"backend {requested!r} cannot be chosen here; the choices are "
            f"{', '.join(valid) or 'none'}",
            hint="leave `backend` out for the default; ASSISTANT_LLM_CHOICES sets the choices",
        )
    return requested


def timed_diagnosis(
    assistant: Assistant,
    metrics: Metrics,
    *,
    text: str,
    k: int | None,
    backend: str | None,
    history: list[str],
) -> Iterator[str | Diagnosis]:
    """``assistant.diagnose_stream`` that records answer latency (after retrieval) and fallbacks."""
    timing = DiagnosisTiming()
    requested = backend or assistant.settings.llm
    stream = iter(assistant.diagnose_stream(text, k=k, backend=backend, history=history))
    while True:
        token = current_timing.set(timing)  # set around each step: steps may run on different threads
        try:
            item = next(stream)
        except StopIteration:
            return
        finally:
            current_timing.reset(token)
        if isinstance(item, Diagnosis):
            answering = time.perf_counter() - timing.started - timing.retrieval
            metrics.llm.labels(requested).observe(max(0.0, answering))
            if item.fallback_reason is not None:
                metrics.fallbacks.inc()
        yield item


async def started(items: Iterator[T]) -> Iterator[T]:
    """Run the first step in a worker thread now: query, backend and index errors are raised here,
    before the response status is sent, and map to 4xx/5xx like any other request."""
    first = await run_in_threadpool(next, items, _END)
    if first is _END:
        return iter(())
    return chain([first], items)  # type: ignore[list-item]


def final_diagnosis(items: Iterator[str | Diagnosis]) -> Diagnosis:
    result = None
    for item in items:
        if isinstance(item, Diagnosis):
            result = item
    if result is None:
        raise RuntimeError("the diagnosis stream ended without a Diagnosis")
    return result
