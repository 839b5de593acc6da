"""Retrieval timing for Prometheus without touching the core.

``InstrumentedAssistant`` is the ``Assistant`` the service loads; its ``similar`` reports to the metrics
and to the diagnosis being timed, if any (found through a context variable; see answers.py).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from assistant.metrics import Metrics
from assistant.search.results import SimilarResult
from assistant.service import Assistant


@dataclass
class DiagnosisTiming:
    started: float = field(default_factory=time.perf_counter)
    retrieval: float = 0.0


current_timing: ContextVar[DiagnosisTiming | None] = ContextVar("diagnosis_timing", default=None)


class InstrumentedAssistant(Assistant):
    metrics: Metrics | None = None

    def similar(self, text: str, k: int | None = None, **kwargs: Any) -> SimilarResult:
        start = time.perf_counter()
        try:
            return super().similar(text, k, **kwargs)
        finally:
            took = time.perf_counter() - start
            if self.metrics is not None:
                self.metrics.retrieval.observe(took)
            if (timing := current_timing.get()) is not None:
                timing.retrieval += took
